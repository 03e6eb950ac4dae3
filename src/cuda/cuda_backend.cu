#include <algorithm>

#include "cuda_backend.hpp"
#include "cuda_check.hpp"
#include "dptrain/backend/gemm_convention.hpp"
#include "dptrain/core/conv_elements.hpp"
#include "dptrain/core/elementwise.hpp"
#include "dptrain/core/fixed_point.hpp"

namespace dptrain::cuda {
namespace {

constexpr int kThreads = 256;
constexpr size_t kMaxBlocks = 65535;
// cuBLAS's recommended workspace on Hopper; given once so that no GEMM allocates.
constexpr size_t kCublasWorkspaceBytes = size_t{32} << 20;

unsigned blocks_for(size_t n) {
  return static_cast<unsigned>(std::min(kMaxBlocks, (n + kThreads - 1) / kThreads));
}

// Grid-stride loop over [0, n), so that any n fits any grid.
#define DPTRAIN_FOR_EACH(i, n)                                                         \
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<size_t>(gridDim.x) * blockDim.x)

__global__ void bias_activation_kernel(float* y, const float* bias, int rows, int cols,
                                       ew::Activation activation) {
  DPTRAIN_FOR_EACH(i, static_cast<size_t>(rows) * cols) {
    y[i] = ew::activate(y[i] + bias[i % static_cast<size_t>(cols)], activation);
  }
}

__global__ void activation_backward_kernel(float* dy, const float* y, size_t n,
                                           ew::Activation activation) {
  DPTRAIN_FOR_EACH(i, n) {
    dy[i] = ew::activation_backward(dy[i], y[i], activation);
  }
}

// One thread per column, summing down the rows in order: deterministic, and coalesced across
// the threads of a warp.
__global__ void bias_gradient_kernel(const float* dy, int rows, int cols, float* dbias) {
  DPTRAIN_FOR_EACH(j, static_cast<size_t>(cols)) {
    float sum = 0.0f;
    for (int r = 0; r < rows; ++r)
      sum += dy[static_cast<size_t>(r) * cols + j];
    dbias[j] = sum;
  }
}

__global__ void softmax_cross_entropy_kernel(const float* logits, const int32_t* labels, int rows,
                                             int cols, float grad_scale, float* dlogits,
                                             double* loss_sum) {
  DPTRAIN_FOR_EACH(r, static_cast<size_t>(rows)) {
    const size_t offset = r * cols;
    const float loss =
        ew::softmax_cross_entropy_row(logits + offset, cols, labels[r], grad_scale,
                                      dlogits == nullptr ? nullptr : dlogits + offset);
    atomicAdd(loss_sum, static_cast<double>(loss));
  }
}

__global__ void confusion_kernel(const float* logits, const int32_t* labels, int rows, int cols,
                                 unsigned long long* confusion) {
  DPTRAIN_FOR_EACH(r, static_cast<size_t>(rows)) {
    const int predicted = ew::argmax_row(logits + r * cols, cols);
    atomicAdd(confusion + static_cast<size_t>(labels[r]) * cols + predicted, 1ull);
  }
}

__global__ void non_finite_kernel(const float* data, size_t n, unsigned int* non_finite) {
  DPTRAIN_FOR_EACH(i, n) {
    if (ew::is_non_finite_bits(__float_as_uint(data[i]))) atomicOr(non_finite, 1u);
  }
}

__global__ void adam_kernel(float* params, const float* grads, float* m, float* v, size_t n,
                            ew::AdamStep step) {
  DPTRAIN_FOR_EACH(i, n) {
    ew::adam_update(params[i], grads[i], m[i], v[i], step);
  }
}

__global__ void gather_kernel(const uint8_t* images, const uint8_t* labels, int pixels,
                              const uint32_t* indices, int rows, float* x, int32_t* y) {
  DPTRAIN_FOR_EACH(i, static_cast<size_t>(rows) * pixels) {
    const size_t r = i / static_cast<size_t>(pixels);
    const size_t p = i % static_cast<size_t>(pixels);
    const size_t source = static_cast<size_t>(indices[r]);
    x[i] = ew::pixel_to_input(images[source * pixels + p]);
    if (p == 0) y[r] = labels[source];
  }
}

__global__ void fill_kernel(float* data, size_t n, float value) {
  DPTRAIN_FOR_EACH(i, n) {
    data[i] = value;
  }
}

__global__ void add_kernel(float* target, const float* source, size_t n) {
  DPTRAIN_FOR_EACH(i, n) {
    target[i] += source[i];
  }
}

// Each element rounded on its own (no order to keep); the block's largest magnitude by a tree in
// shared memory, then one atomicMax per block, on the bits of the magnitudes, which order as the
// non-negative floats do. A maximum is the same whatever order the blocks arrive in.
__global__ void to_fixed_point_kernel(const float* g, size_t n, double scale, bool accumulate,
                                      int64_t* acc, float* max_magnitude) {
  __shared__ unsigned int largest[kThreads];
  unsigned int mine = 0;
  DPTRAIN_FOR_EACH(i, n) {
    const int64_t q = ew::to_fixed_point(g[i], scale);
    acc[i] = accumulate ? static_cast<int64_t>(static_cast<unsigned long long>(acc[i]) +
                                               static_cast<unsigned long long>(q))
                        : q;
    mine = max(mine, ew::magnitude_bits(g[i]));
  }
  largest[threadIdx.x] = mine;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half)
      largest[threadIdx.x] = max(largest[threadIdx.x], largest[threadIdx.x + half]);
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicMax(reinterpret_cast<unsigned int*>(max_magnitude), largest[0]);
}

