#pragma once

#include "dptrain/backend/backend.hpp"

namespace dptrain {

// The reference backend: OpenBLAS for GEMM, plain loops over the shared element-wise functions
// for the rest. Memory is 64-byte aligned host memory.
class CpuBackend final : public Backend {
 public:
  // blas_threads: OpenBLAS threads for this process (>= 1).
  explicit CpuBackend(int blas_threads);

  std::string name() const override;
  int blas_threads() const { return blas_threads_; }

  void* allocate_bytes(size_t bytes) override;
  void free_bytes(void* pointer) noexcept override;
  void copy_to_device(void* device, const void* host, size_t bytes) override;
  void copy_to_host(void* host, const void* device, size_t bytes) override;
  void copy_within(void* to, const void* from, size_t bytes) override;
  bool host_accessible() const override { return true; }

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
  void prefetch_rows(const void* rows_data, size_t row_bytes, const uint32_t* indices,
                     int rows) override;
  void im2col(const float* x, const ew::ConvGeometry& geometry, int rows, float* col) override;
  void col2im(const float* dcol, const ew::ConvGeometry& geometry, int rows, float* dx) override;
  void max_pool_forward(const float* x, const ew::PoolGeometry& geometry, int rows, float* y,
                        uint8_t* argmax) override;
  void max_pool_backward(const float* dy, const uint8_t* argmax, const ew::PoolGeometry& geometry,
                         int rows, float* dx) override;

 private:
  int blas_threads_;
};

// Cores of this node, and of them those this process may run on (its affinity mask, which
// mpirun and srun narrow when they bind ranks to cores).
int cores_on_node();
int cores_available();

// OpenBLAS threads per rank when the user names none: the node's cores shared among its ranks,
// no more than the rank may run on, at least one. Threads times ranks never exceed the cores.
int default_blas_threads(int ranks_on_node);

}  // namespace dptrain
