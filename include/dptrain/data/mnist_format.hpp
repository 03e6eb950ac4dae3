#pragma once

// MNIST's and Fashion-MNIST's files, as dptrain prepare writes them (README, "MNIST's file"):
// four uint8 datasets,
//   /train/images [N, 28, 28]   /train/labels [N]   /test/images [M, 28, 28]   /test/labels [M]
// with labels in 0..9 and num_classes = 10: one case of the layout H5DataReader reads.
namespace dptrain::mnist {

inline constexpr int kImageHeight = 28;
inline constexpr int kImageWidth = 28;
inline constexpr int kPixels = kImageHeight * kImageWidth;
inline constexpr int kClasses = 10;

inline constexpr const char* kTrainImages = "/train/images";
inline constexpr const char* kTrainLabels = "/train/labels";
inline constexpr const char* kTestImages = "/test/images";
inline constexpr const char* kTestLabels = "/test/labels";

}  // namespace dptrain::mnist
