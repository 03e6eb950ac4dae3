#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "dptrain/backend/backend.hpp"
#include "dptrain/comm/communicator.hpp"
#include "dptrain/model/gradients_ready.hpp"
#include "dptrain/model/parameter_layout.hpp"
#include "dptrain/train/fixed_point_scales.hpp"

namespace dptrain {

// How one rank's micro-batch gradients become the buffer that the ranks sum, and how the sum
// becomes float gradients again (README, "Reproducibility"). Every transport (the ring, NCCL,
// parameter servers) sums what local_sum() gives it; exactness is decided here, not there.
//
// Float (the default): micro-batch 0's backward writes the step's buffer, later micro-batches
// are added to it, and the ranks sum floats. Float addition is not associative, so the last bits
// of the sum depend on how the global batch is split among the ranks and in what order the
// transport adds.
//
// Fixed point (--exact): every micro-batch's gradient is rounded to int64 with its tensor's
// agreed scale (FixedPointScales), and the integers are summed, here and by the transport.
// Integer addition is associative, so the summed integers, and the floats made of them, are the
// same bits for any split of the same micro-batches over any number of ranks, in any order.
// Each micro-batch is computed with the same shapes (its rows) wherever it runs, so its gradient
// has the same bits too. While the gradients are rounded, each tensor's largest |g| is taken;
// after the exchange the ranks agree on them (a max collective), which confirms the scales or
// asks for the step to be recomputed with larger ones (settle).
class GradientSum {
 public:
  // micro_batches: this rank's per step; micro_batches_per_step: all ranks' together (M).
  // capacity: elements of the summed buffers, at least the parameters (a reduce-scatter over
  // equal shards wants a padded buffer; the tail holds zeros).
  GradientSum(Backend& backend, const ParameterLayout& layout, size_t micro_batches,
              size_t micro_batches_per_step, bool exact, size_t capacity = 0);
  // Its listener refers to it: it stays where it was made.
  GradientSum(const GradientSum&) = delete;
  GradientSum& operator=(const GradientSum&) = delete;

  bool exact() const { return exact_; }
  size_t micro_batches() const { return micro_batches_; }
  size_t parameters() const { return parameters_; }

  // A step: begin_step, then for each micro-batch j in order: backward into gradients_of(j),
  // telling listener(j, ...) what is final, then end_micro_batch(j).
  void begin_step();
  float* gradients_of(size_t micro_batch);
  // Who hears, during micro-batch j's backward, what is final: for the last micro-batch, an
  // adapter that folds each final range into the local sum and then tells `exchange` (which may
  // start sending it); otherwise nobody (null).
  GradientsReady* listener(size_t micro_batch, GradientsReady* exchange);
  // Folds what backward wrote and the listener did not into the local sum.
  void end_micro_batch(size_t micro_batch);

  // This rank's sum of its micro-batch gradients, for the ranks to sum in place: floats, or
  // --exact's int64 fixed point.
  SumBuffer local_sum();
  // The step's summed gradients as floats: the local sum itself (float), or after settle()
  // (--exact) its conversion.
  float* gradients() { return grads_.data(); }

  // --exact only. The largest |g| of each tensor over this rank's micro-batches, on the backend
  // (for a max collective there), and a host buffer for the agreed maxima.
  float* local_maxima() { return maxima_.data(); }
  std::span<float> host_maxima() { return host_maxima_; }
  // With the agreed maxima in host_maxima() and the summed integers in local_sum(): when the
  // scales fit, converts the integers to gradients() (if `convert`; parameter servers convert
  // their ranges themselves) and adopts the next step's scales; when the step must be
  // recomputed, adopts the scales for that. Either way the verdict is the same on every rank.
  FixedPointScales::Judgement settle(bool convert = true);
  FixedPointScales& scales() { return scales_; }
  const FixedPointScales& scales() const { return scales_; }

 private:
  // Micro-batch j's gradients [begin, end) into the local sum.
  void fold(size_t micro_batch, size_t begin, size_t end);

  class Folder final : public GradientsReady {
   public:
    explicit Folder(GradientSum& sum) : sum_(sum) {}
    void begin(size_t micro_batch, GradientsReady* exchange);
    void ready_from(size_t offset) override;
    void finish();
    bool active() const { return active_; }

   private:
    GradientSum& sum_;
    size_t micro_batch_ = 0;
    GradientsReady* exchange_ = nullptr;
    size_t folded_from_ = 0;  // [folded_from_, end) is in the local sum
    bool active_ = false;
  };

  Backend& backend_;
  size_t parameters_;
  size_t micro_batches_;
  bool exact_;
  FixedPointScales scales_;
  Folder folder_;
  DeviceArray<float> grads_;    // float: the local sum; exact: each micro-batch's, then the sum's
  DeviceArray<float> scratch_;  // float with several micro-batches: those after the first
  DeviceArray<int64_t> fixed_;  // exact: the local sum in fixed point
  DeviceArray<float> maxima_;   // exact: one per tensor
  std::vector<float> host_maxima_;
};

}  // namespace dptrain
