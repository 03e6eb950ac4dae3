#pragma once

#include <cstddef>
#include <vector>

#include "dptrain/comm/world.hpp"

namespace dptrain {

// Where one rank's piece of a flat buffer lies: elements [begin, begin + count).
struct RankRange {
  size_t begin = 0;
  size_t count = 0;
};

// Collective over `world`: every rank r passes its ranges[r].count floats at `mine` (host
// memory), and rank 0 receives them at ranges[r].begin of `whole`, resized to `total` (other
// ranks' `whole` is left alone). Ranks with nothing to give have count 0. For checkpoints of
// state held in pieces: parameter servers' ranges, ZeRO-1's shards. Waits under the watchdog.
void gather_ranges(const World& world, const std::vector<RankRange>& ranges, const float* mine,
                   std::vector<float>& whole, size_t total);

}  // namespace dptrain