__global__ void from_fixed_point_kernel(const int64_t* acc, size_t n, double inverse_scale,
                                        float* g) {
  DPTRAIN_FOR_EACH(i, n) {
    g[i] = ew::from_fixed_point(acc[i], inverse_scale);
  }
}

// One thread per element of the im2col matrix: consecutive threads copy consecutive channels.
__global__ void im2col_kernel(const float* x, ew::ConvGeometry geometry, size_t n, float* col) {
  DPTRAIN_FOR_EACH(i, n) {
    col[i] = ew::im2col_element(x, geometry, i);
  }
}

// NHWC position of element i of [rows, height, width, channels].
struct PixelChannel {
  size_t n;
  int h;
  int w;
  int c;
};

__device__ PixelChannel nhwc_position(size_t i, int height, int width, int channels) {
  const size_t pixel = i / static_cast<size_t>(channels);
  return {pixel / static_cast<size_t>(width) / static_cast<size_t>(height),
          static_cast<int>(pixel / static_cast<size_t>(width) % static_cast<size_t>(height)),
          static_cast<int>(pixel % static_cast<size_t>(width)),
          static_cast<int>(i % static_cast<size_t>(channels))};
}

// A gather, one thread per input element: deterministic, no atomics.
__global__ void col2im_kernel(const float* dcol, ew::ConvGeometry geometry, size_t n, float* dx) {
  DPTRAIN_FOR_EACH(i, n) {
    const PixelChannel p = nhwc_position(i, geometry.height, geometry.width, geometry.channels);
    dx[i] = ew::col2im_element(dcol, geometry, p.n, p.h, p.w, p.c);
  }
}

__global__ void max_pool_forward_kernel(const float* x, ew::PoolGeometry geometry, size_t n,
                                        float* y, uint8_t* argmax) {
  DPTRAIN_FOR_EACH(i, n) {
    const PixelChannel p =
        nhwc_position(i, geometry.out_height(), geometry.out_width(), geometry.channels);
    y[i] = ew::max_pool_element(x, geometry, p.n, p.h, p.w, p.c, argmax + i);
  }
}

__global__ void max_pool_backward_kernel(const float* dy, const uint8_t* argmax,
                                         ew::PoolGeometry geometry, size_t n, float* dx) {
  DPTRAIN_FOR_EACH(i, n) {
    const PixelChannel p = nhwc_position(i, geometry.height, geometry.width, geometry.channels);
    dx[i] = ew::max_pool_gradient_element(dy, argmax, geometry, p.n, p.h, p.w, p.c);
  }
}

cublasOperation_t to_cublas(Transpose t) {
  return t == Transpose::yes ? CUBLAS_OP_T : CUBLAS_OP_N;
}

}  // namespace

