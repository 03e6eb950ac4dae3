#include "h5_memory_file.hpp"

#include <atomic>

#include "fuzz_check.hpp"

namespace dptrain::fuzz {

h5::Id make_memory_file() {
  h5::silence_errors();
  // Names only tell files apart within the process; the core driver never writes them.
  static std::atomic<unsigned> files{0};
  const std::string name = "fuzz-memory-" + std::to_string(files++) + ".h5";
  const h5::Id access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  require(access.valid() &&
              H5Pset_fapl_core(access.get(), /*increment=*/64 * 1024, /*backing_store=*/0) >= 0,
          "the core driver is available");
  h5::Id file(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()), H5Fclose);
  require(file.valid(), "an in-memory file can be created");
  return file;
}

std::string file_image(hid_t file) {
  require(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0, "an in-memory file flushes");
  const ssize_t size = H5Fget_file_image(file, nullptr, 0);
  require(size > 0, "an in-memory file has an image");
  std::string image(static_cast<size_t>(size), '\0');
  require(H5Fget_file_image(file, image.data(), image.size()) == size,
          "an in-memory file gives its image");
  return image;
}

}  // namespace dptrain::fuzz
