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

  // The same sum, started now and finished by wait_started(), so that it can run while the
  // caller computes; progress() lets it advance where that takes the caller's help (MPI on host
  // memory progresses only inside MPI calls). Started sums complete in the order started; data
  // must not be touched until wait_started() returns. By default the sum happens at once.
  virtual void start_allreduce_sum(float* data, size_t count) { allreduce_sum(data, count); }
  virtual void progress() {}
  virtual void wait_started() {}
  // Makes room for `queued` started sums of up to `count` elements, so that none allocates.
  virtual void reserve(size_t /*count*/, size_t /*queued*/) {}
  // data <- root's data on every rank.
  virtual void broadcast(float* data, size_t count, int root) = 0;
};

}  // namespace dptrain
