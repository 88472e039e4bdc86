"""scikit-learn 1.2.1's MLPClassifier(solver="lbfgs") on test_mlp_lbfgs.cpp's
data: the figures that test compares with. Run with Debian's python:
    /usr/bin/python3 tests/lib/ml/lbfgs_reference.py
Prints, per case: loss_, n_iter_, the warning, predict_proba's first rows."""
import warnings

import numpy as np
from sklearn.neural_network import MLPClassifier


def three_classes(n=60):
    # Quarters and halves only, so C++ builds the same doubles.
    i = np.arange(n)
    X = np.stack([((i * 37) % 17 - 8) / 4.0 + (i % 3) * 1.5,
                  ((i * 11 + 5) % 13 - 6) / 4.0 - (i % 3)], axis=1)
    return X, np.array([3, 5, 7])[i % 3]


CASES = {
    "max_iter": dict(hidden_layer_sizes=(5,), max_iter=15, random_state=1),
    "converges": dict(hidden_layer_sizes=(4,), activation="tanh", alpha=1.0, max_iter=500, random_state=0),
    "max_fun": dict(hidden_layer_sizes=(5,), max_iter=200, max_fun=5, random_state=1),
    "logistic_alpha": dict(hidden_layer_sizes=(6, 4), activation="logistic", alpha=0.1, max_iter=40,
                           random_state=3),
}

X, y = three_classes()
for name, params in CASES.items():
    mlp = MLPClassifier(solver="lbfgs", **params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mlp.fit(X, y)
    print(name, params)
    print("  loss_", repr(mlp.loss_), "n_iter_", mlp.n_iter_,
          "loss_curve_" in vars(mlp), "best_loss_" in vars(mlp), "t_", mlp.t_)
    for w in caught:
        print("  warning", repr(str(w.message)))
    print("  proba", ", ".join(repr(v) for v in mlp.predict_proba(X[:4]).ravel()))
