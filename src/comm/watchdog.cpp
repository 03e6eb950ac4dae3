#include "dptrain/comm/watchdog.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/core/backoff.hpp"
#include "dptrain/core/error.hpp"

namespace dptrain::watchdog {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kStallTag = 7301;
// How long the ranks still alive wait for each other's stall reports before the job is aborted.
constexpr double kReportGraceSeconds = 5.0;
// How long the ranks waiting collect each other's reports for a warning: short, so that the line
// comes out before a launcher that lost a host ends the job (about 11 s with the README's
// keepalive settings).
constexpr double kWarningGraceSeconds = 1.0;
// Rounds of reports (one every warning interval, each collecting for kWarningGraceSeconds) in
// which a rank hears from no rank on another host before it takes its own network for lost and
// exits: about 18 s with the default 5 s, within the 30 s a lost host may take to end, and
// longer than a link that comes back within the launcher's keepalive (about 10 s) needs to
// resume.
constexpr int kIsolatedRounds = 3;

struct StallReport {
  int64_t wait_number;
  char what[56];
};

struct State {
  MPI_Comm reports = MPI_COMM_NULL;  // a duplicate of the world, for stall reports only
  int rank = 0;
  int size = 1;
  double timeout_seconds = 300.0;
  double warning_seconds = 5.0;
  int64_t waits = 0;  // waits begun on this rank: the same count on every rank in step
  std::function<std::string(const std::vector<int>&)> name_ranks;
  std::vector<int> host_of;  // per rank; empty: every rank on one host
  // The latest report from each rank and when it came (reports come whenever another rank
  // stalls, also between this rank's own rounds).
  std::vector<StallReport> latest;
  std::vector<Clock::time_point> heard_at;
};

State& state() {
  static State instance;
  return instance;
}

Clock::time_point after(double seconds) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

std::string name_ranks(const std::vector<int>& ranks) {
  const State& s = state();
  if (s.name_ranks) return s.name_ranks(ranks);
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size(); ++i)
    text += (i ? "," : "") + std::to_string(ranks[i]);
  return text;
}

// Reads every stall report that has arrived and remembers it: a report says its rank is alive
// and waiting, whether or not this rank is in a round of its own just then.
void receive_reports() {
  State& s = state();
  for (;;) {
    int flag = 0;
    MPI_Status status;
    MPI_Iprobe(MPI_ANY_SOURCE, kStallTag, s.reports, &flag, &status);
    if (!flag) return;
    StallReport report{};
    MPI_Recv(&report, sizeof report, MPI_BYTE, status.MPI_SOURCE, kStallTag, s.reports,
             MPI_STATUS_IGNORE);
    const size_t from = static_cast<size_t>(status.MPI_SOURCE);
    s.latest[from] = report;
    s.heard_at[from] = Clock::now();
  }
}

// What a round of stall reports found: who was not heard from since the wait began, who waits
// in another collective; the lowest rank heard from speaks.
struct Round {
  std::vector<int> silent;
  std::string elsewhere;  // "; rank r waits in ... (wait #n)"
  bool speaks = false;
  bool isolated = false;  // ranks on other hosts exist, and none was heard from
};

// Tells every other rank that this one waits in `what`, then collects reports for up to `grace`
// seconds, or until `done` (the wait completing). Counts the reports that came since `since`.
template <class Done>
Round report_round(const char* what, double grace, Clock::time_point since, Done&& done) {
  State& s = state();
  StallReport mine{};
  mine.wait_number = s.waits;
  std::strncpy(mine.what, what, sizeof mine.what - 1);
  std::vector<MPI_Request> sends;
  for (int r = 0; r < s.size; ++r) {
    if (r == s.rank) continue;
    sends.emplace_back();
    MPI_Isend(&mine, sizeof mine, MPI_BYTE, r, kStallTag, s.reports, &sends.back());
  }
  const auto heard = [&](int r) {
    return r == s.rank || s.heard_at[static_cast<size_t>(r)] >= since;
  };
  const auto everyone_heard = [&] {
    for (int r = 0; r < s.size; ++r)
      if (!heard(r)) return false;
    return true;
  };
  const Clock::time_point limit = after(grace);
  do {
    receive_reports();
  } while (!everyone_heard() && Clock::now() < limit && !done());
  // Sends to ranks that are gone never complete: they are left to MPI_Abort, or to the end of
  // the job (a few dozen bytes a round).
  for (MPI_Request& request : sends)
    MPI_Request_free(&request);
  Round round;
  int lowest = s.rank;
  bool other_host = false, heard_other_host = false;
  for (int r = 0; r < s.size; ++r) {
    const bool remote = !s.host_of.empty() &&
                        s.host_of[static_cast<size_t>(r)] != s.host_of[static_cast<size_t>(s.rank)];
    other_host = other_host || remote;
    if (!heard(r)) {
      round.silent.push_back(r);
      continue;
    }
    heard_other_host = heard_other_host || remote;
    lowest = std::min(lowest, r);
    const StallReport& report = r == s.rank ? mine : s.latest[static_cast<size_t>(r)];
    if (std::strcmp(report.what, mine.what) != 0)  // a different collective: a mismatch
      round.elsewhere += "; rank " + std::to_string(r) + " waits in " + report.what + " (wait #" +
                         std::to_string(report.wait_number) + ")";
  }
  round.speaks = lowest == s.rank;
  round.isolated = other_host && !heard_other_host;
  return round;
}

