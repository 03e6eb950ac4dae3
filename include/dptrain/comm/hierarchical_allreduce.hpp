#pragma once

#include <mpi.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "dptrain/comm/communicator.hpp"
#include "dptrain/comm/ring_allreduce.hpp"
#include "dptrain/comm/wire_format.hpp"

namespace dptrain {

// Allreduce for ranks on several hosts (--allreduce hierarchical; Horovod's hierarchical
// allreduce): the ranks of a host sum among themselves (a RingAllreduce over shared memory),
// the first rank of each host, its leader, sums the hosts' sums with the other leaders (a
// RingAllreduce of one rank per host: one message stream between neighbouring hosts, carrying
// 2(H-1)/H of the buffer for H hosts where the flat ring of n ranks carries 2(n-1)/n over every
// link between hosts), and each leader sends the result to the other ranks of its host. Only
// the leaders' ring narrows float sums (WireFormat): the network is where bytes cost.
//
// Every rank gets the bits of the leaders' ring, so results are identical on every rank. They
// are not the flat ring's bits, since sums associate by host: float results then depend on how
// ranks are placed on hosts (--exact's integer sums are the same bits in any case).
class HierarchicalAllreduce {
 public:
  // host_of_rank: a host number for every rank of comm (HostLayout::host_indices()). Collective.
  HierarchicalAllreduce(MPI_Comm comm, const std::vector<int>& host_of_rank,
                        WireFormat float_sums = WireFormat::fp32);
  ~HierarchicalAllreduce();
  HierarchicalAllreduce(const HierarchicalAllreduce&) = delete;
  HierarchicalAllreduce& operator=(const HierarchicalAllreduce&) = delete;

  void sum(SumBuffer buffer);
  void max(float* data, size_t count);
  // So that no later call allocates.
  void reserve(size_t bytes);

 private:
  // Runs `combine` (sum or max) within the host, then across the leaders, then shares.
  template <class Combine>
  void reduce(void* data, size_t bytes, Combine&& combine);
  // The leader's data to every other rank of its host.
  void share_within_host(void* data, size_t bytes);

  MPI_Comm host_ = MPI_COMM_NULL;     // the ranks of this host
  MPI_Comm leaders_ = MPI_COMM_NULL;  // one rank per host; null on the others
  int host_rank_ = 0;
  int host_size_ = 1;
  std::unique_ptr<RingAllreduce> within_;
  std::unique_ptr<RingAllreduce> across_;
  std::vector<MPI_Request> requests_;
};

}  // namespace dptrain
