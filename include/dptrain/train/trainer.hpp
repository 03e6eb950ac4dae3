#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dptrain/backend/backend.hpp"
#include "dptrain/comm/world.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/core/fault_injection.hpp"
#include "dptrain/core/trace.hpp"
#include "dptrain/data/h5_data_reader.hpp"
#include "dptrain/data/sampler.hpp"
#include "dptrain/model/model.hpp"
#include "dptrain/train/checkpoint.hpp"
#include "dptrain/train/config.hpp"
#include "dptrain/train/device_rows.hpp"
#include "dptrain/train/evaluator.hpp"
#include "dptrain/train/gradient_sum.hpp"
#include "dptrain/train/parameter_update.hpp"
#include "dptrain/train/step_schedule.hpp"

namespace dptrain {

// What parameter-server mode adds to an epoch's metrics.
struct PsMetrics {
  bool async = false;
  int servers = 0;
  std::vector<size_t> server_elements;  // parameters held (and updated) by each server
  size_t push_bytes_per_step = 0;       // per worker
  size_t pull_bytes_per_step = 0;       // per worker
  size_t updates_per_server = 0;        // Adam updates each server applied this epoch
  size_t max_staleness = 0;             // most steps a worker was ahead of the slowest, seen
};

// What allreduce mode exchanges per step, per rank: the collectives (gradient buckets, and with
// --exact the max collective of the scales) and the bytes they reduce; a ring sends
// 2 (ranks - 1) / ranks of those bytes.
struct AllreduceMetrics {
  size_t collectives_per_step = 0;
  size_t bytes_per_step = 0;
  size_t optimizer_state_bytes = 0;  // this rank's: all of it, or its shard's (--shard-optimizer)
  bool sharded = false;              // --shard-optimizer: reduce-scatter and all-gather
  // Bytes this rank sent per step, counted by the transport where it can (the MPI ring), and
  // the same summed over the replicas (Trainer::run_epoch).
  std::optional<double> sent_bytes_per_step;
  std::optional<double> all_ranks_sent_bytes_per_step;
  size_t all_ranks_optimizer_state_bytes = 0;
};

// --clip-norm: the global L2 norm of the summed gradients over the epoch's applied steps.
struct GradNormMetrics {
  double mean = 0.0;
  double last = 0.0;
  size_t clipped_steps = 0;  // whose gradients were scaled down
};

struct EpochMetrics {
  int epoch = 0;             // from 1
  size_t steps = 0;          // of the epoch
  size_t steps_run = 0;      // by this process (fewer when it resumed within the epoch)
  size_t skipped_steps = 0;  // non-finite gradients under --on-nonfinite skip
  // --exact: steps computed again because a gradient outgrew its fixed-point scale.
  size_t recomputed_steps = 0;
  size_t samples = 0;       // trained by this process this epoch, over all ranks
  double train_loss = 0.0;  // mean over the epoch's samples
  double lr = 0.0;          // the learning rate of the epoch's last step (the schedule's)
  std::optional<GradNormMetrics> grad_norm;
  Evaluation test;
  double train_seconds = 0.0;
  double epoch_seconds = 0.0;       // training and evaluation
  double samples_per_second = 0.0;  // samples / train_seconds
  // Where this rank's time went this epoch, by trace::Phase (training and evaluation).
  std::array<double, trace::kPhases> phase_seconds{};
  std::optional<PsMetrics> ps;
  std::optional<AllreduceMetrics> allreduce;
};

class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  virtual void on_step(int /*epoch*/, size_t /*step*/, size_t /*steps*/) {}
  virtual void on_epoch_end(const EpochMetrics& /*metrics*/) {}
};

// Collective over `world`: throws the same AgreedError on every rank unless every rank built a
// model with the same layout.
void check_same_model(const World& world, const Model& model);

// The data-parallel training loop of one replica. Every replica holds the model in one flat
// parameter buffer and a shard of the data on its backend; a step computes gradients of its
// local batch into one flat gradient buffer, and the ParameterUpdate turns them into the next
// parameters (allreduce and Adam, or a push to and pull from parameter servers). Between steps
// it writes checkpoints, compares replicas and heeds stop signals, as configured.
class Trainer {
 public:
  // Collective. `replicas` are the ranks that train (all ranks, or the workers in parameter-
  // server mode); `agreement` is every rank of the job (the default: the replicas). Loads this
  // rank's shard and builds the model; any problem on any rank (bad data, too few rows, ...)
  // becomes the same AgreedError on every rank of `agreement`. Then checks that all ranks built
  // the same model, gives every replica the initial parameters, and with config.resume
  // continues from the newest checkpoint.
  static std::unique_ptr<Trainer> create(const TrainConfig& config, const World& replicas,
                                         ParameterUpdate& update, Backend& backend,
                                         const World* agreement = nullptr);

