// A character-level LSTM trained on a text (by default the King James Bible
// scripts/setup.sh writes): a character embedding, stacked nn::lstm layers
// unrolled over the window's steps, a dense head, cross-entropy on the next
// character; Adam with the gradient's norm clipped. Backpropagation through
// time is the backward pass of the unrolled graph: --svg draws it, a box a
// step, forward and backward.
//   build/examples/char_lstm --sample 300
//   build/examples/char_lstm --context 6 --hidden 8 --iters 0 --svg lstm.svg
#include "char_training.hpp"
#include "ranks.hpp"

#include <cstdio>
#include <iostream>

using namespace dagrad;
using char_training::Corpus;

namespace {

// About a minute on two cores.
const char_training::Defaults defaults{.context = 32, .batch_size = 32, .iters = 1500, .eval_every = 250,
                                       .learning_rate = 3e-3};

ArgParser char_lstm_parser() {
  ArgParser p("char_lstm",
              "Trains a character-level LSTM on a text with dagrad's nn layers and Adam, then samples from it.");
  char_training::add_text_flag(p);
  p.add("layers", "N", "stacked LSTM layers (default 1)");
  p.add("hidden", "N", "the width of each layer's hidden and cell states, and of the embedding (default 128)");
  char_training::add_training_flags(p, defaults);
  p.add("clip-norm", "R", "scale the gradient down to this norm when it is longer, 0 = never (default 5)");
  p.add("svg", "FILE", "draw the unrolled graph, a box a step and its gradient, to FILE (.svg, .png or .pdf)");
  p.add("dot", "FILE", "write the whole graph, forward and backward, node by node, as DOT");
  char_training::add_checkpoint_flags(p);
  char_training::add_run_switches(p);
  return p;
}

// The shared flags (the text, the windows, the steps, the sample) and the
// model's own.
struct Config : char_training::Flags {
  std::string svg, dot;
  Dim layers = 0, hidden = 0;
  double clip_norm = 0;
};

Config read_config(const ParsedArgs& a) {
  Config c;
  static_cast<char_training::Flags&>(c) = char_training::read_flags(a, defaults, "char_lstm");
  c.svg = a.get("svg");
  c.dot = a.get("dot");
  c.layers = a.get_int("layers", 1, 1, 16);
  c.hidden = a.get_int("hidden", 128, 1, 4096);
  c.clip_norm = a.get_double("clip-norm", 5.0, 0, 1e6);
  return c;
}

struct Lstm {
  Graph g;
  Node ids, targets, logits, loss;
};

// The model over batch x context rows, one character a row (row
// sequence * context + t): each layer unrolled over the context's steps.
void build_lstm(Lstm& m, const Config& c, Dim vocabulary, nn::Init& init) {
  Graph& g = m.g;
  // tutorial:begin
  m.ids = g.input("ids", {batch, 1});
  m.targets = g.input("targets", {batch, 1});  // the character after each row's
  Node x = nn::embedding(m.ids, vocabulary, c.hidden, init, "embed");
  for (Dim l = 1; l <= c.layers; ++l) {
    x = nn::lstm(x, {.steps = c.context, .hidden = c.hidden}, init, "lstm" + std::to_string(l));
  }
  m.logits = nn::dense(x, vocabulary, init, "head");
  m.loss = cross_entropy(m.logits, m.targets);
  g.rename(m.loss, "loss");
  // tutorial:end
}

// Each step of each layer one box, its backward nodes a second: the
// recurrence runs left to right through the first, and back through the
// second.
DotOptions unrolled(const Config& c) {
  DotOptions options{.backward = true, .title = "char_lstm, unrolled over " + std::to_string(c.context) + " steps"};
  options.collapse = {"embed", "head"};
  for (Dim l = 1; l <= c.layers; ++l) {
    const std::string layer = "lstm" + std::to_string(l);
    for (Dim t = 0; t < c.context; ++t) options.collapse.push_back(layer + "/t" + std::to_string(t));
  }
  return options;
}

int run(int argc, char** argv, nn::ShardGroup* group) {
  const std::optional<ParsedArgs> parsed = char_lstm_parser().parse_or_help(argc, argv);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  Config c = read_config(args);
  const Corpus corpus = char_training::read_corpus(c);
  const std::vector<std::int32_t> prompt = char_training::prompt_ids(c, corpus.vocab);

  nn::Init init(c.seed);
  Lstm m;
  build_lstm(m, c, Dim(corpus.vocab.size()), init);
  Executor<float> ex(m.g, {.threads = c.threads, .check_numerics = c.check_numerics});
  init.apply(ex);
  nn::AdamOptions adam_options{.learning_rate = c.learning_rate};
  if (c.clip_norm > 0) adam_options.clip_norm = c.clip_norm;
  nn::Adam adam(m.loss, adam_options);
  // The shape of the parameters, as the checkpoints record it.
  const char_training::ModelShape shape{
      .row = Matrix<double>{{double(c.layers), double(c.hidden)}}, .flags = "--layers and --hidden"};
  if (!c.resume.empty()) c.seed = char_training::resume(ex, adam, c, corpus.vocab, shape);
  std::printf("parameters: %zu, vocab %zu, train chars %zu, graph nodes %zu\n", adam.parameter_count(),
              corpus.vocab.size(), corpus.split.train.size(), m.g.size());

  // group: each rank a shard of every batch
  const MemoryReport memory = char_training::train(
      ex, adam, {.ids = m.ids, .targets = m.targets, .loss = m.loss, .feeds = {}}, c, corpus, shape, group);
  if (group && group->rank() != 0) return 0;  // under mpirun, one sample and one drawing
  // The LSTM reads left to right: nn::sample's padding after the last real
  // character changes nothing it reads.
  if (c.sample > 0) {
    const nn::LanguageModel<float> model{.ids = m.ids, .logits = m.logits, .context = std::size_t(c.context),
                                         .feeds = {}};
    char_training::sample(ex, model, c, corpus.vocab, prompt);
  }
  if (!c.svg.empty()) render(to_dot(m.g, unrolled(c)), c.svg);
  if (!c.dot.empty()) write_dot(m.g, c.dot, {.title = "char_lstm", .memory = memory});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_ranks("char_lstm", [&](nn::ShardGroup* group) { return run(argc, argv, group); });
}
