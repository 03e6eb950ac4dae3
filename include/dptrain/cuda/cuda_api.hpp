#pragma once

// The CUDA backend and the NCCL communicator, behind plain C++ declarations so that code built
// without nvcc can use them. Defined only when dptrain is built with the CUDA backend
// (DPTRAIN_HAVE_CUDA); callers check that macro.

#include <memory>

#include "dptrain/backend/backend.hpp"
#include "dptrain/backend/device_choice.hpp"
#include "dptrain/comm/communicator.hpp"
#include "dptrain/comm/world.hpp"

namespace dptrain::cuda {

// The devices the CUDA runtime sees; any runtime error (no driver, no device) means none.
VisibleDevices visible_devices();

// A backend on CUDA device `device`: its own stream, cuBLAS handle and cuBLAS workspace.
std::unique_ptr<Backend> make_backend(int device, GemmPrecision precision);

// Collective over `world`: an NCCL communicator on the backend's device and stream. The
// ncclUniqueId is made on rank 0 and broadcast with MPI; initialisation is non-blocking and
// given up after init_timeout_seconds, so that a rank that never arrives cannot hang the others.
// Failures on any rank become the same AgreedError on every rank.
std::unique_ptr<Communicator> make_nccl_communicator(const World& world, Backend& backend,
                                                     double init_timeout_seconds);

}  // namespace dptrain::cuda
