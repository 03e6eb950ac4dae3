#include "dptrain/core/stop_signal.hpp"

#include <csignal>

namespace dptrain {
namespace {

volatile std::sig_atomic_t received = 0;

extern "C" void record_signal(int signal) {
  received = signal;
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
}

int stop_signal() {
  return received;
}

void clear_stop_signal() {
  received = 0;
}

}  // namespace dptrain
