#pragma once

// A CPU backend that records as a CUDA graph does: while a recording is made, every operation
// is kept with its arguments (pointers and values, as they were then) instead of running, and a
// replay runs them all again, in order, with exactly those arguments. A wait while recording is
// an error, as in a CUDA stream capture. With it the CPU tests show that a step can be replayed:
// anything of the step that changes from step to step without going through the backend's
// memory would make the replayed training differ from the launched one.
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/comm/communicator.hpp"

namespace dptrain::testing {

class ReplayingBackend final : public Backend {
 public:
  ReplayingBackend() : cpu_(1) {}
  int recordings = 0;
  int replays = 0;
  size_t recorded_operations = 0;  // in the latest recording: kernels, GEMMs and copies

  std::string name() const override { return "replaying " + cpu_.name(); }
  void run_host_loop(HostLoop loop, const void* functor, size_t functor_bytes, size_t n) override {
    // The functor is the caller's, gone by the replay: a copy of its bytes (trivially copyable,
    // aligned as new aligns) goes with the operation.
    auto copy = std::make_shared<std::vector<std::max_align_t>>(
        (functor_bytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t));
    std::memcpy(copy->data(), functor, functor_bytes);
    queue([=] { loop(copy->data(), n); });
  }
  void* allocate_bytes(size_t bytes) override {
    refuse("allocate_bytes");
    return cpu_.allocate_bytes(bytes);
  }
  void free_bytes(void* pointer) noexcept override { cpu_.free_bytes(pointer); }
  void copy_to_device(void* device, const void* host, size_t bytes) override {
    refuse("copy_to_device");
    cpu_.copy_to_device(device, host, bytes);
  }
  void copy_to_host(void* host, const void* device, size_t bytes) override {
    refuse("copy_to_host");
    cpu_.copy_to_host(host, device, bytes);
  }
  void copy_within(void* to, const void* from, size_t bytes) override {
    queue([=, this] { cpu_.copy_within(to, from, bytes); });
  }
  bool all_finite(const float* data, size_t n) override {
    refuse("all_finite");
    return cpu_.all_finite(data, n);
  }

  bool records() const override { return true; }
  std::unique_ptr<Recording> record(const std::function<void()>& work) override {
    if (recording_ != nullptr) throw std::logic_error("a recording within a recording");
    auto recording = std::make_unique<Replay>(*this);
    recording_ = &recording->operations;
    try {
      work();
    } catch (...) {
      recording_ = nullptr;
      throw;
    }
    recording_ = nullptr;
    ++recordings;
    recorded_operations = recording->operations.size();
    return recording;
  }

