#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dptrain/core/conv_elements.hpp"
#include "dptrain/core/elementwise.hpp"
#include "dptrain/core/step_guard.hpp"

namespace dptrain {

enum class Transpose : bool { no = false, yes = true };

// The math of a training step on one device. Every pointer argument is memory of this backend
// (host memory for the CPU backend, device memory for CUDA), obtained from allocate_bytes().
// Matrices are row-major; gemm follows BLAS names with row-major leading dimensions:
//   C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C,   op(X) = X or X^T.
// Operations run in order on the backend's queue; only the copy functions and all_finite wait
// for it, and no training step calls them (the step never waits for the device; see
// core/step_guard.hpp for how a non-finite gradient is handled without the host).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  virtual void* allocate_bytes(size_t bytes) = 0;
  virtual void free_bytes(void* pointer) noexcept = 0;
  virtual void copy_to_device(void* device, const void* host, size_t bytes) = 0;
  virtual void copy_to_host(void* host, const void* device, size_t bytes) = 0;
  // Between two places of this backend's memory, in its order. Does not wait.
  virtual void copy_within(void* to, const void* from, size_t bytes) = 0;

  // A sequence of this backend's operations recorded once (a CUDA graph) and replayed, as one
  // launch, with the same arguments: the same pointers, the same values.
  class Recording {
   public:
    virtual ~Recording() = default;
    virtual void replay() = 0;
  };
  virtual bool records() const { return false; }
  // Records what `work` queues instead of running it; null where the backend cannot record
  // (then `work` has not run). While it records, nothing may wait for the backend.
  virtual std::unique_ptr<Recording> record(const std::function<void()>& /*work*/) {
    return nullptr;
  }
  // Whether the host may read and write this backend's memory directly (MPI included).
  virtual bool host_accessible() const { return false; }
  // The CUDA stream this backend queues its kernels on (a void*, so that this header needs no
  // CUDA), for kernels launched outside the backend (backend/element_loop.hpp); null for the
  // backends that compute on the host.
  virtual void* device_stream() const { return nullptr; }
  // for_each_element's loop where there is no device stream (backend/element_loop.hpp):
  // loop(functor, n), in the backend's order. A backend that defers its work (the tests'
  // replaying backend, as a CUDA graph would) keeps a copy of the functor's functor_bytes and
  // runs the loop in turn; the others run it now.
  using HostLoop = void (*)(const void* functor, size_t n);
  virtual void run_host_loop(HostLoop loop, const void* functor, size_t /*functor_bytes*/,
                             size_t n) {
    loop(functor, n);
  }
  // Host memory for staging transfers, page-locked where the device copies faster from it.
  virtual void* allocate_pinned_bytes(size_t bytes);
  virtual void free_pinned_bytes(void* pointer) noexcept;

