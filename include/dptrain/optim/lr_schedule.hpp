#pragma once

// The learning rate of every step, as a pure function of the step's number: the same on every
// rank, on the host (printing, metrics, parameter servers) and on the device (the step guard
// computes it there, so that a replayed CUDA graph follows the schedule), and, since a resumed
// run knows its step, continued exactly by a resume.
//
//   peak = lr * scaling                       (--lr-scaling: 1, global batch / B, or its root)
//   warm-up, steps 1..W:      lr(t) = peak * t / W         (--warmup-epochs or --warmup-steps)
//   then constant:            lr(t) = peak
//        cosine:              lr(t) = peak * (1 + cos(pi * min(1, (t - W) / D))) / 2
//        step:                lr(t) = peak * gamma^(milestones passed: t > milestone)
//
// The warm-up rises linearly from 0 as in Goyal et al. 2017 (whose ramp starts at the unscaled
// rate instead), llm.c and DeepSpeed's WarmupLR; the cosine, from the end of the warm-up over D
// steps (--lr-decay-epochs, default the rest of the run), is Loshchilov & Hutter 2017's without
// restarts, to 0 as llm.c's; the step decay multiplies by gamma at the milestones, as
// torch.optim.lr_scheduler.MultiStepLR, and also applies during the warm-up.

#include <cmath>
#include <cstdint>

#include "dptrain/core/host_device.hpp"

namespace dptrain::ew {

enum class ScheduleKind : int32_t { constant = 0, cosine = 1, step = 2 };

inline constexpr int kMaxMilestones = 16;

struct LrSchedule {
  ScheduleKind kind = ScheduleKind::constant;
  double peak = 1e-3;
  int64_t warmup_steps = 0;
  int64_t decay_steps = 0;  // cosine: D
  double gamma = 0.1;       // step: the factor at each milestone
  int32_t milestones = 0;   // step: how many of milestone_steps hold
  int64_t milestone_steps[kMaxMilestones] = {};
};

// The learning rate of step t >= 1. With the default schedule it is peak exactly.
DPTRAIN_HD double lr_at(const LrSchedule& s, int64_t t) {
  double lr = s.peak;
  if (s.kind == ScheduleKind::cosine && t > s.warmup_steps) {
    const double progress = s.decay_steps > 0 ? static_cast<double>(t - s.warmup_steps) /
                                                    static_cast<double>(s.decay_steps)
                                              : 1.0;
    const double pi = 3.141592653589793238462643383279502884;
    lr = s.peak * 0.5 * (1.0 + cos(pi * (progress < 1.0 ? progress : 1.0)));
  } else if (s.kind == ScheduleKind::step) {
    for (int32_t i = 0; i < s.milestones; ++i)
      if (t > s.milestone_steps[i]) lr *= s.gamma;
  }
  if (t < s.warmup_steps) lr *= static_cast<double>(t) / static_cast<double>(s.warmup_steps);
  return lr;
}

}  // namespace dptrain::ew
