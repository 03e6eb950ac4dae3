#pragma once

namespace dptrain {

// One process prints for the job (llm.c's printf0): rank 0 by default, the first worker in
// parameter-server mode. set_printer tells this process whether it is the one.
void set_printer(bool prints);
bool is_printer();

// printf on the printing process only, flushed at once (mpirun forwards output as it comes).
[[gnu::format(printf, 1, 2)]] void printf0(const char* format, ...);

// "dptrain: warning: ..." on stderr, printing process only.
[[gnu::format(printf, 1, 2)]] void warn0(const char* format, ...);

}  // namespace dptrain
