#pragma once

#include <mpi.h>

#include <span>
#include <vector>

#include "dptrain/backend/backend.hpp"
#include "dptrain/comm/ring_allreduce.hpp"
#include "dptrain/comm/world.hpp"
#include "dptrain/ps/ps_plan.hpp"
#include "dptrain/train/parameter_update.hpp"

namespace dptrain {

struct PsWorkerOptions {
  bool async = false;
  size_t staleness = 0;
  SumType sums = SumType::f32;                            // SumType::i64 with --exact
  NonFinitePolicy on_nonfinite = NonFinitePolicy::abort;  // --exact: workers know it too
  std::vector<std::string>
      optimizer_state;  // the servers' (optimizer_state_names), for checkpoints
};

// The options `config` gives.
PsWorkerOptions ps_worker_options(const TrainConfig& config);

// A worker's side of parameter-server mode. Each step it pushes every server its range of the
// gradients and pulls back the new parameters of that range, all messages non-blocking and in
// flight together. Device memory crosses through pinned host buffers (CUDA-aware MPI is not
// assumed); host-accessible memory (the CPU backend) is sent and received in place. With --exact
// the gradients are GradientSum's int64 fixed point, and before each push workers and servers
// agree on the step's fixed-point scales (every rank of the job takes part).
class PsWorkerUpdate final : public ParameterUpdate {
 public:
  // world: every rank of the job; the plan's servers are its first ranks.
  PsWorkerUpdate(const World& world, const PsPlan& plan, Backend& backend, size_t parameters,
                 const PsWorkerOptions& options);

  std::string name() const override;
  float gradient_scale(size_t local_batch, size_t global_batch) const override;
  void initialize(float* params, const Model& model, uint64_t seed) override;
  StepOutcome apply(float* params, GradientSum& sum, int64_t step) override;
  void end_epoch(EpochMetrics& metrics) override;
  std::string save_checkpoint(const World& everyone, Checkpoint checkpoint, double local_loss,
                              const float* params, const CheckpointPlace& place) override;
  void restore(float* params, const Checkpoint& checkpoint) override;

 private:
  void push_and_pull(float* params, SumBuffer local);

  const World& world_;
  PsPlan plan_;
  Backend& backend_;
  size_t parameters_;
  PsWorkerOptions options_;
  PinnedArray<int64_t> staged_grads_;  // used when the backend is not host accessible
  PinnedArray<float> staged_params_;
  std::vector<MPI_Request> requests_;
  RingAllreduce maxima_;  // --exact's scale agreement, over the whole job
};

// --exact: every rank of the job (servers give zeros) agrees on the largest |g| of each tensor
// over every micro-batch of the step, in `maxima` (host memory), in place.
void agree_on_ps_maxima(RingAllreduce& ring, std::span<float> maxima);

// The end-of-epoch exchange between servers and workers (collective over the whole job): every
// rank contributes what it saw, every rank learns the maxima.
struct PsEpochReport {
  size_t max_staleness = 0;
  size_t updates_per_server = 0;
};
PsEpochReport exchange_epoch_report(const World& world, const PsEpochReport& mine);

}  // namespace dptrain
