#include "dptrain/train/bucketed_exchange.hpp"

#include "dptrain/core/trace.hpp"

namespace dptrain {

BucketedExchange::BucketedExchange(Communicator& communicator, size_t count, size_t bucket_bytes,
                                   SumType type)
    : communicator_(communicator), count_(count), buffer_{nullptr, count, type} {
  const size_t element_bytes = buffer_.element_bytes();
  bucket_elements_ = bucket_bytes / element_bytes;
  if (bucket_bytes > 0 && bucket_elements_ == 0) bucket_elements_ = 1;
  if (bucket_elements_ >= count_) bucket_elements_ = 0;  // one bucket anyway
  communicator_.reserve((bucket_elements_ == 0 ? count_ : bucket_elements_) * element_bytes,
                        buckets());
}

size_t BucketedExchange::buckets() const {
  return bucket_elements_ == 0 ? 1 : (count_ + bucket_elements_ - 1) / bucket_elements_;
}

void BucketedExchange::begin(SumBuffer buffer) {
  buffer_ = buffer;
  unsent_end_ = count_;
}

void BucketedExchange::start_bucket(size_t begin, size_t end) {
  communicator_.start_allreduce(buffer_.slice(begin, end - begin));
  unsent_end_ = begin;
}

void BucketedExchange::ready_from(size_t offset) {
  if (bucket_elements_ == 0) return;
  const trace::Span span("start buckets", trace::Phase::exchange);
  while (unsent_end_ >= offset + bucket_elements_)
    start_bucket(unsent_end_ - bucket_elements_, unsent_end_);
  communicator_.progress();
}

void BucketedExchange::finish(SumBuffer buffer) {
  const trace::Span span("allreduce", trace::Phase::exchange);
  if (buffer.data != buffer_.data) begin(buffer);
  if (unsent_end_ > 0) start_bucket(0, unsent_end_);
  communicator_.wait_started();
  buffer_.data = nullptr;
}

}  // namespace dptrain
