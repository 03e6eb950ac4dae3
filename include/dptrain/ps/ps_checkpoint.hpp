#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/comm/world.hpp"
#include "dptrain/ps/ps_plan.hpp"
#include "dptrain/train/checkpoint.hpp"

namespace dptrain {

// One server's range of the parameters and of the optimizer's state tensors.
struct ServerState {
  const float* params = nullptr;
  std::vector<std::string> state_names;  // optimizer_state_names, the same on every rank
  std::vector<const float*> state;       // one per name
  int64_t optimizer_steps = 0;
};

// Collective over the whole job in parameter-server mode: servers pass their state, workers
// only the state's names (and their share of the epoch's loss). The ranges are gathered on rank 0,
// the first server, which writes the same single-file checkpoint as allreduce mode, so that either
// mode, any number of servers, and `dptrain eval` can read it. Returns its path on every rank.
std::string save_ps_checkpoint(const World& world, const PsPlan& plan, Checkpoint checkpoint,
                               double local_loss, const ServerState& state,
                               const CheckpointPlace& place);

}  // namespace dptrain
