"""Checks ONNX models with Debian's python3-onnx: onnx.checker with
full_check, which also runs ONNX's shape inference over the graph.
    python3 tests/onnx/check_models.py MODEL.onnx...
"""
import sys

import onnx

for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    ops = sorted({n.op_type for n in model.graph.node})
    print(f"{path}: ir_version {model.ir_version}, opset {model.opset_import[0].version}, "
          f"{len(model.graph.node)} nodes: {' '.join(ops)}")
