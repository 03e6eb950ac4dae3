#pragma once

#include <cstddef>
#include <vector>

namespace dptrain {

// Elements [begin, end) of the flat parameter buffer.
struct ParameterRange {
  size_t begin = 0;
  size_t end = 0;
  size_t size() const { return end - begin; }
};

// Who does what in parameter-server mode: world ranks 0..K-1 are servers, each holding one
// contiguous range of the flat parameters (and Adam's state for it), the ranges balanced by
// element count; ranks K..W-1 are the workers, which hold replicas and data shards.
struct PsPlan {
  // Throws InputError unless 1 <= servers < world_size.
  PsPlan(int world_size, int servers, size_t parameters);

  int servers;
  int workers;
  std::vector<ParameterRange> ranges;  // ranges[s] is server s's

  bool is_server(int world_rank) const { return world_rank < servers; }
  int worker_index(int world_rank) const { return world_rank - servers; }
  int world_rank_of_worker(int worker) const { return servers + worker; }
};

// Message tags between workers and servers.
inline constexpr int kPushTag = 7201;  // gradients, worker to server
inline constexpr int kPullTag = 7202;  // parameters, server to worker

}  // namespace dptrain
