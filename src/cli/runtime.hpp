#pragma once

#include <memory>
#include <string>

#include "dptrain/backend/backend.hpp"
#include "dptrain/comm/communicator.hpp"
#include "dptrain/comm/world.hpp"
#include "dptrain/core/trace.hpp"
#include "dptrain/train/config.hpp"

namespace dptrain::cli {

// What a replica computes and communicates with: the CPU backend with the MPI communicator, or a
// CUDA backend with NCCL. Parameter servers get neither (they hold their own CPU state), and
// parameter-server workers need no communicator.
struct Runtime {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Communicator> communicator;
  std::string device;  // one line: what was chosen, and why
  // What this rank computes on, for the per-host placement lines: a CUDA device's index, or the
  // CPU's BLAS threads; a parameter server neither.
  enum class Kind { cpu, cuda, server } kind = Kind::server;
  int units = 0;  // BLAS threads or the device index
  // On CUDA, the spans' timer on the backend's stream; last, so that it goes before the backend.
  std::unique_ptr<trace::InstalledDeviceTimer> device_timer;
};

// Collective over `everyone`. Chooses the device of every replica (choose_device, by the rank's
// index among the replicas of its node), checks that all replicas chose the same kind, and
// builds the backend and, in allreduce mode, the communicator; errors are agreed among all ranks.
Runtime make_runtime(const TrainConfig& config, const World& everyone, const World& replicas,
                     bool is_server);

// What the CUDA runtime sees here, or why it sees nothing; never throws.
VisibleDevices probe_cuda_devices();

inline constexpr bool kCudaBuilt =
#if defined(DPTRAIN_HAVE_CUDA)
    true;
#else
    false;
#endif

}  // namespace dptrain::cli
