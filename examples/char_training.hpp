// What the character-level language models (char_gpt, char_lstm) share: the
// flags of the text, the training and the sample; the text cut 90/10; the
// loss estimates; the training loop over an optimizer's steps; the prompt
// and the sample; checkpoints. A program adds its model's flags and builds
// its graph.
//   char_training::add_text_flag(p);  ...model flags...  char_training::add_training_flags(p, defaults);
//   char_training::train(ex, adamw, model, c, corpus, shape, group);
#pragma once

#include <dagrad/dagrad.hpp>
#include <dagrad/nn.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include <unistd.h>

namespace char_training {

using namespace dagrad;

// Each program's own defaults for the shared flags.
struct Defaults {
  Dim context = 64;
  std::size_t batch_size = 12;
  std::uint64_t iters = 2000, eval_every = 250;
  double learning_rate = 1e-3;
};

inline std::string default_text() {
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/dagrad/kjv.txt";
}

// A default as the help prints it: 0.001, not 0.001000.
inline std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", x);
  return text;
}

inline void add_text_flag(ArgParser& p) {
  p.add("text", "FILE", "the text to learn, read as bytes (default ~/.cache/dagrad/kjv.txt, scripts/setup.sh)");
}

inline void add_training_flags(ArgParser& p, const Defaults& d) {
  p.add("context", "N",
        "characters a window, the most the model sees at once (default " + std::to_string(d.context) + ")");
  p.add("batch-size", "N", "windows a step (default " + std::to_string(d.batch_size) + ")");
  p.add("iters", "N", "training steps (default " + std::to_string(d.iters) + ")");
  p.add("learning-rate", "R", "the optimizer's learning rate (default " + number(d.learning_rate) + ")");
  p.add("seed", "N", "the initial weights, the windows and the sample (default 1337)");
  p.add("threads", "N", "threads the executor may use, 0 = one per core (default 0)");
  p.add("eval-every", "N",
        "steps between loss estimates, each the mean of --eval-iters batches a split (default " +
            std::to_string(d.eval_every) + ")");
  p.add("eval-iters", "N", "batches each loss estimate averages (default 20)");
  p.add("sample", "N", "after training, generate N characters (default 0)");
  p.add("prompt", "TEXT", "what the sample continues (default a newline, else the text's lowest character)");
  p.add("temperature", "T", "divides the logits when sampling: below 1 safer, above 1 wilder (default 1)");
  p.add("top-k", "K", "sample among the K likeliest characters only, 0 = all (default 0)");
  p.add("shards", "N",
        "cut each batch of windows into N shards, computed one after another and their gradients summed in "
        "order, as N data-parallel processes would; under mpirun, 1 or the number of ranks (default 1)");
  p.add("bucket-bytes", "N",
        "under mpirun: sum the gradients across the ranks in buckets of about N bytes, each as soon as "
        "backward has computed it; 0: all at once after backward; the bits are the same (default " +
            std::to_string(nn::default_bucket_bytes) + ")");
}

inline void add_checkpoint_flags(ArgParser& p) {
  p.add("checkpoint", "FILE", "write the model and the training state to FILE at every estimate");
  p.add("resume", "FILE", "continue from a checkpoint, with the bits the run that wrote it would have had");
}

inline void add_run_switches(ArgParser& p) {
  p.add_switch("check-numerics", "stop at the first NaN or infinity, naming the node");
  p.add_switch("memory", "print a training step's memory plan (one shared block against a buffer per node); "
                         "--dot then colours each node by its place in it");
  p.add_switch("profile", "time every node of the training steps; print where the time went");
}

// The shared flags' values; a program's Config derives from it.
struct Flags {
  std::string program, text, prompt;
  std::string checkpoint, resume;  // add_checkpoint_flags
  Dim context = 0;
  std::size_t batch_size = 0, eval_iters = 0, sample = 0, top_k = 0, bucket_bytes = 0;
  std::uint64_t iters = 0, eval_every = 0;
  double learning_rate = 0, temperature = 0;
  std::uint32_t seed = 0;
  int threads = 0, shards = 1;
  bool check_numerics = false, profile = false, memory = false;
};

