#!/usr/bin/env bash
# MLPRegressor on the diabetes data set (Debian's python3-sklearn ships it),
# examples/mlp_regressor beside scikit-learn 1.2's MLPRegressor on the same
# split (the last 100 rows held out) and the same standardization: n_iter_,
# loss_, train and test R^2, fit time, and the relative difference of the
# losses, for each solver. dagrad runs in float64, as scikit-learn does.
#   bench/regressor_vs_sklearn.sh [--data DIR]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
data="/usr/lib/python3/dist-packages/sklearn/datasets/data"
bench_flags --data=data -- "$@"
require_python sklearn
require_built examples/mlp_regressor

# Each run: a label, then the hyperparameters as scikit-learn names them.
runs=(
  "adam  hidden_layer_sizes=20 learning_rate_init=0.1 early_stopping=true random_state=1"
  "sgd   hidden_layer_sizes=10 solver=sgd random_state=1"
  "lbfgs hidden_layer_sizes=10 solver=lbfgs alpha=10 max_iter=100 random_state=1"
  "lbfgs hidden_layer_sizes=10 solver=lbfgs alpha=10 max_iter=500 random_state=1"
)

echo "diabetes (442 rows, last 100 held out), MLPRegressor; $(date -u +%F)"
printf "%-6s %-13s %7s %22s %20s %20s %7s\n" solver program n_iter_ loss_ train_R2 test_R2 fit_s
for run in "${runs[@]}"; do
  read -r label params <<<"$run"
  flags=()
  for kv in $params; do
    flag="--${kv%%=*}"
    flags+=("${flag//_/-}" "${kv#*=}")
  done
  dagrad_out="$("$build/examples/mlp_regressor" "${flags[@]}" --dtype float64 --timing --data "$data" 2>/dev/null)"
  sklearn_out="$(PYTHONPATH="$root/bench" /usr/bin/python3 - "$data" $params 2>/dev/null <<'PY'
import sys
import numpy as np
from sklearn.neural_network import MLPRegressor
from sklearn_fit import fit_and_print
d = sys.argv[1]
X = np.loadtxt(d + "/diabetes_data_raw.csv.gz")
y = np.loadtxt(d + "/diabetes_target.csv.gz")
X_train, X_test, y_train, y_test = X[:-100], X[-100:], y[:-100], y[-100:]
mean, sd = X_train.mean(axis=0), X_train.std(axis=0)
X_train, X_test = (X_train - mean) / sd, (X_test - mean) / sd
def value(name, text):
    if text in ("true", "false"):
        return text == "true"
    if name == "hidden_layer_sizes":
        return tuple(int(s) for s in text.split(","))
    if name in ("max_iter", "random_state", "batch_size", "n_iter_no_change", "max_fun"):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text
params = {k: value(k, v) for k, v in (kv.split("=") for kv in sys.argv[2:])}
fit_and_print(MLPRegressor(**params), X_train, y_train, X_test, y_test, score="R^2")
PY
)"
  summary() {
    awk '/^Training R\^2/ {train = $3}
         /^Testing R\^2/ {test = $3}
         /^loss_ = / {loss = $3; sub(",", "", loss); iter = $6}
         /^fit_seconds/ {fit = $2}
         END {printf "%s %s %s %s %s\n", iter, loss, train, test, fit}' <<<"$1"
  }
  read -r d_iter d_loss d_train d_test d_fit < <(summary "$dagrad_out")
  read -r s_iter s_loss s_train s_test s_fit < <(summary "$sklearn_out")
  printf "%-6s %-13s %7s %22s %20s %20s %7.3f\n" "$label" "dagrad f64" "$d_iter" "$d_loss" "$d_train" "$d_test" "$d_fit"
  printf "%-6s %-13s %7s %22s %20s %20s %7.3f\n" "" "scikit-learn" "$s_iter" "$s_loss" "$s_train" "$s_test" "$s_fit"
  echo "       ($params) loss_ relative difference: $(relative_difference "$d_loss" "$s_loss")"
done
