#include "dptrain/comm/ring_allreduce.hpp"

#include <climits>
#include <stdexcept>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"

namespace dptrain {
namespace {

constexpr int kReduceScatterTag = 7101;
constexpr int kAllgatherTag = 7102;

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

void RingAllreduce::exchange(const float* send, size_t send_count, int to, float* receive,
                             size_t receive_count, int from, int tag) {
  mpiCheck(MPI_Irecv(receive, as_count(receive_count), MPI_FLOAT, from, tag, comm_, &requests_[0]));
  mpiCheck(MPI_Isend(send, as_count(send_count), MPI_FLOAT, to, tag, comm_, &requests_[1]));
  watchdog::wait_all(requests_, "the ring allreduce of the gradients");
}

size_t RingAllreduce::chunk_begin(size_t count, int chunk) const {
  return count * static_cast<size_t>(chunk) / static_cast<size_t>(size_);
}

void RingAllreduce::reserve(size_t count) {
  const size_t largest_chunk =
      (count + static_cast<size_t>(size_) - 1) / static_cast<size_t>(size_);
  if (scratch_.size() < largest_chunk) scratch_.resize(largest_chunk);
}

void RingAllreduce::sum(float* data, size_t count) {
  if (size_ == 1 || count == 0) return;
  reserve(count);
  const int right = (rank_ + 1) % size_;
  const int left = (rank_ + size_ - 1) % size_;
  const auto chunk = [&](int c) { return (c % size_ + size_) % size_; };

  // Reduce-scatter: after step s, rank r holds the sum over s + 2 ranks of chunk r - s - 1; after
  // n - 1 steps it holds the full sum of chunk r + 1.
  for (int step = 0; step < size_ - 1; ++step) {
    const int send = chunk(rank_ - step);
    const int receive = chunk(rank_ - step - 1);
    const size_t send_begin = chunk_begin(count, send);
    const size_t receive_begin = chunk_begin(count, receive);
    const size_t receive_size = chunk_begin(count, receive + 1) - receive_begin;
    exchange(data + send_begin, chunk_begin(count, send + 1) - send_begin, right, scratch_.data(),
             receive_size, left, kReduceScatterTag);
    float* target = data + receive_begin;
    const float* incoming = scratch_.data();
    for (size_t i = 0; i < receive_size; ++i)
      target[i] += incoming[i];
  }
  // Allgather: pass the finished chunks around the ring.
  for (int step = 0; step < size_ - 1; ++step) {
    const int send = chunk(rank_ + 1 - step);
    const int receive = chunk(rank_ - step);
    const size_t send_begin = chunk_begin(count, send);
    const size_t receive_begin = chunk_begin(count, receive);
    exchange(data + send_begin, chunk_begin(count, send + 1) - send_begin, right,
             data + receive_begin, chunk_begin(count, receive + 1) - receive_begin, left,
             kAllgatherTag);
  }
}

}  // namespace dptrain
