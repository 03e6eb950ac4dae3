#pragma once

namespace dptrain {

// The rank whose output printf0 lets through is rank 0; set_log_rank tells this process its rank.
void set_log_rank(int rank);
bool is_log_rank();

// printf on rank 0 only, flushed at once (mpirun forwards output as it comes).
[[gnu::format(printf, 1, 2)]] void printf0(const char* format, ...);

// "dptrain: warning: ..." on stderr, rank 0 only.
[[gnu::format(printf, 1, 2)]] void warn0(const char* format, ...);

}  // namespace dptrain
