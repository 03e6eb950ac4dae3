#include "dptrain/data/h5_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "dptrain/core/error.hpp"

namespace dptrain::h5 {
namespace {

namespace fs = std::filesystem;

void sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot sync " + path);
  }
  ::close(fd);
}

std::string refused(const std::string& path) {
  return "'" + path + "' already exists; pass --overwrite to replace it";
}

Id open_attribute(hid_t object, const char* name) {
  Id attribute(H5Aexists(object, name) > 0 ? H5Aopen(object, name, H5P_DEFAULT) : H5I_INVALID_HID,
               H5Aclose);
  if (!attribute.valid())
    throw std::runtime_error(std::string("attribute '") + name + "' is missing");
  return attribute;
}

template <class T>
void write_simple_attribute(hid_t object, const char* name, hid_t type, const T* values,
                            hsize_t count, bool scalar) {
  const Id space(
      scalar ? h5Check(H5Screate(H5S_SCALAR)) : h5Check(H5Screate_simple(1, &count, nullptr)),
      H5Sclose);
  const Id attribute(h5Check(H5Acreate2(object, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT)),
                     H5Aclose);
  h5Check(H5Awrite(attribute.get(), type, values));
}

}  // namespace

AtomicFile::AtomicFile(std::string path, bool replace)
    : path_(fs::absolute(path).string()), replace_(replace) {
  silence_errors();
  if (!replace_ && fs::exists(path_)) throw InputError(refused(path));
  temporary_ = path_ + ".tmp." + std::to_string(static_cast<long>(::getpid()));
  file_ = Id(H5Fcreate(temporary_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
  if (!file_.valid()) throw InputError("cannot create '" + temporary_ + "': " + last_error());
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  file_ = Id();
  std::error_code ignored;
  fs::remove(temporary_, ignored);
}

void AtomicFile::commit() {
  h5Check(H5Fflush(file_.get(), H5F_SCOPE_GLOBAL));
  file_ = Id();  // closes it
  sync_path(temporary_, O_RDONLY);
  if (replace_) {
    fs::rename(temporary_, path_);
  } else if (::link(temporary_.c_str(), path_.c_str()) != 0) {  // link() never replaces
    throw InputError(refused(path_));
  } else {
    fs::remove(temporary_);
  }
  committed_ = true;
  sync_path(fs::path(path_).parent_path().string(), O_RDONLY | O_DIRECTORY);
}

void write_dataset(hid_t file, const std::string& path, hid_t file_type, hid_t memory_type,
                   const std::vector<hsize_t>& dims, const void* data, hsize_t chunk_rows) {
  const Id space(h5Check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr)),
                 H5Sclose);
  const Id links(h5Check(H5Pcreate(H5P_LINK_CREATE)), H5Pclose);
  h5Check(H5Pset_create_intermediate_group(links.get(), 1));
  const Id properties(h5Check(H5Pcreate(H5P_DATASET_CREATE)), H5Pclose);
  if (chunk_rows > 0 && !dims.empty() && dims[0] > 0) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = std::min(dims[0], chunk_rows);
    h5Check(H5Pset_chunk(properties.get(), static_cast<int>(chunk.size()), chunk.data()));
  }
  const Id dataset(h5Check(H5Dcreate2(file, path.c_str(), file_type, space.get(), links.get(),
                                      properties.get(), H5P_DEFAULT)),
                   H5Dclose);
  h5Check(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
}

void write_attribute(hid_t object, const char* name, const std::string& value) {
  const Id type(h5Check(H5Tcopy(H5T_C_S1)), H5Tclose);
  h5Check(H5Tset_size(type.get(), std::max<size_t>(value.size(), 1)));
  write_simple_attribute(object, name, type.get(), value.c_str(), 1, true);
}

void write_attribute(hid_t object, const char* name, int64_t value) {
  write_simple_attribute(object, name, H5T_NATIVE_INT64, &value, 1, true);
}

void write_attribute(hid_t object, const char* name, double value) {
  write_simple_attribute(object, name, H5T_NATIVE_DOUBLE, &value, 1, true);
}

void write_attribute(hid_t object, const char* name, const std::vector<int64_t>& values) {
  write_simple_attribute(object, name, H5T_NATIVE_INT64, values.data(), values.size(), false);
}

std::string read_string_attribute(hid_t object, const char* name) {
  const Id attribute = open_attribute(object, name);
  const Id type(h5Check(H5Aget_type(attribute.get())), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0)
    throw std::runtime_error(std::string("attribute '") + name + "' is not a fixed-length string");
  std::string value(H5Tget_size(type.get()), '\0');
  h5Check(H5Aread(attribute.get(), type.get(), value.data()));
  return value.substr(0, value.find('\0'));
}

int64_t read_int_attribute(hid_t object, const char* name) {
  const std::vector<int64_t> values = read_int_array_attribute(object, name);
  if (values.size() != 1)
    throw std::runtime_error(std::string("attribute '") + name + "' is not one number");
  return values[0];
}

double read_double_attribute(hid_t object, const char* name) {
  const Id attribute = open_attribute(object, name);
  const Id space(h5Check(H5Aget_space(attribute.get())), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1)
    throw std::runtime_error(std::string("attribute '") + name + "' is not one number");
  double value = 0.0;
  h5Check(H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value));
  return value;
}

std::vector<int64_t> read_int_array_attribute(hid_t object, const char* name) {
  const Id attribute = open_attribute(object, name);
  const Id type(h5Check(H5Aget_type(attribute.get())), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_INTEGER)
    throw std::runtime_error(std::string("attribute '") + name + "' is not an integer");
  const Id space(h5Check(H5Aget_space(attribute.get())), H5Sclose);
  std::vector<int64_t> values(static_cast<size_t>(H5Sget_simple_extent_npoints(space.get())));
  h5Check(H5Aread(attribute.get(), H5T_NATIVE_INT64, values.data()));
  return values;
}

}  // namespace dptrain::h5
