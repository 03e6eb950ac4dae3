#pragma once

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dptrain/comm/communicator.hpp"
#include "dptrain/core/trace.hpp"

namespace dptrain {

// Allreduce on host memory: a ring reduce-scatter followed by a ring allgather over MPI
// point-to-point messages (Patarasuk & Yuan 2009; the algorithm of gloo and NCCL). Each rank
// sends and receives 2(n-1)/n of the buffer, the bandwidth optimum. It waits under the
// collective watchdog, so a rank that never sends is named instead of hanging the others.
// It reduces float sums, int64 sums (--exact's fixed-point gradients) and float maxima.
//
// Sums may be started without waiting (start), advanced whenever the caller has a moment
// (progress: it never blocks) and finished together (wait): the bucketed gradient exchange starts
// each bucket while backward still computes. Started sums run one after another, in the order
// started, which every rank must share.
//
// Why not MPI_Allreduce: Open MPI 4.1 allocates memory on every call of MPI_Allreduce,
// MPI_Iallreduce and the persistent MPIX_Allreduce_init (1, 10 and 2 allocations per call,
// measured with a counting malloc on the 50,890 floats of the reference model), and the MPI
// standard only advises, without requiring, that all ranks get bitwise the same result. Here the
// scratch is allocated by reserve(), and every element is reduced once, on one rank, in ring
// order, then copied to the others, so replicas that apply the result stay bitwise equal.
class RingAllreduce {
 public:
  explicit RingAllreduce(MPI_Comm comm);

  // data <- the sum over ranks, now.
  void sum(SumBuffer buffer);
  void sum(float* data, size_t count) { sum(sum_buffer(data, count)); }
  // data <- the element-wise maximum over ranks, now.
  void max(float* data, size_t count);

  // Started sums appear in a --trace as gradient buckets, each from its first message (sums run
  // one after another) to its result.
  void start(SumBuffer buffer);
  // Advances the started sums as far as possible without waiting; true when none is left.
  bool progress();
  // Until every started sum is done.
  void wait();

  // Allocates for reductions of up to `bytes`, up to `queued` of them started at once, so that
  // no later call allocates.
  void reserve(size_t bytes, size_t queued = 1);

 private:
  enum class Reduction { sum_f32, sum_i64, max_f32 };
  struct Job {
    void* data;
    size_t count;
    Reduction reduction;
    trace::Clock::time_point started;  // its first message
    bool traced;
  };
  static size_t element_bytes(Reduction reduction);
  void enqueue(const Job& job);
  // Elements [begin, end) of chunk c when `count` elements are split among the ranks.
  size_t chunk_begin(size_t count, int chunk) const;
  int chunk(int c) const { return (c % size_ + size_) % size_; }
  // Posts the messages of the current step of the oldest started job.
  void post_step();
  // The current step's messages have arrived: reduces what came in, moves to the next step.
  void finish_step();

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  std::vector<uint64_t> scratch_;  // 8-byte words, aligned for every element type
  std::vector<Job> queue_;         // started jobs, oldest at queue_head_
  size_t queue_head_ = 0;
  int step_ = 0;  // of the oldest job: 0..n-2 reduce-scatter, n-1..2n-3 allgather
  bool posted_ = false;
  MPI_Request requests_[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
};

}  // namespace dptrain
