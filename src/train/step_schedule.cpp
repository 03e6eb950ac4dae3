#include "dptrain/train/step_schedule.hpp"

#include <csignal>

#include "dptrain/core/stop_signal.hpp"

namespace dptrain {

StepSchedule step_schedule(const TrainConfig& config, bool stop_signals) {
  StepSchedule schedule;
  schedule.checkpoints = !config.checkpoint_dir.empty();
  schedule.checkpoint_every = config.checkpoint_every;
  schedule.stop_checks = stop_signals;
  schedule.steps_aligned = !(config.mode == TrainMode::ps && config.ps_async);
  return schedule;
}

StopAgreement::StopAgreement(MPI_Comm comm) : ring_(comm) {
  ring_.reserve(2 * sizeof(float));
}

std::string StopAgreement::agree() {
  // How many ranks received each stop signal, summed around the ring.
  float received[2] = {stop_signal() == SIGTERM ? 1.0f : 0.0f,
                       stop_signal() == SIGUSR1 ? 1.0f : 0.0f};
  ring_.sum(received, 2);
  if (received[0] > 0.0f) return "SIGTERM";
  if (received[1] > 0.0f) return "SIGUSR1";
  return "";
}

void stop_if_agreed(StopAgreement& agreement, const StepSchedule& schedule,
                    const TrainingPosition& position, size_t steps_per_epoch,
                    const std::string& checkpoint_just_written,
                    const std::function<std::string()>& save) {
  const std::string signal = agreement.agree();
  if (signal.empty()) return;
  std::string checkpoint = checkpoint_just_written;
  if (checkpoint.empty() && schedule.checkpoints) checkpoint = save();
  throw StopRequested(
      "stopped by " + signal + " at epoch " + std::to_string(position.epoch) + ", step " +
          std::to_string(position.step) + " of " + std::to_string(steps_per_epoch) +
          (checkpoint.empty() ? "; no --checkpoint-dir, so nothing was saved"
                              : "; checkpoint " + checkpoint + "; continue with --resume"),
      kExitStopped);
}

}  // namespace dptrain
