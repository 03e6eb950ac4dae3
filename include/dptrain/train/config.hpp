#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dptrain/backend/device_choice.hpp"
#include "dptrain/comm/wire_format.hpp"
#include "dptrain/model/model_spec.hpp"
#include "dptrain/optim/lr_schedule.hpp"
#include "dptrain/optim/optimizer.hpp"

namespace dptrain {

enum class ProgressMode { automatic, on, off };
enum class TrainMode { allreduce, ps };
enum class NonFinitePolicy { abort, skip };
// How the CPU path sums across ranks: one ring over all, or rings within hosts and across them.
enum class AllreduceAlgorithm { ring, hierarchical };

// How the learning rate follows the global batch (README, "Large global batches"): the peak
// rate is --lr times 1, global batch / base batch (Goyal et al. 2017), or its square root.
enum class LrScaling { none, linear, sqrt };

// --lr-schedule and its options, in epochs (train/lr_plan.hpp turns them into steps). Unset
// optionals were not given.
struct LrScheduleOptions {
  ew::ScheduleKind kind = ew::ScheduleKind::constant;
  std::optional<double> decay_epochs;             // --lr-decay-epochs: cosine length, step period
  std::optional<std::vector<double>> milestones;  // --lr-milestones: step's epochs
  std::optional<double> decay_factor;             // --lr-decay-factor: step's gamma; 0.1
  std::optional<double> warmup_epochs;            // --warmup-epochs
  std::optional<int64_t> warmup_steps;            // --warmup-steps
  LrScaling scaling = LrScaling::none;            // --lr-scaling
  int base_batch = 32;                            // --lr-base-batch: the Keras reference's
};

// Everything `dptrain train` is told; the defaults are the reference run (the Keras MNIST MLP).
struct TrainConfig {
  std::string data_path;
  // What data_path's rows are (data/data_file.hpp's read_data_shape): not an option, but read
  // from the file at set-up, before the model is built; MNIST's until then.
  DataShape data_shape;
  int epochs = 5;
  int batch_size = 32;             // per rank; the global batch is batch_size * world size
  std::optional<int> micro_batch;  // --micro-batch: rows per forward and backward; batch_size
  bool exact = false;  // --exact: fixed-point gradient sums, the same bits on any number of ranks
  ModelKind model = ModelKind::mlp;
  std::string layers;                      // --model's layer spec, when model is ModelKind::layers
  std::optional<std::vector<int>> hidden;  // --hidden, the MLP's; kDefaultHidden when unset
  OptimizerOptions optimizer;              // --optimizer, --lr and the rule's hyperparameters
  LrScheduleOptions lr;
  std::optional<float> clip_norm;  // --clip-norm: the global L2 norm the gradients are cut to
  bool shard_optimizer = false;    // --shard-optimizer: ZeRO-1
  uint64_t seed = 0;
  int blas_threads = 0;  // per rank; 0 = cores of the node / ranks on the node
  int eval_batch_size = 1000;
  std::string metrics_path;  // JSON lines, one per epoch, written by rank 0
  bool overwrite = false;    // replace an existing metrics file
  ProgressMode progress = ProgressMode::automatic;
  DeviceRequest device = DeviceRequest::automatic;
  GemmPrecision precision = GemmPrecision::fp32;
  double nccl_init_timeout_seconds = 120.0;
  double collective_timeout_seconds = 300.0;  // the collective watchdog's limit
  double stall_warning_seconds = 5.0;         // when it names the ranks not heard from; 0: never
  std::string checkpoint_dir;                 // none: no checkpoints
  int64_t checkpoint_every = 0;               // steps; 0: at the end of every epoch only
  int keep_checkpoints = 3;
  bool resume = false;        // from the newest checkpoint in checkpoint_dir
  bool allow_resize = false;  // resume a checkpoint of another world size
  NonFinitePolicy on_nonfinite = NonFinitePolicy::abort;
  int64_t check_replicas_every = 0;  // steps; 0: never
  std::string trace_path;            // Chrome trace JSON, one file per rank
  TrainMode mode = TrainMode::allreduce;
  std::optional<size_t> bucket_kb;               // --bucket-kb; kDefaultBucketKb when unset
  WireFormat exchange_dtype = WireFormat::fp32;  // --exchange-dtype
  AllreduceAlgorithm allreduce = AllreduceAlgorithm::ring;  // --allreduce
  bool cuda_graph = true;         // --cuda-graph: replay the step as one CUDA graph where it can be
  std::optional<int> ps_servers;  // --ps-servers; 1 when unset in ps mode
  bool ps_async = false;          // --ps-async
  std::optional<size_t> ps_staleness;  // --ps-staleness; 0 when unset
};

// The hidden widths of the reference MLP (the Keras example).
inline const std::vector<int> kDefaultHidden = {64};

// Gradient buckets of the allreduce, in KiB (1024 bytes); 0: one allreduce after backward.
inline constexpr size_t kDefaultBucketKb = 0;

// Rows per forward and backward pass: --micro-batch, or the whole --batch-size.
inline int micro_batch_rows(const TrainConfig& config) {
  return config.micro_batch.value_or(config.batch_size);
}

// The network the configuration names.
ModelSpec model_spec(const TrainConfig& config);

// As the command line spells them.
const char* lr_schedule_name(ew::ScheduleKind kind);
const char* lr_scaling_name(LrScaling scaling);

// The configuration as one line of JSON, recorded in checkpoints.
std::string config_to_json(const TrainConfig& config);

}  // namespace dptrain
