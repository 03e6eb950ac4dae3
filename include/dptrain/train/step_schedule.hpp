#pragma once

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>

#include "dptrain/comm/ring_allreduce.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/train/checkpoint.hpp"
#include "dptrain/train/config.hpp"

namespace dptrain {

// The collectives between steps and at epoch ends that involve every rank of the job: stop
// agreements and checkpoints. Workers and parameter servers decide them with the same
// functions from the same configuration, so that they always meet. After a step: the stop
// check, then (if stopping) a checkpoint, then the periodic checkpoint. At an epoch's end: the
// checkpoint, then (asynchronous parameter servers, whose steps are not aligned) the stop check.
struct StepSchedule {
  bool checkpoints = false;
  int64_t checkpoint_every = 0;
  bool stop_checks = false;
  bool steps_aligned = true;  // false for asynchronous parameter servers

  static constexpr int64_t kStopCheckSteps = 10;  // a signal is answered within this many steps

  bool stop_check_after(int64_t global_step) const {
    return stop_checks && steps_aligned && global_step % kStopCheckSteps == 0;
  }
  bool checkpoint_after(int64_t global_step) const {
    return checkpoints && steps_aligned && checkpoint_every > 0 &&
           global_step % checkpoint_every == 0;
  }
  bool checkpoint_at_epoch_end() const { return checkpoints; }
  bool stop_check_at_epoch_end() const { return stop_checks && !steps_aligned; }
};

StepSchedule step_schedule(const TrainConfig& config, bool stop_signals);

// Collective over a communicator of the whole job: which stop signal any rank received
// ("SIGTERM", "SIGUSR1"), or "" when none did. Allocation-free: two floats around the ring.
class StopAgreement {
 public:
  explicit StopAgreement(MPI_Comm comm);
  std::string agree();

 private:
  RingAllreduce ring_;
};

// Training stopped on SIGTERM or SIGUSR1, agreed by every rank, after the checkpoint (if any).
class StopRequested : public AgreedError {
 public:
  using AgreedError::AgreedError;
};

// Collective, between steps or at an epoch's end: if any rank received a stop signal, writes a
// checkpoint with `save` (when the schedule has them and none was just written) and throws
// StopRequested on every rank, saying where training stands and how to continue.
void stop_if_agreed(StopAgreement& agreement, const StepSchedule& schedule,
                    const TrainingPosition& position, size_t steps_per_epoch,
                    const std::string& checkpoint_just_written,
                    const std::function<std::string()>& save);

}  // namespace dptrain
