#pragma once

#include <mpi.h>

#include <cstddef>
#include <vector>

namespace dptrain {

// Sum-allreduce of floats on host memory: a ring reduce-scatter followed by a ring allgather over
// MPI point-to-point messages (Patarasuk & Yuan 2009; the algorithm of gloo and NCCL). Each rank
// sends and receives 2(n-1)/n of the buffer, the bandwidth optimum. It waits under the
// collective watchdog, so a rank that never sends is named instead of hanging the others.
//
// Why not MPI_Allreduce: Open MPI 4.1 allocates memory on every call of MPI_Allreduce,
// MPI_Iallreduce and the persistent MPIX_Allreduce_init (1, 10 and 2 allocations per call,
// measured with a counting malloc on the 50,890 floats of the reference model), and the MPI
// standard only advises, without requiring, that all ranks get bitwise the same result. Here the
// scratch buffer is allocated on first use, and every element is summed once, on one rank, in
// ring order, then copied to the others, so replicas that apply the result stay bitwise equal.
class RingAllreduce {
 public:
  explicit RingAllreduce(MPI_Comm comm);
  void sum(float* data, size_t count);
  // Allocates the scratch for counts up to `count` now, so that no later sum allocates.
  void reserve(size_t count);

 private:
  // Elements [begin, end) of chunk c when `count` elements are split among the ranks.
  size_t chunk_begin(size_t count, int chunk) const;
  // Sends to one neighbour while receiving from the other, under the collective watchdog.
  void exchange(const float* send, size_t send_count, int to, float* receive, size_t receive_count,
                int from, int tag);

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  std::vector<float> scratch_;
  MPI_Request requests_[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
};

}  // namespace dptrain
