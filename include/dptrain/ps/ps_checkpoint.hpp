#pragma once

#include <cstdint>
#include <string>

#include "dptrain/comm/world.hpp"
#include "dptrain/ps/ps_plan.hpp"
#include "dptrain/train/checkpoint.hpp"

namespace dptrain {

// One server's range of the parameters and of Adam's moments.
struct ServerState {
  const float* params = nullptr;
  const float* m = nullptr;
  const float* v = nullptr;
  int64_t adam_steps = 0;
};

// Collective over the whole job in parameter-server mode: servers pass their state, workers
// none (and their share of the epoch's loss). The ranges are gathered on rank 0, the first
// server, which writes the same single-file checkpoint as allreduce mode, so that either mode,
// any number of servers, and `dptrain eval` can read it. Returns its path on every rank.
std::string save_ps_checkpoint(const World& world, const PsPlan& plan, Checkpoint checkpoint,
                               double local_loss, const ServerState* state,
                               const CheckpointPlace& place);

}  // namespace dptrain
