#include "dptrain/core/error.hpp"

namespace dptrain {

int exit_status_of(const std::exception& error) {
  if (const auto* agreed = dynamic_cast<const AgreedError*>(&error)) return agreed->exit_status();
  if (dynamic_cast<const InputError*>(&error) != nullptr) return kExitBadInput;
  return kExitFailure;
}

void throw_library_error(const std::string& what, const char* file, int line) {
  throw std::runtime_error(what + " (" + file + ":" + std::to_string(line) + ")");
}

}  // namespace dptrain
