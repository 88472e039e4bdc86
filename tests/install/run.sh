#!/usr/bin/env bash
# Installs the built library into a scratch tree and checks it as users meet
# it, in one of three parts (each a test of its own, so that meson's runner
# spreads them over the cores beside the other tests):
#   headers     it holds the public headers and only the detail headers they
#               include, each compiling on its own;
#   pkg-config  consumer.cpp builds against it through pkg-config with GCC and
#               clang, at -O0 and -O2, with and without -march=native, and
#               against the ml part alone;
#   projects    as a CMake project (find_package(dagrad), its version
#               requests) and as a meson project (dependency('dagrad')).
# Each program built must run and pass its checks.
#   tests/install/run.sh BUILD_DIR headers|pkg-config|projects
set -euo pipefail
build="$(cd "$1" && pwd)"
part="${2:-}"
case "$part" in
  headers | pkg-config | projects) ;;
  *) echo "run.sh: the second argument must be headers, pkg-config or projects, not '$part'" >&2; exit 2 ;;
esac
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
# Compilations run side by side, a job per core.
jobs="$(nproc)"
check() {  # check NAME PROGRAM: runs it, reports, remembers a failure
  local out
  if out="$("$2" 2>&1)"; then
    echo "ok    $1"
  else
    echo "FAIL  $1"; sed 's/^/      /' <<<"$out"; failed=1
  fi
}

