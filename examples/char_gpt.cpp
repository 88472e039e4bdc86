// A character-level GPT trained on a text (by default the King James Bible
// scripts/setup.sh writes): token and position embeddings, pre-norm
// transformer blocks (causal multi-head attention, GELU MLP), a final layer
// norm and a linear head, cross-entropy on the next character; AdamW with
// betas 0.9/0.99 and weight decay 0.1 on every parameter. The configuration
// of ../shared/anchors/torch_char_gpt.py, nanoGPT's CPU "shakespeare_char".
//   build/examples/char_gpt --iters 2000 --sample 500
//   build/examples/char_gpt --iters 2000 --sample 500 --exact-sample   (the whole window for each character)
//   build/examples/char_gpt --text shakespeare.txt --checkpoint gpt.dagradm --svg gpt.svg
#include "char_training.hpp"
#include "ranks.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>

using namespace dagrad;
using char_training::Corpus;

namespace {

const char_training::Defaults defaults{.context = 64, .batch_size = 12, .iters = 2000, .eval_every = 250,
                                       .learning_rate = 1e-3};

ArgParser char_gpt_parser() {
  ArgParser p("char_gpt", "Trains a character-level GPT on a text with dagrad's nn layers and AdamW, then samples from it.");
  char_training::add_text_flag(p);
  p.add("layers", "N", "transformer blocks (default 4)");
  p.add("heads", "N", "attention heads a block; they must divide --embd (default 4)");
  p.add("embd", "N", "the width of the residual stream (default 128)");
  char_training::add_training_flags(p, defaults);
  p.add("weight-decay", "R", "AdamW's decoupled weight decay, on every parameter (default 0.1)");
  p.add("init", "NAME",
        "the initial values: gpt2 (N(0, 0.02^2) weights and embeddings, the projections into the residual "
        "stream scaled down with depth, zero biases; the default) or pytorch (PyTorch's own defaults: "
        "nn.Linear's U(-b, b) weights and biases, b = 1/sqrt(fan_in), and N(0, 1) embeddings)");
  char_training::add_checkpoint_flags(p);
  p.add("svg", "FILE", "draw the network, one box a block, to FILE (.svg, .png or .pdf)");
  p.add("dot", "FILE", "write the whole graph, forward and backward, as DOT");
  p.add_switch("exact-sample",
               "sample by running the whole window of the last --context characters for each one (slower) "
               "instead of one row over a key/value cache, which when full keeps its latest half");
  char_training::add_run_switches(p);
  return p;
}

// The shared flags (the text, the windows, the steps, the sample) and the
// model's own.
struct Config : char_training::Flags {
  std::string svg, dot;
  Dim layers = 0, heads = 0, embd = 0;
  double weight_decay = 0;
  bool exact_sample = false;
  bool torch_init = false;  // --init pytorch
};

Config read_config(const ParsedArgs& a) {
  Config c;
  static_cast<char_training::Flags&>(c) = char_training::read_flags(a, defaults, "char_gpt");
  c.svg = a.get("svg");
  c.dot = a.get("dot");
  c.layers = a.get_int("layers", 4, 1, 64);
  c.heads = a.get_int("heads", 4, 1, 1024);
  c.embd = a.get_int("embd", 128, 1, 8192);
  c.weight_decay = a.get_double("weight-decay", 0.1, 0, 100);
  c.exact_sample = a.has("exact-sample");
  const std::string init = a.get("init", "gpt2");
  if (init != "gpt2" && init != "pytorch") {
    throw UsageError("char_gpt: --init takes gpt2 or pytorch, not '" + init + "'");
  }
  c.torch_init = init == "pytorch";
  if (c.embd % c.heads != 0) {
    throw UsageError("char_gpt: --heads " + std::to_string(c.heads) + " does not divide --embd " +
                     std::to_string(c.embd) + "; each head takes an equal share of the width");
  }
  return c;
}

struct Gpt {
  Graph g;
  Node ids, positions, targets, logits, loss;
};

// The blocks' geometry and how every layer starts (--init): GPT-2's values,
// or PyTorch's defaults for nn.Linear and nn.Embedding.
nn::TransformerOptions block_options(const Config& c) {
  nn::TransformerOptions o{.heads = c.heads, .context = c.context, .layers = c.layers};
  if (c.torch_init) {
    o.weights = o.bias = nn::torch_linear();
    o.residual = nn::torch_linear();
  }
  return o;
}
nn::EmbeddingOptions embedding_options(const Config& c) {
  return {.table_init = nn::normal(c.torch_init ? 1.0 : 0.02)};
}

// The model over batch x context rows, one character a row (row
// sequence * context + t), each block a name scope.
void build_gpt(Gpt& m, const Config& c, Dim vocabulary, nn::Init& init) {
  Graph& g = m.g;
  // tutorial:begin
  m.ids = g.input("ids", {batch, 1});
  m.positions = g.input("positions", {batch, 1});  // t of each row
  m.targets = g.input("targets", {batch, 1});      // the character after each row's
  const nn::TransformerOptions block = block_options(c);  // heads, context, layers; --init's values
  Node x;
  {
    auto scope = g.scope("embed");
    x = nn::embedding(m.ids, vocabulary, c.embd, init, "tok", embedding_options(c)) +
        nn::embedding(m.positions, c.context, c.embd, init, "pos", embedding_options(c));
  }
  for (Dim l = 1; l <= c.layers; ++l) {
    x = nn::transformer_block(x, block, init, "block" + std::to_string(l));
  }
  x = nn::layer_norm(x, init, "ln_f");
  m.logits = nn::dense(x, vocabulary, init, "head", {.bias = false, .weights = block.weights});
  m.loss = cross_entropy(m.logits, m.targets);
  g.rename(m.loss, "loss");
  // tutorial:end
}

// The model's shape as its checkpoints record it: a resume with other
// flags is refused instead of trained on.
char_training::ModelShape model_shape(const Config& c) {
  return {.row = Matrix<double>{{double(c.layers), double(c.heads), double(c.embd), double(c.context)}},
          .flags = "--layers, --heads, --embd and --context"};
}

// The model again for generation with a key/value cache, in the same graph
// over the trained parameters (nn::Init::reuse() finds each by its name): a
// prefill pass for rows from position 0 and a step pass for rows after
// cached ones, whose blocks read the earlier keys and values from inputs.
nn::CachedLanguageModel<float> build_generator(Gpt& m, const Config& c, Dim vocabulary) {
  Graph& g = m.g;
  // tutorial:begin
  nn::Init shared = nn::Init::reuse();
  const auto pass = [&](const std::string& name, bool after_cache) {
    nn::CachedPass p;
    {
      auto scope = g.scope(name);
      p.ids = g.input("ids", {batch, 1});
      p.positions = g.input("positions", {batch, 1});
      for (Dim l = 1; after_cache && l <= c.layers; ++l) {
        p.past.push_back(g.input("past" + std::to_string(l), {batch, 2 * c.embd}));  // K | V of block l
      }
    }
    Node x;
    {
      auto scope = g.scope("embed");
      x = nn::embedding(p.ids, vocabulary, c.embd, shared, "tok") +
          nn::embedding(p.positions, c.context, c.embd, shared, "pos");
    }
    for (Dim l = 1; l <= c.layers; ++l) {
      const nn::CachedBlock block =
          nn::transformer_block_cached(x, after_cache ? p.past[std::size_t(l - 1)] : Node(),
                                       {.heads = c.heads, .layers = c.layers}, shared, "block" + std::to_string(l));
      x = block.out;
      p.qkv.push_back(block.qkv);
    }
    x = nn::layer_norm(x, shared, "ln_f");
    p.logits = nn::dense(x, vocabulary, shared, "head", {.bias = false, .weights = nn::normal(0.02)});
    return p;
  };
  return {.prefill = pass("prefill", false), .step = pass("step", true), .context = std::size_t(c.context)};
  // tutorial:end
}

// --sample characters after the prompt: by default one row at a time over
// a key/value cache (the generator above); with --exact-sample from the
// model run on one window at a time (the graph's rows are any number of
// windows), its positions 0..context-1.
void sample(Executor<float>& ex, Gpt& m, const Config& c, const nn::CharVocabulary& vocab,
            const std::vector<std::int32_t>& prompt) {
  if (!c.exact_sample) {
    char_training::sample(ex, build_generator(m, c, Dim(vocab.size())), c, vocab, prompt);
    return;
  }
  // tutorial:begin
  const nn::LanguageModel<float> model{.ids = m.ids, .logits = m.logits, .context = std::size_t(c.context),
                                       .feeds = {{m.positions, nn::position_ids<float>(1, std::size_t(c.context))}}};
  // tutorial:end
  char_training::sample(ex, model, c, vocab, prompt);
}

int run(int argc, char** argv, nn::ShardGroup* group) {
  const std::optional<ParsedArgs> parsed = char_gpt_parser().parse_or_help(argc, argv);
  if (!parsed) return 0;
  const ParsedArgs& args = *parsed;
  Config c = read_config(args);
  const Corpus corpus = char_training::read_corpus(c);
  const std::vector<std::int32_t> prompt = char_training::prompt_ids(c, corpus.vocab);

  nn::Init init(c.seed);
  Gpt m;
  build_gpt(m, c, Dim(corpus.vocab.size()), init);
  // tutorial:begin
  Executor<float> ex(m.g, {.threads = c.threads, .check_numerics = c.check_numerics});
  init.apply(ex);
  nn::AdamW adamw(m.loss, {.learning_rate = c.learning_rate, .beta_1 = 0.9, .beta_2 = 0.99,
                           .weight_decay = c.weight_decay});
  if (!c.resume.empty()) c.seed = char_training::resume(ex, adamw, c, corpus.vocab, model_shape(c));
  // tutorial:end
  std::printf("parameters: %zu, vocab %zu, train chars %zu\n", adamw.parameter_count(), corpus.vocab.size(),
              corpus.split.train.size());

  // Each batch's positions: t of each row, the same for every batch.
  const char_training::Model model{
      .ids = m.ids, .targets = m.targets, .loss = m.loss,
      .feeds = {{m.positions, nn::position_ids<float>(c.batch_size, std::size_t(c.context))}}};
  // group: each rank a shard of every batch
  const MemoryReport memory = char_training::train(ex, adamw, model, c, corpus, model_shape(c), group);
  if (group && group->rank() != 0) return 0;  // under mpirun, one sample and one drawing
  // Drawn before the sample adds the generator's nodes to the graph.
  if (!c.svg.empty()) render(to_dot(m.g, {.backward = false, .title = "char_gpt", .collapse_layers = true}), c.svg);
  if (!c.dot.empty()) write_dot(m.g, c.dot, {.title = "char_gpt", .memory = memory});
  if (c.sample > 0) sample(ex, m, c, corpus.vocab, prompt);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_ranks("char_gpt", [&](nn::ShardGroup* group) { return run(argc, argv, group); });
}
