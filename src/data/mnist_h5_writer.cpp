#include "dptrain/core/error.hpp"
#include "dptrain/data/h5_io.hpp"
#include "dptrain/data/mnist_format.hpp"
#include "dptrain/data/mnist_h5.hpp"

namespace dptrain {
namespace {

// Rows per chunk. A rank's shard is made of runs of one local batch (32 rows by default), so a
// chunk of 32 rows is read by one rank only and no rank reads rows it does not keep.
constexpr hsize_t kChunkRows = 32;

void write_dataset(hid_t file, const char* name, const std::vector<hsize_t>& dims,
                   const uint8_t* data, const Provenance& source) {
  h5::write_dataset(file, name, H5T_STD_U8LE, H5T_NATIVE_UINT8, dims, data, kChunkRows);
  const h5::Id dataset(h5Check(H5Dopen2(file, name, H5P_DEFAULT)), H5Dclose);
  h5::write_attribute(dataset.get(), "source_file", source.file);
  h5::write_attribute(dataset.get(), "source_sha256", source.sha256);
}

void write_split(hid_t file, const char* group, const char* images, const char* labels,
                 const LabeledImages& split, const MnistSplitSources& sources) {
  if (split.rows == 0 || split.images.size() != split.rows * mnist::kPixels ||
      split.labels.size() != split.rows)
    throw std::invalid_argument(std::string("inconsistent or empty data for ") + group);
  write_dataset(file, images, {split.rows, mnist::kImageHeight, mnist::kImageWidth},
                split.images.data(), sources.images);
  write_dataset(file, labels, {split.rows}, split.labels.data(), sources.labels);
}

}  // namespace

void write_mnist_h5(const std::string& path, const LabeledImages& train,
                    const MnistSplitSources& train_sources, const LabeledImages& test,
                    const MnistSplitSources& test_sources, bool overwrite,
                    const std::string& data_set) {
  h5::AtomicFile file(path, overwrite);
  if (!data_set.empty()) h5::write_attribute(file.id(), kDataSetAttribute, data_set);
  // K recorded, so that a stray label is refused rather than read as an eleventh class.
  h5::write_attribute(file.id(), "num_classes", int64_t{mnist::kClasses});
  write_split(file.id(), "/train", mnist::kTrainImages, mnist::kTrainLabels, train, train_sources);
  write_split(file.id(), "/test", mnist::kTestImages, mnist::kTestLabels, test, test_sources);
  file.commit();
}

}  // namespace dptrain
