#pragma once

#include <mpi.h>

#include <span>

namespace dptrain {

// Every wait for other ranks goes through these functions. They poll instead of blocking, so a
// rank that never arrives (stopped, stuck on its device, or waiting in another collective) is
// noticed after the collective timeout. The ranks still alive then tell each other, on a
// communicator of their own, which collective they wait in; the lowest of them prints one line
// naming the ranks that did not arrive, and the job is aborted (MPI_Abort, status 1).
namespace watchdog {

// Collective over `world`, once, right after MPI_Init: duplicates it for the stall reports.
// Until then waits block without a deadline.
void configure(MPI_Comm world);
// Seconds a wait may last before it counts as a stall (default 300). Not collective.
void set_timeout(double seconds);
double timeout();

void wait_all(std::span<MPI_Request> requests, const char* what);
void wait(MPI_Request& request, const char* what);
// Returns the index of a completed request, as MPI_Waitany.
int wait_any(std::span<MPI_Request> requests, const char* what);

// For waits that are not MPI requests (a device stream): call when `what` has taken too long.
[[noreturn]] void stalled(const char* what);

}  // namespace watchdog
}  // namespace dptrain
