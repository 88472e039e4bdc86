"""The scikit-learn side of the bench scripts that run dagrad's examples beside
it (lbfgs_vs_sklearn.sh, regressor_vs_sklearn.sh): fit_and_print fits a model,
timed, then prints what the examples print with --timing, which the scripts'
summaries read. The scripts put bench/ on PYTHONPATH:
    from sklearn_fit import fit_and_print
    fit_and_print(MLPClassifier(...), x_train, y_train, x_test, y_test)
Importing it silences scikit-learn's warnings (ConvergenceWarning at max_iter).
"""
import sys
import time
import warnings

warnings.filterwarnings("ignore")


def fit_and_print(model, x_train, y_train, x_test, y_test, score="score"):
    """Fits model; prints "Training SCORE: ", "Testing SCORE: " (each as repr
    prints it), loss_, n_iter_ and fit_seconds."""
    t0 = time.perf_counter()
    model.fit(x_train, y_train)
    t1 = time.perf_counter()
    print(f"Training {score}: {float(model.score(x_train, y_train))!r}")
    print(f"Testing {score}: {float(model.score(x_test, y_test))!r}")
    print(f"loss_ = {model.loss_!r}, n_iter_ = {model.n_iter_}")
    print(f"fit_seconds: {t1 - t0:.3f}")
    sys.stdout.flush()
