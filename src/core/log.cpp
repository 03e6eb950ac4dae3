#include "dptrain/core/log.hpp"

#include <cstdarg>
#include <cstdio>

namespace dptrain {
namespace {

bool printer = true;

}  // namespace

void set_printer(bool prints) {
  printer = prints;
}
bool is_printer() {
  return printer;
}

void printf0(const char* format, ...) {
  if (!printer) return;
  va_list arguments;
  va_start(arguments, format);
  std::vprintf(format, arguments);
  va_end(arguments);
  std::fflush(stdout);
}

void warn0(const char* format, ...) {
  if (!printer) return;
  std::fputs("dptrain: warning: ", stderr);
  va_list arguments;
  va_start(arguments, format);
  std::vfprintf(stderr, format, arguments);
  va_end(arguments);
  std::fputc('\n', stderr);
}

}  // namespace dptrain
