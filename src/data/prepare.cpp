#include "dptrain/data/prepare.hpp"

#include <array>
#include <filesystem>
#include <stdexcept>

#include "dptrain/core/error.hpp"
#include "dptrain/core/files.hpp"
#include "dptrain/data/idx.hpp"
#include "dptrain/data/mnist_format.hpp"
#include "dptrain/data/mnist_h5.hpp"

namespace dptrain {
namespace {

constexpr std::array<DataSetInfo, 2> kDataSets{{
    {DataSet::kMnist, "mnist", "MNIST", {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
    {DataSet::kFashionMnist,
     "fashion-mnist",
     "Fashion-MNIST",
     {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
      "Ankle boot"}},
}};

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
  split.data = check_idx_split(std::move(images), std::move(labels), images_path.string(),
                               labels_path.string());
  return split;
}

}  // namespace

LabeledImages check_idx_split(IdxArray images, IdxArray labels, const std::string& images_name,
                              const std::string& labels_name) {
  if (images.shape.size() != 3 || images.shape[1] != mnist::kImageHeight ||
      images.shape[2] != mnist::kImageWidth)
    throw InputError(images_name + ": expected images of 28x28 pixels");
  if (labels.shape.size() != 1) throw InputError(labels_name + ": expected a 1-d array");
  if (images.shape[0] != labels.shape[0] || images.shape[0] == 0)
    throw InputError(images_name + " holds " + std::to_string(images.shape[0]) + " images but " +
                     labels_name + " holds " + std::to_string(labels.shape[0]) + " labels");
  for (size_t i = 0; i < labels.data.size(); ++i)
    if (labels.data[i] >= mnist::kClasses)
      throw InputError(labels_name + ": label " + std::to_string(i) + " is " +
                       std::to_string(labels.data[i]) + ", outside 0..9");
  LabeledImages split;
  split.rows = images.shape[0];
  split.images = std::move(images.data);
  split.labels = std::move(labels.data);
  return split;
}

std::span<const DataSetInfo> data_sets() {
  return kDataSets;
}

const DataSetInfo& data_set_info(DataSet data_set) {
  for (const DataSetInfo& info : kDataSets)
    if (info.data_set == data_set) return info;
  throw std::invalid_argument("unknown DataSet " + std::to_string(static_cast<int>(data_set)));
}

const DataSetInfo* find_data_set(const std::string& name) {
  for (const DataSetInfo& info : kDataSets)
    if (name == info.name) return &info;
  return nullptr;
}

PreparedData prepare_idx_dataset(DataSet data_set, const std::string& idx_dir,
                                 const std::string& out, bool overwrite) {
  const DataSetInfo& info = data_set_info(data_set);
  if (!overwrite && std::filesystem::exists(out))  // before reading 55 MB, not only after
    throw InputError("'" + out + "' already exists; pass --overwrite to replace it");
  if (!std::filesystem::is_directory(idx_dir))
    throw InputError("'" + idx_dir + "' is not a directory");
  const LoadedSplit train = load_split(idx_dir, "train");
  const LoadedSplit test = load_split(idx_dir, "t10k");
  write_mnist_h5(out, train.data, train.sources, test.data, test.sources, overwrite, info.name);
  return {train.data.rows, test.data.rows};
}

}  // namespace dptrain
