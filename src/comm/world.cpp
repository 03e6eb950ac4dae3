#include "dptrain/comm/world.hpp"

#include <vector>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"
#include "dptrain/core/error.hpp"

namespace dptrain {

MpiSession::MpiSession(int& argc, char**& argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  // Serialized: the ring allreduce may progress from a thread of its own, making every MPI call
  // of its under one lock (RingAllreduce::progress_in_background).
  int provided = MPI_THREAD_SINGLE;
  if (!initialized) MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  watchdog::configure(MPI_COMM_WORLD);
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

World::World(MPI_Comm comm) : comm_(comm) {
  mpiCheck(MPI_Comm_rank(comm_, &rank_));
  mpiCheck(MPI_Comm_size(comm_, &size_));
  MPI_Comm node;
  mpiCheck(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node));
  mpiCheck(MPI_Comm_rank(node, &local_rank_));
  mpiCheck(MPI_Comm_size(node, &local_size_));
  mpiCheck(MPI_Comm_free(&node));
}

void World::sum(std::span<double> values) const {
  if (values.empty()) return;
  MPI_Request request;
  mpiCheck(MPI_Iallreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE,
                          MPI_SUM, comm_, &request));
  watchdog::wait(request, "a sum over the ranks (metrics)");
}

uint64_t World::min(uint64_t value) const {
  MPI_Request request;
  mpiCheck(MPI_Iallreduce(MPI_IN_PLACE, &value, 1, MPI_UINT64_T, MPI_MIN, comm_, &request));
  watchdog::wait(request, "a minimum over the ranks");
  return value;
}

uint64_t World::max(uint64_t value) const {
  MPI_Request request;
  mpiCheck(MPI_Iallreduce(MPI_IN_PLACE, &value, 1, MPI_UINT64_T, MPI_MAX, comm_, &request));
  watchdog::wait(request, "a maximum over the ranks");
  return value;
}

std::vector<uint64_t> World::all_gather(uint64_t value) const {
  std::vector<uint64_t> values(static_cast<size_t>(size_));
  MPI_Request request;
  mpiCheck(
      MPI_Iallgather(&value, 1, MPI_UINT64_T, values.data(), 1, MPI_UINT64_T, comm_, &request));
  watchdog::wait(request, "a gather from every rank");
  return values;
}

void World::barrier() const {
  MPI_Request request;
  mpiCheck(MPI_Ibarrier(comm_, &request));
  watchdog::wait(request, "a barrier");
}

void World::broadcast_bytes(void* data, size_t bytes, int root) const {
  MPI_Request request;
  mpiCheck(MPI_Ibcast(data, static_cast<int>(bytes), MPI_BYTE, root, comm_, &request));
  watchdog::wait(request, "a broadcast from one rank");
}

void World::agree(std::exception_ptr local_error) const {
  std::string message;
  int status = kExitOk;
  if (local_error) {
    try {
      std::rethrow_exception(local_error);
    } catch (const std::exception& error) {
      message = error.what();
      status = exit_status_of(error);
    } catch (...) {
      message = "unknown error";
      status = kExitFailure;
    }
  }
  std::vector<int> statuses(static_cast<size_t>(size_));
  MPI_Request request;
  mpiCheck(MPI_Iallgather(&status, 1, MPI_INT, statuses.data(), 1, MPI_INT, comm_, &request));
  watchdog::wait(request, "the agreement on set-up errors");

  int first = -1;
  std::string failing;
  int failures = 0;
  for (int r = 0; r < size_; ++r) {
    if (statuses[static_cast<size_t>(r)] == kExitOk) continue;
    if (first < 0) first = r;
    if (failures++ > 0) failing += ',';
    failing += std::to_string(r);
  }
  if (first < 0) return;

  int length = static_cast<int>(message.size());
  broadcast_bytes(&length, sizeof length, first);
  message.resize(static_cast<size_t>(length));
  broadcast_bytes(message.data(), message.size(), first);
  if (failures < size_) {
    std::string prefix(failures == 1 ? "rank " : "ranks ");
    prefix.append(failing).append(": ");
    message.insert(0, prefix);
  }
  throw AgreedError(message, statuses[static_cast<size_t>(first)]);
}

}  // namespace dptrain
