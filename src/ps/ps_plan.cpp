#include "dptrain/ps/ps_plan.hpp"

#include <string>

#include "dptrain/core/error.hpp"

namespace dptrain {

PsPlan::PsPlan(int world_size, int server_count, size_t parameters)
    : servers(server_count), workers(world_size - server_count) {
  if (servers < 1)
    throw InputError("--ps-servers must be at least 1 (got " + std::to_string(servers) + ")");
  if (servers >= world_size)
    throw InputError("--ps-servers " + std::to_string(servers) + " leaves no worker among " +
                     std::to_string(world_size) + " ranks; start more ranks or fewer servers");
  for (int s = 0; s < servers; ++s)
    ranges.push_back({parameters * static_cast<size_t>(s) / static_cast<size_t>(servers),
                      parameters * static_cast<size_t>(s + 1) / static_cast<size_t>(servers)});
}

}  // namespace dptrain
