#pragma once

#include <string>
#include <vector>

namespace dptrain::testing {

// Data files for tests, good and bad, each written the way a foreign tool might write it (raw
// HDF5 calls, any layout). Kinds:
//   good                  synthetic, 512 training and 128 test rows, dptrain's own writer
//   foreign-layout        as good, but contiguous, gzip-compressed and oddly chunked datasets
//   not-hdf5              a text file
//   truncated             a good file cut in half
//   missing-group         no /train group
//   missing-dataset       no /test/labels
//   images-int32          /train/images stored as int32
//   labels-float          /train/labels stored as float32
//   images-flat           /train/images of shape [512, 784]
//   length-mismatch       512 training images, 511 labels
//   empty                 /train/images [0,28,28] and /train/labels [0]
//   bad-train-label       /train/labels[40] = 11 (row 40 is rank 1's with 2 ranks of 32)
//   bad-test-label        /test/labels[100] = 10 (in rank 1's half of the test set)
//   tiny                  40 training rows, fewer than 2 ranks x 32
std::vector<std::string> test_file_kinds();
void write_test_file(const std::string& kind, const std::string& path);

}  // namespace dptrain::testing