check_headers() {
  # The installed headers are the public ones of the source tree (each
  # part's lib/PART/include/dagrad, and the umbrella's lib/include) and the
  # detail headers they reach through their includes, no more and no fewer.
  src="$here/../../lib"
  include_dirs=("$src"/include "$src"/*/include)
  where() {  # the include folder that holds header $1
    local d
    for d in "${include_dirs[@]}"; do [[ -f "$d/$1" ]] && { echo "$d"; return; }; done
    echo "no include folder of lib/ holds $1" >&2; return 1
  }
  reachable() {  # the headers the public ones reach, themselves included
    local queue seen=" " h d
    # dist's header goes with libdagrad_dist, which only a build with MPI has.
    local skip='^$'
    [[ -n "$(find "$libdir" -name 'libdagrad_dist.so*' -print -quit)" ]] || skip='^dagrad/dist/'
    mapfile -t queue < <(for d in "${include_dirs[@]}"; do (cd "$d" && find dagrad -name '*.hpp' -not -path '*/detail/*'); done |
                         grep -v "$skip")
    while ((${#queue[@]})); do
      h="${queue[0]}"; queue=("${queue[@]:1}")
      [[ "$seen" == *" $h "* ]] && continue
      seen+="$h "
      echo "$h"
      d="$(where "$h")"
      mapfile -t -O "${#queue[@]}" queue < <(
        sed -n 's|^[[:space:]]*#[[:space:]]*include[[:space:]]*<\(dagrad/[^>]*\)>.*|\1|p' "$d/$h")
    done
  }
  if diff <(reachable | sort) <(cd "$prefix/include" && find dagrad -type f | sort) >"$scratch/out"; then
    echo "ok    installed headers: the public ones and the detail headers they include"
  else
    echo "FAIL  installed headers differ from what the public headers include (< needed, > installed)"
    sed 's/^/      /' "$scratch/out"; failed=1
  fi

  # Each installed header compiles alone with the installed flags (and
  # without warnings), so none needs a header that was not installed. The
  # compilations run side by side, a job per core.
  #
  # Eigen/Core, which most headers reach through dagrad/core/tensor.hpp, is
  # parsed once into a precompiled header: a header whose own includes reach
  # Eigen/Core is compiled after it, which changes nothing but the order, and
  # saves 1.3 of its 1.8 CPU-seconds. A header that does not reach Eigen is
  # compiled without it, so one that uses Eigen without including it fails.
  # Eigen is a system folder in these compilations: GCC 12's precompiled
  # header loses the pragmas by which Eigen silences its own warnings.
  # -Winvalid-pch makes an unusable precompiled header an error, not a
  # silent slow path.
  read -r -a cflags <<<"$(pkg-config --cflags dagrad)"
  read -r eigen_dir <<<"$(pkg-config --cflags-only-I eigen3)"
  eigen_dir="${eigen_dir#-I}"
  printf '#include <Eigen/Core>\n' >"$scratch/eigen.hpp"
  if ! g++ -std=c++20 -Wall -Wextra -Werror -x c++-header "$scratch/eigen.hpp" -o "$scratch/eigen.hpp.gch" \
         -isystem "$eigen_dir" "${cflags[@]}" >"$scratch/out" 2>&1; then
    echo "FAIL  Eigen/Core does not compile with the installed flags"; sed 's/^/      /' "$scratch/out"; failed=1
    return
  fi
  declare -A eigen_reached=()
  reaches_eigen() {  # reaches_eigen HEADER: whether its includes reach Eigen/Core
    local h="$1" inc
    [[ -v eigen_reached[$h] ]] && return "${eigen_reached[$h]}"
    eigen_reached[$h]=1  # a cycle of includes reaches nothing new
    if grep -q '^[[:space:]]*#[[:space:]]*include[[:space:]]*<Eigen/' "$prefix/include/$h"; then
      eigen_reached[$h]=0; return 0
    fi
    while read -r inc; do
      if reaches_eigen "$inc"; then eigen_reached[$h]=0; return 0; fi
    done < <(sed -n 's|^[[:space:]]*#[[:space:]]*include[[:space:]]*<\(dagrad/[^>]*\)>.*|\1|p' \
               "$prefix/include/$h")
    return 1
  }
  (cd "$prefix/include" && find dagrad -name '*.hpp' | sort) >"$scratch/headers"
  while read -r h; do
    if reaches_eigen "$h"; then echo "$h"; fi
  done <"$scratch/headers" >"$scratch/eigen_headers"
  alone() {  # alone HEADER: compiles it on its own; prints a failure
    local probe out flags=("${cflags[@]}")
    probe="$(mktemp --suffix=.cpp -p "$scratch")"
    if grep -qxF "$1" "$scratch/eigen_headers"; then
      printf '#include "eigen.hpp"\n' >"$probe"
      flags=(-Winvalid-pch -isystem "$eigen_dir" "${flags[@]}")
    fi
    printf '#include <%s>\n' "$1" >>"$probe"
    if ! out="$(g++ -std=c++20 -Wall -Wextra -Werror -fsyntax-only "$probe" "${flags[@]}" 2>&1)"; then
      echo "FAIL  #include <$1> alone"; sed 's/^/      /' <<<"$out"
    fi
  }
  export -f alone; export scratch eigen_dir; export CFLAGS_LIST="${cflags[*]}"
  xargs -P "$jobs" -I{} bash -c 'cflags=($CFLAGS_LIST); alone "$1"' _ {} <"$scratch/headers" >"$scratch/alone" 2>&1
  if [[ -s "$scratch/alone" ]]; then cat "$scratch/alone"; failed=1; else echo "ok    every installed header compiles on its own"; fi
}

check_pkg_config() {
  # consumer.cpp against every part (pkg-config dagrad) with GCC and clang at
  # four flag sets, and against only the parts it uses (dagrad-ml: ml, nn, io
  # and the core). Each build and run reports into its own file.
  consumer() {  # consumer NAME CXX "OPTS" PACKAGE
    local exe="$scratch/consumer-$1" flags
    read -r -a flags <<<"$(pkg-config --cflags --libs "$4")"
    # shellcheck disable=SC2086  # $3 holds several flags
    if "$2" -std=c++20 $3 "$here/consumer.cpp" "${flags[@]}" -o "$exe" >"$scratch/$1.log" 2>&1; then
      check "pkg-config $4, $2 $3" "$exe" >"$scratch/$1.result"
    else
      { echo "FAIL  pkg-config $4, $2 $3: did not compile"; sed 's/^/      /' "$scratch/$1.log"; } >"$scratch/$1.result"
    fi
  }
  names=()
  for cxx in g++ clang++; do
    for opt in "-O0" "-O2" "-O0 -march=native" "-O2 -march=native"; do
      names+=("$cxx${opt// /}")
      consumer "${names[-1]}" "$cxx" "$opt" dagrad &
      (($(jobs -rp | wc -l) < jobs)) || wait -n
    done
  done
  names+=(ml-only)
  consumer ml-only g++ -O2 dagrad-ml &
  wait
  for n in "${names[@]}"; do cat "$scratch/$n.result"; done
  for n in "${names[@]}"; do
    if grep -q '^FAIL' "$scratch/$n.result"; then failed=1; fi
  done
}

check_projects() {
  if cmake -S "$here/cmake" -B "$scratch/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
       -DCMAKE_BUILD_TYPE=Release >"$scratch/log" 2>&1 &&
     cmake --build "$scratch/cmake" -j "$jobs" >>"$scratch/log" 2>&1; then
    check "CMake find_package(dagrad), dagrad::dagrad" "$scratch/cmake/consumer"
    check "CMake find_package(dagrad), dagrad::ml alone" "$scratch/cmake/consumer_ml"
  else
    echo "FAIL  CMake project"; sed 's/^/      /' "$scratch/log"; failed=1
  fi

  # find_package's version requests against dagradConfigVersion.cmake
  # (SameMinorVersion, written by lib/meson.build): a request of the same
  # major.minor, not newer, and a range holding the version are accepted
  # (one build folder, so the compiler is looked at once).
  version="$(pkg-config --modversion dagrad)"
  IFS=. read -r major minor _ <<<"$version"
  mkdir -p "$scratch/version"
  printf '%s\n' 'cmake_minimum_required(VERSION 3.19)' 'project(dagrad_version CXX)' \
    'find_package(dagrad ${WANT} CONFIG QUIET)' 'message(STATUS "found=${dagrad_FOUND}")' \
    >"$scratch/version/CMakeLists.txt"
  version_ok=1
  for case in "$major.$minor:TRUE" "$version:TRUE" "$major.$minor...$((major + 1)).0:TRUE" \
              "$major.$((minor + 1)):FALSE" "$((major + 1)).0:FALSE" "$version.1:FALSE"; do
    want="${case%:*}" expect="${case##*:}"
    got="$(cmake -S "$scratch/version" -B "$scratch/version/build" -DWANT="$want" \
             -Ddagrad_DIR="$libdir/cmake/dagrad" 2>&1 | sed -n 's/.*found=\(.*\)/\1/p')"
    # dagrad_FOUND is 1 or TRUE when found, 0 or empty when not.
    [[ "$got" == 1 || "$got" == TRUE ]] && got=TRUE || got=FALSE
    if [[ "$got" != "$expect" ]]; then
      echo "FAIL  find_package(dagrad $want) with $version installed: found $got, expected $expect"
      failed=1 version_ok=0
    fi
  done
  if ((version_ok)); then echo "ok    CMake version requests against $version"; fi

  if meson setup "$scratch/meson" "$here/meson" >"$scratch/log" 2>&1 &&
     ninja -C "$scratch/meson" >>"$scratch/log" 2>&1; then
    check "meson dependency('dagrad')" "$scratch/meson/consumer"
  else
    echo "FAIL  meson project"; sed 's/^/      /' "$scratch/log"; failed=1
  fi
}

# Each check records a failure in $failed and goes on, so that one run
# reports every failure; the exit status is that.
case "$part" in
  headers) check_headers ;;
  pkg-config) check_pkg_config ;;
  projects) check_projects ;;
esac
exit "$failed"
