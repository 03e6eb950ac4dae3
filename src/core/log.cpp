#include "dptrain/core/log.hpp"

#include <cstdarg>
#include <cstdio>

namespace dptrain {
namespace {

int log_rank = 0;

}  // namespace

void set_log_rank(int rank) {
  log_rank = rank;
}
bool is_log_rank() {
  return log_rank == 0;
}

void printf0(const char* format, ...) {
  if (log_rank != 0) return;
  va_list arguments;
  va_start(arguments, format);
  std::vprintf(format, arguments);
  va_end(arguments);
  std::fflush(stdout);
}

void warn0(const char* format, ...) {
  if (log_rank != 0) return;
  std::fputs("dptrain: warning: ", stderr);
  va_list arguments;
  va_start(arguments, format);
  std::vfprintf(stderr, format, arguments);
  va_end(arguments);
  std::fputc('\n', stderr);
}

}  // namespace dptrain
