#pragma once

// The CUDA backend's DeviceTimer, behind a plain C++ declaration like cuda_api.hpp. Defined only
// when dptrain is built with the CUDA backend (DPTRAIN_HAVE_CUDA).

#include <memory>

#include "dptrain/backend/backend.hpp"
#include "dptrain/core/device_timer.hpp"

namespace dptrain::cuda {

// Times the spans on `backend`'s compute stream with CUDA events, created once, and names them
// for Nsight Systems with NVTX ranges. `backend` must be one of make_backend's and outlive it.
std::unique_ptr<trace::DeviceTimer> make_stream_timer(Backend& backend);

}  // namespace dptrain::cuda
