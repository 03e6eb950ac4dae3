#pragma once

#include <memory>
#include <string>

#include "dptrain/backend/backend.hpp"
#include "dptrain/comm/communicator.hpp"
#include "dptrain/comm/world.hpp"
#include "dptrain/train/config.hpp"

namespace dptrain::cli {

// What a rank computes and communicates with: the CPU backend with the MPI communicator, or a
// CUDA backend with NCCL.
struct Runtime {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Communicator> communicator;
  std::string device;  // one line: what was chosen, and why
};

// Collective. Chooses every rank's device (choose_device), checks that all ranks chose the same
// kind, and builds the backend and communicator; errors are agreed among the ranks.
Runtime make_runtime(const TrainConfig& config, const World& world);

// What the CUDA runtime sees here, or why it sees nothing; never throws.
VisibleDevices probe_cuda_devices();

inline constexpr bool kCudaBuilt =
#if defined(DPTRAIN_HAVE_CUDA)
    true;
#else
    false;
#endif

}  // namespace dptrain::cli
