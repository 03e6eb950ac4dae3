#pragma once

#include <mpi.h>

#include "dptrain/comm/communicator.hpp"
#include "dptrain/comm/ring_allreduce.hpp"

namespace dptrain {

// Collectives with MPI on host memory: sums and maxima are a RingAllreduce over MPI
// point-to-point (see there why), the broadcast MPI_Bcast.
class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm);

  std::string name() const override { return "mpi ring allreduce"; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce(SumBuffer buffer) override { ring_.sum(buffer); }
  void start_allreduce(SumBuffer buffer) override { ring_.start(buffer); }
  void progress() override { ring_.progress(); }
  void wait_started() override { ring_.wait(); }
  void reserve(size_t bytes, size_t queued) override { ring_.reserve(bytes, queued); }
  void allreduce_max(float* data, size_t count) override { ring_.max(data, count); }
  void broadcast(float* data, size_t count, int root) override;

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  RingAllreduce ring_;
};

}  // namespace dptrain
