#include "dptrain/data/prepare.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "dptrain/core/error.hpp"
#include "dptrain/core/files.hpp"
#include "dptrain/data/h5_io.hpp"
#include "dptrain/data/mnist_h5.hpp"
#include "support/synthetic_data.hpp"

namespace dptrain {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> idx_file(const std::vector<uint32_t>& shape,
                              const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes{0, 0, 0x08, static_cast<uint8_t>(shape.size())};
  for (uint32_t extent : shape)
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<uint8_t>(extent >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

// Every data set goes through the same conversion, so each runs every test.
class Prepare : public ::testing::TestWithParam<DataSet> {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir();
    train_ = testing::synthetic_images(70, 1);
    test_ = testing::synthetic_images(30, 1, 1);
    write_split("train", train_);
    write_split("t10k", test_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write_split(const std::string& prefix, const LabeledImages& split) {
    const uint32_t rows = static_cast<uint32_t>(split.rows);
    write_bytes(dir_ / (prefix + "-images-idx3-ubyte"), idx_file({rows, 28, 28}, split.images));
    write_bytes(dir_ / (prefix + "-labels-idx1-ubyte"), idx_file({rows}, split.labels));
  }

  PreparedData prepare(const std::string& out) {
    return prepare_idx_dataset(GetParam(), dir_.string(), out, false);
  }

  fs::path dir_;
  LabeledImages train_, test_;
};

INSTANTIATE_TEST_SUITE_P(DataSets, Prepare,
                         ::testing::Values(DataSet::kMnist, DataSet::kFashionMnist),
                         [](const ::testing::TestParamInfo<DataSet>& param) {
                           std::string name = data_set_info(param.param).name;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Sha256, MatchesTheStandardTestVector) {
  const std::string abc = "abc";
  EXPECT_EQ(sha256_hex({reinterpret_cast<const uint8_t*>(abc.data()), abc.size()}),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DataSets, HaveDistinctNamesAndTenClassNamesEach) {
  std::set<std::string> names;
  for (const DataSetInfo& info : data_sets()) {
    EXPECT_EQ(&data_set_info(info.data_set), &info);
    names.insert(info.name);
    EXPECT_EQ(std::set<std::string>(info.class_names.begin(), info.class_names.end()).size(),
              info.class_names.size())
        << info.name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"mnist", "fashion-mnist"}));
  EXPECT_STREQ(data_set_info(DataSet::kMnist).class_names[7], "7");
  // Fashion-MNIST's labels, in the order of its README.
  const auto& fashion = data_set_info(DataSet::kFashionMnist).class_names;
  EXPECT_STREQ(fashion[0], "T-shirt/top");
  EXPECT_STREQ(fashion[6], "Shirt");
  EXPECT_STREQ(fashion[9], "Ankle boot");
}

TEST_P(Prepare, ConvertsIdxFilesToTheHdf5Layout) {
  const std::string out = (dir_ / "out.h5").string();
  const PreparedData prepared = prepare(out);
  EXPECT_EQ(prepared.train_rows, 70u);
  EXPECT_EQ(prepared.test_rows, 30u);
  const H5DataReader reader(out);
  EXPECT_EQ(reader.read_train(RowSelection::range(0, 70), 10).images, train_.images);
  EXPECT_EQ(reader.row_shape().classes, 10) << "prepare records num_classes";
  EXPECT_EQ(reader.read_test(RowSelection::range(0, 30), 10).labels,
            std::vector<int32_t>(test_.labels.begin(), test_.labels.end()));
}

TEST_P(Prepare, RecordsWhichDataSetTheFileHolds) {
  const std::string out = (dir_ / "out.h5").string();
  prepare(out);
  const DataSetInfo& info = data_set_info(GetParam());
  EXPECT_EQ(H5DataReader(out).data_set(), info.name);
  EXPECT_EQ(find_data_set(info.name), &info);
}

TEST_P(Prepare, RefusesAnExistingFileBeforeReadingTheSources) {
  const std::string out = (dir_ / "out.h5").string();
  write_bytes(out, {1, 2, 3});
  fs::remove(dir_ / "train-images-idx3-ubyte");  // would be another error, were it read
  try {
    prepare(out);
    FAIL() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("already exists; pass --overwrite"), std::string::npos)
        << error.what();
  }
  EXPECT_EQ(read_binary_file(out), (std::vector<uint8_t>{1, 2, 3}));
}

TEST_P(Prepare, RefusesMismatchedOrBadInputs) {
  const std::string out = (dir_ / "out.h5").string();
  write_bytes(dir_ / "t10k-labels-idx1-ubyte", idx_file({29}, std::vector<uint8_t>(29, 1)));
  EXPECT_THROW(prepare(out), InputError);
  write_bytes(dir_ / "t10k-labels-idx1-ubyte", idx_file({30}, std::vector<uint8_t>(30, 10)));
  EXPECT_THROW(prepare(out), InputError);
  write_bytes(dir_ / "t10k-images-idx3-ubyte", idx_file({30, 784}, test_.images));
  EXPECT_THROW(prepare(out), InputError);
  fs::remove(dir_ / "train-labels-idx1-ubyte");
  EXPECT_THROW(prepare(out), InputError);
  EXPECT_FALSE(fs::exists(out));
}

// Other tools write the layout without the attribute; such a file must still be read.
TEST(DataSetAttribute, IsOptionalForTheReader) {
  const std::string dir = testing::make_temp_dir();
  const std::string out = dir + "/other-tool.h5";
  const LabeledImages data = testing::synthetic_images(10, 2);
  const MnistSplitSources none{{"i", "-"}, {"l", "-"}};
  write_mnist_h5(out, data, none, data, none, false);
  const H5DataReader reader(out);
  EXPECT_EQ(reader.data_set(), "");
  EXPECT_EQ(find_data_set(reader.data_set()), nullptr);
  EXPECT_EQ(find_data_set("cifar-10"), nullptr);
  EXPECT_EQ(reader.read_train(RowSelection::range(0, 10), 10).labels,
            std::vector<int32_t>(data.labels.begin(), data.labels.end()));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace dptrain
