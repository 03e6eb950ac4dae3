#include "dptrain/model/parameter_layout.hpp"

#include <stdexcept>

#include "dptrain/core/random.hpp"

namespace dptrain {

size_t ParameterLayout::add(std::string name, std::vector<int> shape) {
  size_t size = 1;
  for (int extent : shape) {
    if (extent <= 0) throw std::invalid_argument("tensor " + name + " has an empty dimension");
    size *= static_cast<size_t>(extent);
  }
  tensors_.push_back(TensorSlot{std::move(name), std::move(shape), total_, size});
  total_ += size;
  return tensors_.back().offset;
}

const TensorSlot& ParameterLayout::tensor(const std::string& name) const {
  for (const TensorSlot& slot : tensors_)
    if (slot.name == name) return slot;
  throw std::out_of_range("no tensor named " + name);
}

uint64_t ParameterLayout::fingerprint() const {
  uint64_t hash = random::mix64(tensors_.size());
  for (const TensorSlot& slot : tensors_) {
    for (char c : slot.name)
      hash = random::mix64(hash ^ static_cast<unsigned char>(c));
    hash = random::mix64(hash ^ slot.shape.size());
    for (int extent : slot.shape)
      hash = random::mix64(hash ^ static_cast<uint64_t>(extent));
  }
  return hash;
}

std::string ParameterLayout::describe() const {
  std::string text;
  for (const TensorSlot& slot : tensors_) {
    if (!text.empty()) text += ", ";
    text += slot.name + " [";
    for (size_t i = 0; i < slot.shape.size(); ++i)
      text += (i ? "," : "") + std::to_string(slot.shape[i]);
    text += "] @" + std::to_string(slot.offset);
  }
  return text;
}

}  // namespace dptrain
