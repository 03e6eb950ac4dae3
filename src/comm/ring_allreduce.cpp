#include "dptrain/comm/ring_allreduce.hpp"

#include <climits>
#include <stdexcept>

#include "dptrain/comm/mpi_check.hpp"

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

size_t RingAllreduce::chunk_begin(size_t count, int chunk) const {
  return count * static_cast<size_t>(chunk) / static_cast<size_t>(size_);
}

void RingAllreduce::sum(float* data, size_t count) {
  if (size_ == 1 || count == 0) return;
  const size_t largest_chunk =
      (count + static_cast<size_t>(size_) - 1) / static_cast<size_t>(size_);
  if (scratch_.size() < largest_chunk) scratch_.resize(largest_chunk);
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
    mpiCheck(MPI_Sendrecv(data + send_begin, as_count(chunk_begin(count, send + 1) - send_begin),
                          MPI_FLOAT, right, kReduceScatterTag, scratch_.data(),
                          as_count(receive_size), MPI_FLOAT, left, kReduceScatterTag, comm_,
                          MPI_STATUS_IGNORE));
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
    mpiCheck(MPI_Sendrecv(data + send_begin, as_count(chunk_begin(count, send + 1) - send_begin),
                          MPI_FLOAT, right, kAllgatherTag, data + receive_begin,
                          as_count(chunk_begin(count, receive + 1) - receive_begin), MPI_FLOAT,
                          left, kAllgatherTag, comm_, MPI_STATUS_IGNORE));
  }
}

}  // namespace dptrain