CudaBackend::CudaBackend(int device, GemmPrecision precision)
    : device_(device), precision_(precision) {
  cudaCheck(cudaSetDevice(device_));
  cudaCheck(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  cublasCheck(cublasCreate(&cublas_));
  cublasCheck(cublasSetStream(cublas_, stream_));
  cudaCheck(cudaMalloc(&cublas_workspace_, kCublasWorkspaceBytes));
  cublasCheck(cublasSetWorkspace(cublas_, cublas_workspace_, kCublasWorkspaceBytes));
  cudaCheck(cudaMalloc(&non_finite_, sizeof *non_finite_));
  cublasCheck(cublasSetMathMode(cublas_, precision_ == GemmPrecision::tf32
                                             ? CUBLAS_TF32_TENSOR_OP_MATH
                                             : CUBLAS_DEFAULT_MATH));
}

CudaBackend::~CudaBackend() {
  if (cublas_ != nullptr) cublasDestroy(cublas_);
  if (cublas_workspace_ != nullptr) cudaFree(cublas_workspace_);
  if (non_finite_ != nullptr) cudaFree(non_finite_);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

std::string CudaBackend::name() const {
  cudaDeviceProp properties{};
  const bool known = cudaGetDeviceProperties(&properties, device_) == cudaSuccess;
  return "cuda:" + std::to_string(device_) +
         (known ? std::string(" (") + properties.name + ")" : "") +
         (precision_ == GemmPrecision::tf32 ? " tf32" : " fp32");
}

void* CudaBackend::allocate_bytes(size_t bytes) {
  void* pointer = nullptr;
  cudaCheck(cudaMalloc(&pointer, std::max<size_t>(bytes, 1)));
  return pointer;
}

void CudaBackend::free_bytes(void* pointer) noexcept {
  cudaFree(pointer);
}

void* CudaBackend::allocate_pinned_bytes(size_t bytes) {
  void* pointer = nullptr;
  cudaCheck(cudaMallocHost(&pointer, std::max<size_t>(bytes, 1)));
  return pointer;
}

void CudaBackend::free_pinned_bytes(void* pointer) noexcept {
  cudaFreeHost(pointer);
}

void CudaBackend::copy_to_device(void* device, const void* host, size_t bytes) {
  if (bytes == 0) return;
  cudaCheck(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream_));
  synchronize();  // the host memory may be gone after we return
}

void CudaBackend::copy_to_host(void* host, const void* device, size_t bytes) {
  if (bytes == 0) return;
  cudaCheck(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream_));
  synchronize();
}

void CudaBackend::gemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
                       const float* a, int lda, const float* b, int ldb, float beta, float* c,
                       int ldc) {
  const ColumnMajorGemm g = column_major_gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
  cublasCheck(cublasSgemm(cublas_, to_cublas(g.trans_first), to_cublas(g.trans_second), g.m, g.n,
                          g.k, &alpha, g.first, g.ld_first, g.second, g.ld_second, &beta, g.c,
                          g.ldc));
}

void CudaBackend::bias_activation_forward(float* y, const float* bias, int rows, int cols,
                                          ew::Activation activation) {
  const size_t n = static_cast<size_t>(rows) * cols;
  if (n == 0) return;
  bias_activation_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(y, bias, rows, cols, activation);
  cudaCheckLaunch();
}

void CudaBackend::activation_backward(float* dy, const float* y, size_t n,
                                      ew::Activation activation) {
  if (n == 0) return;
  activation_backward_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(dy, y, n, activation);
  cudaCheckLaunch();
}

void CudaBackend::bias_gradient(const float* dy, int rows, int cols, float* dbias) {
  if (cols == 0) return;
  bias_gradient_kernel<<<blocks_for(static_cast<size_t>(cols)), kThreads, 0, stream_>>>(
      dy, rows, cols, dbias);
  cudaCheckLaunch();
}

void CudaBackend::softmax_cross_entropy(const float* logits, const int32_t* labels, int rows,
                                        int cols, float grad_scale, float* dlogits,
                                        double* loss_sum) {
  if (rows == 0) return;
  softmax_cross_entropy_kernel<<<blocks_for(static_cast<size_t>(rows)), kThreads, 0, stream_>>>(
      logits, labels, rows, cols, grad_scale, dlogits, loss_sum);
  cudaCheckLaunch();
}

