// Everything dagrad offers, in one include.
//   #include <dagrad/dagrad.hpp>
#pragma once

#include <dagrad/atomic_file.hpp>
#include <dagrad/autodiff.hpp>
#include <dagrad/cli.hpp>
#include <dagrad/closest.hpp>
#include <dagrad/dot.hpp>
#include <dagrad/error.hpp>
#include <dagrad/executor.hpp>
#include <dagrad/features.hpp>
#include <dagrad/gradcheck.hpp>
#include <dagrad/graph.hpp>
#include <dagrad/graph_file.hpp>
#include <dagrad/grid_search.hpp>
#include <dagrad/idx.hpp>
#include <dagrad/image.hpp>
#include <dagrad/kernels.hpp>
#include <dagrad/mlp.hpp>
#include <dagrad/model_file.hpp>
#include <dagrad/nn.hpp>
#include <dagrad/onnx.hpp>
#include <dagrad/op.hpp>
#include <dagrad/ops.hpp>
#include <dagrad/pictures.hpp>
#include <dagrad/random.hpp>
#include <dagrad/registry.hpp>
#include <dagrad/render.hpp>
#include <dagrad/summary.hpp>
#include <dagrad/table.hpp>
#include <dagrad/tensor.hpp>
#include <dagrad/trace.hpp>
