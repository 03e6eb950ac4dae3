#pragma once

#include <cstdint>
#include <string>

#include "dptrain/data/mnist_h5.hpp"

namespace dptrain::testing {

// A small, learnable stand-in for MNIST in the same layout: every class has a random prototype
// image (a function of the seed) and each row is its class's prototype with noise (a function of
// the seed and the split, so that training and test rows differ but share the prototypes).
LabeledImages synthetic_images(size_t rows, uint64_t seed, uint64_t split = 0);

// The same for rows of any shape (README, "Your own data"): uint8 images whose class prototypes
// are bright or dark per value, or float features whose prototypes lie in [-2, 2]^D with noise
// of [-1, 1] per value; labels uniform over shape.classes.
LabeledRows synthetic_rows(const DataShape& shape, size_t rows, uint64_t seed, uint64_t split = 0);

// Writes train_rows + test_rows synthetic rows to path in dptrain's layout (overwriting).
void write_synthetic_h5(const std::string& path, size_t train_rows, size_t test_rows,
                        uint64_t seed);

// A new empty directory under $TMPDIR (or /tmp) that the caller owns.
std::string make_temp_dir();

}  // namespace dptrain::testing
