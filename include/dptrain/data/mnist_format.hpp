#pragma once

// The data set format dptrain trains on (README, "The HDF5 layout"): four uint8 datasets,
//   /train/images [N, 28, 28]   /train/labels [N]   /test/images [M, 28, 28]   /test/labels [M]
// with labels in 0..9. MNIST and Fashion-MNIST both fit it.
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
