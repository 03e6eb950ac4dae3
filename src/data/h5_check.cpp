#include "dptrain/data/h5_check.hpp"

namespace dptrain::h5 {
namespace {

herr_t keep_innermost(unsigned depth, const H5E_error2_t* error, void* data) {
  if (depth == 0 && error->desc != nullptr) *static_cast<std::string*>(data) = error->desc;
  return 0;
}

}  // namespace

void silence_errors() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

std::string last_error() {
  std::string description;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, &description);
  return description;
}

}  // namespace dptrain::h5
