#include <algorithm>

#include "cuda_backend.hpp"
#include "cuda_check.hpp"
#include "dptrain/backend/gemm_convention.hpp"
#include "dptrain/core/column_sum.hpp"
#include "dptrain/core/conv_elements.hpp"
#include "dptrain/core/elementwise.hpp"
#include "dptrain/core/fixed_point.hpp"

namespace dptrain::cuda {
namespace {

constexpr int kThreads = 256;
constexpr size_t kMaxBlocks = 65535;
// cuBLAS's recommended workspace on Hopper; given once so that no GEMM allocates.
constexpr size_t kCublasWorkspaceBytes = size_t{32} << 20;
// bias_gradient's partial sums: 1 Mi floats, e.g. 1024 runs of 1024 columns (ew::column_sum_plan).
constexpr size_t kColumnPartials = size_t{1} << 20;
// The loss of a batch is summed by one block: rows are few (a batch) and cheap (10 classes).
constexpr int kLossThreads = 256;

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

// Column sums in the order of ew::column_sum_plan: block (kColumnTile, kColumnLanes) takes
// kColumnTile columns of one run of rows; thread (x, lane) sums its lane's rows of column x,
// then the lanes are combined as a tree in shared memory. With one run the result is the sum,
// else a partial that column_partials_kernel adds up in run order.
__global__ void column_sums_kernel(const float* dy, int rows, int cols, ew::ColumnSumPlan plan,
                                   float* out) {
  __shared__ float lanes[ew::kColumnLanes][ew::kColumnTile];
  const int col = static_cast<int>(blockIdx.x) * ew::kColumnTile + static_cast<int>(threadIdx.x);
  const int lane = static_cast<int>(threadIdx.y);
  const int begin = static_cast<int>(blockIdx.y) * plan.rows_per_chunk;
  const int end = min(rows, begin + plan.rows_per_chunk);
  lanes[lane][threadIdx.x] =
      col < cols ? ew::column_lane_sum(dy, cols, col, begin, end, lane) : 0.0f;
  __syncthreads();
  for (int half = ew::kColumnLanes / 2; half > 0; half /= 2) {
    if (lane < half) lanes[lane][threadIdx.x] += lanes[lane + half][threadIdx.x];
    __syncthreads();
  }
  if (lane == 0 && col < cols)
    out[static_cast<size_t>(blockIdx.y) * cols + col] = lanes[0][threadIdx.x];
}

__global__ void column_partials_kernel(const float* partials, int chunks, int cols, float* sums) {
  DPTRAIN_FOR_EACH(j, static_cast<size_t>(cols)) {
    float total = 0.0f;
    for (int c = 0; c < chunks; ++c)
      total += partials[static_cast<size_t>(c) * cols + j];
    sums[j] = total;
  }
}

// One block: thread t sums the losses of rows t, t + kLossThreads, ... in order, then a tree in
// shared memory; the same rows meet in the same order whatever the run.
__global__ void softmax_cross_entropy_kernel(const float* logits, const int32_t* labels, int rows,
                                             int cols, float grad_scale, float* dlogits,
                                             double* loss_sum) {
  __shared__ double partial[kLossThreads];
  double mine = 0.0;
  for (int r = static_cast<int>(threadIdx.x); r < rows; r += kLossThreads) {
    const size_t offset = static_cast<size_t>(r) * cols;
    mine += ew::softmax_cross_entropy_row(logits + offset, cols, labels[r], grad_scale,
                                          dlogits == nullptr ? nullptr : dlogits + offset);
  }
  partial[threadIdx.x] = mine;
  __syncthreads();
  for (int half = kLossThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) *loss_sum += partial[0];
}

__global__ void confusion_kernel(const float* logits, const int32_t* labels, int rows, int cols,
                                 unsigned long long* confusion) {
  DPTRAIN_FOR_EACH(r, static_cast<size_t>(rows)) {
    const int predicted = ew::argmax_row(logits + r * cols, cols);
    atomicAdd(confusion + static_cast<size_t>(labels[r]) * cols + predicted, 1ull);
  }
}

// The smallest index wins whatever order the threads arrive in: a minimum has no order.
__global__ void find_non_finite_kernel(const float* data, size_t n,
                                       unsigned long long* first_index) {
  DPTRAIN_FOR_EACH(i, n) {
    if (ew::is_non_finite_bits(__float_as_uint(data[i]))) {
      atomicMin(first_index, static_cast<unsigned long long>(i));
      return;  // this thread's later elements come after i
    }
  }
}

__global__ void decide_step_kernel(ew::StepGuard* guard, ew::StepPolicy policy, uint64_t host_index,
                                   const int64_t* agreement) {
  ew::decide_step(*guard, policy, host_index, agreement);
}

// One block of kThreads per ew::kNormBlock elements: thread t sums its elements t, t + kThreads,
// ... in order, then the block adds the threads' sums in a fixed tree. The same bits every run.
__global__ void block_sums_of_squares_kernel(const float* data, size_t n, int64_t* partial_bits) {
  __shared__ double sums[kThreads];
  const size_t begin = static_cast<size_t>(blockIdx.x) * ew::kNormBlock;
  const size_t end = begin + ew::kNormBlock < n ? begin + ew::kNormBlock : n;
  double sum = 0.0;
  for (size_t i = begin + threadIdx.x; i < end; i += kThreads) {
    const double x = data[i];
    sum += x * x;
  }
  sums[threadIdx.x] = sum;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) sums[threadIdx.x] += sums[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial_bits[blockIdx.x] = ew::bits_of_double(sums[0]);
}

__global__ void optimizer_kernel(float* params, const float* grads, ew::StateTensors state,
                                 size_t n, ew::UpdateStep step) {
  DPTRAIN_FOR_EACH(i, n) {
    ew::apply_update(params, grads, state, i, step);
  }
}

__global__ void guarded_optimizer_kernel(float* params, const float* grads, ew::StateTensors state,
                                         size_t n, const ew::StepGuard* guard) {
  if (guard->apply == 0) return;
  const ew::UpdateStep step = guard->constants;
  DPTRAIN_FOR_EACH(i, n) {
    ew::apply_update(params, grads, state, i, step);
  }
}

// Row values are uint8 pixels or float features (ew::row_value_to_input).
template <class Value>
__global__ void gather_kernel(const Value* source_rows, const int32_t* labels, int width,
                              const uint32_t* indices, int rows, float* x, int32_t* y) {
  DPTRAIN_FOR_EACH(i, static_cast<size_t>(rows) * width) {
    const size_t r = i / static_cast<size_t>(width);
    const size_t p = i % static_cast<size_t>(width);
    const size_t source = static_cast<size_t>(indices[r]);
    x[i] = ew::row_value_to_input(source_rows[source * width + p]);
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
  cudaCheck(cudaStreamCreateWithFlags(stream_.put(), cudaStreamNonBlocking));
  cudaCheck(cudaMalloc(cublas_workspace_.put(), kCublasWorkspaceBytes));
  cudaCheck(cudaMalloc(column_partials_.put(), kColumnPartials * sizeof(float)));
  cudaCheck(cudaMalloc(found_index_.put(), sizeof(uint64_t)));
  cudaCheck(cudaMallocHost(staging_.put(), 2 * kStagingHalfBytes));  // see copy_to_device
  for (OwnedEvent& event : staging_done_)
    cudaCheck(cudaEventCreateWithFlags(event.put(), cudaEventDisableTiming));
  cublasCheck(cublasCreate(cublas_.put()));
  cublasCheck(cublasSetStream(cublas_, stream_));
  cublasCheck(cublasSetWorkspace(cublas_, cublas_workspace_, kCublasWorkspaceBytes));
  cublasCheck(cublasSetMathMode(cublas_, precision_ == GemmPrecision::tf32
                                             ? CUBLAS_TF32_TENSOR_OP_MATH
                                             : CUBLAS_DEFAULT_MATH));
}

CudaBackend::~CudaBackend() = default;

void CudaBackend::check_launch() {
  cudaCheck(cudaGetLastError());
#ifndef NDEBUG
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  cudaCheck(cudaStreamIsCapturing(stream_, &capture));
  if (capture == cudaStreamCaptureStatusNone) synchronize();  // a graph runs later
#endif
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

void CudaBackend::copy_to_host(void* host, const void* device, size_t bytes) {
  if (bytes == 0) return;
  cudaCheck(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream_));
  synchronize();
}

void CudaBackend::copy_within(void* to, const void* from, size_t bytes) {
  if (bytes == 0) return;
  cudaCheck(cudaMemcpyAsync(to, from, bytes, cudaMemcpyDeviceToDevice, stream_));
}

namespace {

class CudaGraph final : public Backend::Recording {
 public:
  explicit CudaGraph(cudaStream_t stream) : stream_(stream) {}
  void replay() override { cudaCheck(cudaGraphLaunch(exec, stream_)); }

  Owned<cudaGraph_t, cudaGraphDestroy> graph;         // what was captured
  Owned<cudaGraphExec_t, cudaGraphExecDestroy> exec;  // made from `graph`, released first

 private:
  cudaStream_t stream_;
};

}  // namespace

// cudaStreamCaptureModeGlobal: the mode NCCL's collectives are captured in (NCCL's "Using NCCL
// with CUDA Graphs"). A capture that fails is ended and dropped before the error goes on.
std::unique_ptr<Backend::Recording> CudaBackend::record(const std::function<void()>& work) {
  cudaCheck(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal));
  try {
    work();
  } catch (...) {
    cudaGraph_t abandoned = nullptr;
    if (cudaStreamEndCapture(stream_, &abandoned) == cudaSuccess && abandoned != nullptr)
      cudaGraphDestroy(abandoned);
    cudaGetLastError();  // the capture's own error, if any, is not the one to report
    throw;
  }
  auto graph = std::make_unique<CudaGraph>(stream_);
  cudaCheck(cudaStreamEndCapture(stream_, graph->graph.put()));
  cudaCheck(cudaGraphInstantiate(graph->exec.put(), graph->graph, 0));
  return graph;
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
  check_launch();
}

void CudaBackend::activation_backward(float* dy, const float* y, size_t n,
                                      ew::Activation activation) {
  if (n == 0) return;
  activation_backward_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(dy, y, n, activation);
  check_launch();
}

void CudaBackend::bias_gradient(const float* dy, int rows, int cols, float* dbias) {
  if (cols == 0) return;
  const ew::ColumnSumPlan plan = ew::column_sum_plan(rows, cols, kColumnPartials);
  const dim3 grid((cols + ew::kColumnTile - 1) / ew::kColumnTile, plan.chunks);
  const dim3 block(ew::kColumnTile, ew::kColumnLanes);
  float* partials = static_cast<float*>(column_partials_.get());
  column_sums_kernel<<<grid, block, 0, stream_>>>(dy, rows, cols, plan,
                                                  plan.chunks == 1 ? dbias : partials);
  check_launch();
  if (plan.chunks == 1) return;
  column_partials_kernel<<<blocks_for(static_cast<size_t>(cols)), kThreads, 0, stream_>>>(
      partials, plan.chunks, cols, dbias);
  check_launch();
}

void CudaBackend::softmax_cross_entropy(const float* logits, const int32_t* labels, int rows,
                                        int cols, float grad_scale, float* dlogits,
                                        double* loss_sum) {
  if (rows == 0) return;
  softmax_cross_entropy_kernel<<<1, kLossThreads, 0, stream_>>>(logits, labels, rows, cols,
                                                                grad_scale, dlogits, loss_sum);
  check_launch();
}

void CudaBackend::accumulate_confusion(const float* logits, const int32_t* labels, int rows,
                                       int cols, int64_t* confusion) {
  if (rows == 0) return;
  static_assert(sizeof(int64_t) == sizeof(unsigned long long));
  confusion_kernel<<<blocks_for(static_cast<size_t>(rows)), kThreads, 0, stream_>>>(
      logits, labels, rows, cols, reinterpret_cast<unsigned long long*>(confusion));
  check_launch();
}

bool CudaBackend::all_finite(const float* data, size_t n) {
  if (n == 0) return true;
  uint64_t* found = static_cast<uint64_t*>(found_index_.get());
  const uint64_t none = ew::kNoIndex;
  copy_to_device(found, &none, sizeof none);
  find_non_finite(data, n, found);
  uint64_t first = none;
  copy_to_host(&first, found, sizeof first);
  return first == none;
}

void CudaBackend::find_non_finite(const float* data, size_t n, uint64_t* first_index) {
  if (n == 0) return;
  static_assert(sizeof(uint64_t) == sizeof(unsigned long long));
  find_non_finite_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(
      data, n, reinterpret_cast<unsigned long long*>(first_index));
  check_launch();
}

void CudaBackend::block_sums_of_squares(const float* data, size_t n, int64_t* partial_bits) {
  if (n == 0) return;
  block_sums_of_squares_kernel<<<static_cast<unsigned>(ew::norm_blocks(n)), kThreads, 0, stream_>>>(
      data, n, partial_bits);
  check_launch();
}

void CudaBackend::decide_step(ew::StepGuard* guard, const ew::StepPolicy& policy,
                              uint64_t host_index, const int64_t* agreement) {
  decide_step_kernel<<<1, 1, 0, stream_>>>(guard, policy, host_index, agreement);
  check_launch();
}

void CudaBackend::optimizer_update(float* params, const float* grads, ew::StateTensors state,
                                   size_t n, const ew::UpdateStep& step) {
  if (n == 0) return;
  optimizer_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(params, grads, state, n, step);
  check_launch();
}

void CudaBackend::guarded_optimizer_update(float* params, const float* grads,
                                           ew::StateTensors state, size_t n,
                                           const ew::StepGuard* guard) {
  if (n == 0) return;
  guarded_optimizer_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(params, grads, state, n, guard);
  check_launch();
}

void CudaBackend::gather_batch(const uint8_t* images, const int32_t* labels, int pixels,
                               const uint32_t* indices, int rows, float* x, int32_t* y) {
  const size_t n = static_cast<size_t>(rows) * pixels;
  if (n == 0) return;
  gather_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(images, labels, pixels, indices, rows, x,
                                                         y);
  check_launch();
}

void CudaBackend::gather_feature_batch(const float* features, const int32_t* labels, int width,
                                       const uint32_t* indices, int rows, float* x, int32_t* y) {
  const size_t n = static_cast<size_t>(rows) * width;
  if (n == 0) return;
  gather_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(features, labels, width, indices, rows, x,
                                                         y);
  check_launch();
}

void CudaBackend::fill(float* data, size_t n, float value) {
  if (n == 0) return;
  fill_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(data, n, value);
  check_launch();
}

void CudaBackend::add(float* target, const float* source, size_t n) {
  if (n == 0) return;
  add_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(target, source, n);
  check_launch();
}

void CudaBackend::to_fixed_point(const float* g, size_t n, double scale, bool accumulate,
                                 int64_t* acc, float* max_magnitude) {
  if (n == 0) return;
  to_fixed_point_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(g, n, scale, accumulate, acc,
                                                                 max_magnitude);
  check_launch();
}

void CudaBackend::from_fixed_point(const int64_t* acc, size_t n, double inverse_scale, float* g) {
  if (n == 0) return;
  from_fixed_point_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(acc, n, inverse_scale, g);
  check_launch();
}

void CudaBackend::im2col(const float* x, const ew::ConvGeometry& geometry, int rows, float* col) {
  const size_t n =
      static_cast<size_t>(rows) * geometry.out_height() * geometry.out_width() * geometry.patch();
  if (n == 0) return;
  im2col_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(x, geometry, n, col);
  check_launch();
}

void CudaBackend::col2im(const float* dcol, const ew::ConvGeometry& geometry, int rows, float* dx) {
  const size_t n = static_cast<size_t>(rows) * geometry.height * geometry.width * geometry.channels;
  if (n == 0) return;
  col2im_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(dcol, geometry, n, dx);
  check_launch();
}

void CudaBackend::max_pool_forward(const float* x, const ew::PoolGeometry& geometry, int rows,
                                   float* y, uint8_t* argmax) {
  const size_t n =
      static_cast<size_t>(rows) * geometry.out_height() * geometry.out_width() * geometry.channels;
  if (n == 0) return;
  max_pool_forward_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(x, geometry, n, y, argmax);
  check_launch();
}

void CudaBackend::max_pool_backward(const float* dy, const uint8_t* argmax,
                                    const ew::PoolGeometry& geometry, int rows, float* dx) {
  const size_t n = static_cast<size_t>(rows) * geometry.height * geometry.width * geometry.channels;
  if (n == 0) return;
  max_pool_backward_kernel<<<blocks_for(n), kThreads, 0, stream_>>>(dy, argmax, geometry, n, dx);
  check_launch();
}

}  // namespace dptrain::cuda
