#include "dptrain/backend/device_choice.hpp"

#include "dptrain/core/error.hpp"

namespace dptrain {

DeviceChoice choose_device(DeviceRequest request, bool cuda_built, const VisibleDevices& visible,
                           int local_rank, int local_size) {
  if (request == DeviceRequest::cpu) return {false, -1, "cpu, as asked (--device cpu)"};
  if (!cuda_built) {
    if (request == DeviceRequest::cuda)
      throw InputError(
          "--device cuda: this dptrain was built without the CUDA backend "
          "(configure with -DDPTRAIN_CUDA=ON)");
    return {false, -1, "cpu: this dptrain was built without the CUDA backend"};
  }
  if (visible.count == 0) {
    const std::string why =
        visible.error.empty() ? "no CUDA device is visible" : "no CUDA device: " + visible.error;
    if (request == DeviceRequest::cuda) throw InputError("--device cuda: " + why);
    return {false, -1, "cpu: " + why};
  }
  if (local_size > visible.count)
    throw InputError(std::to_string(local_size) + " ranks on this node but " +
                     std::to_string(visible.count) +
                     " visible CUDA devices: every rank needs a GPU of its own (start at most " +
                     std::to_string(visible.count) + " ranks per node, or use --device cpu)");
  return {true, local_rank,
          "cuda device " + std::to_string(local_rank) + " of " + std::to_string(visible.count) +
              " visible (local rank " + std::to_string(local_rank) + ")"};
}

}  // namespace dptrain
