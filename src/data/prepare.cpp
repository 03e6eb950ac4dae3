#include "dptrain/data/prepare.hpp"

#include <filesystem>

#include "dptrain/core/error.hpp"
#include "dptrain/core/files.hpp"
#include "dptrain/data/idx.hpp"
#include "dptrain/data/mnist_format.hpp"
#include "dptrain/data/mnist_h5.hpp"

namespace dptrain {
namespace {

struct LoadedSplit {
  LabeledImages data;
  MnistSplitSources sources;
};

IdxArray load(const std::filesystem::path& path, Provenance& provenance) {
  const std::vector<uint8_t> bytes = read_binary_file(path.string());
  provenance = {path.filename().string(), sha256_hex(bytes)};
  return parse_idx(bytes, path.string());
}

LoadedSplit load_split(const std::filesystem::path& dir, const std::string& prefix) {
  LoadedSplit split;
  const std::filesystem::path images_path = dir / (prefix + "-images-idx3-ubyte");
  const std::filesystem::path labels_path = dir / (prefix + "-labels-idx1-ubyte");
  IdxArray images = load(images_path, split.sources.images);
  IdxArray labels = load(labels_path, split.sources.labels);
  if (images.shape.size() != 3 || images.shape[1] != mnist::kImageHeight ||
      images.shape[2] != mnist::kImageWidth)
    throw InputError(images_path.string() + ": expected images of 28x28 pixels");
  if (labels.shape.size() != 1) throw InputError(labels_path.string() + ": expected a 1-d array");
  if (images.shape[0] != labels.shape[0] || images.shape[0] == 0)
    throw InputError(images_path.string() + " holds " + std::to_string(images.shape[0]) +
                     " images but " + labels_path.string() + " holds " +
                     std::to_string(labels.shape[0]) + " labels");
  for (size_t i = 0; i < labels.data.size(); ++i)
    if (labels.data[i] >= mnist::kClasses)
      throw InputError(labels_path.string() + ": label " + std::to_string(i) + " is " +
                       std::to_string(labels.data[i]) + ", outside 0..9");
  split.data.rows = images.shape[0];
  split.data.images = std::move(images.data);
  split.data.labels = std::move(labels.data);
  return split;
}

}  // namespace

PreparedData prepare_mnist(const std::string& idx_dir, const std::string& out, bool overwrite) {
  if (!overwrite && std::filesystem::exists(out))  // before reading 55 MB, not only after
    throw InputError("'" + out + "' already exists; pass --overwrite to replace it");
  if (!std::filesystem::is_directory(idx_dir))
    throw InputError("'" + idx_dir + "' is not a directory");
  const LoadedSplit train = load_split(idx_dir, "train");
  const LoadedSplit test = load_split(idx_dir, "t10k");
  write_mnist_h5(out, train.data, train.sources, test.data, test.sources, overwrite);
  return {train.data.rows, test.data.rows};
}

}  // namespace dptrain
