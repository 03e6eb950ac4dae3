#pragma once

#include <mpi.h>

#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/comm/world.hpp"
#include "dptrain/model/model.hpp"
#include "dptrain/optim/lr_schedule.hpp"
#include "dptrain/optim/optimizer.hpp"
#include "dptrain/ps/ps_plan.hpp"
#include "dptrain/ps/staleness_gate.hpp"
#include "dptrain/train/checkpoint.hpp"
#include "dptrain/train/config.hpp"
#include "dptrain/train/fixed_point_scales.hpp"
#include "dptrain/train/parameter_update.hpp"
#include "dptrain/train/step_schedule.hpp"

namespace dptrain {

// A server rank: it holds one range of the parameters and the optimizer's state for it, on the
// CPU, and follows the run's learning-rate schedule (train/lr_plan.hpp) itself.
// Synchronous: each step it waits for every worker's gradients, sums them in worker order (they
// are scaled by 1 / global batch, so the sum is the mean), applies the optimizer and sends the
// range to every worker. Asynchronous: it applies each worker's gradient as it arrives and answers
// under the StalenessGate. It knows the schedule, so it stops when every worker has finished, with
// no message left unmatched. Between steps and at epoch ends it joins the workers' stop agreements
// and checkpoints (StepSchedule). With --exact (synchronous only) the workers push int64
// fixed-point gradients: the server joins the agreement on their scales each step
// (FixedPointScales, the same on every rank), sums the integers, and turns its range of the sum
// into floats.
class ParameterServer {
 public:
  ParameterServer(const World& world, const PsPlan& plan, const TrainConfig& config,
                  size_t steps_per_epoch, bool stop_signals);

  // Collective with PsWorkerUpdate::initialize: rank 0 makes the initial parameters, every rank
  // receives them, and each server keeps its range.
  void initialize(const Model& model, uint64_t seed);
  // Collective with Trainer's resume: the server's range and optimizer state from the checkpoint.
  void resume();
  // Serves every remaining epoch; after each, joins the workers' end-of-epoch report. Throws
  // StopRequested when the job agreed to stop.
  void run();

 private:
  void serve_synchronous_epoch();
  // The workers' pushes of one step, summed in order into sum_ (floats, or --exact's integers
  // converted to floats).
  void receive_sum();
  // --exact: joins the agreements on the step's scales until one fits (workers recompute a step
  // whose gradients outgrew them). Returns false when a gradient was not finite, after acting
  // on it as --on-nonfinite says (skip: every rank skips the step).
  bool agree_on_scales();
  size_t serve_asynchronous_epoch();
  int worker_rank(size_t worker) const;
  void send_ready_replies(std::vector<long>& pending);
  // The optimizer on the server's range, unless the gradient is not finite (then abort or skip).
  void apply(const float* gradient);
  void between_steps();
  void stop_if_agreed(const std::string& checkpoint_just_written);
  std::string save_checkpoint();

  const World& world_;
  PsPlan plan_;
  ParameterRange range_;
  TrainConfig config_;
  std::string model_;  // describe_model
  ParameterLayout layout_;
  size_t steps_per_epoch_;
  size_t global_batch_;
  NonFiniteCheck nonfinite_;
  StepSchedule steps_;
  StopAgreement stop_;
  TrainingPosition position_;
  CpuBackend cpu_{1};
  DeviceArray<float> params_;
  Optimizer optimizer_;
  ew::LrSchedule schedule_;
  int64_t optimizer_steps_ = 0;               // updates applied since training began
  std::vector<DeviceArray<float>> incoming_;  // per worker
  std::vector<std::vector<float>> outgoing_;  // per worker, asynchronous replies in flight
  DeviceArray<float> sum_;
  std::vector<MPI_Request> receives_;
  std::vector<MPI_Request> sends_;
  StalenessGate gate_;
  std::vector<std::vector<int64_t>> incoming_fixed_;  // per worker, --exact
  std::vector<int64_t> fixed_sum_;                    // --exact
  FixedPointScales scales_;
  std::vector<float> maxima_;  // --exact: the step's agreed maxima, one per tensor
  RingAllreduce maxima_ring_;
  int64_t updates_ = 0;  // gradients applied or skipped since the start
};

}  // namespace dptrain
