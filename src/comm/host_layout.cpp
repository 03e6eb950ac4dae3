#include "dptrain/comm/host_layout.hpp"

#include <algorithm>
#include <cstring>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"

namespace dptrain {

HostLayout::HostLayout(const World& world) {
  char name[MPI_MAX_PROCESSOR_NAME] = {};
  int length = 0;
  mpiCheck(MPI_Get_processor_name(name, &length));
  std::vector<char> all(static_cast<size_t>(world.size()) * MPI_MAX_PROCESSOR_NAME);
  MPI_Request request;
  mpiCheck(MPI_Iallgather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(),
                          MPI_MAX_PROCESSOR_NAME, MPI_CHAR, world.comm(), &request));
  watchdog::wait(request, "the gathering of the ranks' host names");
  for (int rank = 0; rank < world.size(); ++rank) {
    const char* begin = all.data() + static_cast<size_t>(rank) * MPI_MAX_PROCESSOR_NAME;
    const std::string host(begin, strnlen(begin, MPI_MAX_PROCESSOR_NAME));
    const auto known = std::find(names_.begin(), names_.end(), host);
    host_index_.push_back(static_cast<size_t>(known - names_.begin()));
    if (known == names_.end()) names_.push_back(host);
  }
}

std::vector<int> HostLayout::ranks_on(size_t host) const {
  std::vector<int> ranks;
  for (size_t rank = 0; rank < host_index_.size(); ++rank)
    if (host_index_[rank] == host) ranks.push_back(static_cast<int>(rank));
  return ranks;
}

std::string rank_ranges(const std::vector<int>& ranks) {
  std::string text;
  for (size_t i = 0; i < ranks.size();) {
    size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1)
      ++j;
    text += (text.empty() ? "" : ",") + std::to_string(ranks[i]) +
            (j > i ? "-" + std::to_string(ranks[j]) : "");
    i = j + 1;
  }
  return text;
}

std::string HostLayout::describe() const {
  const size_t per_host = ranks_on(0).size();
  bool even = true;
  for (size_t host = 1; host < hosts(); ++host)
    even = even && ranks_on(host).size() == per_host;
  std::string text = std::to_string(hosts()) + (hosts() == 1 ? " host" : " hosts");
  if (even) text += " x " + std::to_string(per_host) + (per_host == 1 ? " rank" : " ranks");
  if (hosts() == 1) return text;
  std::string list;
  for (size_t host = 0; host < hosts(); ++host)
    list += (host ? ", " : "") + names_[host] + ": " + (even ? "" : "ranks ") +
            rank_ranges(ranks_on(host));
  return text + " (" + list + ")";
}

std::string HostLayout::name_ranks(const std::vector<int>& ranks) const {
  std::string text;
  for (size_t host = 0; host < hosts(); ++host) {
    std::vector<int> here;
    for (int rank : ranks)
      if (host_index_[static_cast<size_t>(rank)] == host) here.push_back(rank);
    if (here.empty()) continue;
    text += (text.empty() ? "" : ", ") + names_[host] + " (rank" + (here.size() > 1 ? "s " : " ") +
            rank_ranges(here) + ")";
  }
  return text;
}

}  // namespace dptrain
