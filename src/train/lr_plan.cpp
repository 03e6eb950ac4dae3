#include "dptrain/train/lr_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "dptrain/core/error.hpp"

namespace dptrain {
namespace {

int64_t epochs_to_steps(double epochs, size_t steps_per_epoch) {
  return static_cast<int64_t>(std::llround(epochs * static_cast<double>(steps_per_epoch)));
}

std::string format(const char* pattern, double a, double b = 0.0, double c = 0.0) {
  char text[160];
  std::snprintf(text, sizeof text, pattern, a, b, c);
  return text;
}

}  // namespace

double lr_scaling_factor(const LrScheduleOptions& options, size_t global_batch) {
  const double ratio = static_cast<double>(global_batch) / static_cast<double>(options.base_batch);
  switch (options.scaling) {
    case LrScaling::linear:
      return ratio;
    case LrScaling::sqrt:
      return std::sqrt(ratio);
    case LrScaling::none:
      break;
  }
  return 1.0;
}

ew::LrSchedule lr_schedule(const TrainConfig& config, size_t global_batch, size_t steps_per_epoch) {
  const LrScheduleOptions& options = config.lr;
  const int64_t total = static_cast<int64_t>(config.epochs) * static_cast<int64_t>(steps_per_epoch);
  ew::LrSchedule schedule;
  schedule.kind = options.kind;
  // In double from the float --lr, so that without scaling the peak is --lr exactly.
  schedule.peak =
      static_cast<double>(config.optimizer.lr) * lr_scaling_factor(options, global_batch);
  schedule.warmup_steps = options.warmup_steps.value_or(
      options.warmup_epochs ? epochs_to_steps(*options.warmup_epochs, steps_per_epoch) : 0);
  if (schedule.warmup_steps > total)
    throw InputError("the warm-up (" + std::to_string(schedule.warmup_steps) +
                     " steps) is longer than the run (" + std::to_string(total) + " steps)");
  if (options.kind == ew::ScheduleKind::cosine) {
    schedule.decay_steps = options.decay_epochs
                               ? epochs_to_steps(*options.decay_epochs, steps_per_epoch)
                               : total - schedule.warmup_steps;
  }
  if (options.kind == ew::ScheduleKind::step) {
    schedule.gamma = options.decay_factor.value_or(0.1);
    std::vector<int64_t> at;
    if (options.milestones) {
      for (double epoch : *options.milestones)
        at.push_back(epochs_to_steps(epoch, steps_per_epoch));
    } else {  // every --lr-decay-epochs, within the run
      const int64_t period = std::max<int64_t>(
          1, epochs_to_steps(options.decay_epochs.value_or(config.epochs), steps_per_epoch));
      for (int64_t step = period; step < total; step += period)
        at.push_back(step);
    }
    if (at.size() > static_cast<size_t>(ew::kMaxMilestones))
      throw InputError("the step schedule decays " + std::to_string(at.size()) +
                       " times; at most " + std::to_string(ew::kMaxMilestones) + " are supported");
    for (size_t i = 0; i < at.size(); ++i)
      schedule.milestone_steps[i] = at[i];
    schedule.milestones = static_cast<int32_t>(at.size());
  }
  return schedule;
}

std::string describe_lr_schedule(const TrainConfig& config, const ew::LrSchedule& schedule,
                                 size_t global_batch, size_t steps_per_epoch) {
  const LrScheduleOptions& options = config.lr;
  std::string text = format("lr %g", static_cast<double>(config.optimizer.lr));
  if (options.scaling != LrScaling::none)
    text += std::string(" x ") + format("%.4g", lr_scaling_factor(options, global_batch)) + " (" +
            lr_scaling_name(options.scaling) + " scaling, global batch " +
            std::to_string(global_batch) + " / " + std::to_string(options.base_batch) +
            ") = " + format("%g", schedule.peak);
  if (schedule.warmup_steps > 0)
    text += "; warm-up from 0 over " + std::to_string(schedule.warmup_steps) + " steps" +
            format(" (%.3g epochs)", static_cast<double>(schedule.warmup_steps) /
                                         static_cast<double>(steps_per_epoch));
  if (schedule.kind == ew::ScheduleKind::cosine)
    text += "; cosine to 0 over " + std::to_string(schedule.decay_steps) + " steps";
  if (schedule.kind == ew::ScheduleKind::step) {
    text += format("; x %g at steps", schedule.gamma);
    for (int32_t i = 0; i < schedule.milestones; ++i)
      text += (i == 0 ? " " : ",") + std::to_string(schedule.milestone_steps[i]);
  }
  text += "\nlr by epoch (first step .. last):";
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    // Long runs: the first three epochs and the last two.
    if (config.epochs > 8 && epoch > 3 && epoch < config.epochs - 1) {
      if (epoch == 4) text += " ...;";
      continue;
    }
    const int64_t first = static_cast<int64_t>((epoch - 1) * steps_per_epoch) + 1;
    const int64_t last = static_cast<int64_t>(epoch * steps_per_epoch);
    text += " " + std::to_string(epoch) +
            format(": %.3g..%.3g;", ew::lr_at(schedule, first), ew::lr_at(schedule, last));
  }
  text.pop_back();
  return text;
}

}  // namespace dptrain
