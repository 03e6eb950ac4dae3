#include "dptrain/train/bucketed_exchange.hpp"

#include "dptrain/core/trace.hpp"

namespace dptrain {

BucketedExchange::BucketedExchange(Communicator& communicator, size_t count, size_t bucket_bytes)
    : communicator_(communicator), count_(count), bucket_elements_(bucket_bytes / sizeof(float)) {
  if (bucket_bytes > 0 && bucket_elements_ == 0) bucket_elements_ = 1;
  if (bucket_elements_ >= count_) bucket_elements_ = 0;  // one bucket anyway
  communicator_.reserve(bucket_elements_ == 0 ? count_ : bucket_elements_, buckets());
}

size_t BucketedExchange::buckets() const {
  return bucket_elements_ == 0 ? 1 : (count_ + bucket_elements_ - 1) / bucket_elements_;
}

void BucketedExchange::begin(float* grads) {
  grads_ = grads;
  unsent_end_ = count_;
}

void BucketedExchange::start_bucket(size_t begin, size_t end) {
  communicator_.start_allreduce_sum(grads_ + begin, end - begin);
  unsent_end_ = begin;
}

void BucketedExchange::ready_from(size_t offset) {
  if (bucket_elements_ == 0) return;
  const trace::Span span("start buckets", trace::Phase::exchange);
  while (unsent_end_ >= offset + bucket_elements_)
    start_bucket(unsent_end_ - bucket_elements_, unsent_end_);
  communicator_.progress();
}

void BucketedExchange::finish(float* grads) {
  const trace::Span span("allreduce", trace::Phase::exchange);
  if (grads != grads_) begin(grads);
  if (unsent_end_ > 0) start_bucket(0, unsent_end_);
  communicator_.wait_started();
  grads_ = nullptr;
}

}  // namespace dptrain
