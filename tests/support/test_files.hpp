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
// The raw kinds above record num_classes = 10, as dptrain prepare does. Of other shapes, with
// 1536 training and 256 test rows (synthetic_rows, learnable):
//   images-32x32x3        uint8 [N,32,32,3], uint8 labels, num_classes = 5
//   features-20           float32 [N,20], int64 labels of 3 classes, no num_classes (K from them)
//   features-float64      features-20 stored as float64
//   features-rank3        features-20's /train/features of shape [N,4,5]
//   labels-2d             features-20's /train/labels of shape [N,1]
//   test-shape-mismatch   images-32x32x3 with /test/images [256,28,28]
//   both-images-and-features  features-20 with a /train/images too
//   one-class             features-20 whose training labels are all 0
//   negative-label        features-20 with int32 labels, /train/labels[9] = -1
//   labels-at-num-classes features-20 with num_classes = 3 and /train/labels[7] = 3
std::vector<std::string> test_file_kinds();
void write_test_file(const std::string& kind, const std::string& path);

}  // namespace dptrain::testing
