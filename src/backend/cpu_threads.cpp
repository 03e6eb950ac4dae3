#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include "dptrain/backend/cpu_backend.hpp"

namespace dptrain {

int cores_on_node() {
  return std::max(1, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
}

int cores_available() {
  cpu_set_t mask;
  if (::sched_getaffinity(0, sizeof mask, &mask) != 0) return cores_on_node();
  return std::max(1, CPU_COUNT(&mask));
}

int default_blas_threads(int ranks_on_node) {
  const int share = cores_on_node() / std::max(1, ranks_on_node);
  return std::max(1, std::min(share, cores_available()));
}

}  // namespace dptrain
