#include "dptrain/ps/ps_checkpoint.hpp"

#include <vector>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"

namespace dptrain {
namespace {

// Gathers every server's range of a flat buffer into `whole` on rank 0.
void gather_ranges(const World& world, const PsPlan& plan, const float* range,
                   std::vector<float>& whole, size_t total) {
  std::vector<int> counts(static_cast<size_t>(world.size()), 0);
  std::vector<int> offsets(counts.size(), 0);
  for (int s = 0; s < plan.servers; ++s) {
    counts[static_cast<size_t>(s)] = static_cast<int>(plan.ranges[static_cast<size_t>(s)].size());
    offsets[static_cast<size_t>(s)] = static_cast<int>(plan.ranges[static_cast<size_t>(s)].begin);
  }
  if (world.is_root()) whole.resize(total);
  const int mine = counts[static_cast<size_t>(world.rank())];
  MPI_Request request;
  mpiCheck(MPI_Igatherv(range, mine, MPI_FLOAT, whole.data(), counts.data(), offsets.data(),
                        MPI_FLOAT, 0, world.comm(), &request));
  watchdog::wait(request, "the gathering of a checkpoint from the servers");
}

}  // namespace

std::string save_ps_checkpoint(const World& world, const PsPlan& plan, Checkpoint checkpoint,
                               double local_loss, const ServerState* state,
                               const CheckpointPlace& place) {
  double loss = local_loss;
  world.sum({&loss, 1});
  checkpoint.position.epoch_loss_sum = loss;
  checkpoint.adam_steps = static_cast<int64_t>(
      world.max(state != nullptr ? static_cast<uint64_t>(state->adam_steps) : 0));
  const size_t total = place.layout->total();
  gather_ranges(world, plan, state != nullptr ? state->params : nullptr, checkpoint.params, total);
  gather_ranges(world, plan, state != nullptr ? state->m : nullptr, checkpoint.adam_m, total);
  gather_ranges(world, plan, state != nullptr ? state->v : nullptr, checkpoint.adam_v, total);
  std::string path;
  if (world.is_root()) path = write_checkpoint(place.dir, *place.layout, checkpoint, place.keep);
  return share_path(world, path);
}

}  // namespace dptrain
