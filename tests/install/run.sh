#!/usr/bin/env bash
# Installs the built library into a scratch tree and builds consumer.cpp
# against it as users do: through pkg-config with GCC and clang, at -O0 and
# -O2, with and without -march=native; as a CMake project
# (find_package(dagrad)); as a meson project (dependency('dagrad')). Each
# program must run and pass its checks.
#   tests/install/run.sh BUILD_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

meson install -C "$build" --no-rebuild --quiet --destdir "$scratch/root"
pc="$(find "$scratch/root" -name dagrad.pc)"
[[ -n "$pc" ]] || { echo "no dagrad.pc in the installed tree" >&2; exit 1; }
libdir="$(dirname "$(dirname "$pc")")"
prefix="$(cd "$libdir" && while [[ ! -d include/dagrad ]]; do cd ..; done; pwd)"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

failed=0
check() {  # check NAME PROGRAM: runs it, reports, remembers a failure
  if "$2" >"$scratch/out" 2>&1; then
    echo "ok    $1"
  else
    echo "FAIL  $1"; sed 's/^/      /' "$scratch/out"; failed=1
  fi
}

read -r -a flags <<<"$(pkg-config --cflags --libs dagrad)"
for cxx in g++ clang++; do
  for opt in "-O0" "-O2" "-O0 -march=native" "-O2 -march=native"; do
    exe="$scratch/consumer-$cxx-${opt// /}"
    # shellcheck disable=SC2086  # $opt holds several flags
    if "$cxx" -std=c++20 $opt "$here/consumer.cpp" "${flags[@]}" -o "$exe"; then
      check "pkg-config, $cxx $opt" "$exe"
    else
      echo "FAIL  pkg-config, $cxx $opt: did not compile"; failed=1
    fi
  done
done

if cmake -S "$here/cmake" -B "$scratch/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
     -DCMAKE_BUILD_TYPE=Release >"$scratch/log" 2>&1 &&
   cmake --build "$scratch/cmake" >>"$scratch/log" 2>&1; then
  check "CMake find_package(dagrad), dagrad::dagrad" "$scratch/cmake/consumer"
else
  echo "FAIL  CMake project"; sed 's/^/      /' "$scratch/log"; failed=1
fi

if meson setup "$scratch/meson" "$here/meson" >"$scratch/log" 2>&1 &&
   ninja -C "$scratch/meson" >>"$scratch/log" 2>&1; then
  check "meson dependency('dagrad')" "$scratch/meson/consumer"
else
  echo "FAIL  meson project"; sed 's/^/      /' "$scratch/log"; failed=1
fi
exit "$failed"
