#include "dptrain/data/prepare.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dptrain/core/error.hpp"
#include "dptrain/core/files.hpp"
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

class Prepare : public ::testing::Test {
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

  fs::path dir_;
  LabeledImages train_, test_;
};

TEST(Sha256, MatchesTheStandardTestVector) {
  const std::string abc = "abc";
  EXPECT_EQ(sha256_hex({reinterpret_cast<const uint8_t*>(abc.data()), abc.size()}),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(Prepare, ConvertsIdxFilesToTheHdf5Layout) {
  const std::string out = (dir_ / "out.h5").string();
  const PreparedData prepared = prepare_mnist(dir_.string(), out, false);
  EXPECT_EQ(prepared.train_rows, 70u);
  EXPECT_EQ(prepared.test_rows, 30u);
  const MnistH5Reader reader(out);
  EXPECT_EQ(reader.read_train(RowSelection::range(0, 70)).images, train_.images);
  EXPECT_EQ(reader.read_test(RowSelection::range(0, 30)).labels, test_.labels);
}

TEST_F(Prepare, RefusesMismatchedOrBadInputs) {
  const std::string out = (dir_ / "out.h5").string();
  write_bytes(dir_ / "t10k-labels-idx1-ubyte", idx_file({29}, std::vector<uint8_t>(29, 1)));
  EXPECT_THROW(prepare_mnist(dir_.string(), out, false), InputError);
  write_bytes(dir_ / "t10k-labels-idx1-ubyte", idx_file({30}, std::vector<uint8_t>(30, 10)));
  EXPECT_THROW(prepare_mnist(dir_.string(), out, false), InputError);
  write_bytes(dir_ / "t10k-images-idx3-ubyte", idx_file({30, 784}, test_.images));
  EXPECT_THROW(prepare_mnist(dir_.string(), out, false), InputError);
  fs::remove(dir_ / "train-labels-idx1-ubyte");
  EXPECT_THROW(prepare_mnist(dir_.string(), out, false), InputError);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace dptrain
