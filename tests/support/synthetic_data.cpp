#include "support/synthetic_data.hpp"

#include <cstdlib>
#include <stdexcept>

#include "dptrain/core/random.hpp"
#include "dptrain/data/mnist_format.hpp"

namespace dptrain::testing {

LabeledImages synthetic_images(size_t rows, uint64_t seed, uint64_t split) {
  LabeledImages data;
  data.rows = rows;
  data.images.resize(rows * mnist::kPixels);
  data.labels.resize(rows);
  const uint64_t prototypes = random::stream_key(seed, 1);
  const uint64_t noise = random::stream_key(seed, 2, split);
  const uint64_t labels = random::stream_key(seed, 3, split);
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t label = static_cast<uint8_t>(random::bits(labels, r) % mnist::kClasses);
    data.labels[r] = label;
    for (size_t p = 0; p < mnist::kPixels; ++p) {
      const float base = random::uniform01(prototypes, label * mnist::kPixels + p) * 160.0f;
      const float jitter = random::uniform01(noise, r * mnist::kPixels + p) * 95.0f;
      data.images[r * mnist::kPixels + p] = static_cast<uint8_t>(base + jitter);
    }
  }
  return data;
}

LabeledRows synthetic_rows(const DataShape& shape, size_t rows, uint64_t seed, uint64_t split) {
  LabeledRows data;
  data.rows = rows;
  const size_t width = static_cast<size_t>(shape.row_width());
  (shape.images() ? data.images.resize(rows * width) : data.features.resize(rows * width));
  data.labels.resize(rows);
  const uint64_t prototypes = random::stream_key(seed, 4);
  const uint64_t noise = random::stream_key(seed, 5, split);
  const uint64_t labels = random::stream_key(seed, 6, split);
  for (size_t r = 0; r < rows; ++r) {
    const int32_t label = static_cast<int32_t>(random::bits(labels, r) % shape.classes);
    data.labels[r] = label;
    for (size_t p = 0; p < width; ++p) {
      const float base = random::uniform01(prototypes, label * width + p);
      const float jitter = random::uniform01(noise, r * width + p);
      if (shape.images()) {
        data.images[r * width + p] = static_cast<uint8_t>(base * 160.0f + jitter * 95.0f);
      } else {
        data.features[r * width + p] = (base * 4.0f - 2.0f) + (jitter * 2.0f - 1.0f);
      }
    }
  }
  return data;
}

void write_synthetic_h5(const std::string& path, size_t train_rows, size_t test_rows,
                        uint64_t seed) {
  const MnistSplitSources sources{{"synthetic-images", "none"}, {"synthetic-labels", "none"}};
  write_mnist_h5(path, synthetic_images(train_rows, seed), sources,
                 synthetic_images(test_rows, seed, 1), sources, /*overwrite=*/true);
}

std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/dptrain-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

}  // namespace dptrain::testing
