#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/data/h5_check.hpp"

// Small helpers over the HDF5 C API for the files dptrain writes itself: data sets and
// checkpoints.
namespace dptrain::h5 {

// An HDF5 file that appears at `path` only once committed: it is written under a temporary name
// in the same directory, flushed, synced, and then moved into place, so a crash never leaves a
// half-written file under the final name. With replace = false, an existing file is never
// replaced (InputError, before anything is written and again, race-free, at commit). Destroyed
// without commit(), it removes the temporary file.
class AtomicFile {
 public:
  AtomicFile(std::string path, bool replace);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  hid_t id() const { return file_.get(); }
  void commit();

 private:
  std::string path_;
  std::string temporary_;
  bool replace_;
  bool committed_ = false;
  Id file_;
};

// A dataset at `path` (groups created as needed) of `dims`, chunked by `chunk_rows` rows along
// the first dimension when non-zero.
void write_dataset(hid_t file, const std::string& path, hid_t file_type, hid_t memory_type,
                   const std::vector<hsize_t>& dims, const void* data, hsize_t chunk_rows = 0);

void write_attribute(hid_t object, const char* name, const std::string& value);
void write_attribute(hid_t object, const char* name, int64_t value);
void write_attribute(hid_t object, const char* name, double value);
void write_attribute(hid_t object, const char* name, const std::vector<int64_t>& values);

// Readers throw std::runtime_error naming the attribute when it is missing or of another kind.
std::string read_string_attribute(hid_t object, const char* name);
int64_t read_int_attribute(hid_t object, const char* name);
double read_double_attribute(hid_t object, const char* name);
std::vector<int64_t> read_int_array_attribute(hid_t object, const char* name);

}  // namespace dptrain::h5
