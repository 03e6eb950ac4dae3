#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dptrain/model/parameter_layout.hpp"

namespace dptrain {

// The agreed scales of --exact's fixed-point gradient sums (README, "Reproducibility"): pure
// bookkeeping, identical on every rank (workers and parameter servers alike) because it changes
// only through agreed maxima.
//
// Each tensor t has an exponent e_t, and every micro-batch's gradient element g of t must have
// |g| <= 2^e_t. It is rounded to q = round(g * 2^(62 - c - e_t)), where c = ceil(log2 M) for the M
// micro-batches of a global batch, so |q| <= 2^(62 - c), and any sum of up to M such integers in
// any order stays within 2^62: no partial sum overflows an int64, and the total is exact.
//
// After each step the ranks agree on each tensor's largest |g| over all micro-batches (a max
// collective of one float per tensor): the next step's e_t is ceil(log2 max) + kHeadroomBits, so
// a gradient may grow 2^kHeadroomBits-fold from one step to the next before the scale is too
// small. When it is (judge() says rescale), every rank recomputes the step with the exponents
// that this step's maxima call for. The maxima, and so the exponents and the recomputations,
// depend only on the micro-batch gradients: never on how the micro-batches are spread over the
// ranks.
class FixedPointScales {
 public:
  static constexpr int kHeadroomBits = 8;
  static constexpr int kInitialExponent = 0;  // |g| <= 1 assumed at the first step

  FixedPointScales(const ParameterLayout& layout, size_t micro_batches_per_step);

  size_t tensors() const { return exponents_.size(); }
  // The tensor of a flat-buffer offset's element, and its slot.
  const TensorSlot& slot(size_t tensor) const { return slots_[tensor]; }
  // 2^(62 - c - e_t) and its inverse, the factors of ew::to_fixed_point and from_fixed_point.
  double to_fixed(size_t tensor) const;
  double to_float(size_t tensor) const;

  enum class Verdict { fits, rescale, non_finite };
  struct Judgement {
    Verdict verdict = Verdict::fits;
    size_t tensor = 0;  // the first tensor that is not finite, or that outgrew its scale
  };
  // What the step's agreed maxima (one per tensor, NaNs as infinity) say about its sums.
  Judgement judge(std::span<const float> maxima) const;
  // The exponents that these maxima call for (tensors whose maximum is 0 keep theirs).
  void adopt(std::span<const float> maxima);

  const std::vector<int32_t>& exponents() const { return exponents_; }
  // From a checkpoint; InputError unless there is one per tensor.
  void set_exponents(const std::vector<int32_t>& exponents);
  // c = ceil(log2 M).
  int micro_batch_bits() const { return micro_batch_bits_; }

  // The smallest e with m <= 2^e, for a finite m > 0.
  static int exponent_above(float m);

 private:
  std::vector<TensorSlot> slots_;
  std::vector<int32_t> exponents_;
  int micro_batch_bits_;
};

}  // namespace dptrain
