#include "dptrain/comm/ring_allreduce.hpp"

#include <climits>
#include <cstdint>
#include <stdexcept>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"

namespace dptrain {
namespace {

constexpr int kReduceScatterTag = 7101;
constexpr int kAllgatherTag = 7102;
constexpr const char* kWhat = "the ring allreduce of the gradients";

int as_count(size_t n) {
  if (n > static_cast<size_t>(INT_MAX))
    throw std::length_error("ring allreduce chunk exceeds INT_MAX elements");
  return static_cast<int>(n);
}

// target[i] <- target[i] (op) incoming[i]. Integer sums wrap (unsigned arithmetic): --exact's
// bounds keep every partial sum in range, and a step whose values were clamped is recomputed,
// so wrapping only ever happens to results that are thrown away, and it is never undefined.
void reduce_into(float* target, const float* incoming, size_t n, bool maximum) {
  if (maximum) {
    for (size_t i = 0; i < n; ++i)
      target[i] = incoming[i] > target[i] ? incoming[i] : target[i];
  } else {
    for (size_t i = 0; i < n; ++i)
      target[i] += incoming[i];
  }
}

void reduce_into(int64_t* target, const int64_t* incoming, size_t n) {
  for (size_t i = 0; i < n; ++i)
    target[i] =
        static_cast<int64_t>(static_cast<uint64_t>(target[i]) + static_cast<uint64_t>(incoming[i]));
}

}  // namespace

RingAllreduce::RingAllreduce(MPI_Comm comm) : comm_(comm) {
  mpiCheck(MPI_Comm_rank(comm_, &rank_));
  mpiCheck(MPI_Comm_size(comm_, &size_));
}

size_t RingAllreduce::element_bytes(Reduction reduction) {
  return reduction == Reduction::sum_i64 ? sizeof(int64_t) : sizeof(float);
}

size_t RingAllreduce::chunk_begin(size_t count, int chunk) const {
  return count * static_cast<size_t>(chunk) / static_cast<size_t>(size_);
}

void RingAllreduce::reserve(size_t bytes, size_t queued) {
  const size_t ranks = static_cast<size_t>(size_);
  // The largest chunk of `bytes` in elements of 4 bytes or more, in 8-byte words, plus one for
  // the rounding of the split.
  const size_t words = (bytes + ranks - 1) / ranks / sizeof(uint64_t) + 1;
  if (scratch_.size() < words) scratch_.resize(words);
  if (queue_.capacity() < queued) queue_.reserve(queued);
}

void RingAllreduce::sum(SumBuffer buffer) {
  enqueue({buffer.data,
           buffer.count,
           buffer.type == SumType::f32 ? Reduction::sum_f32 : Reduction::sum_i64,
           {},
           false});
  wait();
}

void RingAllreduce::max(float* data, size_t count) {
  enqueue({data, count, Reduction::max_f32, {}, false});
  wait();
}

void RingAllreduce::start(SumBuffer buffer) {
  enqueue({buffer.data,
           buffer.count,
           buffer.type == SumType::f32 ? Reduction::sum_f32 : Reduction::sum_i64,
           {},
           true});
}

void RingAllreduce::enqueue(const Job& job) {
  if (size_ == 1 || job.count == 0) return;
  if (queue_head_ == queue_.size()) {  // idle: reuse the queue from its start
    queue_.clear();
    queue_head_ = 0;
  }
  reserve(job.count * element_bytes(job.reduction), queue_.size() + 1);
  queue_.push_back(job);
  if (queue_head_ + 1 == queue_.size()) post_step();
}

void RingAllreduce::post_step() {
  Job& job = queue_[queue_head_];
  if (step_ == 0) job.started = trace::Clock::now();  // it moves from now on
  const bool reducing = step_ < size_ - 1;
  const int s = reducing ? step_ : step_ - (size_ - 1);
  // Reduce-scatter: after step s, rank r holds the reduction over s + 2 ranks of chunk r - s - 1;
  // after n - 1 steps it holds the full result of chunk r + 1. Allgather: pass the finished chunks
  // on.
  const int send = reducing ? chunk(rank_ - s) : chunk(rank_ + 1 - s);
  const int receive = reducing ? chunk(rank_ - s - 1) : chunk(rank_ - s);
  const size_t bytes = element_bytes(job.reduction);
  const MPI_Datatype type = job.reduction == Reduction::sum_i64 ? MPI_INT64_T : MPI_FLOAT;
  char* data = static_cast<char*>(job.data);
  const size_t send_begin = chunk_begin(job.count, send);
  const size_t receive_begin = chunk_begin(job.count, receive);
  const size_t receive_size = chunk_begin(job.count, receive + 1) - receive_begin;
  void* receive_into = reducing ? static_cast<void*>(scratch_.data())
                                : static_cast<void*>(data + receive_begin * bytes);
  const int tag = reducing ? kReduceScatterTag : kAllgatherTag;
  const int right = (rank_ + 1) % size_;
  const int left = (rank_ + size_ - 1) % size_;
  mpiCheck(MPI_Irecv(receive_into, as_count(receive_size), type, left, tag, comm_, &requests_[0]));
  mpiCheck(MPI_Isend(data + send_begin * bytes,
                     as_count(chunk_begin(job.count, send + 1) - send_begin), type, right, tag,
                     comm_, &requests_[1]));
  posted_ = true;
}

void RingAllreduce::finish_step() {
  posted_ = false;
  const Job& job = queue_[queue_head_];
  if (step_ < size_ - 1) {
    const int receive = chunk(rank_ - step_ - 1);
    const size_t begin = chunk_begin(job.count, receive);
    const size_t size = chunk_begin(job.count, receive + 1) - begin;
    if (job.reduction == Reduction::sum_i64) {
      reduce_into(static_cast<int64_t*>(job.data) + begin,
                  reinterpret_cast<const int64_t*>(scratch_.data()), size);
    } else {
      reduce_into(static_cast<float*>(job.data) + begin,
                  reinterpret_cast<const float*>(scratch_.data()), size,
                  job.reduction == Reduction::max_f32);
    }
  }
  if (++step_ == 2 * (size_ - 1)) {
    if (job.traced)
      trace::record_in_flight("gradient bucket", trace::Phase::exchange, job.started,
                              trace::Clock::now());
    step_ = 0;
    ++queue_head_;
  }
  if (queue_head_ < queue_.size()) post_step();
}

bool RingAllreduce::progress() {
  while (posted_) {
    int done = 0;
    mpiCheck(MPI_Testall(2, requests_, &done, MPI_STATUSES_IGNORE));
    if (done == 0) return false;
    finish_step();
  }
  return true;
}

void RingAllreduce::wait() {
  while (posted_) {
    watchdog::wait_all(requests_, kWhat);
    finish_step();
  }
}

}  // namespace dptrain
