#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "dptrain/core/host_device.hpp"
#include "dptrain/optim/lr_schedule.hpp"
#include "dptrain/optim/update_rules.hpp"

// --on-nonfinite, --clip-norm and the learning-rate schedule decided where the gradients are:
// on the backend's queue, without the host. Each step, find_non_finite records the first NaN or
// infinity of the summed gradients in the guard (and with --clip-norm, block_sums_of_squares the
// pieces of their norm), decide_step turns that into whether the step's update runs and, if it
// runs, its constants (learning rate, clipping factor), and the update reads the answer. The host
// reads the guard only where it already waits for the device (end of epoch, checkpoint, replica
// check; every step on the CPU, where reading costs nothing) and reports then. The same code runs
// on both backends.
namespace dptrain::ew {

inline constexpr uint64_t kNoIndex = ~uint64_t{0};

// The gradient norm is summed in blocks of this many elements of the flat buffer, each block's
// sum of squares in a fixed order, then the blocks' sums in block order: the same bits whether
// one rank holds all blocks or each rank some (ZeRO-1's shards are whole blocks).
inline constexpr size_t kNormBlock = 4096;

inline size_t norm_blocks(size_t elements) {
  return (elements + kNormBlock - 1) / kNormBlock;
}

// A block's partial sum travels as the bits of its double in an int64: summed over ranks where
// only one rank's value is not zero, integer addition hands it on exactly.
DPTRAIN_HD double double_from_bits(int64_t bits) {
  double value;
  memcpy(&value, &bits, sizeof value);
  return value;
}
DPTRAIN_HD int64_t bits_of_double(double value) {
  int64_t bits;
  memcpy(&bits, &value, sizeof bits);
  return bits;
}

struct StepPolicy {
  OptimizerHyper optimizer;
  LrSchedule schedule;
  bool halt_on_non_finite = true;  // --on-nonfinite abort: after such a step, no update runs again
  // --clip-norm: scale the step's gradients down to this global L2 norm where it is larger
  // (torch.nn.utils.clip_grad_norm_: factor clip / (norm + 1e-6), at most 1); 0: no clipping.
  float clip_norm = 0.0f;
  // The step's agreement (decide_step's `agreement`): with clipping, norm_blocks partial sums of
  // squares (bits of doubles), then, with sharded gradients, index_slots first non-finite
  // indices, one per rank.
  uint32_t norm_blocks = 0;
  uint32_t index_slots = 0;
  // Rank r's index is within its shard, which begins at element r * slot_stride.
  uint64_t slot_stride = 0;
};

// Lives in the backend's memory. Counters run since training began (or since the resume).
struct StepGuard {
  uint64_t non_finite_index = kNoIndex;  // the current step's first bad gradient, or none
  int64_t steps = 0;                     // steps decided: the global number of the latest
  int64_t optimizer_steps = 0;           // the optimizer's t: steps whose update ran
  int64_t skipped = 0;                   // steps skipped for a non-finite gradient
  int64_t latest_skipped_step = 0;
  uint64_t latest_skipped_index = kNoIndex;
  int64_t halted_at = 0;  // the step that halted the updates (abort), 0 if none
  uint64_t halted_index = kNoIndex;
  // --clip-norm: the latest norm, the sum of the norms and their count, and the steps clipped.
  double latest_norm = 0.0;
  double norm_sum = 0.0;
  int64_t norm_steps = 0;
  int64_t clipped = 0;
  uint32_t apply = 0;      // whether the current step's update runs
  UpdateStep constants{};  // its constants, if it runs
};

// The global L2 norm from the blocks' partial sums, added in block order.
DPTRAIN_HD double norm_from_blocks(const int64_t* partial_bits, uint32_t blocks) {
  double sum = 0.0;
  for (uint32_t b = 0; b < blocks; ++b)
    sum += double_from_bits(partial_bits[b]);
  return sqrt(sum);
}

// One step's verdict. `host_index` is a bad gradient the host found itself (--exact's agreed
// maxima), or kNoIndex; `agreement` holds what the policy says (may be null when it says
// nothing). Clears non_finite_index for the next step.
DPTRAIN_HD void decide_step(StepGuard& g, const StepPolicy& policy, uint64_t host_index,
                            const int64_t* agreement) {
  g.steps += 1;
  uint64_t index = g.non_finite_index < host_index ? g.non_finite_index : host_index;
  for (uint32_t r = 0; r < policy.index_slots; ++r) {
    const uint64_t slot = static_cast<uint64_t>(agreement[policy.norm_blocks + r]);
    const uint64_t at = slot == kNoIndex ? kNoIndex : r * policy.slot_stride + slot;
    index = at < index ? at : index;
  }
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
  if (g.apply == 0) return;
  float grad_scale = 1.0f;
  if (policy.clip_norm > 0.0f) {
    const double norm = norm_from_blocks(agreement, policy.norm_blocks);
    g.latest_norm = norm;
    g.norm_sum += norm;
    g.norm_steps += 1;
    const double factor = static_cast<double>(policy.clip_norm) / (norm + 1e-6);
    if (factor < 1.0) {
      grad_scale = static_cast<float>(factor);
      g.clipped += 1;
    }
  }
  g.optimizer_steps += 1;
  g.constants = update_constants(policy.optimizer, lr_at(policy.schedule, g.steps),
                                 g.optimizer_steps, grad_scale);
}

}  // namespace dptrain::ew
