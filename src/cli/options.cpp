#include <cmath>
#include <string>
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

void add_train_options(CLI::App& command, TrainConfig& config) {
  command.add_option("--data", config.data_path, "HDF5 file in dptrain's layout (README)")
      ->required();
  command.add_option("--epochs", config.epochs, "Passes over the training set")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option("--batch-size", config.batch_size,
                  "Rows per rank and step; the global batch is this times the ranks")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command.add_option("--micro-batch", config.micro_batch,
                     "Rows per forward and backward pass: each rank computes its --batch-size rows "
                     "as micro-batches of this many and sums their gradients before one exchange "
                     "and one Adam step (gradient accumulation); must divide --batch-size "
                     "(default: --batch-size)");
  command.add_flag("--exact", config.exact,
                   "Sum gradients in 64-bit fixed point: the parameters then depend only on the "
                   "seed, the data, the model, the optimizer, the global batch and the "
                   "micro-batch, not on the number of ranks (README, \"Reproducibility\")");
  command.add_option("--lr", config.adam.lr, "Adam learning rate")->capture_default_str();
  add_choice(command, "--model", config.model, {{"mlp", ModelKind::mlp}, {"cnn", ModelKind::cnn}},
             "mlp (Dense layers, --hidden) or cnn (LeNet-style: two 5x5 convolutions with "
             "max-pooling, Dense 128, Dense 10; README, \"Models\")");
  command
      .add_option("--hidden", config.hidden,
                  "With --model mlp: hidden layer widths, comma-separated (default 64)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  command.add_option("--seed", config.seed, "Seed of the initial weights and of the shuffles")
      ->capture_default_str();
  command.add_option("--metrics", config.metrics_path,
                     "Write one JSON object per epoch to this file (rank 0)");
  command.add_flag("--overwrite", config.overwrite,
                   "Replace the --metrics and --trace files if they exist");
  command
      .add_option("--threads", config.blas_threads,
                  "BLAS threads per rank; 0: the node's cores divided among its ranks")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command
      .add_option("--weight-decay", config.adam.weight_decay,
                  "Decoupled weight decay (AdamW); 0 for plain Adam")
      ->capture_default_str();
  command.add_option("--beta1", config.adam.beta1, "Adam beta1")->capture_default_str();
  command.add_option("--beta2", config.adam.beta2, "Adam beta2")->capture_default_str();
  command.add_option("--eps", config.adam.eps, "Adam epsilon")->capture_default_str();
  command.add_option("--eval-batch-size", config.eval_batch_size, "Rows per evaluation batch")
      ->check(CLI::PositiveNumber)
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
  command.add_option("--bucket-kb", config.bucket_kb,
                     "With --mode allreduce: exchange the gradients in buckets of this many KiB, "
                     "each started as soon as backward has made it final; 0: one allreduce after "
                     "backward (default " +
                         std::to_string(kDefaultBucketKb) + ")");
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
  command.add_option("--ps-staleness", config.ps_staleness,
                     "With --ps-async: no worker runs more than S steps ahead of the slowest "
                     "(default 0: lockstep)");
  command.add_option("--checkpoint-dir", config.checkpoint_dir,
                     "Write checkpoints here (rank 0), at the end of every epoch");
  command
      .add_option("--checkpoint-every", config.checkpoint_every,
                  "Also every this many steps (0: only at epoch ends)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command
      .add_option("--keep-checkpoints", config.keep_checkpoints,
                  "How many checkpoints to keep in --checkpoint-dir")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command.add_flag("--resume", config.resume,
                   "Continue from the newest valid checkpoint in --checkpoint-dir");
  command.add_flag("--allow-resize", config.allow_resize,
                   "With --resume: accept a checkpoint written by another number of ranks");
  add_choice(command, "--on-nonfinite", config.on_nonfinite,
             {{"abort", NonFinitePolicy::abort}, {"skip", NonFinitePolicy::skip}},
             "A NaN or infinite gradient: abort the run, or skip the step");
  command
      .add_option("--check-replicas-every", config.check_replicas_every,
                  "Every this many steps, compare a hash of the parameters across ranks "
                  "(0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command.add_option("--trace", config.trace_path,
                     "Write a Chrome trace (Perfetto, chrome://tracing) of every step's phases; "
                     "rank r writes FILE with .rank<r> before the extension");
  command
      .add_option("--collective-timeout", config.collective_timeout_seconds,
                  "Seconds a rank waits in a collective for the others before the job is "
                  "aborted, naming the ranks that did not arrive")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option("--stall-warning", config.stall_warning_seconds,
                  "Seconds a rank waits in a collective before the lowest rank waiting names, in "
                  "a warning, the ranks (and their hosts) it has not heard from; a rank that hears "
                  "from no other host for 3 such rounds exits (its network is taken for lost); "
                  "0: neither")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command
      .add_option("--nccl-init-timeout", config.nccl_init_timeout_seconds,
                  "Seconds NCCL may take to connect the ranks before the run gives up")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void validate(const TrainConfig& config, int world_size) {
  const auto require = [](bool ok, const std::string& message) {
    if (!ok) throw InputError(message);
  };
  const AdamOptions& adam = config.adam;
  require(std::isfinite(adam.lr) && adam.lr > 0, "--lr must be a positive number");
  require(adam.beta1 >= 0 && adam.beta1 < 1, "--beta1 must be in [0, 1)");
  require(adam.beta2 >= 0 && adam.beta2 < 1, "--beta2 must be in [0, 1)");
  require(std::isfinite(adam.eps) && adam.eps > 0, "--eps must be a positive number");
  require(
      std::isfinite(adam.weight_decay) && adam.weight_decay >= 0 && adam.lr * adam.weight_decay < 1,
      "--weight-decay must be >= 0 with --lr times --weight-decay below 1");
  require(!config.hidden || !config.hidden->empty(), "--hidden needs at least one width");
  require(!config.hidden || config.model == ModelKind::mlp,
          "--hidden sets the MLP's widths; the CNN's layers are fixed (README, \"Models\")");
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
