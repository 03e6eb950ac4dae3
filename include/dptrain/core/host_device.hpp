#pragma once

// Functions marked DPTRAIN_HD compile for the host and, under nvcc, for the device too: the
// arithmetic of both backends is written once, and the CPU tests cover it.
#if defined(__CUDACC__)
#define DPTRAIN_HD __host__ __device__ __forceinline__
#else
#define DPTRAIN_HD inline
#endif
