#pragma once

#include <string>
#include <vector>

#include "dptrain/comm/world.hpp"

namespace dptrain {

// Which host each rank of a World runs on (MPI_Get_processor_name, the host's name), for the
// set-up line and for messages that name lost hosts. Hosts are numbered in the order of their
// first rank.
class HostLayout {
 public:
  // Collective over `world`.
  explicit HostLayout(const World& world);

  size_t hosts() const { return names_.size(); }
  const std::string& host_name(size_t host) const { return names_[host]; }
  const std::string& host_of(int rank) const {
    return names_[host_index_[static_cast<size_t>(rank)]];
  }
  // Each rank's host, by rank.
  std::vector<int> host_indices() const { return {host_index_.begin(), host_index_.end()}; }
  // The ranks on `host`, in order.
  std::vector<int> ranks_on(size_t host) const;

  // "1 host x 2 ranks", "2 hosts x 2 ranks (h1: 0-1, h2: 2-3)", or for uneven layouts
  // "2 hosts (h1: ranks 0-2, h2: 3)".
  std::string describe() const;
  // "h2 (ranks 2-3)": the hosts of these ranks, each with its ranks among them.
  std::string name_ranks(const std::vector<int>& ranks) const;

 private:
  std::vector<std::string> names_;
  std::vector<size_t> host_index_;  // per rank
};

// "0-2,5": a sorted list of ranks with runs collapsed.
std::string rank_ranges(const std::vector<int>& ranks);

}  // namespace dptrain
