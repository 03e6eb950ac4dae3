#include "mpi/shared_files.hpp"

#include <mpi.h>

#include <cstdlib>
#include <filesystem>
#include <functional>

#include "mpi/world_of_tests.hpp"
#include "support/synthetic_data.hpp"
#include "support/test_files.hpp"

namespace dptrain::testing {
namespace {

// Rank 0 writes `path` unless it exists; every rank returns once it does.
std::string write_once(const std::string& path,
                       const std::function<void(const std::string&)>& write) {
  if (world_rank() == 0 && !std::filesystem::exists(path)) write(path);
  MPI_Barrier(MPI_COMM_WORLD);
  return path;
}

}  // namespace

const std::string& shared_dir() {
  static const std::string dir = [] {
    std::string path = world_rank() == 0 ? make_temp_dir() : std::string();
    int length = static_cast<int>(path.size());
    MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
    path.resize(static_cast<size_t>(length));
    MPI_Bcast(path.data(), length, MPI_CHAR, 0, MPI_COMM_WORLD);
    return path;
  }();
  static const bool cleanup_registered = [] {
    if (world_rank() == 0) std::atexit([] { std::filesystem::remove_all(dir); });
    return true;
  }();
  (void)cleanup_registered;
  return dir;
}

std::string shared_test_file(const std::string& kind) {
  return write_once(shared_dir() + "/" + kind + ".h5",
                    [&](const std::string& path) { write_test_file(kind, path); });
}

std::string shared_synthetic_file(size_t train_rows, size_t test_rows, uint64_t seed) {
  const std::string name = "synthetic-" + std::to_string(train_rows) + "-" +
                           std::to_string(test_rows) + "-" + std::to_string(seed) + ".h5";
  return write_once(shared_dir() + "/" + name, [&](const std::string& path) {
    write_synthetic_h5(path, train_rows, test_rows, seed);
  });
}

}  // namespace dptrain::testing
