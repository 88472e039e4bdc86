#!/usr/bin/env bash
# A portable libdagrad holds its hot loops twice, for SSE2 and for AVX2:
# the sparse kernels (namespace dagrad::detail::avx2) and the functions
# marked DAGRAD_CLONES (GCC names their copies "[clone .avx2...]"). Only
# those may use VEX-encoded instructions: one anywhere else would mean the
# linker kept an AVX2 copy of shared inline code, and the library would die
# with SIGILL on a CPU without AVX2.
#   tests/lib/isa_isolation.sh path/to/libdagrad.so
set -euo pipefail
lib="$1"
vex_functions=$(objdump -d --no-show-raw-insn -C "$lib" |
  awk '/^[0-9a-f]+ <.*>:$/ { fn = $0; next } $2 ~ /^v/ && /%[xyz]mm/ { print fn }' | sort -u)
[[ -n "$vex_functions" ]] || { echo "no AVX2 code at all in $lib: the avx2 kernels are missing" >&2; exit 1; }
outside=$(grep -v -e '::avx2::' -e '\[clone \.avx2' <<<"$vex_functions" || true)
if [[ -n "$outside" ]]; then
  echo "VEX instructions outside the AVX2 kernels in $lib:" >&2
  echo "$outside" >&2
  exit 1
fi
echo "$(wc -l <<<"$vex_functions") functions use AVX2, all of them AVX2 builds of kernels"
