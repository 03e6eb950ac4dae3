#pragma once

// HDF5 files that live only in memory (the core driver without a backing store): the
// structure-aware harnesses build the layouts they fuzz there, so no run touches the disk.

#include <hdf5.h>

#include <string>

#include "dptrain/data/h5_check.hpp"

namespace dptrain::fuzz {

// A new, empty file, open for writing; InputError never (a failure here is a finding).
h5::Id make_memory_file();

// The file's bytes, as an HDF5 file on disk would hold them (for --write-seeds and debugging).
std::string file_image(hid_t file);

}  // namespace dptrain::fuzz
