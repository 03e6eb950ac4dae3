#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dptrain::testing {

// A directory made by rank 0 and known to every rank of MPI_COMM_WORLD; removed at exit.
const std::string& shared_dir();

// A test file of the given kind (see test_files.hpp), written once by rank 0 and visible to all
// ranks when this returns. Collective.
std::string shared_test_file(const std::string& kind);

// A synthetic file with these sizes, written once by rank 0. Collective.
std::string shared_synthetic_file(size_t train_rows, size_t test_rows, uint64_t seed);

}  // namespace dptrain::testing
