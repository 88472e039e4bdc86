#!/usr/bin/env bash
# solver="lbfgs" on MNIST, dagrad's mnist_mlp beside scikit-learn 1.2 (Debian's,
# whose scipy calls the same L-BFGS-B library): loss_, n_iter_, the scores and
# the relative difference of the losses. Both print L-BFGS-B's own verbose
# lines; dagrad runs in float64, as scikit-learn does.
#   bench/lbfgs_vs_sklearn.sh [--sizes 50] [--max-iter 10] [--data DIR]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
data="$mnist_data"
sizes="50"
max_iter=10
bench_flags --sizes=sizes --max-iter=max_iter --data=data -- "$@"
require_file "$anchors/idx.py" "IDX reader"
require_python sklearn
require_built examples/mnist_mlp

make_work

echo "MNIST, MLPClassifier(solver='lbfgs', hidden_layer_sizes=($sizes), max_iter=$max_iter, random_state=1); $(date -u +%F)"
"$build/examples/mnist_mlp" --solver lbfgs --hidden-layer-sizes "$sizes" --max-iter "$max_iter" \
  --random-state 1 --dtype float64 --verbose 1 --timing --data "$data" 2>"$work/dagrad.err" >"$work/dagrad.out"
(cd "$anchors" && PYTHONPATH="$root/bench" /usr/bin/python3 - "$data" "$sizes" "$max_iter" >"$work/sklearn.out" 2>"$work/sklearn.err") <<'PY'
import sys
from idx import load
from sklearn.neural_network import MLPClassifier
from sklearn_fit import fit_and_print
xtr, ytr, xte, yte = load(sys.argv[1])
xtr = xtr / 255.; xte = xte / 255.
sizes = tuple(int(s) for s in sys.argv[2].split(","))
mlp = MLPClassifier(solver="lbfgs", hidden_layer_sizes=sizes, max_iter=int(sys.argv[3]), random_state=1, verbose=1)
fit_and_print(mlp, xtr, ytr, xte, yte)
PY

# loss_ and n_iter_ from L-BFGS-B's closing lines (" F = ..." and the
# N/Tit/Tnf row), which both programs print; the scores as each prints them.
summary() {
  awk '/^ +N +Tit +Tnf/ {getline; tit = $2; tnf = $3}
       /^  F = / {f = $3}
       /^Training score/ {train = $3}
       /^Testing score/ {test = $3}
       /^fit_seconds/ {fit = $2}
       END {printf "%s %s %s %s %s %s\n", f, tit, tnf, train, test, fit}' "$1"
}
read -r d_loss d_iter d_nfev d_train d_test d_fit < <(summary "$work/dagrad.out")
read -r s_loss s_iter s_nfev s_train s_test s_fit < <(summary "$work/sklearn.out")
printf "%-14s %24s %7s %5s %9s %9s %7s\n" program loss_ n_iter_ nfev train test fit_s
printf "%-14s %24s %7s %5s %9s %9s %7s\n" "dagrad f64" "$d_loss" "$d_iter" "$d_nfev" "$d_train" "$d_test" "$d_fit"
printf "%-14s %24s %7s %5s %9s %9s %7s\n" "scikit-learn" "$s_loss" "$s_iter" "$s_nfev" "$s_train" "$s_test" "$s_fit"
echo "loss_ relative difference: $(relative_difference "$d_loss" "$s_loss")"
grep -h '^ConvergenceWarning' "$work/dagrad.err" || true
# The library's verbose lines, all but the 17-digit " F =" line.
lbfgsb_lines() { sed -n '/^RUNNING THE L-BFGS-B CODE/,/^\(STOP\|CONV\|ABNORMAL\)/p' "$1" | grep -v '^  F = '; }
if diff <(lbfgsb_lines "$work/dagrad.out") <(lbfgsb_lines "$work/sklearn.out") >"$work/diff"; then
  echo "L-BFGS-B's verbose lines: $(lbfgsb_lines "$work/dagrad.out" | grep -c .) lines, identical but for ' F ='"
else
  echo "L-BFGS-B's verbose lines differ (< dagrad, > scikit-learn):"
  cat "$work/diff"
fi
