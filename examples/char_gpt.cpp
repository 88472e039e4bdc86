// A character-level GPT trained on a text (by default the King James Bible
// scripts/setup.sh writes): token and position embeddings, pre-norm
// transformer blocks (causal multi-head attention, GELU MLP), a final layer
// norm and a linear head, cross-entropy on the next character; AdamW with
// betas 0.9/0.99 and weight decay 0.1 on every parameter. The configuration
// of ../shared/anchors/torch_char_gpt.py, nanoGPT's CPU "shakespeare_char".
//   build/examples/char_gpt --iters 2000 --sample 500
//   build/examples/char_gpt --text shakespeare.txt --checkpoint gpt.dagradm --svg gpt.svg
#include <dagrad/dagrad.hpp>
#include <dagrad/nn.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <unistd.h>

using namespace dagrad;

namespace {

ArgParser char_gpt_parser() {
  ArgParser p("char_gpt", "Trains a character-level GPT on a text with dagrad's nn layers and AdamW, then samples from it.");
  p.add("text", "FILE", "the text to learn, read as bytes (default ~/.cache/dagrad/kjv.txt, scripts/setup.sh)");
  p.add("layers", "N", "transformer blocks (default 4)");
  p.add("heads", "N", "attention heads a block; they must divide --embd (default 4)");
  p.add("embd", "N", "the width of the residual stream (default 128)");
  p.add("context", "N", "characters a window, the most the model sees at once (default 64)");
  p.add("batch-size", "N", "windows a step (default 12)");
  p.add("iters", "N", "training steps (default 2000)");
  p.add("learning-rate", "R", "AdamW's learning rate (default 0.001)");
  p.add("weight-decay", "R", "AdamW's decoupled weight decay, on every parameter (default 0.1)");
  p.add("seed", "N", "the initial weights, the windows and the sample (default 1337)");
  p.add("threads", "N", "threads the executor may use, 0 = one per core (default 0)");
  p.add("eval-every", "N", "steps between loss estimates, each the mean of --eval-iters batches a split (default 250)");
  p.add("eval-iters", "N", "batches each loss estimate averages (default 20)");
  p.add("sample", "N", "after training, generate N characters (default 0)");
  p.add("prompt", "TEXT", "what the sample continues (default a newline, else the text's lowest character)");
  p.add("temperature", "T", "divides the logits when sampling: below 1 safer, above 1 wilder (default 1)");
  p.add("top-k", "K", "sample among the K likeliest characters only, 0 = all (default 0)");
  p.add("checkpoint", "FILE", "write the model and the training state to FILE at every estimate");
  p.add("resume", "FILE", "continue from a checkpoint, with the bits the run that wrote it would have had");
  p.add("svg", "FILE", "draw the network, one box a block, to FILE (.svg, .png or .pdf)");
  p.add("dot", "FILE", "write the whole graph, forward and backward, as DOT");
  p.add_switch("check-numerics", "stop at the first NaN or infinity, naming the node");
  p.add_switch("memory", "print a training step's memory plan (one shared block against a buffer per node); "
                         "--dot then colours each node by its place in it");
  p.add_switch("profile", "time every node of the training steps; print where the time went");
  return p;
}

struct Config {
  std::string text, prompt, checkpoint, resume, svg, dot;
  Dim layers, heads, embd, context;
  std::size_t batch_size, eval_iters, sample, top_k;
  std::uint64_t iters, eval_every;
  double learning_rate, weight_decay, temperature;
  std::uint32_t seed;
  int threads;
  bool check_numerics, profile, memory;
};

std::string default_text() {
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/dagrad/kjv.txt";
}

Config read_config(const ParsedArgs& a) {
  Config c{.text = a.get("text", default_text()),
           .prompt = a.get("prompt"),
           .checkpoint = a.get("checkpoint"),
           .resume = a.get("resume"),
           .svg = a.get("svg"),
           .dot = a.get("dot"),
           .layers = a.get_int("layers", 4, 1, 64),
           .heads = a.get_int("heads", 4, 1, 1024),
           .embd = a.get_int("embd", 128, 1, 8192),
           .context = a.get_int("context", 64, 1, 8192),
           .batch_size = std::size_t(a.get_int("batch-size", 12, 1, 65536)),
           .eval_iters = std::size_t(a.get_int("eval-iters", 20, 1, 100000)),
           .sample = std::size_t(a.get_int("sample", 0, 0, 100000000)),
           .top_k = std::size_t(a.get_int("top-k", 0, 0, 256)),
           .iters = std::uint64_t(a.get_int("iters", 2000, 0, 100000000)),
           .eval_every = std::uint64_t(a.get_int("eval-every", 250, 1, 100000000)),
           .learning_rate = a.get_double("learning-rate", 1e-3, 1e-12, 10),
           .weight_decay = a.get_double("weight-decay", 0.1, 0, 100),
           .temperature = a.get_double("temperature", 1.0, 1e-6, 1e6),
           .seed = std::uint32_t(a.get_int("seed", 1337, 0, 4294967295L)),
           .threads = int(a.get_int("threads", 0, 0, 1024)),
           .check_numerics = a.has("check-numerics"),
           .profile = a.has("profile"),
           .memory = a.has("memory")};
  if (c.embd % c.heads != 0) {
    throw UsageError("char_gpt: --heads " + std::to_string(c.heads) + " does not divide --embd " +
                     std::to_string(c.embd) + "; each head takes an equal share of the width");
  }
  if (a.has("prompt") && c.prompt.empty()) throw UsageError("char_gpt: --prompt is empty; give at least one character");
  return c;
}

// The text as ids, cut 90/10; its vocabulary. Refuses, naming the file, a
// text whose validation tenth holds no window and its next character.
struct Corpus {
  nn::CharVocabulary vocab;
  std::vector<std::int32_t> ids;
  nn::TextSplit split;
};
Corpus read_corpus(const Config& c) {
  // tutorial:begin
  const std::string text = read_text_file(c.text);
  Corpus corpus{nn::CharVocabulary(text), {}, {}};
  corpus.ids = corpus.vocab.encode(text);
  corpus.split = nn::split(corpus.ids, 0.9);
  // tutorial:end
  if (corpus.split.validation.size() < std::size_t(c.context) + 1) {
    throw DataError(c.text + ": too short: " + std::to_string(text.size()) + " characters, whose last tenth (" +
                    std::to_string(corpus.split.validation.size()) + ", for validation) holds no window of --context " +
                    std::to_string(c.context) + " and the character after it");
  }
  return corpus;
}

struct Gpt {
  Graph g;
  Node ids, positions, targets, logits, loss;
};

// The model over batch x context rows, one character a row (row
// sequence * context + t), each block a name scope.
void build_gpt(Gpt& m, const Config& c, Dim vocabulary, nn::Init& init) {
  Graph& g = m.g;
  // tutorial:begin
  m.ids = g.input("ids", {batch, 1});
  m.positions = g.input("positions", {batch, 1});  // t of each row
  m.targets = g.input("targets", {batch, 1});      // the character after each row's
  Node x;
  {
    auto scope = g.scope("embed");
    x = nn::embedding(m.ids, vocabulary, c.embd, init, "tok") +
        nn::embedding(m.positions, c.context, c.embd, init, "pos");
  }
  for (Dim l = 1; l <= c.layers; ++l) {
    x = nn::transformer_block(x, {.heads = c.heads, .context = c.context, .layers = c.layers}, init,
                              "block" + std::to_string(l));
  }
  x = nn::layer_norm(x, init, "ln_f");
  m.logits = nn::dense(x, vocabulary, init, "head", {.bias = false, .weights = nn::normal(0.02)});
  m.loss = cross_entropy(m.logits, m.targets);
  g.rename(m.loss, "loss");
  // tutorial:end
}

// The loss estimate at a step: the mean over `batches` batches of a split,
// drawn as a function of (seed, stream, step) alone.
double mean_loss(Executor<float>& ex, const Gpt& m, const nn::WindowBatches& source, std::uint64_t step,
                 std::size_t batches, const Matrix<float>& positions) {
  Matrix<float> ids, targets;
  double sum = 0;
  for (std::size_t b = 0; b < batches; ++b) {
    source.draw(step * batches + b, ids, targets);
    sum += double(ex.run({{m.ids, ids}, {m.positions, positions}, {m.targets, targets}}, {m.loss})[0](0, 0));
  }
  return sum / double(batches);
}

// What a checkpoint holds besides the parameters and AdamW's state: the
// seed, the model's shape and the vocabulary, so that a resume with other
// flags or another text is refused instead of trained on.
const std::string loop_prefix = "state:char_gpt/";
Matrix<double> shape_row(const Config& c) {
  return Matrix<double>{{double(c.layers), double(c.heads), double(c.embd), double(c.context)}};
}
Matrix<double> vocabulary_row(const nn::CharVocabulary& vocab) {
  Matrix<double> row(1, Eigen::Index(vocab.size()));
  for (std::size_t i = 0; i < vocab.size(); ++i) row(0, Eigen::Index(i)) = double(static_cast<unsigned char>(vocab.characters()[i]));
  return row;
}

void save_checkpoint(const Executor<float>& ex, const nn::Optimizer& opt, const Config& c,
                     const nn::CharVocabulary& vocab) {
  nn::NamedTensors tensors = nn::checkpoint_tensors(ex, opt, c.checkpoint);
  tensors.emplace_back(loop_prefix + "seed", Matrix<double>::Constant(1, 1, double(c.seed)));
  tensors.emplace_back(loop_prefix + "shape", shape_row(c));
  tensors.emplace_back(loop_prefix + "vocabulary", vocabulary_row(vocab));
  save_tensors(tensors, c.checkpoint);
}

bool same(const Matrix<double>& a, const Matrix<double>& b) { return shape_of(a) == shape_of(b) && a == b; }

// Restores a checkpoint of this model and text; returns the seed it was
// written with, which the resumed run draws its windows from.
std::uint32_t resume(Executor<float>& ex, nn::Optimizer& opt, const Config& c, const nn::CharVocabulary& vocab) {
  const nn::NamedTensors tensors = load_tensors(c.resume);
  const auto find = [&](const std::string& name) -> const Matrix<double>& {
    for (const auto& [n, v] : tensors) {
      if (n == loop_prefix + name) return v;
    }
    throw DataError(c.resume + ": holds no '" + loop_prefix + name + "'; is it a char_gpt checkpoint?");
  };
  if (!same(find("shape"), shape_row(c))) {
    throw DataError(c.resume + ": a checkpoint of another model; give the --layers, --heads, --embd and --context "
                    "it was trained with");
  }
  if (!same(find("vocabulary"), vocabulary_row(vocab))) {
    throw DataError(c.resume + ": a checkpoint of a text with other characters than " + c.text + "'s");
  }
  const Matrix<double>& seed = find("seed");
  if (shape_of(seed) != Shape{1, 1} || !(seed(0, 0) >= 0 && seed(0, 0) <= 4294967295.0) ||
      seed(0, 0) != std::floor(seed(0, 0))) {
    throw DataError(c.resume + ": '" + loop_prefix + "seed' is not a seed");
  }
  nn::check_checkpoint(opt, tensors, c.resume, {loop_prefix + "seed", loop_prefix + "shape", loop_prefix + "vocabulary"});
  nn::restore_checkpoint(ex, opt, tensors, c.resume);
  return std::uint32_t(seed(0, 0));
}


// The training loop, counted in AdamW's steps: the loss estimates (and the
// checkpoint) every --eval-every steps and after the last, then a step on
// the batch of windows `step` draws.
// Returns, with --memory, where the last training step kept its values.
MemoryReport train(Executor<float>& ex, nn::Optimizer& opt, const Gpt& m, const Config& c, const Corpus& corpus) {
  MemoryReport memory;
  // tutorial:begin
  const auto windows = [&](std::span<const std::int32_t> ids, std::uint64_t stream) {
    return nn::WindowBatches(ids, {.context = std::size_t(c.context), .batch_size = c.batch_size, .seed = c.seed,
                                   .stream = stream});
  };
  const nn::WindowBatches batches = windows(corpus.split.train, 0), train_estimate = windows(corpus.split.train, 1),
                          validation_estimate = windows(corpus.split.validation, 2);
  const Matrix<float> positions = nn::position_ids<float>(c.batch_size, std::size_t(c.context));
  // tutorial:end
  const bool bar = isatty(STDOUT_FILENO);
  Matrix<float> ids, targets;
  double fit_seconds = 0;
  const std::uint64_t first = opt.steps();
  for (std::uint64_t step = first;; ++step) {
    if (step % c.eval_every == 0 || step == c.iters) {
      const double train_loss = mean_loss(ex, m, train_estimate, step, c.eval_iters, positions);
      const double val_loss = mean_loss(ex, m, validation_estimate, step, c.eval_iters, positions);
      if (bar) std::cout << progress_bar("", 0, 0);
      std::printf("step %llu: train loss %.4f, val loss %.4f\n", (unsigned long long)step, train_loss, val_loss);
      std::fflush(stdout);
      if (!c.checkpoint.empty()) save_checkpoint(ex, opt, c, corpus.vocab);
    }
    if (step >= c.iters) break;
    ex.set_profiling(c.profile);  // the training steps only, not the estimates
    const auto start = std::chrono::steady_clock::now();
    // tutorial:begin
    batches.draw(step, ids, targets);
    opt.step(ex, {{m.ids, ids}, {m.positions, positions}, {m.targets, targets}});
    // tutorial:end
    fit_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ex.set_profiling(false);
    if (c.memory && step + 1 == c.iters) memory = ex.memory_plan();
    if (bar) {
      const std::uint64_t from = step / c.eval_every * c.eval_every, to = std::min(from + c.eval_every, c.iters);
      std::cout << progress_bar("steps " + std::to_string(from) + "-" + std::to_string(to), step + 1 - from, to - from)
                << std::flush;
    }
  }
  const std::uint64_t trained = c.iters > first ? c.iters - first : 0;
  std::printf("ms_per_iter: %.2f\nfit_seconds: %.2f\n", trained ? 1000 * fit_seconds / double(trained) : 0.0,
              fit_seconds);
  if (c.profile) std::cout << "\nDuring the training steps. " << profile_table(ex.profile(), fit_seconds, c.threads);
  if (c.memory) std::cout << "\nA training step's " << plan_summary(memory) << "\n";
  return memory;
}

// --prompt as ids: a character the text does not hold is refused, naming
// it. Without --prompt, a newline (the start of a line) if the text has one.
std::vector<std::int32_t> prompt_ids(Config& c, const nn::CharVocabulary& vocab) {
  if (c.prompt.empty()) {
    const bool newline = vocab.characters().find('\n') != std::string::npos;
    c.prompt = newline ? std::string("\n") : vocab.decode(std::vector<std::int32_t>{0});
  }
  try {
    return vocab.encode(c.prompt);
  } catch (const DataError& e) {
    throw UsageError(std::string("char_gpt: --prompt: ") + e.what() + " (those of " + c.text + ")");
  }
}

// --sample characters after the prompt, from the model run on one window at
// a time (the graph's rows are any number of windows).
void sample(Executor<float>& ex, const Gpt& m, const Config& c, const nn::CharVocabulary& vocab,
            const std::vector<std::int32_t>& prompt) {
  // tutorial:begin
  const nn::LanguageModel<float> model{.ids = m.ids, .logits = m.logits, .context = std::size_t(c.context),
                                       .feeds = {{m.positions, nn::position_ids<float>(1, std::size_t(c.context))}}};
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::int32_t> out =
      nn::sample(ex, model, prompt, c.sample, {.temperature = c.temperature, .top_k = c.top_k, .seed = c.seed});
  // tutorial:end
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("sample: %zu characters in %.2f s (%.0f characters/s)\n", out.size(), seconds,
              double(out.size()) / seconds);
  std::cout << c.prompt << vocab.decode(out) << "\n";
}

int run(int argc, char** argv) {
  const ArgParser parser = char_gpt_parser();
  const ParsedArgs args = parser.parse(argc, argv);
  if (args.help) {
    std::cout << parser.help();
    return 0;
  }
  Config c = read_config(args);
  const Corpus corpus = read_corpus(c);
  // The prompt is checked before training, not after.
  const std::vector<std::int32_t> prompt = c.sample > 0 ? prompt_ids(c, corpus.vocab) : std::vector<std::int32_t>{};

  nn::Init init(c.seed);
  Gpt m;
  build_gpt(m, c, Dim(corpus.vocab.size()), init);
  // tutorial:begin
  Executor<float> ex(m.g, {.threads = c.threads, .check_numerics = c.check_numerics});
  init.apply(ex);
  nn::AdamW adamw(m.loss, {.learning_rate = c.learning_rate, .beta_1 = 0.9, .beta_2 = 0.99,
                           .weight_decay = c.weight_decay});
  if (!c.resume.empty()) c.seed = resume(ex, adamw, c, corpus.vocab);
  // tutorial:end
  std::size_t parameters = 0;
  for (const Node& p : adamw.parameters()) parameters += std::size_t(p.shape().rows * p.shape().cols);
  std::printf("parameters: %zu, vocab %zu, train chars %zu\n", parameters, corpus.vocab.size(),
              corpus.split.train.size());

  const MemoryReport memory = train(ex, adamw, m, c, corpus);
  if (c.sample > 0) sample(ex, m, c, corpus.vocab, prompt);
  if (!c.svg.empty()) render(to_dot(m.g, {.backward = false, .title = "char_gpt", .collapse_layers = true}), c.svg);
  if (!c.dot.empty()) write_dot(m.g, c.dot, {.title = "char_gpt", .memory = memory});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("char_gpt", [&] { return run(argc, argv); });
}
