#include "dptrain/train/parameter_update.hpp"

#include <limits>
#include <vector>

namespace dptrain {

AllreduceUpdate::AllreduceUpdate(Communicator& communicator, Backend& backend, size_t parameters,
                                 const AdamOptions& options)
    : communicator_(communicator), backend_(backend), adam_(backend, parameters, options) {}

void AllreduceUpdate::initialize(float* params, const Mlp& model, uint64_t seed) {
  // Only rank 0 initialises; the others start from NaN, so a replica that missed the broadcast
  // could not go unnoticed.
  std::vector<float> initial(model.layout().total(), std::numeric_limits<float>::quiet_NaN());
  if (communicator_.rank() == 0) model.initialize(initial, seed);
  backend_.copy_to_device(params, initial.data(), initial.size() * sizeof(float));
  communicator_.broadcast(params, initial.size(), 0);
}

void AllreduceUpdate::apply(float* params, float* grads) {
  communicator_.allreduce_sum(grads, adam_.first_moment().size());
  adam_.step(params, grads);
}

}  // namespace dptrain
