#include "dptrain/backend/cpu_backend.hpp"

#include <cblas.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>

#include "dptrain/core/fixed_point.hpp"

namespace dptrain {
namespace {

constexpr size_t kAlignment = 64;  // a cache line, and the widest vector register

CBLAS_TRANSPOSE to_cblas(Transpose t) {
  return t == Transpose::yes ? CblasTrans : CblasNoTrans;
}

// The element-wise loops, each compiled twice: for AVX2 machines (x86-64-v3) and for any
// x86-64 (the fixed-point ones also for AVX-512, x86-64-v4), the right one chosen when the
// program starts (GCC function multi-versioning). All compute bit-identical results: the
// operations are IEEE-exact and never contracted into FMAs (ISO C++ mode), so ranks on
// different CPUs keep identical replicas.
namespace loops {

// Not under ThreadSanitizer: it instruments the resolvers that pick a clone, which run before its
// runtime starts (every program crashed at start-up).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_THREAD__)
#define DPTRAIN_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
// The fixed-point conversions also gain from AVX-512 (8 doubles a vector, native int64 lanes).
#define DPTRAIN_SIMD_CLONES_AVX512 \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DPTRAIN_SIMD_CLONES
#define DPTRAIN_SIMD_CLONES_AVX512
#endif

DPTRAIN_SIMD_CLONES void bias_activation_forward(float* __restrict y, const float* __restrict bias,
                                                 int rows, int cols, ew::Activation activation) {
  for (int r = 0; r < rows; ++r) {
    float* __restrict row = y + static_cast<size_t>(r) * cols;
    for (int j = 0; j < cols; ++j)
      row[j] = ew::activate(row[j] + bias[j], activation);
  }
}

DPTRAIN_SIMD_CLONES void activation_backward(float* __restrict dy, const float* __restrict y,
                                             size_t n, ew::Activation activation) {
  for (size_t i = 0; i < n; ++i)
    dy[i] = ew::activation_backward(dy[i], y[i], activation);
}

DPTRAIN_SIMD_CLONES void bias_gradient(const float* __restrict dy, int rows, int cols,
                                       float* __restrict dbias) {
  std::fill(dbias, dbias + cols, 0.0f);
  for (int r = 0; r < rows; ++r) {
    const float* __restrict row = dy + static_cast<size_t>(r) * cols;
    for (int j = 0; j < cols; ++j)
      dbias[j] += row[j];
  }
}

// On the bits, so that it vectorises: a float is finite unless its exponent is all ones.
DPTRAIN_SIMD_CLONES bool all_finite(const float* __restrict data, size_t n) {
  uint32_t non_finite = 0;
  for (size_t i = 0; i < n; ++i)
    non_finite |= ew::is_non_finite_bits(std::bit_cast<uint32_t>(data[i])) ? 1u : 0u;
  return non_finite == 0;
}

// Gradients scaled first (ew::apply_update); one loop per rule, so that each vectorises.
DPTRAIN_SIMD_CLONES void adam_update(float* __restrict params, const float* __restrict grads,
                                     float* __restrict m, float* __restrict v, size_t n,
                                     float grad_scale, ew::AdamStep s) {
  for (size_t i = 0; i < n; ++i)
    ew::adam_update(params[i], grads[i] * grad_scale, m[i], v[i], s);
}

DPTRAIN_SIMD_CLONES void sgd_momentum_update(float* __restrict params,
                                             const float* __restrict grads,
                                             float* __restrict velocity, size_t n, float grad_scale,
                                             ew::SgdStep s) {
  for (size_t i = 0; i < n; ++i)
    ew::sgd_momentum_update(params[i], grads[i] * grad_scale, velocity[i], s);
}

DPTRAIN_SIMD_CLONES void sgd_update(float* __restrict params, const float* __restrict grads,
                                    size_t n, float grad_scale, ew::SgdStep s) {
  for (size_t i = 0; i < n; ++i)
    ew::sgd_update(params[i], grads[i] * grad_scale, s);
}

// Eight running sums, element i into lane i % 8, then the lanes in order: a fixed order that
// vectorises without reassociating anything.
DPTRAIN_SIMD_CLONES double sum_of_squares(const float* __restrict data, size_t n) {
  constexpr size_t kLanes = 8;
  double lanes[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (size_t l = 0; l < kLanes; ++l) {
      const double x = data[i + l];
      lanes[l] += x * x;
    }
  for (size_t l = 0; i < n; ++i, ++l) {
    const double x = data[i];
    lanes[l] += x * x;
  }
  double sum = 0.0;
  for (double lane : lanes)
    sum += lane;
  return sum;
}

// Row values are uint8 pixels or float features (ew::row_value_to_input). The loop is inlined
// into one clone set per value type: clang's target_clones takes no function templates.
template <class Value>
__attribute__((always_inline)) inline void gather_rows(const Value* __restrict source_rows,
                                                       const int32_t* __restrict labels, int width,
                                                       const uint32_t* __restrict indices, int rows,
                                                       float* __restrict x, int32_t* __restrict y) {
  for (int r = 0; r < rows; ++r) {
    const Value* __restrict source = source_rows + static_cast<size_t>(indices[r]) * width;
    float* __restrict target = x + static_cast<size_t>(r) * width;
    for (int p = 0; p < width; ++p)
      target[p] = ew::row_value_to_input(source[p]);
    y[r] = labels[indices[r]];
  }
}

DPTRAIN_SIMD_CLONES void gather_batch(const uint8_t* __restrict source_rows,
                                      const int32_t* __restrict labels, int width,
                                      const uint32_t* __restrict indices, int rows,
                                      float* __restrict x, int32_t* __restrict y) {
  gather_rows(source_rows, labels, width, indices, rows, x, y);
}

DPTRAIN_SIMD_CLONES void gather_batch(const float* __restrict source_rows,
                                      const int32_t* __restrict labels, int width,
                                      const uint32_t* __restrict indices, int rows,
                                      float* __restrict x, int32_t* __restrict y) {
  gather_rows(source_rows, labels, width, indices, rows, x, y);
}

DPTRAIN_SIMD_CLONES void add(float* __restrict target, const float* __restrict source, size_t n) {
  for (size_t i = 0; i < n; ++i)
    target[i] += source[i];
}

DPTRAIN_SIMD_CLONES_AVX512 void to_fixed_point(const float* __restrict g, size_t n, double scale,
                                               bool accumulate, int64_t* __restrict acc,
                                               float* __restrict max_magnitude) {
  if (accumulate) {
    for (size_t i = 0; i < n; ++i)
      acc[i] = static_cast<int64_t>(static_cast<uint64_t>(acc[i]) +
                                    static_cast<uint64_t>(ew::to_fixed_point(g[i], scale)));
  } else {
    for (size_t i = 0; i < n; ++i)
      acc[i] = ew::to_fixed_point(g[i], scale);
  }
  uint32_t largest = ew::magnitude_bits(*max_magnitude);
  for (size_t i = 0; i < n; ++i)
    largest = std::max(largest, ew::magnitude_bits(g[i]));
  *max_magnitude = ew::float_of_bits(largest);
}

DPTRAIN_SIMD_CLONES_AVX512 void from_fixed_point(const int64_t* __restrict acc, size_t n,
                                                 double inverse_scale, float* __restrict g) {
  for (size_t i = 0; i < n; ++i)
    g[i] = ew::from_fixed_point(acc[i], inverse_scale);
}

// The CPU versions of the convolution and pooling loops visit whole pixels with the channels
// innermost, so that their work is contiguous blocks. They compute exactly what the shared
// element functions of conv_elements.hpp (which the CUDA kernels run) compute, element by
// element and in the same order of additions; tests/unit/conv_test.cpp holds them to it.
// Every kernel row (one kh, all kw and channels: kernel * channels columns) of every im2col row,
// in order: visit(col, image, begin, length) with col the kernel row's first element in the
// im2col matrix, and its columns [begin, begin + length) the taps inside the image, read from
// the NHWC image at `image` onwards (begin and length 0: none is).
template <class Visit>
inline void for_each_kernel_row(const ew::ConvGeometry& g, int rows, Visit visit) {
  const int out_h = g.out_height(), out_w = g.out_width();
  const size_t channels = static_cast<size_t>(g.channels);
  const size_t tap_row = static_cast<size_t>(g.kernel) * channels;
  size_t col = 0;
  for (size_t n = 0; n < static_cast<size_t>(rows); ++n)
    for (int ho = 0; ho < out_h; ++ho)
      for (int wo = 0; wo < out_w; ++wo) {
        const int w0 = wo * g.stride - g.pad;
        const int kw_begin = std::max(0, -w0);
        const int kw_end = std::min(g.kernel, g.width - w0);
        for (int kh = 0; kh < g.kernel; ++kh, col += tap_row) {
          const int h = ho * g.stride + kh - g.pad;
          const bool inside = h >= 0 && h < g.height && kw_begin < kw_end;
          const size_t image =
              inside ? ((n * g.height + h) * g.width + (w0 + kw_begin)) * channels : 0;
          visit(col, image, inside ? static_cast<size_t>(kw_begin) * channels : 0,
                inside ? static_cast<size_t>(kw_end - kw_begin) * channels : 0);
        }
      }
}

DPTRAIN_SIMD_CLONES void im2col(const float* __restrict x, const ew::ConvGeometry& g, int rows,
                                float* __restrict col) {
  const size_t tap_row = static_cast<size_t>(g.kernel) * g.channels;
  for_each_kernel_row(g, rows, [&](size_t at, size_t image, size_t begin, size_t length) {
    float* __restrict target = col + at;
    const float* __restrict source = x + image;
    for (size_t i = 0; i < begin; ++i)
      target[i] = 0.0f;
    for (size_t i = 0; i < length; ++i)
      target[begin + i] = source[i];
    for (size_t i = begin + length; i < tap_row; ++i)
      target[i] = 0.0f;
  });
}

// A scatter over the im2col rows in order, each kernel row's in-image taps one contiguous add.
DPTRAIN_SIMD_CLONES void col2im(const float* __restrict dcol, const ew::ConvGeometry& g, int rows,
                                float* __restrict dx) {
  const size_t inputs = static_cast<size_t>(rows) * g.height * g.width * g.channels;
  for (size_t i = 0; i < inputs; ++i)
    dx[i] = 0.0f;
  for_each_kernel_row(g, rows, [&](size_t at, size_t image, size_t begin, size_t length) {
    float* __restrict target = dx + image;
    const float* __restrict source = dcol + at + begin;
    for (size_t i = 0; i < length; ++i)
      target[i] += source[i];
  });
}

// Window taps in (kh, kw) order, each compared for all channels at once.
DPTRAIN_SIMD_CLONES void max_pool_forward(const float* __restrict x, const ew::PoolGeometry& g,
                                          int rows, float* __restrict y,
                                          uint8_t* __restrict argmax) {
  const size_t channels = static_cast<size_t>(g.channels);
  const int out_h = g.out_height(), out_w = g.out_width();
  for (size_t n = 0; n < static_cast<size_t>(rows); ++n)
    for (int ho = 0; ho < out_h; ++ho)
      for (int wo = 0; wo < out_w; ++wo, y += channels, argmax += channels) {
        const float* __restrict corner =
            x + ((n * g.height + static_cast<size_t>(ho) * g.stride) * g.width +
                 static_cast<size_t>(wo) * g.stride) *
                    channels;
        for (size_t c = 0; c < channels; ++c) {
          y[c] = corner[c];
          argmax[c] = 0;
        }
        for (int kh = 0; kh < g.window; ++kh)
          for (int kw = 0; kw < g.window; ++kw) {
            const float* __restrict tap =
                corner + (static_cast<size_t>(kh) * g.width + static_cast<size_t>(kw)) * channels;
            const uint8_t at = static_cast<uint8_t>(kh * g.window + kw);
            for (size_t c = 0; c < channels; ++c) {
              const bool larger = tap[c] > y[c];
              y[c] = larger ? tap[c] : y[c];
              argmax[c] = larger ? at : argmax[c];
            }
          }
      }
}

// A scatter: every output adds its gradient to the input at its argmax. Outputs go in (ho, wo)
// order, so each input element sums its windows in the order of the gather,
// ew::max_pool_gradient_element.
DPTRAIN_SIMD_CLONES void max_pool_backward(const float* __restrict dy,
                                           const uint8_t* __restrict argmax,
                                           const ew::PoolGeometry& g, int rows,
                                           float* __restrict dx) {
  const size_t channels = static_cast<size_t>(g.channels);
  const size_t inputs = static_cast<size_t>(rows) * g.height * g.width * channels;
  for (size_t i = 0; i < inputs; ++i)
    dx[i] = 0.0f;
  const int out_h = g.out_height(), out_w = g.out_width();
  for (size_t n = 0; n < static_cast<size_t>(rows); ++n)
    for (int ho = 0; ho < out_h; ++ho)
      for (int wo = 0; wo < out_w; ++wo, dy += channels, argmax += channels) {
        float* __restrict corner =
            dx + ((n * g.height + static_cast<size_t>(ho) * g.stride) * g.width +
                  static_cast<size_t>(wo) * g.stride) *
                     channels;
        for (size_t c = 0; c < channels; ++c) {
          const int kh = argmax[c] / g.window, kw = argmax[c] % g.window;
          corner[(static_cast<size_t>(kh) * g.width + static_cast<size_t>(kw)) * channels + c] +=
              dy[c];
        }
      }
}

}  // namespace loops

}  // namespace

CpuBackend::CpuBackend(int blas_threads) : blas_threads_(std::max(1, blas_threads)) {
  openblas_set_num_threads(blas_threads_);
}

std::string CpuBackend::name() const {
  return "cpu (OpenBLAS, " + std::to_string(blas_threads_) + " thread" +
         (blas_threads_ == 1 ? ")" : "s)");
}

void* CpuBackend::allocate_bytes(size_t bytes) {
  const size_t rounded = (std::max<size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
  void* pointer = std::aligned_alloc(kAlignment, rounded);
  if (pointer == nullptr) throw std::bad_alloc();
  return pointer;
}

void CpuBackend::free_bytes(void* pointer) noexcept {
  std::free(pointer);
}

void CpuBackend::copy_to_device(void* device, const void* host, size_t bytes) {
  if (bytes > 0) std::memcpy(device, host, bytes);
}

void CpuBackend::copy_to_host(void* host, const void* device, size_t bytes) {
  if (bytes > 0) std::memcpy(host, device, bytes);
}

void CpuBackend::copy_within(void* to, const void* from, size_t bytes) {
  if (bytes > 0) std::memcpy(to, from, bytes);
}

void CpuBackend::gemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
                      const float* a, int lda, const float* b, int ldb, float beta, float* c,
                      int ldc) {
  cblas_sgemm(CblasRowMajor, to_cblas(trans_a), to_cblas(trans_b), m, n, k, alpha, a, lda, b, ldb,
              beta, c, ldc);
}

void CpuBackend::bias_activation_forward(float* y, const float* bias, int rows, int cols,
                                         ew::Activation activation) {
  loops::bias_activation_forward(y, bias, rows, cols, activation);
}

void CpuBackend::activation_backward(float* dy, const float* y, size_t n,
                                     ew::Activation activation) {
  loops::activation_backward(dy, y, n, activation);
}

void CpuBackend::bias_gradient(const float* dy, int rows, int cols, float* dbias) {
  loops::bias_gradient(dy, rows, cols, dbias);
}

void CpuBackend::softmax_cross_entropy(const float* logits, const int32_t* labels, int rows,
                                       int cols, float grad_scale, float* dlogits,
                                       double* loss_sum) {
  double sum = 0.0;
  for (int r = 0; r < rows; ++r) {
    const size_t offset = static_cast<size_t>(r) * cols;
    sum += ew::softmax_cross_entropy_row(logits + offset, cols, labels[r], grad_scale,
                                         dlogits == nullptr ? nullptr : dlogits + offset);
  }
  *loss_sum += sum;
}

void CpuBackend::accumulate_confusion(const float* logits, const int32_t* labels, int rows,
                                      int cols, int64_t* confusion) {
  for (int r = 0; r < rows; ++r) {
    const int predicted = ew::argmax_row(logits + static_cast<size_t>(r) * cols, cols);
    ++confusion[static_cast<size_t>(labels[r]) * cols + predicted];
  }
}

bool CpuBackend::all_finite(const float* data, size_t n) {
  return loops::all_finite(data, n);
}

void CpuBackend::find_non_finite(const float* data, size_t n, uint64_t* first_index) {
  if (loops::all_finite(data, n)) return;  // the common case, vectorised
  for (size_t i = 0; i < n && i < *first_index; ++i)
    if (ew::is_non_finite_bits(std::bit_cast<uint32_t>(data[i]))) {
      *first_index = i;
      return;
    }
}

void CpuBackend::block_sums_of_squares(const float* data, size_t n, int64_t* partial_bits) {
  for (size_t b = 0; b < ew::norm_blocks(n); ++b) {
    const size_t begin = b * ew::kNormBlock;
    partial_bits[b] = ew::bits_of_double(
        loops::sum_of_squares(data + begin, std::min(n - begin, ew::kNormBlock)));
  }
}

void CpuBackend::decide_step(ew::StepGuard* guard, const ew::StepPolicy& policy,
                             uint64_t host_index, const int64_t* agreement) {
  ew::decide_step(*guard, policy, host_index, agreement);
}

void CpuBackend::optimizer_update(float* params, const float* grads, ew::StateTensors state,
                                  size_t n, const ew::UpdateStep& step) {
  if (step.rule == ew::UpdateRule::adam) {
    loops::adam_update(params, grads, state.tensor[0], state.tensor[1], n, step.grad_scale,
                       step.adam);
  } else if (state.tensor[0] != nullptr) {
    loops::sgd_momentum_update(params, grads, state.tensor[0], n, step.grad_scale, step.sgd);
  } else {
    loops::sgd_update(params, grads, n, step.grad_scale, step.sgd);
  }
}

void CpuBackend::guarded_optimizer_update(float* params, const float* grads, ew::StateTensors state,
                                          size_t n, const ew::StepGuard* guard) {
  if (guard->apply != 0) optimizer_update(params, grads, state, n, guard->constants);
}

void CpuBackend::gather_batch(const uint8_t* images, const int32_t* labels, int pixels,
                              const uint32_t* indices, int rows, float* x, int32_t* y) {
  loops::gather_batch(images, labels, pixels, indices, rows, x, y);
}

void CpuBackend::gather_feature_batch(const float* features, const int32_t* labels, int width,
                                      const uint32_t* indices, int rows, float* x, int32_t* y) {
  loops::gather_batch(features, labels, width, indices, rows, x, y);
}

void CpuBackend::prefetch_rows(const void* rows_data, size_t row_bytes, const uint32_t* indices,
                               int rows) {
  constexpr size_t kCacheLine = 64;
  for (int r = 0; r < rows; ++r) {
    const char* row = static_cast<const char*>(rows_data) + indices[r] * row_bytes;
    for (size_t offset = 0; offset < row_bytes; offset += kCacheLine)
      __builtin_prefetch(row + offset, /*rw=*/0, /*locality=*/1);
  }
}

void CpuBackend::im2col(const float* x, const ew::ConvGeometry& geometry, int rows, float* col) {
  loops::im2col(x, geometry, rows, col);
}

void CpuBackend::col2im(const float* dcol, const ew::ConvGeometry& geometry, int rows, float* dx) {
  loops::col2im(dcol, geometry, rows, dx);
}

void CpuBackend::max_pool_forward(const float* x, const ew::PoolGeometry& geometry, int rows,
                                  float* y, uint8_t* argmax) {
  loops::max_pool_forward(x, geometry, rows, y, argmax);
}

void CpuBackend::max_pool_backward(const float* dy, const uint8_t* argmax,
                                   const ew::PoolGeometry& geometry, int rows, float* dx) {
  loops::max_pool_backward(dy, argmax, geometry, rows, dx);
}

void CpuBackend::fill(float* data, size_t n, float value) {
  std::fill(data, data + n, value);
}

void CpuBackend::add(float* target, const float* source, size_t n) {
  loops::add(target, source, n);
}

void CpuBackend::to_fixed_point(const float* g, size_t n, double scale, bool accumulate,
                                int64_t* acc, float* max_magnitude) {
  loops::to_fixed_point(g, n, scale, accumulate, acc, max_magnitude);
}

void CpuBackend::from_fixed_point(const int64_t* acc, size_t n, double inverse_scale, float* g) {
  loops::from_fixed_point(acc, n, inverse_scale, g);
}

}  // namespace dptrain
