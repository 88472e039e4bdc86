"""ONNX export end to end: models written by dagrad pass onnx.checker and run
in onnxruntime to dagrad's outputs within 1e-5.
    python3 tests/onnx/onnx_export.py ONNX_CASES LENET MNIST_MLP

Three models: a network using every op the export maps (onnx_cases
every-op), LeNet after an epoch on 640 MNIST images (lenet --onnx, with
--save-graph, whose reloaded graph gives dagrad's outputs), and the
lesson's MLPClassifier 784-50-10 (mnist_mlp --onnx, with --save). Also:
lenet --load-graph rebuilds the trained network and scores it as the run
that saved it did, a failed export leaves no file, and docs/onnx.md shows
the operator table the export uses.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# Debian's python3-onnx lives in the system python, whatever python runs this.
SYSTEM_PYTHON = "/usr/bin/python3"


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


def scores(out):
    return [line for line in out.splitlines() if line.startswith(("Training score", "Testing score"))]


def main():
    cases, lenet, mnist_mlp = sys.argv[1:4]
    small = ["--train-rows", "640", "--test-rows", "200", "--threads", "2"]
    with tempfile.TemporaryDirectory() as tmp:
        every_op = os.path.join(tmp, "every_op")
        run([cases, "every-op", every_op])

        lenet_dir = os.path.join(tmp, "lenet")
        os.makedirs(lenet_dir)
        graph = os.path.join(tmp, "lenet.dagradg")
        trained = run([lenet, "--epochs", "1"] + small +
                      ["--onnx", os.path.join(lenet_dir, "model.onnx"), "--save-graph", graph])
        run([cases, "graph", graph, "logits", "100", lenet_dir])
        # The saved graph is the trained network: reloaded, it scores the same.
        reloaded = run([lenet, "--epochs", "0", "--load-graph", graph] + small)
        assert scores(reloaded) == scores(trained) and len(scores(trained)) == 2, (trained, reloaded)

        mlp_dir = os.path.join(tmp, "mlp")
        os.makedirs(mlp_dir)
        model = os.path.join(tmp, "mlp.dagradm")
        run([mnist_mlp, "--hidden-layer-sizes", "50", "--max-iter", "2", "--random-state", "1",
             "--train-rows", "2000", "--test-rows", "100", "--onnx", os.path.join(mlp_dir, "model.onnx"),
             "--save", model])
        run([cases, "mlp", model, "100", mlp_dir])

        dirs = [every_op, lenet_dir, mlp_dir]
        print(run([SYSTEM_PYTHON, os.path.join(HERE, "check_models.py")] +
                  [os.path.join(d, "model.onnx") for d in dirs]), end="")
        print(run(["node", os.path.join(HERE, "run_onnxruntime.mjs")] + dirs), end="")

        # docs/onnx.md's operator table is the one the export uses.
        table = run([cases, "table"]).strip()
        with open(os.path.join(HERE, "..", "..", "docs", "onnx.md")) as f:
            doc = f.read()
        begin, end = "<!-- onnx_operator_table: begin -->\n", "\n<!-- onnx_operator_table: end -->"
        shown = doc[doc.index(begin) + len(begin):doc.index(end)].strip()
        assert shown == table, f"docs/onnx.md's operator table differs from onnx_cases table:\n{table}"

        # An export that cannot be written names the path and leaves nothing.
        bad = os.path.join(tmp, "no_such_dir", "m.onnx")
        r = subprocess.run([lenet, "--epochs", "0", "--load-graph", graph, "--onnx", bad] + small,
                           capture_output=True, text=True)
        assert r.returncode == 1 and bad in r.stderr, r
        assert not os.path.exists(os.path.dirname(bad))


if __name__ == "__main__":
    main()
