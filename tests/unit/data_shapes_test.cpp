// The data seam (README, "Your own data"): files of other shapes than MNIST's are read with
// their shapes, classes and label types, and every malformed variant is refused with one line
// naming the dataset and the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>

#include "dptrain/core/error.hpp"
#include "dptrain/data/data_shape.hpp"
#include "dptrain/data/h5_data_reader.hpp"
#include "dptrain/model/model.hpp"
#include "support/synthetic_data.hpp"
#include "support/test_files.hpp"

namespace dptrain {
namespace {

namespace fs = std::filesystem;

class DataShapes : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::make_temp_dir(); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string file(const std::string& kind) const {
    const std::string path = dir_ + "/" + kind + ".h5";
    testing::write_test_file(kind, path);
    return path;
  }

  std::string dir_;
};

std::string input_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST_F(DataShapes, ColorImagesKeepTheirShapeClassesAndBytes) {
  const H5DataReader reader(file("images-32x32x3"));
  const DataShape expected{DataShape::Kind::images, 32, 32, 3, 5};
  EXPECT_EQ(reader.row_shape(), expected);
  EXPECT_EQ(describe_data_shape(reader.row_shape()), "32x32x3 images, 5 classes");
  const RowSelection rows{{{5, 9, 20, 3}}};
  const LabeledRows read = reader.read_train(rows, 5);
  const LabeledRows all = testing::synthetic_rows(expected, 1536, 11);
  ASSERT_EQ(read.images.size(), rows.rows() * 32 * 32 * 3);
  EXPECT_TRUE(read.features.empty());
  for (size_t k = 0; k < read.rows; ++k) {
    const size_t row = rows.file_row(k);
    ASSERT_EQ(read.labels[k], all.labels[row]);
    ASSERT_TRUE(std::equal(read.images.begin() + k * 3072, read.images.begin() + (k + 1) * 3072,
                           all.images.begin() + row * 3072))
        << "row " << row;
  }
}

TEST_F(DataShapes, FeaturesWithInt64LabelsAndNoClassAttribute) {
  const H5DataReader reader(file("features-20"));
  EXPECT_EQ(reader.row_shape(), DataShape::features(20, 0)) << "K is left to the labels";
  EXPECT_EQ(reader.max_train_label(RowSelection::range(0, 1536)), 2);
  const LabeledRows read = reader.read_test(RowSelection::range(10, 30), 3);
  const LabeledRows all = testing::synthetic_rows(DataShape::features(20, 3), 256, 11, 1);
  EXPECT_TRUE(read.images.empty());
  EXPECT_TRUE(
      std::equal(read.features.begin(), read.features.end(), all.features.begin() + 10 * 20));
  EXPECT_TRUE(std::equal(read.labels.begin(), read.labels.end(), all.labels.begin() + 10));
}

TEST_F(DataShapes, MalformedFilesAreRefusedNamingTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"features-float64", "/train/features has type float64, expected float32"},
      {"features-rank3", "/train/features has shape [1536,4,5], expected float32 [N,D]"},
      {"labels-2d", "/train/labels has shape [1536,1], expected [N]"},
      {"test-shape-mismatch",
       "/test/images has rows of 28x28x1, but /train/images has rows of 32x32x3"},
      {"both-images-and-features", "/train holds both images and features: keep one of them"},
      {"missing-group", "/train (the training set) is missing"},
  };
  for (const auto& [kind, message] : cases) {
    SCOPED_TRACE(kind);
    const std::string error = input_error_of([&] { H5DataReader reader(file(kind)); });
    EXPECT_NE(error.find(message), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  }
}

TEST_F(DataShapes, LabelsOutsideTheClassesAreRefusedWhereRead) {
  const H5DataReader over(file("labels-at-num-classes"));
  EXPECT_EQ(over.row_shape().classes, 3);
  EXPECT_NO_THROW(over.read_train(RowSelection::range(0, 7), 3));
  EXPECT_NE(input_error_of([&] {
              over.read_train(RowSelection::range(0, 8), 3);
            }).find("/train/labels[7] = 3, but labels must be 0..2 (num_classes)"),
            std::string::npos);
  const H5DataReader negative(file("negative-label"));
  EXPECT_NE(input_error_of([&] {
              negative.max_train_label(RowSelection::range(0, 100));
            }).find("/train/labels[9] = -1, but labels must not be negative"),
            std::string::npos);
}

TEST_F(DataShapes, RecordsRoundTripAndRefuseWhatTheyDidNotWrite) {
  for (const DataShape& shape :
       {DataShape{}, DataShape{DataShape::Kind::images, 32, 32, 3, 5}, DataShape::features(20, 3)})
    EXPECT_EQ(parse_data_shape_record(data_shape_record(shape)), shape);
  EXPECT_EQ(data_shape_record(DataShape{}), "images 28x28x1 classes 10");
  for (const char* bad :
       {"", "images 28x28 classes 10", "features 20 classes 1", "images 28x28x1 classes 10 ",
        "features 0 classes 3", "images -1x2x3 classes 4"})
    EXPECT_THROW(parse_data_shape_record(bad), std::invalid_argument) << "'" << bad << "'";
}

TEST_F(DataShapes, ModelsFollowTheData) {
  const DataShape color{DataShape::Kind::images, 32, 32, 3, 5};
  EXPECT_EQ(describe_model({ModelKind::mlp, {64}, color, {}}), "mlp 3072-64-5");
  EXPECT_EQ(describe_model({ModelKind::mlp, {64}, DataShape::features(20, 3), {}}), "mlp 20-64-3");
  EXPECT_EQ(describe_model({ModelKind::cnn, {}, color, {}}), "cnn 32x32x3-c5x32-p2-c5x64-p2-128-5");
  // 32 -> conv 28 -> pool 14 -> conv 10 -> pool 5: dense1 takes 5 * 5 * 64.
  EXPECT_EQ(model_layout({ModelKind::cnn, {}, color, {}}).tensor("dense1/weight").shape,
            (std::vector<int>{128, 1600}));
  const std::string features = input_error_of([] {
    model_layout({ModelKind::cnn, {}, DataShape::features(20, 3), {}});
  });
  EXPECT_NE(features.find("takes images, and the data holds 20 features, 3 classes"),
            std::string::npos)
      << features;
  const std::string small = input_error_of([] {
    model_layout({ModelKind::cnn, {}, {DataShape::Kind::images, 12, 12, 1, 4}, {}});
  });
  EXPECT_NE(small.find("model: layer 4 'conv5x64' met a 4x4x32 map, smaller than its 5x5 kernel"),
            std::string::npos)
      << small;
}

}  // namespace
}  // namespace dptrain
