"""scikit-learn 1.2.1's MLPRegressor on test_mlp_regressor.cpp's data: the
figures that test compares with. Run with Debian's python:
    /usr/bin/python3 tests/lib/ml/regressor_reference.py
Prints, per case: loss_curve_ (or loss_), n_iter_, t_, best_loss_, the
validation scores, the warnings, score(X, Y) and predict(X[:3])."""
import warnings

import numpy as np
from sklearn.neural_network import MLPRegressor


def regression(n=60):
    # Quarters and halves, and their products, so C++ builds the same doubles.
    i = np.arange(n)
    X = np.stack([((i * 37) % 17 - 8) / 4.0,
                  ((i * 11 + 5) % 13 - 6) / 4.0,
                  (i % 5) / 2.0 - 1.0], axis=1)
    Y = np.stack([X[:, 0] - 2 * X[:, 1] + 0.5 * X[:, 0] * X[:, 2],
                  X[:, 1] * X[:, 1] - 1.0,
                  0.25 * (X[:, 0] + X[:, 2])], axis=1)
    return X, Y


CASES = {
    "adam_one": (1, dict(hidden_layer_sizes=(5,), max_iter=20, random_state=1)),
    "sgd_three": (3, dict(hidden_layer_sizes=(6,), solver="sgd", learning_rate_init=0.01, batch_size=16,
                          max_iter=15, random_state=2, activation="tanh")),
    "invscaling_two_layers": (1, dict(hidden_layer_sizes=(4, 3), solver="sgd", learning_rate="invscaling",
                                      learning_rate_init=0.05, power_t=0.25, alpha=0.01, batch_size=25,
                                      max_iter=12, random_state=3, activation="logistic")),
    "lbfgs_three": (3, dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=30, random_state=0)),
    "lbfgs_converges": (1, dict(hidden_layer_sizes=(3,), solver="lbfgs", alpha=1.0, max_iter=500,
                                activation="tanh", random_state=4)),
    "early_stopping": (3, dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, early_stopping=True,
                               n_iter_no_change=3, max_iter=300, random_state=5)),
}

X, Y = regression()
for name, (outputs, params) in CASES.items():
    y = Y[:, 0] if outputs == 1 else Y
    mlp = MLPRegressor(**params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mlp.fit(X, y)
    print(name, outputs, params)
    print("  loss_", repr(mlp.loss_), "n_iter_", mlp.n_iter_, "t_", mlp.t_,
          "best_loss_", repr(getattr(mlp, "best_loss_", None)))
    if hasattr(mlp, "loss_curve_"):
        print("  loss_curve_", ", ".join(repr(v) for v in mlp.loss_curve_))
    if getattr(mlp, "validation_scores_", None) is not None:
        print("  validation_scores_", ", ".join(repr(v) for v in mlp.validation_scores_))
        print("  best_validation_score_", repr(mlp.best_validation_score_))
    for w in caught:
        print("  warning", repr(str(w.message)))
    print("  score", repr(mlp.score(X, y)))
    print("  predict", ", ".join(repr(v) for v in np.asarray(mlp.predict(X[:3])).ravel()))

# The learning-rate schedules over more than one fit: adaptive dividing its
# rate at each plateau (the verbose lines say when), and invscaling's
# samples-seen clock carried over a warm start (a second fit of 4 epochs).
import contextlib
import io

SCHEDULE_CASES = {
    "adaptive": dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate="adaptive", learning_rate_init=0.2,
                     batch_size=20, tol=0.05, n_iter_no_change=2, max_iter=40, random_state=6, verbose=1),
    "invscaling_warm_start": dict(hidden_layer_sizes=(4,), solver="sgd", learning_rate="invscaling",
                                  learning_rate_init=0.05, power_t=0.5, batch_size=16, max_iter=4,
                                  random_state=7, warm_start=True),
}
for name, params in SCHEDULE_CASES.items():
    mlp = MLPRegressor(**params)
    lines = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(lines):
        warnings.simplefilter("ignore")
        mlp.fit(X, Y[:, 0])
        if params.get("warm_start"):
            mlp.fit(X, Y[:, 0])
    print(name, params)
    print("  n_iter_", mlp.n_iter_, "t_", mlp.t_, "learning_rate", repr(mlp._optimizer.learning_rate))
    print("  loss_curve_", ", ".join(repr(v) for v in mlp.loss_curve_))
    for line in lines.getvalue().splitlines():
        if not line.startswith("Iteration"):
            print("  verbose", repr(line))
    print("  predict", ", ".join(repr(v) for v in np.asarray(mlp.predict(X[:3])).ravel()))