void CudaBackend::accumulate_confusion(const float* logits, const int32_t* labels, int rows,
                                       int cols, int64_t* confusion) {
  if (rows == 0) return;
  static_assert(sizeof(int64_t) == sizeof(unsigned long long));
  confusion_kernel<<<blocks_for(static_cast<size_t>(rows)), kThreads, 0, stream_>>>(
      logits, labels, rows, cols, reinterpret_cast<unsigned long long*>(confusion));
  cudaCheckLaunch();
}

bool CudaBackend::all_finite(const float* data, size_t n) {
  if (n == 0) return true;
  cudaCheck(cudaMemsetAsync(non_finite_, 0, sizeof *non_finite_, stream_));
  non_finite_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(data, n, non_finite_);
  cudaCheckLaunch();
  unsigned int found = 0;
  copy_to_host(&found, non_finite_, sizeof found);
  return found == 0;
}

void CudaBackend::adam_update(float* params, const float* grads, float* m, float* v, size_t n,
                              const ew::AdamStep& step) {
  if (n == 0) return;
  adam_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(params, grads, m, v, n, step);
  cudaCheckLaunch();
}

void CudaBackend::gather_batch(const uint8_t* images, const uint8_t* labels, int pixels,
                               const uint32_t* indices, int rows, float* x, int32_t* y) {
  const size_t n = static_cast<size_t>(rows) * pixels;
  if (n == 0) return;
  gather_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(images, labels, pixels, indices, rows, x,
                                                         y);
  cudaCheckLaunch();
}

void CudaBackend::fill(float* data, size_t n, float value) {
  if (n == 0) return;
  fill_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(data, n, value);
  cudaCheckLaunch();
}

void CudaBackend::add(float* target, const float* source, size_t n) {
  if (n == 0) return;
  add_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(target, source, n);
  cudaCheckLaunch();
}

void CudaBackend::to_fixed_point(const float* g, size_t n, double scale, bool accumulate,
                                 int64_t* acc, float* max_magnitude) {
  if (n == 0) return;
  to_fixed_point_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(g, n, scale, accumulate, acc,
                                                                 max_magnitude);
  cudaCheckLaunch();
}

void CudaBackend::from_fixed_point(const int64_t* acc, size_t n, double inverse_scale, float* g) {
  if (n == 0) return;
  from_fixed_point_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(acc, n, inverse_scale, g);
  cudaCheckLaunch();
}

void CudaBackend::im2col(const float* x, const ew::ConvGeometry& geometry, int rows, float* col) {
  const size_t n =
      static_cast<size_t>(rows) * geometry.out_height() * geometry.out_width() * geometry.patch();
  if (n == 0) return;
  im2col_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(x, geometry, n, col);
  cudaCheckLaunch();
}

void CudaBackend::col2im(const float* dcol, const ew::ConvGeometry& geometry, int rows, float* dx) {
  const size_t n = static_cast<size_t>(rows) * geometry.height * geometry.width * geometry.channels;
  if (n == 0) return;
  col2im_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(dcol, geometry, n, dx);
  cudaCheckLaunch();
}

void CudaBackend::max_pool_forward(const float* x, const ew::PoolGeometry& geometry, int rows,
                                   float* y, uint8_t* argmax) {
  const size_t n =
      static_cast<size_t>(rows) * geometry.out_height() * geometry.out_width() * geometry.channels;
  if (n == 0) return;
  max_pool_forward_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(x, geometry, n, y, argmax);
  cudaCheckLaunch();
}

void CudaBackend::max_pool_backward(const float* dy, const uint8_t* argmax,
                                    const ew::PoolGeometry& geometry, int rows, float* dx) {
  const size_t n = static_cast<size_t>(rows) * geometry.height * geometry.width * geometry.channels;
  if (n == 0) return;
  max_pool_backward_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(dy, argmax, geometry, n, dx);
  cudaCheckLaunch();
}

}  // namespace dptrain::cuda
