#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cuda_handles.hpp"
#include "dptrain/backend/backend.hpp"
#include "dptrain/backend/device_choice.hpp"

namespace dptrain::cuda {

// Waits until the stream has passed `event` (recorded, or never recorded), polling with a
// back-off under the collective watchdog; `what` names the wait in its reports.
void wait_for_event(cudaEvent_t event, const char* what);

// The Backend on one CUDA device. Every operation is queued on the backend's stream; the
// element-wise kernels are thin loops over the DPTRAIN_HD functions that the CPU backend runs
// too; GEMMs go to cuBLAS through column_major_gemm(). Only copy_to_host and all_finite wait
// for the stream (copy_to_device only for its staging buffer). Every reduction (bias gradients,
// the loss) adds in an order fixed by the shapes alone, never by atomics on floats, so that a
// GPU run repeats bit for bit.
class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, GemmPrecision precision);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  std::string name() const override;
  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  void* device_stream() const override { return stream_; }
  // Waits for the stream, under the collective watchdog: a kernel or an NCCL collective that
  // never finishes (a peer that stopped) is reported instead of blocking for ever.
  void synchronize();

  void* allocate_bytes(size_t bytes) override;
  void free_bytes(void* pointer) noexcept override;
  void copy_to_device(void* device, const void* host, size_t bytes) override;
  void copy_to_host(void* host, const void* device, size_t bytes) override;
  void copy_within(void* to, const void* from, size_t bytes) override;
  bool records() const override { return true; }
  std::unique_ptr<Recording> record(const std::function<void()>& work) override;
  void* allocate_pinned_bytes(size_t bytes) override;
  void free_pinned_bytes(void* pointer) noexcept override;

  void gemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha, const float* a,
            int lda, const float* b, int ldb, float beta, float* c, int ldc) override;
  void bias_activation_forward(float* y, const float* bias, int rows, int cols,
                               ew::Activation activation) override;
  void activation_backward(float* dy, const float* y, size_t n, ew::Activation activation) override;
  void bias_gradient(const float* dy, int rows, int cols, float* dbias) override;
  void softmax_cross_entropy(const float* logits, const int32_t* labels, int rows, int cols,
                             float grad_scale, float* dlogits, double* loss_sum) override;
  void accumulate_confusion(const float* logits, const int32_t* labels, int rows, int cols,
                            int64_t* confusion) override;
  bool all_finite(const float* data, size_t n) override;
  void find_non_finite(const float* data, size_t n, uint64_t* first_index) override;
  void block_sums_of_squares(const float* data, size_t n, int64_t* partial_bits) override;
  void decide_step(ew::StepGuard* guard, const ew::StepPolicy& policy, uint64_t host_index,
                   const int64_t* agreement) override;
  void optimizer_update(float* params, const float* grads, ew::StateTensors state, size_t n,
                        const ew::UpdateStep& step) override;
  void guarded_optimizer_update(float* params, const float* grads, ew::StateTensors state, size_t n,
                                const ew::StepGuard* guard) override;
  void gather_batch(const uint8_t* images, const int32_t* labels, int pixels,
                    const uint32_t* indices, int rows, float* x, int32_t* y) override;
  void gather_feature_batch(const float* features, const int32_t* labels, int width,
                            const uint32_t* indices, int rows, float* x, int32_t* y) override;
  void fill(float* data, size_t n, float value) override;
  void add(float* target, const float* source, size_t n) override;
  void to_fixed_point(const float* g, size_t n, double scale, bool accumulate, int64_t* acc,
                      float* max_magnitude) override;
  void from_fixed_point(const int64_t* acc, size_t n, double inverse_scale, float* g) override;
  void im2col(const float* x, const ew::ConvGeometry& geometry, int rows, float* col) override;
  void col2im(const float* dcol, const ew::ConvGeometry& geometry, int rows, float* dx) override;
  void max_pool_forward(const float* x, const ew::PoolGeometry& geometry, int rows, float* y,
                        uint8_t* argmax) override;
  void max_pool_backward(const float* dy, const uint8_t* argmax, const ew::PoolGeometry& geometry,
                         int rows, float* dx) override;

 private:
  // After every kernel launch: launch errors always; in debug builds also the kernel's own
  // errors, by waiting for this stream (under the watchdog, not for the whole device, whose NCCL
  // stream may wait for peers), so that a fault is reported at the kernel that caused it.
  void check_launch();

  int device_;
  GemmPrecision precision_;
  // In the order of their making; released in reverse, the cuBLAS handle first.
  OwnedStream stream_;
  OwnedDeviceMemory cublas_workspace_;
  OwnedDeviceMemory column_partials_;  // bias_gradient's partial sums (ew::column_sum_plan)
  OwnedDeviceMemory found_index_;      // all_finite's answer, on the device
  static constexpr size_t kStagingHalfBytes = size_t{2} << 20;
  OwnedPinnedMemory staging_;   // copy_to_device's two halves
  OwnedEvent staging_done_[2];  // when the stream has read each half
  int next_half_ = 0;
  OwnedCublas cublas_;
};

}  // namespace dptrain::cuda
