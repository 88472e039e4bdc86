"""scikit-learn 1.2.1's MLPClassifier with logistic outputs (two classes,
multi-label) and early stopping's split, on test_mlp_logistic.cpp's data:
the figures that test compares with. Run with Debian's python:
    /usr/bin/python3 tests/lib/ml/classifier_reference.py
Prints, per case: out_activation_, n_outputs_, classes_, loss_curve_ (or
loss_), n_iter_, the validation scores, the score and the first rows of
predict_proba and predict."""
import warnings

import numpy as np
from sklearn.neural_network import MLPClassifier


def features(n=60):
    # Quarters and halves only, so C++ builds the same doubles
    # (lbfgs_reference.py's three_classes() features).
    i = np.arange(n)
    return i, np.stack([((i * 37) % 17 - 8) / 4.0 + (i % 3) * 1.5,
                        ((i * 11 + 5) % 13 - 6) / 4.0 - (i % 3)], axis=1)


i, X = features()
two = np.where(i % 3 == 1, 7, 3)
three = np.array([3, 5, 7])[i % 3]
labels = np.stack([i % 3 == 0, X[:, 0] > 0, X[:, 0] + X[:, 1] > 0.5], axis=1).astype(int)

CASES = {
    "binary_adam": (two, dict(hidden_layer_sizes=(5,), max_iter=15, random_state=1)),
    "binary_lbfgs": (two, dict(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=25, random_state=2)),
    "binary_early_stopping": (two, dict(hidden_layer_sizes=(6,), solver="sgd", learning_rate_init=0.1,
                                        early_stopping=True, validation_fraction=0.2, n_iter_no_change=4,
                                        max_iter=200, random_state=3)),
    "multiclass_early_stopping": (three, dict(hidden_layer_sizes=(6,), learning_rate_init=0.05,
                                              early_stopping=True, validation_fraction=0.25,
                                              n_iter_no_change=5, max_iter=200, random_state=4)),
    "multilabel_adam": (labels, dict(hidden_layer_sizes=(8,), activation="tanh", learning_rate_init=0.01,
                                     max_iter=12, random_state=5)),
    "multilabel_lbfgs": (labels, dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=6)),
}

for name, (y, params) in CASES.items():
    mlp = MLPClassifier(**params)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        mlp.fit(X, y)
    print(name, params)
    print("  out_activation_", mlp.out_activation_, "n_outputs_", mlp.n_outputs_, "classes_", list(mlp.classes_))
    print("  loss_", repr(mlp.loss_), "n_iter_", mlp.n_iter_)
    if hasattr(mlp, "loss_curve_"):
        print("  loss_curve_", ", ".join(repr(v) for v in mlp.loss_curve_))
    if getattr(mlp, "validation_scores_", None) is not None:
        print("  validation_scores_", ", ".join(repr(v) for v in mlp.validation_scores_))
        print("  best_validation_score_", repr(mlp.best_validation_score_))
    print("  score", repr(mlp.score(X, y)))
    print("  proba", ", ".join(repr(v) for v in mlp.predict_proba(X[:3]).ravel()))
    print("  predict", ", ".join(str(v) for v in np.asarray(mlp.predict(X[:6])).ravel()))

# Multi-label partial_fit: three calls of one epoch each, classes given first.
mlp = MLPClassifier(hidden_layer_sizes=(8,), activation="tanh", learning_rate_init=0.01, random_state=5)
for call in range(3):
    mlp.partial_fit(X, labels, classes=[0, 1, 2] if call == 0 else None)
print("multilabel_partial_fit x3", mlp.get_params()["hidden_layer_sizes"])
print("  loss_curve_", ", ".join(repr(v) for v in mlp.loss_curve_), "n_iter_", mlp.n_iter_, "t_", mlp.t_)
print("  proba", ", ".join(repr(v) for v in mlp.predict_proba(X[:3]).ravel()))
