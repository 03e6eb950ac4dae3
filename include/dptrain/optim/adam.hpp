#pragma once

#include <cstdint>

#include "dptrain/backend/backend.hpp"
#include "dptrain/core/step_guard.hpp"

namespace dptrain {

struct AdamOptions {
  float lr = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;  // decoupled (AdamW); 0 is plain Adam

  ew::AdamHyper hyper() const { return {lr, beta1, beta2, eps, weight_decay}; }
};

// Adam with bias correction over a flat parameter buffer; m and v share its layout. Every replica
// runs the same update on the same averaged gradients, so replicas stay bitwise equal.
class Adam {
 public:
  Adam(Backend& backend, size_t size, const AdamOptions& options);

  // One update with step count t + 1.
  void step(float* params, const float* grads);
  // The update that `guard` (backend memory) decided on, with its constants; its step count is
  // the guard's (steps_taken() is then not kept).
  void guarded_step(float* params, const float* grads, const ew::StepGuard* guard);

  int64_t steps_taken() const { return steps_taken_; }
  void set_steps_taken(int64_t steps) { steps_taken_ = steps; }  // when resuming
  const AdamOptions& options() const { return options_; }
  DeviceArray<float>& first_moment() { return m_; }
  DeviceArray<float>& second_moment() { return v_; }

  // The per-step constants for step t >= 1, computed in double precision.
  static ew::AdamStep constants(const AdamOptions& options, int64_t t);

 private:
  Backend& backend_;
  AdamOptions options_;
  DeviceArray<float> m_;
  DeviceArray<float> v_;
  int64_t steps_taken_ = 0;
};

}  // namespace dptrain
