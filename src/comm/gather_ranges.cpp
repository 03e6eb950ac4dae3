#include "dptrain/comm/gather_ranges.hpp"

#include <climits>
#include <stdexcept>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"

namespace dptrain {

void gather_ranges(const World& world, const std::vector<RankRange>& ranges, const float* mine,
                   std::vector<float>& whole, size_t total) {
  if (ranges.size() != static_cast<size_t>(world.size()))
    throw std::logic_error("gather_ranges: one range per rank");
  std::vector<int> counts(ranges.size()), offsets(ranges.size());
  for (size_t r = 0; r < ranges.size(); ++r) {
    if (ranges[r].begin + ranges[r].count > total || total > static_cast<size_t>(INT_MAX))
      throw std::length_error("gather_ranges: a range beyond the buffer or INT_MAX");
    counts[r] = static_cast<int>(ranges[r].count);
    offsets[r] = static_cast<int>(ranges[r].begin);
  }
  if (world.is_root()) whole.resize(total);
  MPI_Request request;
  mpiCheck(MPI_Igatherv(mine, counts[static_cast<size_t>(world.rank())], MPI_FLOAT, whole.data(),
                        counts.data(), offsets.data(), MPI_FLOAT, 0, world.comm(), &request));
  watchdog::wait(request, "the gathering of a checkpoint's pieces on rank 0");
}

}  // namespace dptrain
