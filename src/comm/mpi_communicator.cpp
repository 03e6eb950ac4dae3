#include "dptrain/comm/mpi_communicator.hpp"

#include <algorithm>
#include <climits>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"

namespace dptrain {
namespace {

// MPI counts are int; larger buffers go in pieces.
constexpr size_t kMaxCount = static_cast<size_t>(INT_MAX);

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm, WireFormat float_sums, bool progress_thread)
    : comm_(comm), codec_(float_sums), ring_(comm, float_sums) {
  if (progress_thread) progress_thread_ = ring_.progress_in_background();
  mpiCheck(MPI_Comm_rank(comm_, &rank_));
  mpiCheck(MPI_Comm_size(comm_, &size_));
}

std::string MpiCommunicator::name() const {
  std::string name = "mpi ring allreduce";
  if (codec_.format() != WireFormat::fp32)
    name += std::string(", sent as ") + wire_format_name(codec_.format());
  if (progress_thread_) name += ", progressed by a thread";
  return name;
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