  void gemm(Transpose trans_a, Transpose trans_b, int m, int n, int k, float alpha, const float* a,
            int lda, const float* b, int ldb, float beta, float* c, int ldc) override {
    queue([=, this] { cpu_.gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); });
  }
  void bias_activation_forward(float* y, const float* bias, int rows, int cols,
                               ew::Activation activation) override {
    queue([=, this] { cpu_.bias_activation_forward(y, bias, rows, cols, activation); });
  }
  void activation_backward(float* dy, const float* y, size_t n,
                           ew::Activation activation) override {
    queue([=, this] { cpu_.activation_backward(dy, y, n, activation); });
  }
  void bias_gradient(const float* dy, int rows, int cols, float* dbias) override {
    queue([=, this] { cpu_.bias_gradient(dy, rows, cols, dbias); });
  }
  void softmax_cross_entropy(const float* logits, const int32_t* labels, int rows, int cols,
                             float grad_scale, float* dlogits, double* loss_sum) override {
    queue([=, this] {
      cpu_.softmax_cross_entropy(logits, labels, rows, cols, grad_scale, dlogits, loss_sum);
    });
  }
  void accumulate_confusion(const float* logits, const int32_t* labels, int rows, int cols,
                            int64_t* confusion) override {
    queue([=, this] { cpu_.accumulate_confusion(logits, labels, rows, cols, confusion); });
  }
  void find_non_finite(const float* data, size_t n, uint64_t* first_index) override {
    queue([=, this] { cpu_.find_non_finite(data, n, first_index); });
  }
  void block_sums_of_squares(const float* data, size_t n, int64_t* partial_bits) override {
    queue([=, this] { cpu_.block_sums_of_squares(data, n, partial_bits); });
  }
  void decide_step(ew::StepGuard* guard, const ew::StepPolicy& policy, uint64_t host_index,
                   const int64_t* agreement) override {
    queue([=, this] { cpu_.decide_step(guard, policy, host_index, agreement); });
  }
  void optimizer_update(float* params, const float* grads, ew::StateTensors state, size_t n,
                        const ew::UpdateStep& step) override {
    queue([=, this] { cpu_.optimizer_update(params, grads, state, n, step); });
  }
  void guarded_optimizer_update(float* params, const float* grads, ew::StateTensors state, size_t n,
                                const ew::StepGuard* guard) override {
    queue([=, this] { cpu_.guarded_optimizer_update(params, grads, state, n, guard); });
  }
  void gather_batch(const uint8_t* images, const int32_t* labels, int pixels,
                    const uint32_t* indices, int rows, float* x, int32_t* y) override {
    queue([=, this] { cpu_.gather_batch(images, labels, pixels, indices, rows, x, y); });
  }
  void gather_feature_batch(const float* features, const int32_t* labels, int width,
                            const uint32_t* indices, int rows, float* x, int32_t* y) override {
    queue([=, this] { cpu_.gather_feature_batch(features, labels, width, indices, rows, x, y); });
  }
  void fill(float* data, size_t n, float value) override {
    queue([=, this] { cpu_.fill(data, n, value); });
  }
  void add(float* target, const float* source, size_t n) override {
    queue([=, this] { cpu_.add(target, source, n); });
  }
  void to_fixed_point(const float* g, size_t n, double scale, bool accumulate, int64_t* acc,
                      float* max_magnitude) override {
    queue([=, this] { cpu_.to_fixed_point(g, n, scale, accumulate, acc, max_magnitude); });
  }
  void from_fixed_point(const int64_t* acc, size_t n, double inverse_scale, float* g) override {
    queue([=, this] { cpu_.from_fixed_point(acc, n, inverse_scale, g); });
  }
  void im2col(const float* x, const ew::ConvGeometry& geometry, int rows, float* col) override {
    queue([=, this] { cpu_.im2col(x, geometry, rows, col); });
  }
  void col2im(const float* dcol, const ew::ConvGeometry& geometry, int rows, float* dx) override {
    queue([=, this] { cpu_.col2im(dcol, geometry, rows, dx); });
  }
  void max_pool_forward(const float* x, const ew::PoolGeometry& geometry, int rows, float* y,
                        uint8_t* argmax) override {
    queue([=, this] { cpu_.max_pool_forward(x, geometry, rows, y, argmax); });
  }
  void max_pool_backward(const float* dy, const uint8_t* argmax, const ew::PoolGeometry& geometry,
                         int rows, float* dx) override {
    queue([=, this] { cpu_.max_pool_backward(dy, argmax, geometry, rows, dx); });
  }

 private:
  class Replay final : public Recording {
   public:
    explicit Replay(ReplayingBackend& backend) : backend_(backend) {}
    void replay() override {
      if (backend_.recording_ != nullptr) throw std::logic_error("a replay while recording");
      for (const std::function<void()>& operation : operations)
        operation();
      ++backend_.replays;
    }
    std::vector<std::function<void()>> operations;

   private:
    ReplayingBackend& backend_;
  };

  void queue(std::function<void()> operation) {
    if (recording_ != nullptr) {
      recording_->push_back(std::move(operation));
    } else {
      operation();
    }
  }
  void refuse(const char* what) const {
    if (recording_ != nullptr)
      throw std::logic_error(std::string(what) + " while recording: it would wait or allocate");
  }

  CpuBackend cpu_;
  std::vector<std::function<void()>>* recording_ = nullptr;
};

// One replica alone whose "sum" queues nothing: recordable, as NCCL is.
class AloneCommunicator final : public Communicator {
 public:
  std::string name() const override { return "alone"; }
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce(SumBuffer /*buffer*/) override {}
  void reduce_scatter(SumBuffer /*buffer*/) override {}
  void allgather(float* /*data*/, size_t /*count*/) override {}
  void allreduce_max(float* /*data*/, size_t /*count*/) override {}
  void broadcast(float* /*data*/, size_t /*count*/, int /*root*/) override {}
  bool recordable() const override { return true; }
};

}  // namespace dptrain::testing
