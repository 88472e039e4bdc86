#!/usr/bin/env bash
# Installs the built library into a scratch tree, checks that it holds the
# public headers and only the detail headers they include, each compiling on
# its own, and builds consumer.cpp against it as users do: through pkg-config with GCC and clang, at -O0 and
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

# The installed headers are the public ones of the source tree (lib/dagrad
# and lib/dagrad/nn) and the detail headers they reach through their
# includes, no more and no fewer.
src="$here/../../lib"
reachable() {  # the headers the public ones reach, themselves included
  local queue seen=" " h
  # dist.hpp goes with libdagrad_dist, which only a build with MPI has.
  local skip='^$'
  [[ -n "$(find "$libdir" -name 'libdagrad_dist.so*' -print -quit)" ]] || skip='^dagrad/dist\.hpp$'
  mapfile -t queue < <(cd "$src" && find dagrad -name '*.hpp' -not -path 'dagrad/detail/*' | grep -v "$skip")
  while ((${#queue[@]})); do
    h="${queue[0]}"; queue=("${queue[@]:1}")
    [[ "$seen" == *" $h "* ]] && continue
    seen+="$h "
    echo "$h"
    mapfile -t -O "${#queue[@]}" queue < <(
      sed -n 's|^[[:space:]]*#[[:space:]]*include[[:space:]]*<\(dagrad/[^>]*\)>.*|\1|p' "$src/$h")
  done
}
if diff <(reachable | sort) <(cd "$prefix/include" && find dagrad -type f | sort) >"$scratch/out"; then
  echo "ok    installed headers: the public ones and the detail headers they include"
else
  echo "FAIL  installed headers differ from what the public headers include (< needed, > installed)"
  sed 's/^/      /' "$scratch/out"; failed=1
fi

# Each installed header compiles alone with the installed flags (and
# without warnings), so none needs a header that was not installed.
read -r -a cflags <<<"$(pkg-config --cflags dagrad)"
alone_failed=0
while read -r header; do
  printf '#include <%s>\n' "$header" >"$scratch/alone.cpp"
  if ! g++ -std=c++20 -Wall -Wextra -Werror -fsyntax-only "$scratch/alone.cpp" "${cflags[@]}" \
       >"$scratch/out" 2>&1; then
    echo "FAIL  #include <$header> alone"; sed 's/^/      /' "$scratch/out"; alone_failed=1
  fi
done < <(cd "$prefix/include" && find dagrad -name '*.hpp' | sort)
if ((alone_failed)); then failed=1; else echo "ok    every installed header compiles on its own"; fi

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
