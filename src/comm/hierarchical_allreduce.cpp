#include "dptrain/comm/hierarchical_allreduce.hpp"

#include <climits>
#include <stdexcept>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"

namespace dptrain {
namespace {

constexpr int kShareTag = 7111;

}  // namespace

HierarchicalAllreduce::HierarchicalAllreduce(MPI_Comm comm, const std::vector<int>& host_of_rank,
                                             WireFormat float_sums) {
  int rank = 0;
  mpiCheck(MPI_Comm_rank(comm, &rank));
  const int host = host_of_rank.at(static_cast<size_t>(rank));
  mpiCheck(MPI_Comm_split(comm, host, rank, &host_));
  mpiCheck(MPI_Comm_rank(host_, &host_rank_));
  mpiCheck(MPI_Comm_size(host_, &host_size_));
  mpiCheck(MPI_Comm_split(comm, host_rank_ == 0 ? 0 : MPI_UNDEFINED, rank, &leaders_));
  within_ = std::make_unique<RingAllreduce>(host_);
  if (leaders_ != MPI_COMM_NULL) across_ = std::make_unique<RingAllreduce>(leaders_, float_sums);
  requests_.reserve(static_cast<size_t>(host_size_));
}

HierarchicalAllreduce::~HierarchicalAllreduce() {
  within_.reset();
  across_.reset();
  if (leaders_ != MPI_COMM_NULL) MPI_Comm_free(&leaders_);
  if (host_ != MPI_COMM_NULL) MPI_Comm_free(&host_);
}

void HierarchicalAllreduce::reserve(size_t bytes) {
  within_->reserve(bytes);
  if (across_) across_->reserve(bytes);
}

template <class Combine>
void HierarchicalAllreduce::reduce(void* data, size_t bytes, Combine&& combine) {
  combine(*within_);
  if (across_) combine(*across_);
  share_within_host(data, bytes);
}

void HierarchicalAllreduce::sum(SumBuffer buffer) {
  reduce(buffer.data, buffer.count * buffer.element_bytes(),
         [&](RingAllreduce& ring) { ring.sum(buffer); });
}

void HierarchicalAllreduce::max(float* data, size_t count) {
  reduce(data, count * sizeof(float), [&](RingAllreduce& ring) { ring.max(data, count); });
}

void HierarchicalAllreduce::share_within_host(void* data, size_t bytes) {
  if (host_size_ == 1 || bytes == 0) return;
  if (bytes > static_cast<size_t>(INT_MAX))
    throw std::length_error("hierarchical allreduce: buffer exceeds INT_MAX bytes");
  const int count = static_cast<int>(bytes);
  requests_.clear();
  if (host_rank_ == 0) {
    for (int r = 1; r < host_size_; ++r) {
      requests_.emplace_back();
      mpiCheck(MPI_Isend(data, count, MPI_BYTE, r, kShareTag, host_, &requests_.back()));
    }
  } else {
    requests_.emplace_back();
    mpiCheck(MPI_Irecv(data, count, MPI_BYTE, 0, kShareTag, host_, &requests_.back()));
  }
  watchdog::wait_all(requests_, "the hierarchical allreduce's share within a host");
}

}  // namespace dptrain
