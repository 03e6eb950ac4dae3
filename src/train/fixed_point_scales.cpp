#include "dptrain/train/fixed_point_scales.hpp"

#include <cmath>
#include <string>

#include "dptrain/core/error.hpp"
#include "dptrain/core/fixed_point.hpp"

namespace dptrain {

FixedPointScales::FixedPointScales(const ParameterLayout& layout, size_t micro_batches_per_step)
    : slots_(layout.tensors()),
      exponents_(layout.tensors().size(), kInitialExponent),
      micro_batch_bits_(0) {
  while ((size_t{1} << micro_batch_bits_) < micro_batches_per_step)
    ++micro_batch_bits_;
}

double FixedPointScales::to_fixed(size_t tensor) const {
  return std::ldexp(1.0, ew::kFixedPointBits - micro_batch_bits_ - exponents_[tensor]);
}

double FixedPointScales::to_float(size_t tensor) const {
  return std::ldexp(1.0, exponents_[tensor] + micro_batch_bits_ - ew::kFixedPointBits);
}

int FixedPointScales::exponent_above(float m) {
  int exponent = 0;
  const float fraction = std::frexp(m, &exponent);  // m = fraction * 2^exponent, [0.5, 1)
  return fraction == 0.5f ? exponent - 1 : exponent;
}

FixedPointScales::Judgement FixedPointScales::judge(std::span<const float> maxima) const {
  for (size_t t = 0; t < maxima.size(); ++t)
    if (!std::isfinite(maxima[t])) return {Verdict::non_finite, t};
  for (size_t t = 0; t < maxima.size(); ++t)
    if (maxima[t] > 0.0f && exponent_above(maxima[t]) > exponents_[t]) return {Verdict::rescale, t};
  return {};
}

void FixedPointScales::adopt(std::span<const float> maxima) {
  for (size_t t = 0; t < maxima.size(); ++t)
    if (maxima[t] > 0.0f && std::isfinite(maxima[t]))
      exponents_[t] = exponent_above(maxima[t]) + kHeadroomBits;
}

void FixedPointScales::set_exponents(const std::vector<int32_t>& exponents) {
  if (exponents.size() != exponents_.size())
    throw InputError("the checkpoint records " + std::to_string(exponents.size()) +
                     " fixed-point exponents for a model of " + std::to_string(exponents_.size()) +
                     " tensors");
  exponents_ = exponents;
}

}  // namespace dptrain
