#pragma once

#include <string>

namespace dptrain {

enum class DeviceRequest { automatic, cpu, cuda };
enum class GemmPrecision { fp32, tf32 };  // cuBLAS math mode; the CPU computes in fp32

// What the CUDA runtime reports on this node: the visible devices (CUDA_VISIBLE_DEVICES applies),
// or why there are none.
struct VisibleDevices {
  int count = 0;
  std::string error;  // e.g. "CUDA driver version is insufficient for CUDA runtime version"
};

struct DeviceChoice {
  bool cuda = false;
  int device = -1;     // CUDA device index when cuda
  std::string reason;  // one line for the log: what was chosen, and why
};

// Picks this rank's device: the CUDA device with the rank's index on its node, so that ranks
// never share a GPU. `auto` takes CUDA when it is built and a device is visible, else the CPU.
// Throws InputError when CUDA is asked for and impossible, or when the node's ranks outnumber
// its visible GPUs (naming both counts). A pure function, tested without a GPU.
DeviceChoice choose_device(DeviceRequest request, bool cuda_built, const VisibleDevices& visible,
                           int local_rank, int local_size);

}  // namespace dptrain
