#include "dptrain/data/idx.hpp"

#include <gtest/gtest.h>

#include "dptrain/core/error.hpp"

namespace dptrain {
namespace {

std::vector<uint8_t> idx_bytes(std::vector<uint32_t> shape, uint8_t type = 0x08) {
  std::vector<uint8_t> bytes{0, 0, type, static_cast<uint8_t>(shape.size())};
  size_t elements = 1;
  for (uint32_t extent : shape) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<uint8_t>(extent >> shift));
    elements *= extent;
  }
  for (size_t i = 0; i < elements; ++i)
    bytes.push_back(static_cast<uint8_t>(i * 7));
  return bytes;
}

TEST(Idx, ParsesImagesAndLabels) {
  const IdxArray images = parse_idx(idx_bytes({3, 28, 28}), "images");
  EXPECT_EQ(images.shape, (std::vector<uint32_t>{3, 28, 28}));
  ASSERT_EQ(images.data.size(), 3u * 28 * 28);
  EXPECT_EQ(images.data[5], 35);
  const IdxArray labels = parse_idx(idx_bytes({300}), "labels");
  EXPECT_EQ(labels.shape, (std::vector<uint32_t>{300}));
  EXPECT_EQ(labels.data[299], static_cast<uint8_t>(299 * 7));
}

TEST(Idx, BigEndianExtents) {
  const IdxArray array = parse_idx(idx_bytes({0x0102, 1}), "wide");
  EXPECT_EQ(array.shape[0], 0x0102u);
}

void expect_rejected(std::vector<uint8_t> bytes, const std::string& fragment) {
  try {
    parse_idx(bytes, "file.idx");
    FAIL() << "accepted corrupt IDX data; expected: " << fragment;
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("file.idx"), std::string::npos) << error.what();
  }
}

TEST(Idx, RejectsCorruptFiles) {
  expect_rejected({}, "too short");
  expect_rejected({1, 0, 8, 1, 0, 0, 0, 0}, "not an IDX file");
  expect_rejected(idx_bytes({2, 2}, 0x0D), "not supported");
  expect_rejected({0, 0, 8, 0}, "zero dimensions");
  expect_rejected({0, 0, 8, 3, 0, 0, 0, 1}, "header is truncated");
  std::vector<uint8_t> truncated = idx_bytes({10, 28, 28});
  truncated.pop_back();
  expect_rejected(truncated, "truncated or corrupt");
  std::vector<uint8_t> padded = idx_bytes({10});
  padded.push_back(0);
  expect_rejected(padded, "truncated or corrupt");
}

}  // namespace
}  // namespace dptrain
