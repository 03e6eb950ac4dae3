#pragma once

#include <cstdint>

namespace dptrain {

// Faults that tests inject into a real run through the environment, to see dptrain handle them:
//   DPTRAIN_FAULT=nonfinite-gradient:RANK:STEP   rank RANK's gradient gets a NaN at step STEP
//   DPTRAIN_FAULT=diverge:RANK:STEP              rank RANK's parameters drift after step STEP
// Steps count from 1 since training began. Unset, nothing happens; malformed, it is an error.
struct Fault {
  enum class Kind { none, nonfinite_gradient, diverge };
  Kind kind = Kind::none;
  int rank = -1;
  int64_t step = -1;

  bool at(Kind k, int this_rank, int64_t this_step) const {
    return kind == k && rank == this_rank && step == this_step;
  }
};

Fault fault_from_environment();

}  // namespace dptrain
