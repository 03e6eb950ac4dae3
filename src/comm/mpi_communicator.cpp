#include "dptrain/comm/mpi_communicator.hpp"

#include <algorithm>
#include <climits>
#include <stdexcept>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"

namespace dptrain {
namespace {

// MPI counts are int; larger buffers go in pieces.
constexpr size_t kMaxCount = static_cast<size_t>(INT_MAX);

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm, MpiExchangeOptions options)
    : comm_(comm), codec_(options.float_sums), ring_(comm, options.float_sums) {
  mpiCheck(MPI_Comm_rank(comm_, &rank_));
  mpiCheck(MPI_Comm_size(comm_, &size_));
  if (!options.hierarchical_hosts.empty()) {
    hosts_ = static_cast<size_t>(*std::max_element(options.hierarchical_hosts.begin(),
                                                   options.hierarchical_hosts.end())) +
             1;
    hierarchical_ = std::make_unique<HierarchicalAllreduce>(comm, options.hierarchical_hosts,
                                                            options.float_sums);
  } else if (options.progress_thread) {
    progress_thread_ = ring_.progress_in_background();
  }
}

std::string MpiCommunicator::name() const {
  std::string name = hierarchical_ ? "mpi hierarchical allreduce (" + std::to_string(hosts_) +
                                         " host(s): rings within, a ring of leaders across)"
                                   : std::string("mpi ring allreduce");
  if (codec_.format() != WireFormat::fp32)
    name += std::string(", sent as ") + wire_format_name(codec_.format());
  if (progress_thread_) name += ", progressed by a thread";
  return name;
}

void MpiCommunicator::allreduce(SumBuffer buffer) {
  if (hierarchical_)
    hierarchical_->sum(buffer);
  else
    ring_.sum(buffer);
}

void MpiCommunicator::start_allreduce(SumBuffer buffer) {
  if (hierarchical_)
    hierarchical_->sum(buffer);
  else
    ring_.start(buffer);
}

void MpiCommunicator::reserve(size_t bytes, size_t queued) {
  if (hierarchical_)
    hierarchical_->reserve(bytes);
  else
    ring_.reserve(bytes, queued);
}

void MpiCommunicator::allreduce_max(float* data, size_t count) {
  if (hierarchical_)
    hierarchical_->max(data, count);
  else
    ring_.max(data, count);
}

void MpiCommunicator::reduce_scatter(SumBuffer buffer) {
  if (hierarchical_) throw std::invalid_argument("--shard-optimizer needs --allreduce ring");
  ring_.reduce_scatter(buffer);
}

void MpiCommunicator::allgather(float* data, size_t count) {
  if (hierarchical_) throw std::invalid_argument("--shard-optimizer needs --allreduce ring");
  ring_.allgather(data, count);
}

std::optional<uint64_t> MpiCommunicator::bytes_sent() const {
  if (hierarchical_) return std::nullopt;
  return ring_.bytes_sent();
}

size_t MpiCommunicator::wire_bytes(SumType type, size_t count) const {
  return type == SumType::f32 ? codec_.message_bytes(count) : count * sizeof(int64_t);
}

void MpiCommunicator::broadcast(float* data, size_t count, int root) {
  if (size_ == 1) return;
  for (size_t done = 0; done < count; done += kMaxCount) {
    const int piece = static_cast<int>(std::min(kMaxCount, count - done));
    MPI_Request request;
    mpiCheck(MPI_Ibcast(data + done, piece, MPI_FLOAT, root, comm_, &request));
    watchdog::wait(request, "the broadcast of the initial parameters");
  }
}

}  // namespace dptrain
