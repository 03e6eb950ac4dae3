#pragma once

#include <stdexcept>
#include <string>

namespace dptrain {

// Exit statuses of the dptrain binary (documented in the README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;
// Stopped by SIGTERM or SIGUSR1 after writing a checkpoint: resume with --resume.
inline constexpr int kExitStopped = 3;

// Something the user can fix: a bad option, a missing or malformed file, impossible settings.
// The binary exits with kExitBadInput.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An error that every rank already knows about, with the same message and exit status: the
// result of World::agree(). Whoever catches it may exit normally; no rank is left in a collective.
class AgreedError : public std::runtime_error {
 public:
  AgreedError(const std::string& message, int exit_status)
      : std::runtime_error(message), exit_status_(exit_status) {}
  int exit_status() const { return exit_status_; }

 private:
  int exit_status_;
};

// The exit status an exception stands for: 2 for input errors, 1 for anything else.
int exit_status_of(const std::exception& error);

// Throws std::runtime_error("<what> (<file>:<line>)"); used by the per-library check macros.
[[noreturn]] void throw_library_error(const std::string& what, const char* file, int line);

}  // namespace dptrain
