#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dptrain {

// One tensor's place in the flat parameter buffer (and, at the same offset, in the flat gradient
// and optimizer-state buffers).
struct TensorSlot {
  std::string name;        // e.g. "layer0/weight"
  std::vector<int> shape;  // row-major; weights are [out, in] as in PyTorch and the checkpoints
  size_t offset = 0;       // in elements from the start of the flat buffer
  size_t size = 0;         // product of shape
};

// Where every tensor of a model lives in the flat buffers. Tensors are packed in the order they
// are added, without gaps. The model, the optimizer, the gradient exchange, checkpoints and the
// replica check all read the same layout.
class ParameterLayout {
 public:
  // Appends a tensor and returns its offset.
  size_t add(std::string name, std::vector<int> shape);

  const std::vector<TensorSlot>& tensors() const { return tensors_; }
  const TensorSlot& tensor(const std::string& name) const;
  size_t total() const { return total_; }

  // A hash of the names and shapes, in order: equal on two ranks exactly when the layouts are.
  uint64_t fingerprint() const;
  // "layer0/weight [64,784] @0, layer0/bias [64] @50176, ..."
  std::string describe() const;

 private:
  std::vector<TensorSlot> tensors_;
  size_t total_ = 0;
};

}  // namespace dptrain
