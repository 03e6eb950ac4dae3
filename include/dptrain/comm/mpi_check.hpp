#pragma once

#include <mpi.h>

#include <string>

#include "dptrain/core/error.hpp"

namespace dptrain {

inline std::string mpi_error_string(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, static_cast<size_t>(length));
}

}  // namespace dptrain

// Throws, naming the call, the MPI error and file:line, when an MPI call fails. Communicators get
// MPI_ERRORS_RETURN so that failures arrive here rather than aborting without a word.
#define mpiCheck(call)                                                                     \
  do {                                                                                     \
    const int mpi_check_code_ = (call);                                                    \
    if (mpi_check_code_ != MPI_SUCCESS)                                                    \
      ::dptrain::throw_library_error(                                                      \
          std::string(#call) + " failed: " + ::dptrain::mpi_error_string(mpi_check_code_), \
          __FILE__, __LINE__);                                                             \
  } while (0)
