#include "dptrain/data/mnist_h5.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dptrain/core/error.hpp"
#include "dptrain/data/mnist_format.hpp"
#include "dptrain/data/sampler.hpp"
#include "support/synthetic_data.hpp"
#include "support/test_files.hpp"

namespace dptrain {
namespace {

namespace fs = std::filesystem;

class MnistH5 : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::make_temp_dir(); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

std::vector<int32_t> widened(const std::vector<uint8_t>& labels) {
  return {labels.begin(), labels.end()};
}

std::string read_attribute(const std::string& file, const char* dataset, const char* name) {
  const h5::Id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  const h5::Id d(H5Dopen2(f.get(), dataset, H5P_DEFAULT), H5Dclose);
  const h5::Id a(H5Aopen(d.get(), name, H5P_DEFAULT), H5Aclose);
  const h5::Id type(H5Aget_type(a.get()), H5Tclose);
  std::string value(H5Tget_size(type.get()), '\0');
  H5Aread(a.get(), type.get(), value.data());
  return value.substr(0, value.find('\0'));
}

hsize_t chunk_rows(const std::string& file, const char* dataset) {
  const h5::Id f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  const h5::Id d(H5Dopen2(f.get(), dataset, H5P_DEFAULT), H5Dclose);
  const h5::Id properties(H5Dget_create_plist(d.get()), H5Pclose);
  hsize_t chunk[3] = {0, 0, 0};
  if (H5Pget_layout(properties.get()) != H5D_CHUNKED) return 0;
  H5Pget_chunk(properties.get(), 3, chunk);
  return chunk[0];
}

TEST_F(MnistH5, RoundTripKeepsEveryByteAndRecordsTheSources) {
  const LabeledImages train = testing::synthetic_images(300, 1);
  const LabeledImages test = testing::synthetic_images(50, 2);
  const MnistSplitSources train_sources{{"train-images", "aa"}, {"train-labels", "bb"}};
  const MnistSplitSources test_sources{{"test-images", "cc"}, {"test-labels", "dd"}};
  write_mnist_h5(path("m.h5"), train, train_sources, test, test_sources, false);

  const H5DataReader reader(path("m.h5"));
  ASSERT_EQ(reader.train_rows(), 300u);
  ASSERT_EQ(reader.test_rows(), 50u);
  const LabeledRows train_back = reader.read_train(RowSelection::range(0, 300), 10);
  const LabeledRows test_back = reader.read_test(RowSelection::range(0, 50), 10);
  EXPECT_EQ(train_back.images, train.images);
  EXPECT_EQ(train_back.labels, widened(train.labels));
  EXPECT_EQ(test_back.images, test.images);
  EXPECT_EQ(test_back.labels, widened(test.labels));
  EXPECT_EQ(read_attribute(path("m.h5"), mnist::kTrainImages, "source_file"), "train-images");
  EXPECT_EQ(read_attribute(path("m.h5"), mnist::kTestLabels, "source_sha256"), "dd");
  EXPECT_GT(chunk_rows(path("m.h5"), mnist::kTrainImages), 0u) << "must be chunked by rows";
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_EQ(entry.path().filename(), "m.h5") << "left behind: " << entry.path();
}

TEST_F(MnistH5, ShardReadReturnsExactlyTheRanksRows) {
  const LabeledImages all = testing::synthetic_images(1000, 3);
  const MnistSplitSources none{{"i", "-"}, {"l", "-"}};
  write_mnist_h5(path("m.h5"), all, none, testing::synthetic_images(10, 4), none, false);
  const H5DataReader reader(path("m.h5"));
  for (int rank = 0; rank < 3; ++rank) {
    const ShardedSampler sampler(1000, 7, rank, 3, 0);
    const LabeledRows shard = reader.read_train(sampler.shard(), 10);
    ASSERT_EQ(shard.rows, sampler.shard().rows());
    for (size_t k = 0; k < shard.rows; ++k) {
      const size_t row = sampler.shard().file_row(k);
      ASSERT_EQ(shard.labels[k], all.labels[row]);
      ASSERT_TRUE(std::equal(shard.images.begin() + k * mnist::kPixels,
                             shard.images.begin() + (k + 1) * mnist::kPixels,
                             all.images.begin() + row * mnist::kPixels))
          << "rank " << rank << " local row " << k << " file row " << row;
    }
  }
}

TEST_F(MnistH5, ReadsFilesOfOtherLayoutsAndFilters) {
  testing::write_test_file("good", path("good.h5"));
  testing::write_test_file("foreign-layout", path("foreign.h5"));
  EXPECT_EQ(chunk_rows(path("foreign.h5"), mnist::kTrainImages), 0u) << "expected contiguous";
  const H5DataReader good(path("good.h5"));
  const H5DataReader foreign(path("foreign.h5"));
  const RowSelection strided{{{3, 10, 40, 4}}};
  EXPECT_EQ(good.read_train(strided, 10).images, foreign.read_train(strided, 10).images);
  EXPECT_EQ(good.read_train(strided, 10).labels, foreign.read_train(strided, 10).labels);
  EXPECT_EQ(good.read_test(RowSelection::range(5, 128), 10).images,
            foreign.read_test(RowSelection::range(5, 128), 10).images);
}

void expect_input_error(const std::function<void()>& action, const std::string& expected) {
  try {
    action();
    FAIL() << "no error; expected: " << expected;
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(expected), std::string::npos)
        << "message: " << error.what() << "\nexpected to contain: " << expected;
  }
}

TEST_F(MnistH5, RejectsBadFilesNamingTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"not-hdf5", "is not an HDF5 file"},
      {"truncated", "cannot be opened"},
      {"missing-group", "/train (the training set) is missing: expected /train/images uint8"},
      {"missing-dataset", "/test/labels is missing"},
      {"images-int32", "/train/images has type int32, expected uint8"},
      {"labels-float", "/train/labels has type float32, expected uint8, int32 or int64"},
      {"images-flat", "/train/images has shape [512,784], expected uint8 [N,H,W] or [N,H,W,C]"},
      {"length-mismatch", "/train/images has 512 rows but /train/labels has 511"},
      {"empty", "/train/images has shape [0,28,28]"},
  };
  for (const auto& [kind, message] : cases) {
    SCOPED_TRACE(kind);
    testing::write_test_file(kind, path(kind + ".h5"));
    expect_input_error([&] { H5DataReader reader(path(kind + ".h5")); }, message);
  }
  expect_input_error([&] { H5DataReader reader(path("absent.h5")); },
                     "absent.h5' does not exist or is not a regular file");
  expect_input_error([&] { H5DataReader reader(dir_); }, "is not a regular file");
}

