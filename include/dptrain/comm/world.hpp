#pragma once

#include <mpi.h>

#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <vector>

namespace dptrain {

// MPI_Init and MPI_Finalize for the lifetime of the object. Without a launcher MPI starts as a
// singleton of one rank. Errors on MPI_COMM_WORLD are returned, not fatal (see mpiCheck), and the
// collective watchdog is set up.
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

// The control plane: small host-side collectives over MPI for set-up, metrics and errors, each
// waited for under the collective watchdog. The gradients go through a Communicator instead,
// which may be NCCL on GPUs.
class World {
 public:
  explicit World(MPI_Comm comm);

  MPI_Comm comm() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  // Rank and count among the ranks on this node (MPI_COMM_TYPE_SHARED).
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }

  void sum(std::span<double> values) const;  // in place, on every rank
  uint64_t min(uint64_t value) const;
  uint64_t max(uint64_t value) const;
  std::vector<uint64_t> all_gather(uint64_t value) const;  // every rank's value, by rank
  void barrier() const;
  void broadcast_bytes(void* data, size_t bytes, int root) const;

  // Collective error agreement. Every rank passes the error it met (or none); if any rank met one,
  // every rank throws the same AgreedError: the message of the lowest failing rank, prefixed with
  // the failing ranks unless all failed, and its exit status. Otherwise returns on every rank.
  void agree(std::exception_ptr local_error) const;

  // Runs work on every rank, then agree()s on how it went.
  template <class Work>
  void together(Work&& work) const {
    std::exception_ptr error;
    try {
      work();
    } catch (...) {
      error = std::current_exception();
    }
    agree(error);
  }

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
};

}  // namespace dptrain
