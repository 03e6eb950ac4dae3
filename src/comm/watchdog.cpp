#include "dptrain/comm/watchdog.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/core/error.hpp"

namespace dptrain::watchdog {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kStallTag = 7301;
// How long the ranks still alive wait for each other's stall reports.
constexpr double kReportGraceSeconds = 5.0;

struct State {
  MPI_Comm reports = MPI_COMM_NULL;  // a duplicate of the world, for stall reports only
  int rank = 0;
  int size = 1;
  double timeout_seconds = 300.0;
  int64_t waits = 0;  // waits begun on this rank: the same count on every rank in step
};

State& state() {
  static State instance;
  return instance;
}

struct StallReport {
  int64_t wait_number;
  char what[56];
};

Clock::time_point deadline() {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(state().timeout_seconds));
}

// Polls `done` until it reports completion or the deadline passes.
template <class Done>
void poll(Done&& done, const char* what) {
  State& s = state();
  ++s.waits;
  if (done()) return;
  const Clock::time_point limit = deadline();
  for (uint32_t spins = 1;; ++spins) {
    if (done()) return;
    if ((spins & 63) == 0 && Clock::now() > limit) stalled(what);
  }
}

}  // namespace

void configure(MPI_Comm world) {
  State& s = state();
  mpiCheck(MPI_Comm_dup(world, &s.reports));
  mpiCheck(MPI_Comm_set_errhandler(s.reports, MPI_ERRORS_RETURN));
  mpiCheck(MPI_Comm_rank(world, &s.rank));
  mpiCheck(MPI_Comm_size(world, &s.size));
}

void set_timeout(double seconds) {
  state().timeout_seconds = seconds;
}
double timeout() {
  return state().timeout_seconds;
}

void wait_all(std::span<MPI_Request> requests, const char* what) {
  poll(
      [&] {
        int flag = 0;
        mpiCheck(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &flag,
                             MPI_STATUSES_IGNORE));
        return flag != 0;
      },
      what);
}

void wait(MPI_Request& request, const char* what) {
  wait_all({&request, 1}, what);
}

int wait_any(std::span<MPI_Request> requests, const char* what) {
  int index = MPI_UNDEFINED;
  poll(
      [&] {
        int flag = 0;
        mpiCheck(MPI_Testany(static_cast<int>(requests.size()), requests.data(), &index, &flag,
                             MPI_STATUS_IGNORE));
        return flag != 0;
      },
      what);
  return index;
}

void stalled(const char* what) {
  State& s = state();
  const std::string waited = std::to_string(static_cast<long>(s.timeout_seconds));
  if (s.reports == MPI_COMM_NULL) {
    std::fprintf(stderr, "dptrain: error: rank %d: %s waited %s s for other ranks\n", s.rank, what,
                 waited.c_str());
    MPI_Abort(MPI_COMM_WORLD, kExitFailure);
  }
  StallReport mine{};
  mine.wait_number = s.waits;
  std::strncpy(mine.what, what, sizeof mine.what - 1);
  std::vector<MPI_Request> sends;
  for (int r = 0; r < s.size; ++r) {
    if (r == s.rank) continue;
    sends.emplace_back();
    MPI_Isend(&mine, sizeof mine, MPI_BYTE, r, kStallTag, s.reports, &sends.back());
  }
  // Collect the others' reports for a while: the stalled ranks send none.
  std::vector<bool> reported(static_cast<size_t>(s.size), false);
  std::vector<StallReport> reports(static_cast<size_t>(s.size));
  reported[static_cast<size_t>(s.rank)] = true;
  reports[static_cast<size_t>(s.rank)] = mine;
  int heard = 1;
  const Clock::time_point limit =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(kReportGraceSeconds));
  while (heard < s.size && Clock::now() < limit) {
    int flag = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, kStallTag, s.reports, &flag, &status);
    if (!flag) continue;
    StallReport report{};
    MPI_Recv(&report, sizeof report, MPI_BYTE, status.MPI_SOURCE, kStallTag, s.reports,
             MPI_STATUS_IGNORE);
    if (!reported[static_cast<size_t>(status.MPI_SOURCE)]) ++heard;
    reported[static_cast<size_t>(status.MPI_SOURCE)] = true;
    reports[static_cast<size_t>(status.MPI_SOURCE)] = report;
  }
  int lowest_alive = s.rank;
  std::string missing;
  std::string elsewhere;
  for (int r = 0; r < s.size; ++r) {
    const size_t i = static_cast<size_t>(r);
    if (!reported[i]) {
      missing += (missing.empty() ? "" : ",") + std::to_string(r);
      continue;
    }
    lowest_alive = std::min(lowest_alive, r);
    if (std::strcmp(reports[i].what, mine.what) != 0)  // a different collective: a mismatch
      elsewhere += "; rank " + std::to_string(r) + " waits in " + reports[i].what + " (wait #" +
                   std::to_string(reports[i].wait_number) + ")";
  }
  if (s.rank == lowest_alive) {
    std::fprintf(stderr,
                 "dptrain: error: rank %d: %s (wait #%lld) waited %s s (--collective-timeout); "
                 "%s%s%s\n",
                 s.rank, what, static_cast<long long>(mine.wait_number), waited.c_str(),
                 missing.empty() ? "every rank reported" : "ranks that did not arrive: ",
                 missing.c_str(), elsewhere.c_str());
    std::fflush(stderr);
  } else {
    std::this_thread::sleep_for(std::chrono::seconds(2));  // the lowest rank alive speaks first
  }
  MPI_Abort(MPI_COMM_WORLD, kExitFailure);
  std::abort();
}

}  // namespace dptrain::watchdog
