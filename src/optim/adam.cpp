#include "dptrain/optim/adam.hpp"

#include <cmath>

namespace dptrain {

Adam::Adam(Backend& backend, size_t size, const AdamOptions& options)
    : backend_(backend), options_(options), m_(backend, size), v_(backend, size) {
  backend_.fill(m_.data(), size, 0.0f);
  backend_.fill(v_.data(), size, 0.0f);
}

ew::AdamStep Adam::constants(const AdamOptions& options, int64_t t) {
  const double bias1 = 1.0 - std::pow(static_cast<double>(options.beta1), static_cast<double>(t));
  const double bias2 = 1.0 - std::pow(static_cast<double>(options.beta2), static_cast<double>(t));
  ew::AdamStep step{};
  step.beta1 = options.beta1;
  step.beta2 = options.beta2;
  step.eps = options.eps;
  step.decay = static_cast<float>(1.0 - static_cast<double>(options.lr) * options.weight_decay);
  step.step_size = static_cast<float>(options.lr / bias1);
  step.inv_sqrt_bias2 = static_cast<float>(1.0 / std::sqrt(bias2));
  return step;
}

void Adam::step(float* params, const float* grads) {
  ++steps_taken_;
  backend_.adam_update(params, grads, m_.data(), v_.data(), m_.size(),
                       constants(options_, steps_taken_));
}

}  // namespace dptrain
