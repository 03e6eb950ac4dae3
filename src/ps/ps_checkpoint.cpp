#include "dptrain/ps/ps_checkpoint.hpp"

#include <vector>

#include "dptrain/comm/gather_ranges.hpp"

namespace dptrain {
namespace {

// Every rank's range of the flat buffer: the servers' plan, nothing for workers.
std::vector<RankRange> server_ranges(const World& world, const PsPlan& plan) {
  std::vector<RankRange> ranges(static_cast<size_t>(world.size()));
  for (int s = 0; s < plan.servers; ++s) {
    const ParameterRange& range = plan.ranges[static_cast<size_t>(s)];
    ranges[static_cast<size_t>(s)] = {range.begin, range.size()};
  }
  return ranges;
}

}  // namespace

std::string save_ps_checkpoint(const World& world, const PsPlan& plan, Checkpoint checkpoint,
                               double local_loss, const ServerState& state,
                               const CheckpointPlace& place) {
  add_epoch_loss(world, checkpoint, local_loss);
  checkpoint.optimizer_steps =
      static_cast<int64_t>(world.max(static_cast<uint64_t>(state.optimizer_steps)));
  const size_t total = place.layout->total();
  const std::vector<RankRange> ranges = server_ranges(world, plan);
  gather_ranges(world, ranges, state.params, checkpoint.params, total);
  for (size_t i = 0; i < state.state_names.size(); ++i) {
    checkpoint.optimizer_state.push_back({state.state_names[i], {}});
    gather_ranges(world, ranges, state.state.empty() ? nullptr : state.state[i],
                  checkpoint.optimizer_state.back().values, total);
  }
  std::string path;
  if (world.is_root()) path = write_checkpoint(place.dir, *place.layout, checkpoint, place.keep);
  return share_path(world, path);
}

}  // namespace dptrain
