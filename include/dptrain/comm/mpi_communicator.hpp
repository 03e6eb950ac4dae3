#pragma once

#include <mpi.h>

#include "dptrain/comm/communicator.hpp"
#include "dptrain/comm/ring_allreduce.hpp"

namespace dptrain {

// Collectives with MPI on host memory: sums and maxima are a RingAllreduce over MPI
// point-to-point (see there why), the broadcast MPI_Bcast.
class MpiCommunicator final : public Communicator {
 public:
  // progress_thread: started sums move on in a thread of their own (see RingAllreduce), so that
  // gradient buckets travel over TCP while backward computes.
  explicit MpiCommunicator(MPI_Comm comm, WireFormat float_sums = WireFormat::fp32,
                           bool progress_thread = false);

  std::string name() const override;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce(SumBuffer buffer) override { ring_.sum(buffer); }
  void start_allreduce(SumBuffer buffer) override { ring_.start(buffer); }
  void progress() override { ring_.progress(); }
  void wait_started() override { ring_.wait(); }
  void reserve(size_t bytes, size_t queued) override { ring_.reserve(bytes, queued); }
  void allreduce_max(float* data, size_t count) override { ring_.max(data, count); }
  void broadcast(float* data, size_t count, int root) override;
  size_t wire_bytes(SumType type, size_t count) const override;

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  WireCodec codec_;
  RingAllreduce ring_;
  bool progress_thread_ = false;
};

}  // namespace dptrain
