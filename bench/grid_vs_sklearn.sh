#!/usr/bin/env bash
# The lesson's grid (learning rates 0.001, 0.01, 0.5 x sizes (10,), (50,),
# (10,10,10,10), max_iter=10, random_state=1, validation = training rows
# 50000..59999) run by scikit-learn (the anchors' sklearn_grid.py) and by
# dagrad's examples/grid_search, one after the other in one run, each under
# /usr/bin/time; prints both outputs and a comparison.
# usage: bench/grid_vs_sklearn.sh [DATA_DIR] [extra grid_search flags...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
data="${1:-$mnist_data}"
shift || true
bin="$build/examples/grid_search"
require_file "$anchors/sklearn_grid.py" "reference script"
require_python sklearn
[[ -x /usr/bin/time ]] || die "/usr/bin/time missing: apt-get install time"
require_built examples/grid_search

make_work

echo "== scikit-learn: /usr/bin/python3 $anchors/sklearn_grid.py $data"
/usr/bin/time -f "%e %M" -o "$work/sklearn.time" /usr/bin/python3 "$anchors/sklearn_grid.py" "$data" | tee "$work/sklearn.out"
echo
dagrad_cmd=("$bin" --data "$data" --validation-rows 10000 --max-iter 10 --random-state 1
  --grid learning-rate-init=0.001,0.01,0.5 --grid hidden-layer-sizes=10:50:10,10,10,10 "$@")
echo "== dagrad: ${dagrad_cmd[*]}"
/usr/bin/time -f "%e %M" -o "$work/dagrad.time" "${dagrad_cmd[@]}" | tee "$work/dagrad.out"
echo

/usr/bin/python3 - "$work" <<'EOF'
import re, sys
tmp = sys.argv[1]
line = re.compile(r"^Learning Rate: (\S+), Size: (\([^)]*\))\s+validation: ([0-9.]+)")
def read(name):
    scores, best, grid_s = {}, None, None
    for text in open(f"{tmp}/{name}.out"):
        m = line.match(text)
        if m: scores[(float(m[1]), m[2])] = float(m[3])
        if text.startswith("best:"): best = text.strip()
        if text.startswith("grid_seconds:"): grid_s = float(text.split()[1])
    wall, kib = open(f"{tmp}/{name}.time").read().split()[-2:]
    return scores, best, grid_s, float(wall), int(kib) / 1024
sk, sk_best, sk_grid, sk_wall, sk_mib = read("sklearn")
dg, dg_best, dg_grid, dg_wall, dg_mib = read("dagrad")

print("== comparison")
print(f"{'':24}{'scikit-learn':>14}{'dagrad':>10}{'ratio':>8}")
print(f"{'wall seconds (process)':24}{sk_wall:14.2f}{dg_wall:10.2f}{sk_wall / dg_wall:8.2f}")
print(f"{'grid_seconds':24}{sk_grid:14.2f}{dg_grid:10.2f}{sk_grid / dg_grid:8.2f}")
print(f"{'peak MiB':24}{sk_mib:14.0f}{dg_mib:10.0f}")
print()
print(f"{'learning rate':>14} {'size':<18}{'sklearn':>9}{'dagrad':>9}{'diff':>9}")
within = True
for key in sk:
    d = dg.get(key)
    diff = None if d is None else d - sk[key]
    flag = ""
    if sk[key] > 0.9 and (diff is None or abs(diff) > 0.005):
        within, flag = False, "  > 0.005"
    print(f"{key[0]:>14} {key[1]:<18}{sk[key]:9.4f}{(d if d is not None else float('nan')):9.4f}"
          f"{(diff if diff is not None else float('nan')):+9.4f}{flag}")
print()
print("scikit-learn", sk_best)
print("dagrad      ", dg_best)
sk_choice = max(sk, key=lambda k: sk[k])  # first maximum in grid order, as sklearn_grid.py picks
dg_choice = max((k for k in sk if k in dg), key=lambda k: dg[k], default=None)  # dagrad prints in finishing order
print()
print(f"target: same best configuration: {'met' if sk_choice == dg_choice else 'not met'} "
      f"(scikit-learn {sk_choice}, dagrad {dg_choice})")
print(f"target: every configuration scikit-learn trains above 0.9 within 0.005: {'met' if within else 'not met'}")
print(f"target: whole grid at most 1/5 of scikit-learn's wall time: "
      f"{'met' if dg_wall <= sk_wall / 5 else 'not met'} (process {dg_wall / sk_wall:.2f}x, "
      f"grid_seconds {dg_grid / sk_grid:.2f}x)")
EOF