// This rank has heard from no other host for kIsolatedRounds rounds: its own network is gone,
// and with it the launcher's reach. It says so locally and exits; MPI_Abort would wait for a
// launcher it cannot reach. The one case it mistakes: every rank of every other host busy
// outside any collective for that long (a lone rank 0 writing a very large checkpoint); a
// larger --stall-warning stretches the rounds, 0 turns the check off.
[[noreturn]] void exit_isolated(const char* what, const Round& round, double seconds) {
  const State& s = state();
  std::fprintf(stderr,
               "dptrain: error: rank %d: %s (wait #%lld): heard from no other host for %.0f s "
               "(not heard from: %s); taking this host's network for lost and exiting\n",
               s.rank, what, static_cast<long long>(s.waits), seconds,
               name_ranks(round.silent).c_str());
  std::fflush(stderr);
  _exit(kExitFailure);
}

// Polls `done` until it reports completion or the deadline passes. After the warning time the
// rank joins a round of reports every warning interval: the first names, in one line from the
// lowest rank waiting, the ranks not heard from; the wait goes on.
template <class Done>
void poll(Done&& done, const char* what) {
  State& s = state();
  ++s.waits;
  if (done()) return;
  const Clock::time_point begun = Clock::now();
  const auto in = [begun](double seconds) {
    return begun +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  };
  const Clock::time_point limit = in(s.timeout_seconds);
  const bool reports =
      s.warning_seconds > 0 && s.warning_seconds < s.timeout_seconds && s.reports != MPI_COMM_NULL;
  Clock::time_point next_round = in(s.warning_seconds);
  int rounds = 0, isolated_rounds = 0;
  for (uint32_t spins = 1;; ++spins) {
    if (done()) return;
    if ((spins & 63) != 0) continue;
    const Clock::time_point now = Clock::now();
    if (now > limit) stalled(what);
    if (!reports) continue;
    if (now > next_round) {
      const Round round = report_round(what, kWarningGraceSeconds, begun, done);
      if (++rounds == 1 && round.speaks && !round.silent.empty()) {
        std::fprintf(stderr,
                     "dptrain: warning: rank %d: %s (wait #%lld) has waited %.0f s; not heard "
                     "from: %s%s\n",
                     s.rank, what, static_cast<long long>(s.waits), s.warning_seconds,
                     name_ranks(round.silent).c_str(), round.elsewhere.c_str());
        std::fflush(stderr);
      }
      isolated_rounds = round.isolated ? isolated_rounds + 1 : 0;
      if (isolated_rounds >= kIsolatedRounds)
        exit_isolated(what, round, std::chrono::duration<double>(Clock::now() - begun).count());
      next_round = after(s.warning_seconds);
    } else if ((spins & 4095) == 0) {
      receive_reports();
    }
  }
}

}  // namespace

void configure(MPI_Comm world) {
  State& s = state();
  mpiCheck(MPI_Comm_dup(world, &s.reports));
  mpiCheck(MPI_Comm_set_errhandler(s.reports, MPI_ERRORS_RETURN));
  mpiCheck(MPI_Comm_rank(world, &s.rank));
  mpiCheck(MPI_Comm_size(world, &s.size));
  s.latest.assign(static_cast<size_t>(s.size), StallReport{});
  s.heard_at.assign(static_cast<size_t>(s.size), Clock::time_point::min());
}

void set_timeout(double seconds) {
  state().timeout_seconds = seconds;
}
double timeout() {
  return state().timeout_seconds;
}
void set_warning_after(double seconds) {
  state().warning_seconds = seconds;
}
void set_hosts(std::vector<int> host_of_rank,
               std::function<std::string(const std::vector<int>&)> name_ranks) {
  State& s = state();
  s.host_of = std::move(host_of_rank);
  s.name_ranks = std::move(name_ranks);
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

void wait_until(const std::function<bool()>& done, const char* what) {
  Backoff backoff;
  poll(
      [&] {
        if (done()) return true;
        backoff.pause();
        return false;
      },
      what);
}

void stalled(const char* what) {
  State& s = state();
  const std::string waited = std::to_string(static_cast<long>(s.timeout_seconds));
  if (s.reports == MPI_COMM_NULL) {
    std::fprintf(stderr, "dptrain: error: rank %d: %s waited %s s for other ranks\n", s.rank, what,
                 waited.c_str());
    MPI_Abort(MPI_COMM_WORLD, kExitFailure);
  }
  // The reports of every rank that has waited since this wait began count: each rank stalls
  // at its own moment, and may have reported before this one did.
  const Round round =
      report_round(what, kReportGraceSeconds, after(-s.timeout_seconds), [] { return false; });
  if (round.speaks) {
    std::fprintf(stderr,
                 "dptrain: error: rank %d: %s (wait #%lld) waited %s s (--collective-timeout); "
                 "%s%s%s\n",
                 s.rank, what, static_cast<long long>(s.waits), waited.c_str(),
                 round.silent.empty() ? "every rank reported" : "ranks that did not arrive: ",
                 round.silent.empty() ? "" : name_ranks(round.silent).c_str(),
                 round.elsewhere.c_str());
    std::fflush(stderr);
  } else {
    std::this_thread::sleep_for(std::chrono::seconds(2));  // the lowest rank alive speaks first
  }
  MPI_Abort(MPI_COMM_WORLD, kExitFailure);
  std::abort();
}

}  // namespace dptrain::watchdog
