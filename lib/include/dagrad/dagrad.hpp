// Everything dagrad offers, in one include: each part's headers, from the
// core up (docs/design.md, "Parts"). A program that needs one part can
// include its headers alone, <dagrad/core/graph.hpp> and so on.
//   #include <dagrad/dagrad.hpp>
#pragma once

#include <dagrad/core/autodiff.hpp>
#include <dagrad/core/closest.hpp>
#include <dagrad/core/number.hpp>
#include <dagrad/core/error.hpp>
#include <dagrad/core/executor.hpp>
#include <dagrad/core/gradcheck.hpp>
#include <dagrad/core/graph.hpp>
#include <dagrad/core/kernels.hpp>
#include <dagrad/core/op.hpp>
#include <dagrad/core/op_family.hpp>
#include <dagrad/core/ops.hpp>
#include <dagrad/core/random.hpp>
#include <dagrad/core/registry.hpp>
#include <dagrad/core/tensor.hpp>

#include <dagrad/io/atomic_file.hpp>
#include <dagrad/io/features.hpp>
#include <dagrad/io/graph_file.hpp>
#include <dagrad/io/idx.hpp>
#include <dagrad/io/image.hpp>
#include <dagrad/io/model_file.hpp>
#include <dagrad/io/table.hpp>
#include <dagrad/io/text.hpp>

#include <dagrad/viz/dot.hpp>
#include <dagrad/viz/pictures.hpp>
#include <dagrad/viz/render.hpp>
#include <dagrad/viz/summary.hpp>
#include <dagrad/viz/trace.hpp>

#include <dagrad/nn.hpp>

#include <dagrad/ml/grid_search.hpp>
#include <dagrad/ml/mlp.hpp>
#include <dagrad/ml/mlp_file.hpp>

#include <dagrad/onnx/export.hpp>

#include <dagrad/cli/cli.hpp>
