#include "dptrain/backend/backend.hpp"

#include <cstdlib>
#include <new>

namespace dptrain {

void* Backend::allocate_pinned_bytes(size_t bytes) {
  constexpr size_t kAlignment = 64;
  void* pointer = std::aligned_alloc(kAlignment, (bytes + kAlignment) / kAlignment * kAlignment);
  if (pointer == nullptr) throw std::bad_alloc();
  return pointer;
}

void Backend::free_pinned_bytes(void* pointer) noexcept {
  std::free(pointer);
}

}  // namespace dptrain
