#pragma once

#include <cstddef>
#include <string>

namespace dptrain {

// The collectives of the data plane, on the backend's memory: MPI for the CPU backend, NCCL for
// CUDA. Every rank of the communicator calls each collective in the same order with the same
// count. Results are identical on every rank, so replicas that apply them stay bitwise equal.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual std::string name() const = 0;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // data[i] <- sum over ranks of data[i], in place. Gradients are scaled by 1 / global batch
  // before the exchange, so the sum is the average gradient of the global batch.
  virtual void allreduce_sum(float* data, size_t count) = 0;
  // data <- root's data on every rank.
  virtual void broadcast(float* data, size_t count, int root) = 0;
};

}  // namespace dptrain
