#include "dptrain/core/fault_injection.hpp"

#include <cstdlib>
#include <sstream>
#include <string>

#include "dptrain/core/error.hpp"

namespace dptrain {

Fault fault_from_environment() {
  const char* text = std::getenv("DPTRAIN_FAULT");
  if (text == nullptr || *text == '\0') return {};
  std::istringstream stream(text);
  std::string kind, rank, step;
  std::getline(stream, kind, ':');
  std::getline(stream, rank, ':');
  std::getline(stream, step);
  Fault fault;
  if (kind == "nonfinite-gradient") fault.kind = Fault::Kind::nonfinite_gradient;
  if (kind == "diverge") fault.kind = Fault::Kind::diverge;
  try {
    fault.rank = std::stoi(rank);
    fault.step = std::stoll(step);
  } catch (const std::exception&) {
    fault.kind = Fault::Kind::none;
  }
  if (fault.kind == Fault::Kind::none)
    throw InputError(std::string("DPTRAIN_FAULT='") + text +
                     "' is not KIND:RANK:STEP with KIND nonfinite-gradient or diverge");
  return fault;
}

}  // namespace dptrain
