#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <string>

#include "dptrain/core/error.hpp"

// One check per library, naming the call, the library's own message and file:line.

#define cudaCheck(call)                                                                        \
  do {                                                                                         \
    const cudaError_t cuda_check_status_ = (call);                                             \
    if (cuda_check_status_ != cudaSuccess)                                                     \
      ::dptrain::throw_library_error(                                                          \
          std::string(#call) + " failed: " + cudaGetErrorString(cuda_check_status_), __FILE__, \
          __LINE__);                                                                           \
  } while (0)

#define cublasCheck(call)                                                                 \
  do {                                                                                    \
    const cublasStatus_t cublas_check_status_ = (call);                                   \
    if (cublas_check_status_ != CUBLAS_STATUS_SUCCESS)                                    \
      ::dptrain::throw_library_error(                                                     \
          std::string(#call) + " failed: " + cublasGetStatusString(cublas_check_status_), \
          __FILE__, __LINE__);                                                            \
  } while (0)

#define ncclCheck(call)                                                                        \
  do {                                                                                         \
    const ncclResult_t nccl_check_status_ = (call);                                            \
    if (nccl_check_status_ != ncclSuccess && nccl_check_status_ != ncclInProgress)             \
      ::dptrain::throw_library_error(                                                          \
          std::string(#call) + " failed: " + ncclGetErrorString(nccl_check_status_), __FILE__, \
          __LINE__);                                                                           \
  } while (0)
