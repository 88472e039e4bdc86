// mnist_mlp's command line: every MLPClassifier parameter as a flag named as
// in scikit-learn (dashes for underscores, mlp_flags.hpp), and the program's own flags. The
// program and its fuzz target (tests/fuzz/entry_points.hpp) parse with this
// one parser, so the fuzzed flags are the real ones.
#pragma once

#include "mlp_flags.hpp"
#include "mnist_flags.hpp"

#include <dagrad/cli/cli.hpp>

#include <string>

inline dagrad::ArgParser mnist_mlp_parser() {
  using namespace dagrad;
  ArgParser p("mnist_mlp",
              "Trains scikit-learn's MLPClassifier, rebuilt on a dagrad graph, on MNIST and prints\n"
              "the lesson's lines. Hyperparameters are flags named as in scikit-learn, with dashes.");
  add_mlp_param_flags(p);
  add_mnist_flags(p);
  p.add("show", "N", "print training image N as a picture with its label, then continue");
  p.add("save", "FILE", "save the trained model to FILE (a dagrad model file, docs/model_format.md)");
  p.add("onnx", "FILE", "after training, export the network (input x, output the probabilities) as an ONNX model");
  p.add("load", "FILE", "load a model from FILE and score it; with --warm-start, train it further");
  p.add("dot", "FILE", "write the trained network's graph (forward and backward) as Graphviz DOT");
  p.add("svg", "FILE", "render the trained network's graph to FILE (.svg, .png or .pdf)");
  p.add("show-png", "FILE", "with --show N, also write that digit as a PNG");
  p.add("digits", "FILE", "write a grid of the first 40 training digits with their labels (PNG)");
  p.add("weights", "FILE", "write the first layer's weights, one 28x28 tile per hidden unit (PNG)");
  p.add("loss", "FILE", "write the loss curve (with early stopping, also the held-out loss and score) as SVG");
  p.add("classify", "IMAGE", "classify your own digit image (PNG, PGM or PPM) after training");
  p.add_switch("summary", "print the parameters and hyperparameters of the network");
  p.add_switch("timing", "print the fit time in seconds");
  p.add_switch("profile", "time every node of the graph during the fit and print where the time went");
  p.add_switch("memory", "print the training step's memory plan (one shared block against a buffer per node); "
                         "with --dot or --svg, colour each node by its place in it");
  return p;
}
