#pragma once

#include <cmath>
#include <cstdint>

#include "dptrain/core/elementwise.hpp"
#include "dptrain/core/host_device.hpp"

// --on-nonfinite decided where the gradients are: on the backend's queue, without the host.
// Each step, find_non_finite records the first NaN or infinity of the summed gradients in the
// guard, decide_step turns that into whether the step's update runs (and, if it runs, Adam's
// constants for it), and the update reads the answer. The host reads the guard only where it
// already waits for the device (end of epoch, checkpoint, replica check; every step on the CPU,
// where reading costs nothing) and reports then. The same code runs on both backends.
namespace dptrain::ew {

inline constexpr uint64_t kNoIndex = ~uint64_t{0};

struct AdamHyper {
  float lr;
  float beta1;
  float beta2;
  float eps;
  float weight_decay;
};

// Adam's constants for step t >= 1, in double precision. pow and sqrt are the C library's on
// the host (the constants the CPU backend always used) and CUDA's on the device.
DPTRAIN_HD AdamStep adam_constants(const AdamHyper& h, int64_t t) {
  const double bias1 = 1.0 - pow(static_cast<double>(h.beta1), static_cast<double>(t));
  const double bias2 = 1.0 - pow(static_cast<double>(h.beta2), static_cast<double>(t));
  AdamStep step{};
  step.beta1 = h.beta1;
  step.beta2 = h.beta2;
  step.eps = h.eps;
  step.decay = static_cast<float>(1.0 - static_cast<double>(h.lr) * h.weight_decay);
  step.step_size = static_cast<float>(h.lr / bias1);
  step.inv_sqrt_bias2 = static_cast<float>(1.0 / sqrt(bias2));
  return step;
}

struct StepPolicy {
  AdamHyper adam;
  bool halt_on_non_finite;  // --on-nonfinite abort: after such a step, no update runs again
};

// Lives in the backend's memory. Counters run since training began (or since the resume).
struct StepGuard {
  uint64_t non_finite_index = kNoIndex;  // the current step's first bad gradient, or none
  int64_t steps = 0;                     // steps decided: the global number of the latest
  int64_t adam_steps = 0;                // Adam's t: steps whose update ran
  int64_t skipped = 0;                   // steps skipped for a non-finite gradient
  int64_t latest_skipped_step = 0;
  uint64_t latest_skipped_index = kNoIndex;
  int64_t halted_at = 0;  // the step that halted the updates (abort), 0 if none
  uint64_t halted_index = kNoIndex;
  uint32_t apply = 0;    // whether the current step's update runs
  AdamStep constants{};  // its Adam constants, if it runs
};

// One step's verdict. `host_index` is a bad gradient the host found itself (--exact's agreed
// maxima), or kNoIndex. Clears non_finite_index for the next step.
DPTRAIN_HD void decide_step(StepGuard& g, const StepPolicy& policy, uint64_t host_index) {
  g.steps += 1;
  const uint64_t index = g.non_finite_index < host_index ? g.non_finite_index : host_index;
  g.non_finite_index = kNoIndex;
  if (index != kNoIndex && policy.halt_on_non_finite && g.halted_at == 0) {
    g.halted_at = g.steps;
    g.halted_index = index;
  } else if (index != kNoIndex && !policy.halt_on_non_finite) {
    g.skipped += 1;
    g.latest_skipped_step = g.steps;
    g.latest_skipped_index = index;
  }
  g.apply = index == kNoIndex && g.halted_at == 0 ? 1u : 0u;
  if (g.apply != 0) {
    g.adam_steps += 1;
    g.constants = adam_constants(policy.adam, g.adam_steps);
  }
}

}  // namespace dptrain::ew