inline Flags read_flags(const ParsedArgs& a, const Defaults& d, const std::string& program) {
  Flags f{.program = program,
          .text = a.get("text", default_text()),
          .prompt = a.get("prompt"),
          .checkpoint = a.get("checkpoint"),
          .resume = a.get("resume"),
          .context = a.get_int("context", d.context, 1, 8192),
          .batch_size = std::size_t(a.get_int("batch-size", long(d.batch_size), 1, 65536)),
          .eval_iters = std::size_t(a.get_int("eval-iters", 20, 1, 100000)),
          .sample = std::size_t(a.get_int("sample", 0, 0, 100000000)),
          .top_k = std::size_t(a.get_int("top-k", 0, 0, 256)),
          .bucket_bytes = std::size_t(a.get_int("bucket-bytes", long(nn::default_bucket_bytes), 0, 1L << 40)),
          .iters = std::uint64_t(a.get_int("iters", long(d.iters), 0, 100000000)),
          .eval_every = std::uint64_t(a.get_int("eval-every", long(d.eval_every), 1, 100000000)),
          .learning_rate = a.get_double("learning-rate", d.learning_rate, 1e-12, 10),
          .temperature = a.get_double("temperature", 1.0, 1e-6, 1e6),
          .seed = std::uint32_t(a.get_int("seed", 1337, 0, 4294967295L)),
          .threads = int(a.get_int("threads", 0, 0, 1024)),
          .shards = int(a.get_int("shards", 1, 1, 1024)),
          .check_numerics = a.has("check-numerics"),
          .profile = a.has("profile"),
          .memory = a.has("memory")};
  if (a.has("prompt") && f.prompt.empty()) {
    throw UsageError(program + ": --prompt is empty; give at least one character");
  }
  return f;
}