TEST_F(MnistH5, LabelsOutOfRangeAreFoundInTheRowsRead) {
  testing::write_test_file("bad-train-label", path("bad.h5"));
  const H5DataReader reader(path("bad.h5"));
  EXPECT_NO_THROW(reader.read_train(RowSelection::range(0, 32), 10));
  EXPECT_NO_THROW(reader.read_train(RowSelection::range(41, 512), 10));
  expect_input_error([&] { reader.read_train(RowSelection::range(32, 64), 10); },
                     "/train/labels[40] = 11, but labels must be 0..9 (num_classes)");
  testing::write_test_file("bad-test-label", path("bad-test.h5"));
  expect_input_error(
      [&] { H5DataReader(path("bad-test.h5")).read_test(even_split(128, 1, 2), 10); },
      "/test/labels[100] = 10");
}

TEST_F(MnistH5, NeverOverwritesWithoutBeingAsked) {
  const LabeledImages data = testing::synthetic_images(5, 1);
  const MnistSplitSources none{{"i", "-"}, {"l", "-"}};
  std::ofstream(path("mine.h5")) << "precious";
  expect_input_error([&] { write_mnist_h5(path("mine.h5"), data, none, data, none, false); },
                     "already exists; pass --overwrite to replace it");
  std::ifstream kept(path("mine.h5"));
  std::string content;
  kept >> content;
  EXPECT_EQ(content, "precious");
  write_mnist_h5(path("mine.h5"), data, none, data, none, true);
  EXPECT_EQ(H5DataReader(path("mine.h5")).train_rows(), 5u);
  expect_input_error(
      [&] { write_mnist_h5(dir_ + "/no/such/dir.h5", data, none, data, none, false); },
      "cannot create");
}

}  // namespace
}  // namespace dptrain
