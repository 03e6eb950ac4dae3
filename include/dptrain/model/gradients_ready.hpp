#pragma once

#include <cstddef>

namespace dptrain {

// What a model's backward pass tells as it goes: backward produces gradients last layer first,
// and layers lie in the flat buffer first layer first, so the final gradients always form a
// suffix [offset, end) of the buffer that grows towards its start. Whoever listens (the bucketed
// gradient exchange) may start sending that suffix while backward computes the rest.
class GradientsReady {
 public:
  virtual ~GradientsReady() = default;
  // Every gradient at [offset, end of the buffer) is final. Offsets only decrease within a step.
  virtual void ready_from(size_t offset) = 0;
};

}  // namespace dptrain