// The text as ids, cut 90/10; its vocabulary. Refuses, naming the file, a
// text whose validation tenth holds no window and its next character.
struct Corpus {
  nn::CharVocabulary vocab;
  std::vector<std::int32_t> ids;
  nn::TextSplit split;
};
inline Corpus read_corpus(const Flags& c) {
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

// A model as the loop trains it: the ids and targets inputs (a column each,
// batch x context rows), the loss, and what else each batch is fed (its
// position ids, say).
struct Model {
  Node ids, targets, loss;
  std::vector<Feed<float>> feeds;
};

// A batch's feeds: the model's own, then the ids and targets.
inline std::vector<Feed<float>> batch_feeds(const Model& m, const Matrix<float>& ids, const Matrix<float>& targets) {
  std::vector<Feed<float>> feeds = m.feeds;
  feeds.emplace_back(m.ids, ids);
  feeds.emplace_back(m.targets, targets);
  return feeds;
}

// The loss estimate at a step: the mean over `batches` batches of a split,
// drawn as a function of (seed, stream, step) alone. In a group each rank
// computes a slice of the batches (nn::slice_of) and every rank adds all
// their losses in batch order, so the estimate has the bits of one process
// computing them all, in 1/N of its time.
inline double mean_loss(Executor<float>& ex, const Model& m, const nn::WindowBatches& source, std::uint64_t step,
                        std::size_t batches, nn::ShardGroup* group) {
  const nn::Slice mine = group ? nn::slice_of(batches, std::size_t(group->rank()), std::size_t(group->size()))
                               : nn::Slice{0, batches};
  std::vector<double> losses;
  Matrix<float> ids, targets;
  for (std::size_t b = mine.begin; b < mine.end; ++b) {
    source.draw(step * batches + b, ids, targets);
    losses.push_back(double(ex.run(batch_feeds(m, ids, targets), {m.loss})[0](0, 0)));
  }
  if (group) {
    std::vector<double> all(batches);
    std::size_t at = 0;
    for (std::span<const std::byte> part : group->all_gather(std::as_bytes(std::span(losses)))) {
      std::memcpy(all.data() + at, part.data(), part.size());
      at += part.size() / sizeof(double);
    }
    losses = std::move(all);
  }
  double sum = 0;
  for (double loss : losses) sum += loss;
  return sum / double(batches);
}

// What a checkpoint holds besides the parameters and the optimizer's state:
// the seed, the model's shape and the vocabulary, so that a resume with
// other flags or another text is refused instead of trained on.
struct ModelShape {
  Matrix<double> row;  // the flags' values that fix the parameters' shapes
  std::string flags;   // those flags, for the message: "--layers and --hidden"
};

inline std::string checkpoint_prefix(const Flags& c) { return "state:" + c.program + "/"; }

inline Matrix<double> vocabulary_row(const nn::CharVocabulary& vocab) {
  Matrix<double> row(1, Eigen::Index(vocab.size()));
  for (std::size_t i = 0; i < vocab.size(); ++i) {
    row(0, Eigen::Index(i)) = double(static_cast<unsigned char>(vocab.characters()[i]));
  }
  return row;
}

inline void save_checkpoint(const Executor<float>& ex, const nn::Optimizer& opt, const Flags& c,
                            const nn::CharVocabulary& vocab, const ModelShape& shape) {
  nn::NamedTensors tensors = nn::checkpoint_tensors(ex, opt, c.checkpoint);
  const std::string prefix = checkpoint_prefix(c);
  tensors.emplace_back(prefix + "seed", Matrix<double>::Constant(1, 1, double(c.seed)));
  tensors.emplace_back(prefix + "shape", shape.row);
  tensors.emplace_back(prefix + "vocabulary", vocabulary_row(vocab));
  save_tensors(tensors, c.checkpoint);
}

// Restores a checkpoint of this model and text; returns the seed it was
// written with, which the resumed run draws its windows from.
inline std::uint32_t resume(Executor<float>& ex, nn::Optimizer& opt, const Flags& c, const nn::CharVocabulary& vocab,
                            const ModelShape& shape) {
  const nn::NamedTensors tensors = load_tensors(c.resume);
  const std::string prefix = checkpoint_prefix(c);
  const auto find = [&](const std::string& name) -> const Matrix<double>& {
    for (const auto& [n, v] : tensors) {
      if (n == prefix + name) return v;
    }
    throw DataError(c.resume + ": holds no '" + prefix + name + "'; is it a " + c.program + " checkpoint?");
  };
  const auto same = [](const Matrix<double>& a, const Matrix<double>& b) {
    return shape_of(a) == shape_of(b) && a == b;
  };
  if (!same(find("shape"), shape.row)) {
    throw DataError(c.resume + ": a checkpoint of another model; give the " + shape.flags + " it was trained with");
  }
  if (!same(find("vocabulary"), vocabulary_row(vocab))) {
    throw DataError(c.resume + ": a checkpoint of a text with other characters than " + c.text + "'s");
  }
  const Matrix<double>& seed = find("seed");
  if (shape_of(seed) != Shape{1, 1} || !(seed(0, 0) >= 0 && seed(0, 0) <= 4294967295.0) ||
      seed(0, 0) != std::floor(seed(0, 0))) {
    throw DataError(c.resume + ": '" + prefix + "seed' is not a seed");
  }
  nn::check_checkpoint(opt, tensors, c.resume, {prefix + "seed", prefix + "shape", prefix + "vocabulary"});
  nn::restore_checkpoint(ex, opt, tensors, c.resume);
  return std::uint32_t(seed(0, 0));
}

// Steps [from, to) with --shards or a group: nn's batch loop over their
// windows (numbered step * batch_size + window), a batch a step, each cut
// into shards of whole windows, so the bits are those of --shards N
// whether the shards run here or on the ranks of mpirun. after(windows
// done) follows each step.
inline void sharded_steps(Executor<float>& ex, nn::Optimizer& opt, const Model& m, const Flags& c,
                          const nn::WindowBatches& batches, std::uint64_t from, std::uint64_t to,
                          nn::ShardGroup* group, const std::function<void(std::size_t)>& after) {
  std::vector<std::size_t> windows(std::size_t(to - from) * c.batch_size);
  std::iota(windows.begin(), windows.end(), std::size_t{0});
  Matrix<float> ids, targets;
  std::uint64_t drawn = to;  // none yet
  const auto rows = [&](const auto& all, std::size_t first, std::size_t count) {
    return all.middleRows(Eigen::Index(first) * c.context, Eigen::Index(count) * c.context);
  };
  nn::run_batches<float>(
      ex, opt, windows,
      {.who = c.program + " (steps " + std::to_string(from) + " to " + std::to_string(to) + ")",
       .batch_size = c.batch_size, .shards = c.shards, .group = group, .bucket_bytes = c.bucket_bytes},
      [&](std::span<const std::size_t> shard, std::span<const std::size_t> batch) {
        const std::uint64_t step = from + batch.front() / c.batch_size;
        if (step != drawn) batches.draw(step, ids, targets);
        drawn = step;
        const std::size_t first = shard.front() % c.batch_size;  // the shard's windows in its batch
        ex.input(m.ids) = rows(ids, first, shard.size());
        ex.input(m.targets) = rows(targets, first, shard.size());
        for (const Feed<float>& f : m.feeds) ex.input(f.node) = rows(f.value, first, shard.size());
      },
      after);
}

// The training loop, counted in the optimizer's steps: the loss estimates
// (shared among a group's ranks) and --checkpoint (by rank 0 alone) every
// --eval-every steps and after the last, then a step on the batch of
// windows `step` draws (cut into --shards, or among a group's ranks).
// Returns, with --memory, where the last training step kept its values.
inline MemoryReport train(Executor<float>& ex, nn::Optimizer& opt, const Model& m, const Flags& c,
                          const Corpus& corpus, const ModelShape& shape, nn::ShardGroup* group = nullptr) {
  MemoryReport memory;
  // tutorial:begin
  const auto windows = [&](std::span<const std::int32_t> ids, std::uint64_t stream) {
    return nn::WindowBatches(ids, {.context = std::size_t(c.context), .batch_size = c.batch_size, .seed = c.seed,
                                   .stream = stream});
  };
  const nn::WindowBatches batches = windows(corpus.split.train, 0), train_estimate = windows(corpus.split.train, 1),
                          validation_estimate = windows(corpus.split.validation, 2);
  // tutorial:end
  const bool bar = isatty(STDOUT_FILENO) && !group;  // not under mpirun, whose output may be a terminal too
  Matrix<float> ids, targets;
  double fit_seconds = 0;
  const std::uint64_t first = opt.steps();
  for (std::uint64_t step = first;; ++step) {
    if (step % c.eval_every == 0 || step == c.iters) {
      const double train_loss = mean_loss(ex, m, train_estimate, step, c.eval_iters, group);
      const double val_loss = mean_loss(ex, m, validation_estimate, step, c.eval_iters, group);
      if (bar) std::cout << progress_bar("", 0, 0);
      std::printf("step %llu: train loss %.4f, val loss %.4f\n", (unsigned long long)step, train_loss, val_loss);
      std::fflush(stdout);
      if (!c.checkpoint.empty() && (!group || group->rank() == 0)) {
        save_checkpoint(ex, opt, c, corpus.vocab, shape);
      }
    }
    if (step >= c.iters) break;
    ex.set_profiling(c.profile);  // the training steps only, not the estimates
    const auto start = std::chrono::steady_clock::now();
    if (c.shards > 1 || group) {  // the steps up to the next estimate
      const std::uint64_t to = std::min(c.iters, (step / c.eval_every + 1) * c.eval_every);
      sharded_steps(ex, opt, m, c, batches, step, to, group, [&](std::size_t windows) {
        const std::uint64_t done = step + windows / c.batch_size;
        if (bar) std::cout << progress_bar("steps " + std::to_string(step) + "-" + std::to_string(to), done - step, to - step)
                           << std::flush;
      });
      fit_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ex.set_profiling(false);
      if (c.memory && to == c.iters) memory = ex.memory_plan();
      step = to - 1;  // the loop's ++step makes it `to`
      continue;
    }
    // tutorial:begin
    batches.draw(step, ids, targets);
    opt.step(ex, batch_feeds(m, ids, targets));
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

// --prompt as ids, read before training so that a bad one fails first: a
// character the text does not hold is refused, naming it. Without --prompt,
// a newline (the start of a line) if the text has one. None without --sample.
inline std::vector<std::int32_t> prompt_ids(Flags& c, const nn::CharVocabulary& vocab) {
  if (c.sample == 0) return {};
  if (c.prompt.empty()) {
    const bool newline = vocab.characters().find('\n') != std::string::npos;
    c.prompt = newline ? std::string("\n") : vocab.decode(std::vector<std::int32_t>{0});
  }
  try {
    return vocab.encode(c.prompt);
  } catch (const DataError& e) {
    throw UsageError(c.program + ": --prompt: " + e.what() + " (those of " + c.text + ")");
  }
}

// --sample characters after the prompt, from `model` (an nn::LanguageModel
// run on one window at a time, or an nn::CachedLanguageModel), printed
// after the time they took.
template <class LanguageModel>
void sample(Executor<float>& ex, const LanguageModel& model, const Flags& c,
                   const nn::CharVocabulary& vocab, const std::vector<std::int32_t>& prompt) {
  const auto start = std::chrono::steady_clock::now();
  // tutorial:begin
  const std::vector<std::int32_t> out =
      nn::sample(ex, model, prompt, c.sample, {.temperature = c.temperature, .top_k = c.top_k, .seed = c.seed});
  // tutorial:end
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("sample: %zu characters in %.2f s (%.0f characters/s)\n", out.size(), seconds,
              double(out.size()) / seconds);
  std::cout << c.prompt << vocab.decode(out) << "\n";
}

}  // namespace char_training
