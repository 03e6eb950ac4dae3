#pragma once

// A CpuBackend that writes down the shape of every GEMM it runs, so that a benchmark can time
// bare sgemm on exactly the shapes a model's step issues, for any model, without a hand-kept
// list that could drift from the code.
#include <string>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"

namespace dptrain::bench {

struct GemmShape {
  Transpose trans_a;
  Transpose trans_b;
  int m;
  int n;
  int k;
  double flops() const { return 2.0 * m * n * k; }
  std::string name() const;  // "2048x64x800_NT"
};

class RecordingBackend final : public Backend {
 public:
  explicit RecordingBackend(int blas_threads) : cpu_(blas_threads) {}
  std::vector<GemmShape> gemms;  // in the order they ran

  std::string name() const override { return cpu_.name(); }
  void* allocate_bytes(size_t bytes) override { return cpu_.allocate_bytes(bytes); }
  void free_bytes(void* pointer) noexcept override { cpu_.free_bytes(pointer); }
  void copy_to_device(void* device, const void* host, size_t bytes) override {
    cpu_.copy_to_device(device, host, bytes);
  }
  void copy_to_host(void* host, const void* device, size_t bytes) override {
    cpu_.copy_to_host(host, device, bytes);
  }
  void copy_within(void* to, const void* from, size_t bytes) override {
    cpu_.copy_within(to, from, bytes);
  }
  bool host_accessible() const override { return true; }
  void gemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha, const float* a,
            int lda, const float* b, int ldb, float beta, float* c, int ldc) override {
    gemms.push_back({trans_a, trans_b, m, n, k});
    cpu_.gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
  void bias_activation_forward(float* y, const float* bias, int rows, int cols,
                               ew::Activation activation) override {
    cpu_.bias_activation_forward(y, bias, rows, cols, activation);
  }
  void activation_backward(float* dy, const float* y, size_t n,
                           ew::Activation activation) override {
    cpu_.activation_backward(dy, y, n, activation);
  }
  void bias_gradient(const float* dy, int rows, int cols, float* dbias) override {
    cpu_.bias_gradient(dy, rows, cols, dbias);
  }
  void softmax_cross_entropy(const float* logits, const int32_t* labels, int rows, int cols,
                             float grad_scale, float* dlogits, double* loss_sum) override {
    cpu_.softmax_cross_entropy(logits, labels, rows, cols, grad_scale, dlogits, loss_sum);
  }
  void accumulate_confusion(const float* logits, const int32_t* labels, int rows, int cols,
                            int64_t* confusion) override {
    cpu_.accumulate_confusion(logits, labels, rows, cols, confusion);
  }
  bool all_finite(const float* data, size_t n) override { return cpu_.all_finite(data, n); }
  void find_non_finite(const float* data, size_t n, uint64_t* first_index) override {
    cpu_.find_non_finite(data, n, first_index);
  }
  void block_sums_of_squares(const float* data, size_t n, int64_t* partial_bits) override {
    cpu_.block_sums_of_squares(data, n, partial_bits);
  }
  void decide_step(ew::StepGuard* guard, const ew::StepPolicy& policy, uint64_t host_index,
                   const int64_t* agreement) override {
    cpu_.decide_step(guard, policy, host_index, agreement);
  }
  void optimizer_update(float* params, const float* grads, ew::StateTensors state, size_t n,
                        const ew::UpdateStep& step) override {
    cpu_.optimizer_update(params, grads, state, n, step);
  }
  void guarded_optimizer_update(float* params, const float* grads, ew::StateTensors state, size_t n,
                                const ew::StepGuard* guard) override {
    cpu_.guarded_optimizer_update(params, grads, state, n, guard);
  }
  void gather_batch(const uint8_t* images, const int32_t* labels, int pixels,
                    const uint32_t* indices, int rows, float* x, int32_t* y) override {
    cpu_.gather_batch(images, labels, pixels, indices, rows, x, y);
  }
  void gather_feature_batch(const float* features, const int32_t* labels, int width,
                            const uint32_t* indices, int rows, float* x, int32_t* y) override {
    cpu_.gather_feature_batch(features, labels, width, indices, rows, x, y);
  }
  void fill(float* data, size_t n, float value) override { cpu_.fill(data, n, value); }
  void add(float* target, const float* source, size_t n) override { cpu_.add(target, source, n); }
  void to_fixed_point(const float* g, size_t n, double scale, bool accumulate, int64_t* acc,
                      float* max_magnitude) override {
    cpu_.to_fixed_point(g, n, scale, accumulate, acc, max_magnitude);
  }
  void from_fixed_point(const int64_t* acc, size_t n, double inverse_scale, float* g) override {
    cpu_.from_fixed_point(acc, n, inverse_scale, g);
  }
  void im2col(const float* x, const ew::ConvGeometry& geometry, int rows, float* col) override {
    cpu_.im2col(x, geometry, rows, col);
  }
  void col2im(const float* dcol, const ew::ConvGeometry& geometry, int rows, float* dx) override {
    cpu_.col2im(dcol, geometry, rows, dx);
  }
  void max_pool_forward(const float* x, const ew::PoolGeometry& geometry, int rows, float* y,
                        uint8_t* argmax) override {
    cpu_.max_pool_forward(x, geometry, rows, y, argmax);
  }
  void max_pool_backward(const float* dy, const uint8_t* argmax, const ew::PoolGeometry& geometry,
                         int rows, float* dx) override {
    cpu_.max_pool_backward(dy, argmax, geometry, rows, dx);
  }

 private:
  CpuBackend cpu_;
};

inline std::string GemmShape::name() const {
  return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + "_" +
         (trans_a == Transpose::yes ? "T" : "N") + (trans_b == Transpose::yes ? "T" : "N");
}

}  // namespace dptrain::bench
