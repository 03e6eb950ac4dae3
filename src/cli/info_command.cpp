#include <cblas.h>

#include "commands.hpp"
#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/core/log.hpp"
#include "runtime.hpp"

namespace dptrain::cli {

int run_info(const World& world) {
  char mpi_version[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(mpi_version, &length);
  const std::string mpi(mpi_version, static_cast<size_t>(length));
  const VisibleDevices devices = probe_cuda_devices();
  printf0("dptrain %s\n", DPTRAIN_VERSION);
  printf0("cpu backend: %s, %d cores on this node, %d available to this process\n",
          openblas_get_config(), cores_on_node(), cores_available());
  printf0("mpi: %s, %d rank(s), %d on this node\n", mpi.substr(0, mpi.find_first_of(",\n")).c_str(),
          world.size(), world.local_size());
  printf0("cuda backend: %s\n", kCudaBuilt ? "built" : "not built");
  printf0("cuda devices: %d%s%s\n", devices.count, devices.error.empty() ? "" : " (",
          devices.error.empty() ? "" : (devices.error + ")").c_str());
  return kExitOk;
}

}  // namespace dptrain::cli
