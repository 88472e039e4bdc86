#!/usr/bin/env bash
# A portable libdagrad holds its hot loops once per instruction set: the
# sparse kernels and nn's optimizer updates (namespaces ...::avx2:: and
# ...::avx512::), Eigen's dense product (each build with its own renamed
# Eigen, dagrad_eigen_avx2:: and dagrad_eigen_avx512::) and the functions
# marked DAGRAD_CLONES (GCC names their copies "[clone .avx2...]"). Only those may use VEX- or EVEX-encoded
# instructions: one anywhere else would mean the linker kept an AVX2 copy of
# shared inline code, and the library would die with SIGILL on a CPU
# without AVX2.
#   tests/lib/core/isa_isolation.sh path/to/libdagrad.so [path/to/libdagrad_nn.so ...]
set -euo pipefail

# Clang's -fsanitize=function (part of UBSan, on in the sanitized builds,
# which are the portable ones CI tests) starts each function with 8 bytes:
# a jump over "v2" and a 4-byte type hash. objdump decodes that data as
# instructions and loses the instruction boundaries after it, showing
# instructions that are not there (a VEX "vminsd" in an Eigen row copy, once).
# A copy of the library with those 6 data bytes made NOPs disassembles as
# the code runs.
patched=$(mktemp)
trap 'rm -f "$patched"' EXIT
nop_signatures() {
  python3 - "$1" "$2" <<'PYTHON'
import subprocess
import sys

src, dst = sys.argv[1], sys.argv[2]
data = bytearray(open(src, "rb").read())
segments = []  # (file offset, address, size) of each loaded segment
for line in subprocess.run(["readelf", "-lW", src], capture_output=True, text=True, check=True).stdout.splitlines():
    f = line.split()
    if f and f[0] == "LOAD":
        segments.append((int(f[1], 16), int(f[2], 16), int(f[4], 16)))
for line in subprocess.run(["nm", "--defined-only", src], capture_output=True, text=True, check=True).stdout.splitlines():
    f = line.split(maxsplit=2)
    if len(f) < 3 or f[1] not in "TtWw":
        continue
    address = int(f[0], 16)
    for offset, start, size in segments:
        if start <= address < start + size:
            at = offset + address - start
            if data[at:at + 4] == b"\xeb\x06v2":
                data[at + 2:at + 8] = b"\x90" * 6
            break
open(dst, "wb").write(data)
PYTHON
}

for lib in "$@"; do
  nop_signatures "$lib" "$patched"
  vex_functions=$(objdump -d --no-show-raw-insn -C "$patched" |
    awk '/^[0-9a-f]+ <.*>:$/ { fn = $0; next } $2 ~ /^v/ && /%[xyz]mm/ { print fn }' | sort -u)
  [[ -n "$vex_functions" ]] || { echo "no AVX2 code at all in $lib: the dispatched kernels are missing" >&2; exit 1; }
  for isa in avx2 avx512; do
    grep -q "::$isa::" <<<"$vex_functions" || { echo "no $isa kernels in $lib" >&2; exit 1; }
  done
  # A function of the renamed Eigens, its return type (if any) a plain or
  # vector type before its name: clang keeps some of Eigen's packet
  # functions out of line ("float __vector(8) dagrad_eigen_avx2::internal::ploadu<...>"),
  # where GCC inlines them.
  outside=$(grep -v -e '::avx2::' -e '::avx512::' -e '\[clone \.avx2' \
    -E -e '^[0-9a-f]+ <([[:alnum:]_]+( __vector\([0-9]+\))?( const)? )?dagrad_eigen_avx(2|512)::' <<<"$vex_functions" || true)
  if [[ -n "$outside" ]]; then
    echo "VEX instructions outside the dispatched kernels in $lib:" >&2
    echo "$outside" >&2
    exit 1
  fi
  echo "$lib: $(wc -l <<<"$vex_functions") functions use AVX2 or AVX-512, all of them builds of dispatched kernels"
done
