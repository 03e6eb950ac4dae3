#pragma once

// The optimizers' arithmetic, one element at a time, written once for both backends: the CPU
// backend calls these functions in loops, the CUDA backend from kernels. An update rule reads a
// parameter, its gradient and its own state tensors (laid out like the parameters, see
// optim/optimizer.hpp), with constants computed once per step (update_constants). Adding an
// optimizer: its element function and constants here, its state names in optimizer.cpp, one
// case in each backend's optimizer_update.

#include <cmath>
#include <cstdint>

#include "dptrain/core/host_device.hpp"

namespace dptrain::ew {

enum class UpdateRule : int32_t { adam = 0, sgd = 1 };

// The most state tensors a rule keeps (Adam's m and v).
inline constexpr int kMaxStateTensors = 2;

// A rule's state tensors for one contiguous range of the parameters: tensor[i][j] belongs to
// the range's parameter j. Unused entries are null.
struct StateTensors {
  float* tensor[kMaxStateTensors] = {nullptr, nullptr};
};

// What the user chose, apart from the learning rate, which the schedule gives each step
// (optim/lr_schedule.hpp).
struct OptimizerHyper {
  UpdateRule rule = UpdateRule::adam;
  float beta1 = 0.9f;  // Adam
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float momentum = 0.0f;  // SGD
  // Adam: decoupled (AdamW, Loshchilov & Hutter 2019); SGD: L2, added to the gradient, as
  // torch.optim.SGD's weight_decay.
  float weight_decay = 0.0f;
};

// Per-step constants of Adam (Kingma & Ba 2015, Algorithm 1) with decoupled weight decay
// (as torch.optim.AdamW):
//   m <- b1 m + (1 - b1) g          v <- b2 v + (1 - b2) g^2
//   p <- p (1 - lr wd) - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
struct AdamStep {
  float beta1;
  float beta2;
  float eps;
  float decay;           // 1 - lr * weight_decay
  float step_size;       // lr / (1 - beta1^t)
  float inv_sqrt_bias2;  // 1 / sqrt(1 - beta2^t)
};

DPTRAIN_HD void adam_update(float& p, float g, float& m, float& v, const AdamStep& s) {
  m = s.beta1 * m + (1.0f - s.beta1) * g;
  v = s.beta2 * v + (1.0f - s.beta2) * g * g;
  p = p * s.decay - s.step_size * m / (sqrtf(v) * s.inv_sqrt_bias2 + s.eps);
}

// SGD with momentum, as torch.optim.SGD (dampening 0, not Nesterov):
//   g' = g + wd p          b <- mu b + g'          p <- p - lr b
// b starts at 0, so the first step's b is g' exactly, as PyTorch's. Without momentum (mu = 0)
// there is no state: p <- p - lr g'.
struct SgdStep {
  float lr;
  float momentum;
  float weight_decay;
};

DPTRAIN_HD void sgd_momentum_update(float& p, float g, float& b, const SgdStep& s) {
  b = s.momentum * b + (g + s.weight_decay * p);
  p = p - s.lr * b;
}

DPTRAIN_HD void sgd_update(float& p, float g, const SgdStep& s) {
  p = p - s.lr * (g + s.weight_decay * p);
}

// One step's constants for every rule. grad_scale multiplies each gradient first: 1, or the
// factor of --clip-norm. Multiplying by 1 is exact, so an unclipped step is the same bits as one
// without the factor.
struct UpdateStep {
  UpdateRule rule = UpdateRule::adam;
  float grad_scale = 1.0f;
  AdamStep adam{};
  SgdStep sgd{};
};

// The constants of step t >= 1 (the rule's own count: steps whose update ran) at learning rate
// lr, in double precision. pow and sqrt are the C library's on the host and CUDA's on the
// device.
DPTRAIN_HD UpdateStep update_constants(const OptimizerHyper& h, double lr, int64_t t,
                                       float grad_scale) {
  UpdateStep step;
  step.rule = h.rule;
  step.grad_scale = grad_scale;
  if (h.rule == UpdateRule::adam) {
    const double bias1 = 1.0 - pow(static_cast<double>(h.beta1), static_cast<double>(t));
    const double bias2 = 1.0 - pow(static_cast<double>(h.beta2), static_cast<double>(t));
    step.adam.beta1 = h.beta1;
    step.adam.beta2 = h.beta2;
    step.adam.eps = h.eps;
    step.adam.decay = static_cast<float>(1.0 - lr * h.weight_decay);
    step.adam.step_size = static_cast<float>(lr / bias1);
    step.adam.inv_sqrt_bias2 = static_cast<float>(1.0 / sqrt(bias2));
  } else {
    step.sgd.lr = static_cast<float>(lr);
    step.sgd.momentum = h.momentum;
    step.sgd.weight_decay = h.weight_decay;
  }
  return step;
}

// Element i of a range: the rule's update of params[i] from grads[i] * grad_scale.
DPTRAIN_HD void apply_update(float* params, const float* grads, const StateTensors& state, size_t i,
                             const UpdateStep& s) {
  const float g = grads[i] * s.grad_scale;
  if (s.rule == UpdateRule::adam) {
    adam_update(params[i], g, state.tensor[0][i], state.tensor[1][i], s.adam);
  } else if (state.tensor[0] != nullptr) {
    sgd_momentum_update(params[i], g, state.tensor[0][i], s.sgd);
  } else {
    sgd_update(params[i], g, s.sgd);
  }
}

}  // namespace dptrain::ew