  // The remaining epochs, reporting to the observer (which may be null). Throws StopRequested
  // on every rank when a stop signal arrived (see enable_stop_signals).
  void fit(TrainingObserver* observer);
  EpochMetrics run_epoch(int epoch, TrainingObserver* observer);

  // The pieces of an epoch, for tests: begin_epoch shuffles, step(k) runs the k-th step.
  void begin_epoch(int epoch);
  void step(size_t k);
  Evaluation evaluate();  // collective

  // Every few steps (at epoch ends with asynchronous parameter servers) all ranks agree whether
  // one of them received SIGTERM or SIGUSR1; if so they write a checkpoint and stop. Servers must
  // do the same (serve_parameters with stop_signals).
  void enable_stop_signals() { schedule_.stop_checks = true; }
  // Collective: writes a checkpoint now (rank 0); returns its path on rank 0.
  std::string save_checkpoint();

  const Model& model() const { return *model_; }
  const ShardedSampler& sampler() const { return sampler_; }
  const GradientSum& gradient_sum() const { return sum_; }
  GradientSum& gradient_sum() { return sum_; }  // tests set --exact's scales through it
  // --exact: steps computed again (FixedPointScales) since this epoch began (run_epoch) or since
  // the trainer was made (step()).
  size_t recomputed_steps() const { return recomputed_steps_; }
  const TrainingPosition& position() const { return position_; }
  size_t shard_rows() const { return train_rows_; }
  const std::string& data_set() const { return data_set_; }  // H5DataReader::data_set
  std::vector<float> parameters() const;  // a host copy of the flat parameter buffer
  const std::string& resumed_from() const { return resumed_from_; }
  const ew::LrSchedule& lr_schedule() const { return lr_schedule_; }

 private:
  Trainer(const TrainConfig& config, const World& world, const World& everyone,
          ParameterUpdate& update, Backend& backend, const H5DataReader& reader);
  void resume();
  // The gradients of step k's local batch, micro-batch by micro-batch, into sum_; the losses
  // go to loss_sum.
  // rows_of_step: the device's copy of the step's row indices (epoch_order_on_device_'s, or
  // step_rows_ when the step is recorded).
  void compute_gradients(size_t k, const uint32_t* rows_of_step, int64_t step_number,
                         double* loss_sum);
  // The step's work launched one operation at a time, or replayed as one recording (a CUDA
  // graph, --cuda-graph), recorded at the first step that needs it.
  void launch_step(size_t k, int64_t step_number);
  void replay_step(size_t k, int64_t step_number);
  void record_step(size_t k, int64_t step_number);
  void between_steps();
  void stop_if_agreed(const std::string& checkpoint_just_written);  // see step_schedule.hpp
  void check_replicas();
  // Where the host has waited for the device: what the update decided there (skipped steps).
  void collect_deferred();
  double local_epoch_loss();
  // Collective: the bytes sent and the optimizer's state, summed over the replicas.
  void add_all_ranks(AllreduceMetrics& allreduce) const;

  TrainConfig config_;
  ew::LrSchedule lr_schedule_;
  const World& world_;     // the replicas
  const World& everyone_;  // every rank of the job (servers too)
  ParameterUpdate& update_;
  Backend& backend_;
  ShardedSampler sampler_;
  std::unique_ptr<Model> model_;
  Evaluator evaluator_;
  float grad_scale_;
  int micro_rows_;  // rows per forward and backward
  Fault fault_;
  StepSchedule schedule_;
  StopAgreement stop_;
  TrainingPosition position_;
  size_t skipped_steps_ = 0;
  size_t recomputed_steps_ = 0;
  std::string resumed_from_;

  size_t train_rows_;
  std::string data_set_;
  DeviceRows train_data_;
  std::vector<uint32_t> epoch_order_;  // host copy of the epoch's order (see ShardedSampler)
  DeviceArray<uint32_t> epoch_order_on_device_;

  DeviceArray<float> params_;
  GradientSum sum_;
  DeviceArray<float> x_, dlogits_;  // of one micro-batch
  DeviceArray<int32_t> y_;
  DeviceArray<double> loss_sum_;
  DeviceArray<double> recomputed_loss_;  // where a recomputed step's losses go (counted once)
  bool record_steps_ = false;            // --cuda-graph, where backend and update allow it
  DeviceArray<uint32_t> step_rows_;      // the recorded step's row indices
  std::unique_ptr<Backend::Recording> recorded_step_;
};

}  // namespace dptrain
