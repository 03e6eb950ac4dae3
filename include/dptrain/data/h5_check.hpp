#pragma once

#include <hdf5.h>

#include <string>
#include <utility>

#include "dptrain/core/error.hpp"

namespace dptrain::h5 {

// Stops HDF5 from printing its error stack to stderr; dptrain reports errors itself, in one line.
void silence_errors();

// The innermost description on HDF5's error stack, e.g. "unable to open file"; empty if none.
std::string last_error();

// An HDF5 identifier closed by the right H5*close when it goes out of scope.
class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Id(Id&& other) noexcept { *this = std::move(other); }
  Id& operator=(Id&& other) noexcept {
    std::swap(id_, other.id_);
    std::swap(closer_, other.closer_);
    return *this;
  }
  ~Id() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

}  // namespace dptrain::h5

// Throws, naming the call, HDF5's message and file:line, when an HDF5 call returns a negative
// id or status. Evaluates to the call's result otherwise.
#define h5Check(call)                                                                          \
  ([&]() {                                                                                     \
    const auto h5_check_result_ = (call);                                                      \
    if (h5_check_result_ < 0)                                                                  \
      ::dptrain::throw_library_error(                                                          \
          std::string(#call) + " failed: " + ::dptrain::h5::last_error(), __FILE__, __LINE__); \
    return h5_check_result_;                                                                   \
  }())
