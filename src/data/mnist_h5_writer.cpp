#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "dptrain/core/error.hpp"
#include "dptrain/data/mnist_format.hpp"
#include "dptrain/data/mnist_h5.hpp"

namespace dptrain {
namespace {

// Rows per chunk. A rank's shard is made of runs of one local batch (32 rows by default), so a
// chunk of 32 rows is read by one rank only and no rank reads rows it does not keep.
constexpr hsize_t kChunkRows = 32;

void write_string_attribute(hid_t object, const char* name, const std::string& value) {
  const h5::Id type(h5Check(H5Tcopy(H5T_C_S1)), H5Tclose);
  h5Check(H5Tset_size(type.get(), std::max<size_t>(value.size(), 1)));
  const h5::Id space(h5Check(H5Screate(H5S_SCALAR)), H5Sclose);
  const h5::Id attribute(
      h5Check(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT)),
      H5Aclose);
  h5Check(H5Awrite(attribute.get(), type.get(), value.c_str()));
}

void write_dataset(hid_t file, const char* name, const std::vector<hsize_t>& dims,
                   const uint8_t* data, const Provenance& source) {
  std::vector<hsize_t> chunk = dims;
  chunk[0] = std::min(dims[0], kChunkRows);
  const h5::Id space(h5Check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr)),
                     H5Sclose);
  const h5::Id properties(h5Check(H5Pcreate(H5P_DATASET_CREATE)), H5Pclose);
  h5Check(H5Pset_chunk(properties.get(), static_cast<int>(chunk.size()), chunk.data()));
  const h5::Id dataset(h5Check(H5Dcreate2(file, name, H5T_STD_U8LE, space.get(), H5P_DEFAULT,
                                          properties.get(), H5P_DEFAULT)),
                       H5Dclose);
  h5Check(H5Dwrite(dataset.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
  write_string_attribute(dataset.get(), "source_file", source.file);
  write_string_attribute(dataset.get(), "source_sha256", source.sha256);
}

void write_split(hid_t file, const char* group, const char* images, const char* labels,
                 const LabeledImages& split, const MnistSplitSources& sources) {
  if (split.rows == 0 || split.images.size() != split.rows * mnist::kPixels ||
      split.labels.size() != split.rows)
    throw std::invalid_argument(std::string("inconsistent or empty data for ") + group);
  const h5::Id created(h5Check(H5Gcreate2(file, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)),
                       H5Gclose);
  write_dataset(file, images, {split.rows, mnist::kImageHeight, mnist::kImageWidth},
                split.images.data(), sources.images);
  write_dataset(file, labels, {split.rows}, split.labels.data(), sources.labels);
}

void sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot sync " + path);
  }
  ::close(fd);
}

}  // namespace

void write_mnist_h5(const std::string& path, const LabeledImages& train,
                    const MnistSplitSources& train_sources, const LabeledImages& test,
                    const MnistSplitSources& test_sources, bool overwrite) {
  namespace fs = std::filesystem;
  h5::silence_errors();
  if (!overwrite && fs::exists(path))
    throw InputError("'" + path + "' already exists; pass --overwrite to replace it");
  const fs::path target = fs::absolute(path);
  const std::string temporary =
      target.string() + ".tmp." + std::to_string(static_cast<long>(::getpid()));
  try {
    {
      const h5::Id file(H5Fcreate(temporary.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT),
                        H5Fclose);
      if (!file.valid()) throw InputError("cannot create '" + temporary + "': " + h5::last_error());
      write_split(file.get(), "/train", mnist::kTrainImages, mnist::kTrainLabels, train,
                  train_sources);
      write_split(file.get(), "/test", mnist::kTestImages, mnist::kTestLabels, test, test_sources);
      h5Check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL));
    }
    sync_path(temporary, O_RDONLY);
    // link() refuses an existing target, so a file that appeared meanwhile is not replaced.
    if (overwrite) {
      fs::rename(temporary, target);
    } else if (::link(temporary.c_str(), target.c_str()) != 0) {
      throw InputError("'" + path + "' already exists; pass --overwrite to replace it");
    } else {
      fs::remove(temporary);
    }
    sync_path(target.parent_path().string(), O_RDONLY | O_DIRECTORY);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

}  // namespace dptrain
