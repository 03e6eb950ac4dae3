#pragma once

#include <mpi.h>

#include <memory>
#include <optional>
#include <vector>

#include "dptrain/comm/communicator.hpp"
#include "dptrain/comm/hierarchical_allreduce.hpp"
#include "dptrain/comm/ring_allreduce.hpp"
#include "dptrain/comm/wire_format.hpp"

namespace dptrain {

// How the data plane's sums travel on CPUs (README, "Many hosts").
struct MpiExchangeOptions {
  WireFormat float_sums = WireFormat::fp32;  // --exchange-dtype
  // Started sums move on in a thread of their own (RingAllreduce::progress_in_background), so
  // that gradient buckets travel over TCP while backward computes.
  bool progress_thread = false;
  // --allreduce hierarchical: each rank's host (HostLayout::host_indices()); empty: the flat
  // ring over every rank.
  std::vector<int> hierarchical_hosts;
};

// Collectives with MPI on host memory: sums and maxima are a RingAllreduce over MPI
// point-to-point (see there why), or a HierarchicalAllreduce; the broadcast MPI_Bcast.
class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm, MpiExchangeOptions options = {});

  std::string name() const override;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void allreduce(SumBuffer buffer) override;
  // The hierarchical allreduce sums at once (it has no started form yet).
  void start_allreduce(SumBuffer buffer) override;
  void progress() override { ring_.progress(); }
  void wait_started() override { ring_.wait(); }
  void reserve(size_t bytes, size_t queued) override;
  void allreduce_max(float* data, size_t count) override;
  void broadcast(float* data, size_t count, int root) override;
  size_t wire_bytes(SumType type, size_t count) const override;
  // The ring's halves; the hierarchical allreduce has none (std::invalid_argument).
  void reduce_scatter(SumBuffer buffer) override;
  void allgather(float* data, size_t count) override;
  // The flat ring's messages (sums, maxima, halves), not the broadcast's, whose pattern is
  // MPI's own; std::nullopt with the hierarchical allreduce, whose sums are not counted.
  std::optional<uint64_t> bytes_sent() const override;

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  WireCodec codec_;
  RingAllreduce ring_;
  std::unique_ptr<HierarchicalAllreduce> hierarchical_;
  size_t hosts_ = 1;
  bool progress_thread_ = false;
};

}  // namespace dptrain
