#pragma once

#include <cstddef>
#include <string>

#include "dptrain/optim/lr_schedule.hpp"
#include "dptrain/train/config.hpp"

namespace dptrain {

// The factor --lr-scaling applies to --lr at this global batch: 1, global batch / base batch,
// or its square root.
double lr_scaling_factor(const LrScheduleOptions& options, size_t global_batch);

// This run's schedule in steps (optim/lr_schedule.hpp): the epochs of the options times the
// steps per epoch, rounded to the nearest step. InputError, naming the option, for a warm-up
// longer than the run or milestones beyond it.
ew::LrSchedule lr_schedule(const TrainConfig& config, size_t global_batch, size_t steps_per_epoch);

// What rank 0 prints: the scaling, the warm-up and the decay in words and numbers, and the rate
// at the first and last step of each epoch.
std::string describe_lr_schedule(const TrainConfig& config, const ew::LrSchedule& schedule,
                                 size_t global_batch, size_t steps_per_epoch);

}  // namespace dptrain
