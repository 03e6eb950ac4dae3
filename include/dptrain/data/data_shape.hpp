#pragma once

#include <string>

namespace dptrain {

// The most classes dptrain scores: its confusion matrix is K x K.
inline constexpr int kMaxClasses = 1 << 16;
// The most values a row holds: its extents are kept in int (GEMM dimensions), each at most this
// and their product too, so that rows x row_width of a batch still fits the 64-bit sizes
// computed from them.
inline constexpr int kMaxRowValues = 1 << 28;

// What one row of a data set is, and how many classes its labels name (README, "Your own data"):
// uint8 images [height, width, channels], which enter the model scaled to [0, 1], or float32
// features [width], which enter it as they are (height = channels = 1). MNIST's is the default.
// Models read their input and output widths from it; checkpoints record it.
struct DataShape {
  enum class Kind { images, features };
  Kind kind = Kind::images;
  int height = 28;
  int width = 28;
  int channels = 1;
  int classes = 10;

  // Values per row: height * width * channels.
  int row_width() const { return height * width * channels; }
  bool images() const { return kind == Kind::images; }
  friend bool operator==(const DataShape&, const DataShape&) = default;

  static DataShape features(int width, int classes) {
    return {Kind::features, 1, width, 1, classes};
  }
};

// "28x28x1 images, 10 classes" or "20 features, 3 classes", for messages; without the classes
// where they are not known (0).
std::string describe_data_shape(const DataShape& shape);
// "images 28x28x1 classes 10" or "features 20 classes 3": what checkpoints record.
std::string data_shape_record(const DataShape& shape);
// The inverse of data_shape_record; std::invalid_argument for text it did not write, and for
// shapes no data file gives (a row of more than kMaxRowValues values, classes not 2..kMaxClasses).
DataShape parse_data_shape_record(const std::string& record);

}  // namespace dptrain
