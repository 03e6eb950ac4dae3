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

MpiCommunicator::MpiCommunicator(MPI_Comm comm) : comm_(comm), ring_(comm) {
  mpiCheck(MPI_Comm_rank(comm_, &rank_));
  mpiCheck(MPI_Comm_size(comm_, &size_));
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
