#include "dptrain/comm/ring_allreduce.hpp"

#include <climits>
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

}  // namespace

RingAllreduce::RingAllreduce(MPI_Comm comm) : comm_(comm) {
  mpiCheck(MPI_Comm_rank(comm_, &rank_));
  mpiCheck(MPI_Comm_size(comm_, &size_));
}

size_t RingAllreduce::chunk_begin(size_t count, int chunk) const {
  return count * static_cast<size_t>(chunk) / static_cast<size_t>(size_);
}

void RingAllreduce::reserve(size_t count, size_t queued) {
  const size_t largest_chunk =
      (count + static_cast<size_t>(size_) - 1) / static_cast<size_t>(size_);
  if (scratch_.size() < largest_chunk) scratch_.resize(largest_chunk);
  if (queue_.capacity() < queued) queue_.reserve(queued);
}

void RingAllreduce::sum(float* data, size_t count) {
  enqueue(data, count, /*traced=*/false);
  wait();
}

void RingAllreduce::start(float* data, size_t count) {
  enqueue(data, count, /*traced=*/true);
}

void RingAllreduce::enqueue(float* data, size_t count, bool traced) {
  if (size_ == 1 || count == 0) return;
  if (queue_head_ == queue_.size()) {  // idle: reuse the queue from its start
    queue_.clear();
    queue_head_ = 0;
  }
  reserve(count, queue_.size() + 1);
  queue_.push_back({data, count, {}, traced});
  if (queue_head_ + 1 == queue_.size()) post_step();
}

void RingAllreduce::post_step() {
  Sum& sum = queue_[queue_head_];
  if (step_ == 0) sum.started = trace::Clock::now();  // it moves from now on
  const bool reducing = step_ < size_ - 1;
  const int s = reducing ? step_ : step_ - (size_ - 1);
  // Reduce-scatter: after step s, rank r holds the sum over s + 2 ranks of chunk r - s - 1; after
  // n - 1 steps it holds the full sum of chunk r + 1. Allgather: pass the finished chunks on.
  const int send = reducing ? chunk(rank_ - s) : chunk(rank_ + 1 - s);
  const int receive = reducing ? chunk(rank_ - s - 1) : chunk(rank_ - s);
  const size_t send_begin = chunk_begin(sum.count, send);
  const size_t receive_begin = chunk_begin(sum.count, receive);
  const size_t receive_size = chunk_begin(sum.count, receive + 1) - receive_begin;
  float* receive_into = reducing ? scratch_.data() : sum.data + receive_begin;
  const int tag = reducing ? kReduceScatterTag : kAllgatherTag;
  const int right = (rank_ + 1) % size_;
  const int left = (rank_ + size_ - 1) % size_;
  mpiCheck(
      MPI_Irecv(receive_into, as_count(receive_size), MPI_FLOAT, left, tag, comm_, &requests_[0]));
  mpiCheck(MPI_Isend(sum.data + send_begin, as_count(chunk_begin(sum.count, send + 1) - send_begin),
                     MPI_FLOAT, right, tag, comm_, &requests_[1]));
  posted_ = true;
}

void RingAllreduce::finish_step() {
  posted_ = false;
  const Sum& sum = queue_[queue_head_];
  if (step_ < size_ - 1) {
    const int receive = chunk(rank_ - step_ - 1);
    const size_t begin = chunk_begin(sum.count, receive);
    const size_t size = chunk_begin(sum.count, receive + 1) - begin;
    float* target = sum.data + begin;
    const float* incoming = scratch_.data();
    for (size_t i = 0; i < size; ++i)
      target[i] += incoming[i];
  }
  if (++step_ == 2 * (size_ - 1)) {
    if (sum.traced)
      trace::record_in_flight("gradient bucket", trace::Phase::exchange, sum.started,
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
