#pragma once

// What every harness shares: a finding is an abort, with one line saying what was violated, so
// that libFuzzer (and the replay main) report it and keep the input.

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "dptrain/core/error.hpp"

namespace dptrain::fuzz {

// A violated invariant: prints it and aborts.
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "fuzz: invariant violated: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

inline void require(bool ok, const char* what) {
  if (!ok) fail(what);
}

// DPTRAIN_FUZZ_VERBOSE=1: say what became of each input (to check that seeds get far).
inline bool verbose() {
  static const bool on = std::getenv("DPTRAIN_FUZZ_VERBOSE") != nullptr;
  return on;
}

// Runs `body`: success and InputError (bad user input, reported as such) are fine; any other
// exception escaping it is a finding. Returns whether the body succeeded.
template <class Body>
bool accepts_input_errors(Body&& body) {
  try {
    body();
    if (verbose()) std::fprintf(stderr, "fuzz: accepted\n");
    return true;
  } catch (const InputError& error) {
    if (verbose()) std::fprintf(stderr, "fuzz: InputError: %s\n", error.what());
    return false;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "fuzz: not an InputError: %s\n", error.what());
    fail("only InputError may escape");
  }
}

}  // namespace dptrain::fuzz
