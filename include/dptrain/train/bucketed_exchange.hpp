#pragma once

#include <cstddef>

#include "dptrain/comm/communicator.hpp"
#include "dptrain/model/gradients_ready.hpp"

namespace dptrain {

// The allreduce of a step's gradients in buckets, each started as soon as backward has made it
// final, so that it travels while backward computes the layers before it (PyTorch DDP's and
// Horovod's gradient bucketing). Buckets are fixed slices of the flat buffer, cut from its end
// every `bucket_bytes`: the same on every rank, whatever the timing, so every rank starts the
// same sums in the same order. The sums stay exact allreduces, so replicas stay identical.
// The buffer holds floats, or --exact's int64 fixed-point gradients (GradientSum).
class BucketedExchange final : public GradientsReady {
 public:
  // bucket_bytes 0: no buckets, one allreduce of the whole buffer once backward is done.
  BucketedExchange(Communicator& communicator, size_t count, size_t bucket_bytes,
                   SumType type = SumType::f32);

  // A step's backward is about to fill `buffer` (count elements of the type above).
  void begin(SumBuffer buffer);
  void ready_from(size_t offset) override;
  // Backward is done: sends what is left (all of `buffer` if backward did not report to this
  // exchange) and waits until every bucket is summed.
  void finish(SumBuffer buffer);

  // Buckets per step: ceil(count / bucket elements), or 1.
  size_t buckets() const;

 private:
  void start_bucket(size_t begin, size_t end);

  Communicator& communicator_;
  size_t count_;
  size_t bucket_elements_;  // 0: one bucket
  SumBuffer buffer_;        // data null between steps
  size_t unsent_end_ = 0;   // [0, unsent_end_) is not yet started this step
};

}  // namespace dptrain
