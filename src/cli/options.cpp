#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/ps/ps_plan.hpp"

namespace dptrain::cli {

// An option taking one of a few words, stored as the matching enum value; the first is the
// default.
template <class Enum>
void add_choice(CLI::App& command, const std::string& name, Enum& target,
                const std::vector<std::pair<std::string, Enum>>& choices,
                const std::string& description) {
  std::vector<std::string> words;
  for (const auto& choice : choices)
    words.push_back(choice.first);
  command
      .add_option_function<std::string>(
          name,
          [&target, choices](const std::string& word) {
            for (const auto& [choice_word, value] : choices)
              if (choice_word == word) target = value;
          },
          description)
      ->check(CLI::IsMember(words))
      ->default_str(words.front());
}

namespace {

// The text without the blanks around it.
std::string_view trimmed(std::string_view item) {
  const size_t first = item.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return item.substr(first, item.find_last_not_of(" \t") - first + 1);
}

// `item` as a T, or nullopt with why not in `why`.
template <class T>
std::optional<T> parse_number(std::string_view item, std::string& why) {
  if (!item.empty() && item.front() == '+') item.remove_prefix(1);
  if (std::is_unsigned_v<T> && !item.empty() && item.front() == '-') {
    why = "is negative; it must be 0 or more";
    return std::nullopt;
  }
  T value{};
  const char* end = item.data() + item.size();
  const auto [stop, error] = std::from_chars(item.data(), end, value);
  if (error == std::errc::result_out_of_range) {
    why = "is out of range";
    return std::nullopt;
  }
  if (error != std::errc() || stop != end || item.empty()) {
    why = std::is_integral_v<T> ? "is not a whole number" : "is not a number";
    return std::nullopt;
  }
  return value;
}

// A list option given as comma-separated items (--hidden 64,32; several values, --hidden 64 32,
// also add up). CLI11's own ->delimiter(',') drops empty items, reading "64,,32" as 64,32, so
// the list is split here, and an empty or malformed item is a parse error naming the option.
// An empty value is an empty list, which validate() refuses.
template <class T>
void add_list_option(CLI::App& command, const std::string& name,
                     std::optional<std::vector<T>>& target, const std::string& type,
                     const std::string& description) {
  command
      .add_option_function<std::vector<std::string>>(
          name,
          [&target, name](const std::vector<std::string>& values) {
            std::vector<T> items;
            for (const std::string& value : values) {
              if (value.empty()) continue;
              const std::string where = "in '" + value + "'";
              size_t begin = 0;
              while (true) {
                const size_t comma = std::min(value.find(',', begin), value.size());
                const std::string_view item =
                    trimmed(std::string_view(value).substr(begin, comma - begin));
                if (item.empty()) throw CLI::ValidationError(name, "empty item " + where);
                std::string why;
                const std::optional<T> number = parse_number<T>(item, why);
                if (!number)
                  throw CLI::ValidationError(name, "'" + std::string(item) + "' " +
                                                       (item == trimmed(value) ? "" : where + " ") +
                                                       why);
                items.push_back(*number);
                if (comma == value.size()) break;
                begin = comma + 1;
              }
            }
            target = std::move(items);
          },
          description)
      ->type_name(type);
}

}  // namespace

template <class T>
CLI::Option* ranged(CLI::Option* option, const std::string& range) {
  return option->check(CLI::Validator(
      [](std::string& text) -> std::string {
        std::string why;
        const std::optional<T> value = parse_number<T>(trimmed(text), why);
        if (!value) return "'" + text + "' " + why;
        // CLI11 would read integers in C's bases: "010" as 8.
        if constexpr (std::is_integral_v<T>) text = std::to_string(*value);
        return "";
      },
      range, "number"));
}
template CLI::Option* ranged<int>(CLI::Option*, const std::string&);
template CLI::Option* ranged<int64_t>(CLI::Option*, const std::string&);
template CLI::Option* ranged<double>(CLI::Option*, const std::string&);
template CLI::Option* ranged<uint64_t>(CLI::Option*, const std::string&);

void add_prepare_options(CLI::App& command, DataSet data_set, PrepareOptions& options) {
  command.callback([&options, data_set] { options.data_set = data_set; });
  command
      .add_option("--idx-dir", options.idx_dir,
                  "Directory with train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                  "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte")
      ->required();
  command.add_option("--out", options.out, "HDF5 file to write")->required();
  command.add_flag("--overwrite", options.overwrite, "Replace --out if it exists");
}

namespace {

// --model: a preset (mlp, cnn) or a layer spec, which is checked against the data's shape when
// the model is built (model/layers/registry.hpp).
void add_model_option(CLI::App& command, TrainConfig& config) {
  command
      .add_option_function<std::string>(
          "--model",
          [&config](const std::string& word) {
            config.model = word == "mlp"   ? ModelKind::mlp
                           : word == "cnn" ? ModelKind::cnn
                                           : ModelKind::layers;
            config.layers = config.model == ModelKind::layers ? word : std::string();
          },
          "mlp (Dense layers, --hidden), cnn (LeNet-style: two 5x5 convolutions with "
          "max-pooling, Dense 128, Dense 10) or a layer spec such as "
          "conv3x16s,relu,pool2,dense64,relu,denseK (README, \"Models\")")
      ->default_str("mlp");
}

// The optimizer, its learning-rate schedule, clipping and sharding (README, "Large global
// batches").
void add_optimizer_options(CLI::App& command, TrainConfig& config) {
  OptimizerOptions& optimizer = config.optimizer;
  add_choice(command, "--optimizer", optimizer.kind,
             {{"adam", OptimizerKind::adam}, {"sgd", OptimizerKind::sgd}},
             "adam (AdamW with --weight-decay) or sgd (with --momentum)");
  command.add_option("--lr", optimizer.lr, "Learning rate (before --lr-scaling and the schedule)")
      ->capture_default_str();
  command
      .add_option("--weight-decay", optimizer.weight_decay,
                  "Adam: decoupled weight decay (AdamW); SGD: L2 penalty added to the gradient")
      ->capture_default_str();
  command.add_option("--beta1", optimizer.beta1, "Adam beta1")->capture_default_str();
  command.add_option("--beta2", optimizer.beta2, "Adam beta2")->capture_default_str();
  command.add_option("--eps", optimizer.eps, "Adam epsilon")->capture_default_str();
  command.add_option("--momentum", optimizer.momentum,
                     "With --optimizer sgd: momentum (torch.optim.SGD's; default 0)");
  LrScheduleOptions& lr = config.lr;
  add_choice(command, "--lr-schedule", lr.kind,
             {{"constant", ew::ScheduleKind::constant},
              {"cosine", ew::ScheduleKind::cosine},
              {"step", ew::ScheduleKind::step}},
             "After the warm-up: constant, cosine (to 0 over --lr-decay-epochs, default the rest "
             "of the run) or step (x --lr-decay-factor every --lr-decay-epochs, or at "
             "--lr-milestones)");
  command.add_option("--lr-decay-epochs", lr.decay_epochs,
                     "With --lr-schedule cosine: its length; step: epochs between decays");
  add_list_option(command, "--lr-milestones", lr.milestones, "FLOAT",
                  "With --lr-schedule step: the epochs after which the rate decays, e.g. 3,4");
  command.add_option("--lr-decay-factor", lr.decay_factor,
                     "With --lr-schedule step: the factor at each decay (default 0.1)");
  command.add_option("--warmup-epochs", lr.warmup_epochs,
                     "Raise the rate linearly from 0 over this many epochs (fractions allowed)");
  command.add_option("--warmup-steps", lr.warmup_steps,
                     "Raise the rate linearly from 0 over this many steps");
  add_choice(command, "--lr-scaling", lr.scaling,
             {{"none", LrScaling::none}, {"linear", LrScaling::linear}, {"sqrt", LrScaling::sqrt}},
             "Scale --lr with the global batch: none, linear (x global batch / --lr-base-batch; "
             "Goyal et al. 2017) or sqrt");
  command.add_option("--lr-base-batch", lr.base_batch,
                     "With --lr-scaling: the global batch --lr was tuned for (default 32)");
  command.add_option("--clip-norm", config.clip_norm,
                     "Scale each step's summed gradients down to this global L2 norm where it is "
                     "larger");
  command.add_flag("--shard-optimizer", config.shard_optimizer,
                   "With --mode allreduce: ZeRO-1, each rank keeps and updates 1/N of the "
                   "optimizer's state (reduce-scatter the gradients, all-gather the parameters)");
}

}  // namespace

// Ranges are checked by validate(), whose messages name the option and the rule (CLI11's
// CLI::PositiveNumber and the like print their float limits): see ranged().
void add_train_options(CLI::App& command, TrainConfig& config) {
  command.add_option("--data", config.data_path, "HDF5 file in dptrain's layout (README)")
      ->required();
  ranged<int>(command.add_option("--epochs", config.epochs, "Passes over the training set"),
              "POSITIVE")
      ->capture_default_str();
  ranged<int>(
      command.add_option("--batch-size", config.batch_size,
                         "Rows per rank and step; the global batch is this times the ranks"),
      "POSITIVE")
      ->capture_default_str();
  command.add_option("--micro-batch", config.micro_batch,
                     "Rows per forward and backward pass: each rank computes its --batch-size rows "
                     "as micro-batches of this many and sums their gradients before one exchange "
                     "and one optimizer step (gradient accumulation); must divide --batch-size "
                     "(default: --batch-size)");
  command.add_flag("--exact", config.exact,
                   "Sum gradients in 64-bit fixed point: the parameters then depend only on the "
                   "seed, the data, the model, the optimizer, the global batch and the "
                   "micro-batch, not on the number of ranks (README, \"Reproducibility\")");
  add_optimizer_options(command, config);
  add_model_option(command, config);
  add_list_option(command, "--hidden", config.hidden, "INT:POSITIVE",  // validate(): >= 1
                  "With --model mlp: hidden layer widths, comma-separated (default 64)");
  ranged<uint64_t>(
      command.add_option("--seed", config.seed, "Seed of the initial weights and of the shuffles"),
      "NONNEGATIVE")
      ->capture_default_str();
  command.add_option("--metrics", config.metrics_path,
                     "Write one JSON object per epoch to this file (rank 0)");
  command.add_flag("--overwrite", config.overwrite,
                   "Replace the --metrics and --trace files if they exist");
  ranged<int>(
      command.add_option("--threads", config.blas_threads,
                         "BLAS threads per rank; 0: the node's cores divided among its ranks"),
      "NONNEGATIVE")
      ->capture_default_str();
  ranged<int>(
      command.add_option("--eval-batch-size", config.eval_batch_size, "Rows per evaluation batch"),
      "POSITIVE")
      ->capture_default_str();
  add_choice(
      command, "--progress", config.progress,
      {{"auto", ProgressMode::automatic}, {"on", ProgressMode::on}, {"off", ProgressMode::off}},
      "Progress bar on rank 0: on, off, or auto: on when stdout is a terminal, but off "
      "under Open MPI's mpirun, which gives every rank a terminal");
  add_choice(command, "--device", config.device,
             {{"auto", DeviceRequest::automatic},
              {"cpu", DeviceRequest::cpu},
              {"cuda", DeviceRequest::cuda}},
             "cpu, cuda (local rank i uses GPU i), or auto: cuda when a GPU is visible");
  add_choice(command, "--precision", config.precision,
             {{"fp32", GemmPrecision::fp32}, {"tf32", GemmPrecision::tf32}},
             "cuBLAS GEMM precision: fp32, or tf32 (tensor cores, 10-bit mantissa inputs)");
  add_choice(command, "--cuda-graph", config.cuda_graph, {{"on", true}, {"off", false}},
             "With --device cuda: record the step once as a CUDA graph and replay it, one launch "
             "a step, where the step allows it (README, \"GPUs\"); off: launch each kernel");
  add_choice(command, "--mode", config.mode,
             {{"allreduce", TrainMode::allreduce}, {"ps", TrainMode::ps}},
             "How replicas combine gradients: allreduce, or ps (parameter servers)");
  ranged<uint64_t>(
      command.add_option("--bucket-kb", config.bucket_kb,
                         "With --mode allreduce: exchange the gradients in buckets of this many "
                         "KiB, each started as soon as backward has made it final; 0: one "
                         "allreduce after backward (default " +
                             std::to_string(kDefaultBucketKb) + ")"),
      "NONNEGATIVE");
  add_choice(
      command, "--allreduce", config.allreduce,
      {{"ring", AllreduceAlgorithm::ring}, {"hierarchical", AllreduceAlgorithm::hierarchical}},
      "With --mode allreduce on CPUs: one ring over every rank, or hierarchical: rings "
      "within hosts and one ring of a rank per host across them (fewer bytes between "
      "hosts; float results then depend on the placement; README, \"Many hosts\")");
  add_choice(command, "--exchange-dtype", config.exchange_dtype,
             {{"fp32", WireFormat::fp32}, {"bf16", WireFormat::bf16}, {"fp16", WireFormat::fp16}},
             "With --mode allreduce on CPUs: send gradients as fp32, or narrowed to bf16 or fp16 "
             "(half the bytes; sums stay in fp32, results stay identical on every rank; README, "
             "\"Many hosts\")");
  command.add_option("--ps-servers", config.ps_servers,
                     "With --mode ps: the first K ranks serve parameters (default 1)");
  command.add_flag("--ps-async", config.ps_async,
                   "With --mode ps: servers apply each worker's gradient as it arrives");
  ranged<uint64_t>(
      command.add_option("--ps-staleness", config.ps_staleness,
                         "With --ps-async: no worker runs more than S steps ahead of the slowest "
                         "(default 0: lockstep)"),
      "NONNEGATIVE");
  command.add_option("--checkpoint-dir", config.checkpoint_dir,
                     "Write checkpoints here (rank 0), at the end of every epoch");
  ranged<int64_t>(command.add_option("--checkpoint-every", config.checkpoint_every,
                                     "Also every this many steps (0: only at epoch ends)"),
                  "NONNEGATIVE")
      ->capture_default_str();
  ranged<int>(command.add_option("--keep-checkpoints", config.keep_checkpoints,
                                 "How many checkpoints to keep in --checkpoint-dir"),
              "POSITIVE")
      ->capture_default_str();
  command.add_flag("--resume", config.resume,
                   "Continue from the newest valid checkpoint in --checkpoint-dir");
  command.add_flag("--allow-resize", config.allow_resize,
                   "With --resume: accept a checkpoint written by another number of ranks");
  add_choice(command, "--on-nonfinite", config.on_nonfinite,
             {{"abort", NonFinitePolicy::abort}, {"skip", NonFinitePolicy::skip}},
             "A NaN or infinite gradient: abort the run, or skip the step");
  ranged<int64_t>(
      command.add_option("--check-replicas-every", config.check_replicas_every,
                         "Every this many steps, compare a hash of the parameters across ranks "
                         "(0: never)"),
      "NONNEGATIVE")
      ->capture_default_str();
  command.add_option("--trace", config.trace_path,
                     "Write a Chrome trace (Perfetto, chrome://tracing) of every step's phases; "
                     "rank r writes FILE with .rank<r> before the extension");
  ranged<double>(
      command.add_option("--collective-timeout", config.collective_timeout_seconds,
                         "Seconds a rank waits in a collective for the others before the job is "
                         "aborted, naming the ranks that did not arrive"),
      "POSITIVE")
      ->capture_default_str();
  ranged<double>(
      command.add_option(
          "--stall-warning", config.stall_warning_seconds,
          "Seconds a rank waits in a collective before the lowest rank waiting names, in "
          "a warning, the ranks (and their hosts) it has not heard from; a rank that hears "
          "from no other host for 3 such rounds exits (its network is taken for lost); "
          "0: neither"),
      "NONNEGATIVE")
      ->capture_default_str();
  ranged<double>(
      command.add_option("--nccl-init-timeout", config.nccl_init_timeout_seconds,
                         "Seconds NCCL may take to connect the ranks before the run gives up"),
      "POSITIVE")
      ->capture_default_str();
}

namespace {

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

void require(bool ok, const std::string& message) {
  if (!ok) throw InputError(message);
}

// Each option's own range, before any rule between options.
void validate_ranges(const TrainConfig& config) {
  require(config.epochs >= 1, "--epochs must be at least 1");
  require(config.batch_size >= 1, "--batch-size must be at least 1");
  if (config.hidden)
    for (int width : *config.hidden)
      require(width >= 1, "--hidden widths must be at least 1 (got " + std::to_string(width) + ")");
  require(config.blas_threads >= 0, "--threads must be 0 or more");
  require(config.eval_batch_size >= 1, "--eval-batch-size must be at least 1");
  require(config.checkpoint_every >= 0, "--checkpoint-every must be 0 or more");
  require(config.keep_checkpoints >= 1, "--keep-checkpoints must be at least 1");
  require(config.check_replicas_every >= 0, "--check-replicas-every must be 0 or more");
  require(std::isfinite(config.collective_timeout_seconds) && config.collective_timeout_seconds > 0,
          "--collective-timeout must be a positive number of seconds");
  require(std::isfinite(config.stall_warning_seconds) && config.stall_warning_seconds >= 0,
          "--stall-warning must be a number of seconds, 0 or more");
  require(std::isfinite(config.nccl_init_timeout_seconds) && config.nccl_init_timeout_seconds > 0,
          "--nccl-init-timeout must be a positive number of seconds");
}

void validate_optimizer(const TrainConfig& config) {
  const OptimizerOptions& o = config.optimizer;
  require(std::isfinite(o.lr) && o.lr > 0, "--lr must be a positive number");
  require(o.beta1 >= 0 && o.beta1 < 1, "--beta1 must be in [0, 1)");
  require(o.beta2 >= 0 && o.beta2 < 1, "--beta2 must be in [0, 1)");
  require(std::isfinite(o.eps) && o.eps > 0, "--eps must be a positive number");
  require(std::isfinite(o.weight_decay) && o.weight_decay >= 0 && o.lr * o.weight_decay < 1,
          "--weight-decay must be >= 0 with --lr times --weight-decay below 1");
  require(!o.momentum || o.kind == OptimizerKind::sgd,
          "--momentum is for --optimizer sgd; Adam's momentum is --beta1");
  require(!o.momentum || (*o.momentum >= 0 && *o.momentum < 1), "--momentum must be in [0, 1)");
}

void validate_schedule(const TrainConfig& config) {
  const LrScheduleOptions& lr = config.lr;
  const bool decays = lr.kind != ew::ScheduleKind::constant;
  require(!lr.decay_epochs || decays, "--lr-decay-epochs needs --lr-schedule cosine or step");
  require(!lr.milestones || lr.kind == ew::ScheduleKind::step,
          "--lr-milestones needs --lr-schedule step");
  require(!lr.decay_factor || lr.kind == ew::ScheduleKind::step,
          "--lr-decay-factor needs --lr-schedule step");
  require(!(lr.milestones && lr.decay_epochs),
          "--lr-milestones and --lr-decay-epochs both say when the step schedule decays; give one");
  require(!lr.decay_epochs || (std::isfinite(*lr.decay_epochs) && *lr.decay_epochs > 0),
          "--lr-decay-epochs must be a positive number of epochs");
  require(!lr.decay_factor || (*lr.decay_factor > 0 && *lr.decay_factor <= 1),
          "--lr-decay-factor must be in (0, 1]");
  if (lr.milestones) {
    const std::vector<double>& at = *lr.milestones;
    require(!at.empty(), "--lr-milestones needs at least one epoch");
    for (size_t i = 0; i < at.size(); ++i)
      require(at[i] > 0 && at[i] < config.epochs && (i == 0 || at[i] > at[i - 1]),
              "--lr-milestones must rise strictly within the run's epochs (0, " +
                  std::to_string(config.epochs) + ")");
  }
  require(!(lr.warmup_epochs && lr.warmup_steps),
          "--warmup-epochs and --warmup-steps both set the warm-up; give one");
  require(!lr.warmup_epochs || (std::isfinite(*lr.warmup_epochs) && *lr.warmup_epochs >= 0),
          "--warmup-epochs must be a number of epochs, 0 or more");
  require(!lr.warmup_epochs || *lr.warmup_epochs <= config.epochs,
          "the warm-up (--warmup-epochs " + number(*lr.warmup_epochs) +
              ") is longer than the run (--epochs " + std::to_string(config.epochs) + ")");
  require(!lr.warmup_steps || *lr.warmup_steps >= 0, "--warmup-steps must be 0 or more");
  require(lr.base_batch > 0, "--lr-base-batch must be at least 1");
  require(lr.base_batch == 32 || lr.scaling != LrScaling::none,
          "--lr-base-batch needs --lr-scaling linear or sqrt");
}

void validate_clipping_and_sharding(const TrainConfig& config) {
  require(!config.clip_norm || (std::isfinite(*config.clip_norm) && *config.clip_norm > 0),
          "--clip-norm must be a positive number");
  require(!(config.clip_norm && config.mode == TrainMode::ps),
          "--clip-norm needs the global norm, which no parameter server sees; use --mode "
          "allreduce");
  require(!(config.shard_optimizer && config.mode == TrainMode::ps),
          "--shard-optimizer is for --mode allreduce: parameter servers already hold the "
          "optimizer's state in shards (--ps-servers)");
  require(!(config.shard_optimizer && config.bucket_kb.value_or(0) > 0),
          "--shard-optimizer reduce-scatters the gradients after backward; --bucket-kb is for the "
          "allreduce");
  require(!(config.shard_optimizer && config.allreduce == AllreduceAlgorithm::hierarchical),
          "--shard-optimizer needs --allreduce ring: the hierarchical allreduce has no "
          "reduce-scatter");
}

}  // namespace

void validate(const TrainConfig& config, int world_size) {
  validate_ranges(config);
  validate_optimizer(config);
  validate_schedule(config);
  validate_clipping_and_sharding(config);
  require(!config.hidden || !config.hidden->empty(), "--hidden needs at least one width");
  require(!config.hidden || config.model == ModelKind::mlp,
          "--hidden sets the MLP's widths; the CNN's layers are fixed, and a layer spec names its "
          "own (README, \"Models\")");
  require(!(config.device == DeviceRequest::cpu && config.precision == GemmPrecision::tf32),
          "--precision tf32 is for cuBLAS; --device cpu computes in fp32");
  require(!config.micro_batch || *config.micro_batch > 0,
          "--micro-batch must be a positive number of rows");
  require(!config.micro_batch || config.batch_size % *config.micro_batch == 0,
          "--micro-batch " + std::to_string(config.micro_batch.value_or(0)) +
              " does not divide --batch-size " + std::to_string(config.batch_size) +
              ": a rank's batch must split into whole micro-batches");
  require(!(config.exact && config.mode == TrainMode::ps && config.ps_async),
          "--exact needs synchronous parameter servers: asynchronous ones apply each worker's "
          "gradient as it arrives, so the result depends on the order of arrival");
  require(!(config.exact && config.exchange_dtype != WireFormat::fp32),
          std::string("--exchange-dtype ") + wire_format_name(config.exchange_dtype) +
              " cannot go with --exact: --exact sends 64-bit integer sums, whose exactness is "
              "what makes its result independent of the ranks");
  require(!(config.mode == TrainMode::ps && config.allreduce != AllreduceAlgorithm::ring),
          "--allreduce is for --mode allreduce; parameter servers get each worker's gradients "
          "in one message per server");
  require(!(config.mode == TrainMode::ps && config.exchange_dtype != WireFormat::fp32),
          "--exchange-dtype is for --mode allreduce; parameter servers get fp32 gradients");
  require(!config.resume || !config.checkpoint_dir.empty(), "--resume needs --checkpoint-dir");
  require(!config.allow_resize || config.resume, "--allow-resize goes with --resume");
  if (config.mode == TrainMode::ps && config.ps_async) {
    // Asynchronous workers are at different steps: only epoch ends are common ground.
    require(config.checkpoint_every == 0,
            "--checkpoint-every needs aligned steps; asynchronous parameter servers checkpoint "
            "at the end of every epoch");
    require(config.check_replicas_every == 0,
            "--check-replicas-every needs aligned steps; asynchronous replicas differ within an "
            "epoch");
  }
  if (config.mode == TrainMode::allreduce) {
    require(!config.ps_servers, "--ps-servers needs --mode ps");
    require(!config.ps_async, "--ps-async needs --mode ps");
    require(!config.ps_staleness, "--ps-staleness needs --mode ps --ps-async");
  } else {
    require(!config.bucket_kb,
            "--bucket-kb is for --mode allreduce; parameter servers get "
            "each worker's gradients in one message per server");
    require(!config.ps_staleness || config.ps_async,
            "--ps-staleness needs --ps-async (synchronous servers have no staleness)");
    PsPlan(world_size, config.ps_servers.value_or(1), 1);  // throws for an impossible K
  }
}

}  // namespace dptrain::cli
