#include "dptrain/optim/adam.hpp"

namespace dptrain {

Adam::Adam(Backend& backend, size_t size, const AdamOptions& options)
    : backend_(backend), options_(options), m_(backend, size), v_(backend, size) {
  backend_.fill(m_.data(), size, 0.0f);
  backend_.fill(v_.data(), size, 0.0f);
}

ew::AdamStep Adam::constants(const AdamOptions& options, int64_t t) {
  return ew::adam_constants(options.hyper(), t);
}

void Adam::step(float* params, const float* grads) {
  ++steps_taken_;
  backend_.adam_update(params, grads, m_.data(), v_.data(), m_.size(),
                       constants(options_, steps_taken_));
}

void Adam::guarded_step(float* params, const float* grads, const ew::StepGuard* guard) {
  backend_.guarded_adam_update(params, grads, m_.data(), v_.data(), m_.size(), guard);
}

}  // namespace dptrain