  virtual void gemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha,
                    const float* a, int lda, const float* b, int ldb, float beta, float* c,
                    int ldc) = 0;

  // y[r, j] = activate(y[r, j] + bias[j]) for every row r.
  virtual void bias_activation_forward(float* y, const float* bias, int rows, int cols,
                                       ew::Activation activation) = 0;
  // dy[i] = activation_backward(dy[i], y[i]) for n elements, in place.
  virtual void activation_backward(float* dy, const float* y, size_t n,
                                   ew::Activation activation) = 0;
  // dbias[j] = sum over rows of dy[r, j].
  virtual void bias_gradient(const float* dy, int rows, int cols, float* dbias) = 0;

  // Per row: *loss_sum += softmax cross-entropy of logits against labels; if dlogits is not
  // null it receives the gradient of grad_scale * (sum of the row losses).
  virtual void softmax_cross_entropy(const float* logits, const int32_t* labels, int rows, int cols,
                                     float grad_scale, float* dlogits, double* loss_sum) = 0;
  // confusion[label * cols + prediction] += 1 for every row, the prediction being the largest
  // logit (the first on ties).
  virtual void accumulate_confusion(const float* logits, const int32_t* labels, int rows, int cols,
                                    int64_t* confusion) = 0;
  // Whether none of the n values is a NaN or an infinity. Waits for the backend.
  virtual bool all_finite(const float* data, size_t n) = 0;
  // *first_index = the smaller of itself and the index of the first NaN or infinity among the n
  // values (unchanged if there is none). Does not wait.
  virtual void find_non_finite(const float* data, size_t n, uint64_t* first_index) = 0;
  // partial_bits[b] = the bits of the double sum of squares of data's elements
  // [b * ew::kNormBlock, (b + 1) * ew::kNormBlock) within n, added in an order fixed by the
  // backend, for each of ew::norm_blocks(n) blocks (--clip-norm's global norm, summed by
  // ew::norm_from_blocks). Does not wait.
  virtual void block_sums_of_squares(const float* data, size_t n, int64_t* partial_bits) = 0;
  // ew::decide_step(*guard, policy, host_index, agreement), in the backend's order. Does not
  // wait.
  virtual void decide_step(ew::StepGuard* guard, const ew::StepPolicy& policy, uint64_t host_index,
                           const int64_t* agreement) = 0;

  // The optimizer's update of n elements (ew::apply_update): params, grads and each of `state`'s
  // tensors point at the range's first element.
  virtual void optimizer_update(float* params, const float* grads, ew::StateTensors state, size_t n,
                                const ew::UpdateStep& step) = 0;
  // The same with guard->constants, if guard->apply (decide_step); otherwise nothing changes.
  virtual void guarded_optimizer_update(float* params, const float* grads, ew::StateTensors state,
                                        size_t n, const ew::StepGuard* guard) = 0;

  // x[r, :] = images[indices[r], :] / 255 and y[r] = labels[indices[r]] for r < rows.
  virtual void gather_batch(const uint8_t* images, const int32_t* labels, int pixels,
                            const uint32_t* indices, int rows, float* x, int32_t* y) = 0;
  // The same for float features, which enter the model as they are: x[r, :] =
  // features[indices[r], :].
  virtual void gather_feature_batch(const float* features, const int32_t* labels, int width,
                                    const uint32_t* indices, int rows, float* x, int32_t* y) = 0;

  virtual void fill(float* data, size_t n, float value) = 0;
  // target[i] += source[i] for n elements (micro-batch gradients into the step's sum).
  virtual void add(float* target, const float* source, size_t n) = 0;

  // --exact's fixed-point sums (core/fixed_point.hpp), for the n elements of one tensor's range:
  // acc[i] = ew::to_fixed_point(g[i], scale), plus acc[i]'s previous value if `accumulate`; and
  // *max_magnitude = the largest of itself and every |g[i]| (ew::magnitude_bits: NaN as infinity).
  virtual void to_fixed_point(const float* g, size_t n, double scale, bool accumulate, int64_t* acc,
                              float* max_magnitude) = 0;
  // g[i] = ew::from_fixed_point(acc[i], inverse_scale).
  virtual void from_fixed_point(const int64_t* acc, size_t n, double inverse_scale, float* g) = 0;

  // Convolution as a GEMM (conv_elements.hpp): col[rows * out_h * out_w, patch] receives the
  // taps of x [rows, height, width, channels], zeros in the padding.
  virtual void im2col(const float* x, const ew::ConvGeometry& geometry, int rows, float* col) = 0;
  // dx [rows, height, width, channels] = for each pixel, the sum of dcol over the taps that read
  // it (ew::col2im_element). Overwrites dx.
  virtual void col2im(const float* dcol, const ew::ConvGeometry& geometry, int rows, float* dx) = 0;
  // y [rows, out_h, out_w, channels] = the window maxima of x, argmax their window positions.
  virtual void max_pool_forward(const float* x, const ew::PoolGeometry& geometry, int rows,
                                float* y, uint8_t* argmax) = 0;
  // dx [rows, height, width, channels] from dy and the forward's argmax; overwrites dx.
  virtual void max_pool_backward(const float* dy, const uint8_t* argmax,
                                 const ew::PoolGeometry& geometry, int rows, float* dx) = 0;

  // A hint that the rows `indices` of `images` will be gathered next, so that their memory can
  // be on its way while the current step computes. May do nothing.
  // Rows are row_bytes bytes each.
  virtual void prefetch_rows(const void* /*rows_data*/, size_t /*row_bytes*/,
                             const uint32_t* /*indices*/, int /*rows*/) {}
};

enum class Memory { device, pinned };

// Memory of a backend that frees itself; moves, never copies. Device memory for the backend's
// operations, or page-locked host memory for staging transfers.
template <class T, Memory kind = Memory::device>
class BackendArray {
 public:
  BackendArray() = default;
  BackendArray(Backend& backend, size_t size)
      : backend_(&backend),
        data_(static_cast<T*>(kind == Memory::device
                                  ? backend.allocate_bytes(size * sizeof(T))
                                  : backend.allocate_pinned_bytes(size * sizeof(T)))),
        size_(size) {}
  BackendArray(BackendArray&& other) noexcept { *this = std::move(other); }
  BackendArray& operator=(BackendArray&& other) noexcept {
    std::swap(backend_, other.backend_);
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~BackendArray() {
    if (data_ == nullptr) return;
    if (kind == Memory::device) {
      backend_->free_bytes(data_);
    } else {
      backend_->free_pinned_bytes(data_);
    }
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t bytes() const { return size_ * sizeof(T); }

 private:
  Backend* backend_ = nullptr;
  T* data_ = nullptr;
  size_t size_ = 0;
};

template <class T>
using DeviceArray = BackendArray<T, Memory::device>;
template <class T>
using PinnedArray = BackendArray<T, Memory::pinned>;

// A copy of host values in the backend's memory (set-up only: it allocates and waits).
template <class T>
DeviceArray<T> upload(Backend& backend, const std::vector<T>& host) {
  DeviceArray<T> array(backend, host.size());
  backend.copy_to_device(array.data(), host.data(), array.bytes());
  return array;
}

}  // namespace dptrain
