#pragma once

#include <mpi.h>

#include <functional>
#include <span>
#include <string>
#include <vector>

namespace dptrain {

// Every wait for other ranks goes through these functions. They poll instead of blocking, so a
// rank that never arrives (stopped, stuck on its device, waiting in another collective, or on a
// host whose network is gone) is noticed. After the stall warning (5 s by default) the ranks
// waiting tell each other, on a communicator of their own, which collective they wait in, and the
// lowest of them warns in one line of the ranks not heard from, with their hosts; the wait goes
// on (a slow rank, or a link that comes back, lets it finish). After the collective timeout they
// do the same, the line is an error, and the job is aborted (MPI_Abort, status 1). Ranks that
// lost their network are ended by the launcher (README, "Many hosts").
namespace watchdog {

// Collective over `world`, once, right after MPI_Init: duplicates it for the stall reports.
// Until then waits block without a deadline.
void configure(MPI_Comm world);
// Seconds a wait may last before it counts as a stall (default 300). Not collective.
void set_timeout(double seconds);
double timeout();
// Seconds a wait may last before the ranks not heard from are named in a warning (default 5;
// 0: never). Not collective.
void set_warning_after(double seconds);
// Which host each rank is on (an index per rank), and how messages name ranks, e.g.
// "h2 (ranks 2-3)" (HostLayout); by default "ranks 2,3". With hosts known, a rank that hears from
// no rank on another host for 3 rounds of reports (about 18 s by default) takes its own network for
// lost, says so and exits (status 1): no launcher can reach it to end it. Not collective.
void set_hosts(std::vector<int> host_of_rank,
               std::function<std::string(const std::vector<int>&)> name_ranks);

void wait_all(std::span<MPI_Request> requests, const char* what);
void wait(MPI_Request& request, const char* what);
// Returns the index of a completed request, as MPI_Waitany.
int wait_any(std::span<MPI_Request> requests, const char* what);

// For waits that are not MPI requests (a device stream): polls `done` with a Backoff between
// polls, under the same deadline and stall reports as the waits above.
void wait_until(const std::function<bool()>& done, const char* what);
// For waits that are not MPI requests: call when `what` has taken too long.
[[noreturn]] void stalled(const char* what);

}  // namespace watchdog
}  // namespace dptrain
