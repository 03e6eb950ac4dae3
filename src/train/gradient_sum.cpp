#include "dptrain/train/gradient_sum.hpp"

#include <algorithm>

namespace dptrain {

GradientSum::GradientSum(Backend& backend, const ParameterLayout& layout, size_t micro_batches,
                         size_t micro_batches_per_step, bool exact, size_t capacity)
    : backend_(backend),
      parameters_(layout.total()),
      micro_batches_(micro_batches),
      exact_(exact),
      scales_(layout, micro_batches_per_step),
      folder_(*this),
      grads_(backend, std::max(parameters_, capacity)) {
  // The tail beyond the parameters is never written again: zeros, to whoever reads it.
  backend_.fill(grads_.data(), grads_.size(), 0.0f);
  if (!exact_ && micro_batches_ > 1) scratch_ = DeviceArray<float>(backend, parameters_);
  if (exact_) {
    fixed_ = DeviceArray<int64_t>(backend, std::max(parameters_, capacity));
    // Zero bits are the integer 0.
    backend_.fill(reinterpret_cast<float*>(fixed_.data()), 2 * fixed_.size(), 0.0f);
    maxima_ = DeviceArray<float>(backend, scales_.tensors());
    host_maxima_.resize(scales_.tensors());
  }
}

void GradientSum::begin_step() {
  if (exact_) backend_.fill(maxima_.data(), maxima_.size(), 0.0f);
}

float* GradientSum::gradients_of(size_t micro_batch) {
  return !exact_ && micro_batch > 0 ? scratch_.data() : grads_.data();
}

GradientsReady* GradientSum::listener(size_t micro_batch, GradientsReady* exchange) {
  if (micro_batch + 1 != micro_batches_) return nullptr;
  if (!exact_ && micro_batches_ == 1) return exchange;  // backward writes the sum itself
  folder_.begin(micro_batch, exchange);
  return &folder_;
}

void GradientSum::end_micro_batch(size_t micro_batch) {
  if (folder_.active()) {
    folder_.finish();
  } else {
    fold(micro_batch, 0, parameters_);
  }
}

SumBuffer GradientSum::local_sum() {
  return exact_ ? sum_buffer(fixed_.data(), parameters_) : sum_buffer(grads_.data(), parameters_);
}

void GradientSum::fold(size_t micro_batch, size_t begin, size_t end) {
  if (begin >= end) return;
  if (!exact_) {
    if (micro_batch > 0) backend_.add(grads_.data() + begin, scratch_.data() + begin, end - begin);
    return;
  }
  for (size_t t = 0; t < scales_.tensors(); ++t) {
    const TensorSlot& slot = scales_.slot(t);
    const size_t from = std::max(begin, slot.offset);
    const size_t to = std::min(end, slot.offset + slot.size);
    if (from >= to) continue;
    backend_.to_fixed_point(grads_.data() + from, to - from, scales_.to_fixed(t),
                            /*accumulate=*/micro_batch > 0, fixed_.data() + from,
                            maxima_.data() + t);
  }
}

FixedPointScales::Judgement GradientSum::settle(bool convert) {
  const FixedPointScales::Judgement judgement = scales_.judge(host_maxima_);
  if (judgement.verdict == FixedPointScales::Verdict::fits && convert)
    for (size_t t = 0; t < scales_.tensors(); ++t) {
      const TensorSlot& slot = scales_.slot(t);
      backend_.from_fixed_point(fixed_.data() + slot.offset, slot.size, scales_.to_float(t),
                                grads_.data() + slot.offset);
    }
  if (judgement.verdict != FixedPointScales::Verdict::non_finite) scales_.adopt(host_maxima_);
  return judgement;
}

void GradientSum::Folder::begin(size_t micro_batch, GradientsReady* exchange) {
  micro_batch_ = micro_batch;
  exchange_ = exchange;
  folded_from_ = sum_.parameters_;
  active_ = true;
}

void GradientSum::Folder::ready_from(size_t offset) {
  sum_.fold(micro_batch_, offset, folded_from_);
  folded_from_ = std::min(folded_from_, offset);
  if (exchange_ != nullptr) exchange_->ready_from(offset);
}

void GradientSum::Folder::finish() {
  sum_.fold(micro_batch_, 0, folded_from_);
  active_ = false;
  exchange_ = nullptr;
}

}  // namespace dptrain
