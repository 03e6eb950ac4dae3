#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "dptrain/backend/backend.hpp"
#include "dptrain/core/step_guard.hpp"
#include "dptrain/optim/update_rules.hpp"

namespace dptrain {

enum class OptimizerKind { adam, sgd };

// --optimizer and its hyperparameters; the defaults are the reference run's (Keras' Adam).
struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::adam;
  float lr = 1e-3f;  // before scaling and schedule (train/lr_plan.hpp)
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float eps = 1e-8f;
  float weight_decay = 0.0f;      // Adam: decoupled (AdamW); SGD: L2
  std::optional<float> momentum;  // SGD's; unset: 0 (--momentum is refused with Adam)

  ew::OptimizerHyper hyper() const;
};

// "adam" or "sgd", as --optimizer spells it and checkpoints record it.
const char* optimizer_name(OptimizerKind kind);

// One line for people: "Adam (beta1 0.9, beta2 0.999, eps 1e-08)", with weight decay if any.
std::string describe_optimizer(const OptimizerOptions& options);

// The state tensors the optimizer keeps, each laid out like the parameters it updates: Adam's
// first and second moments "m" and "v"; SGD's "velocity" with momentum, none without. Their
// names are the checkpoint's /optimizer/<name> groups.
std::vector<std::string> optimizer_state_names(const OptimizerOptions& options);

// An optimizer over one contiguous range of the flat parameters: all of them (allreduce mode),
// one rank's shard (--shard-optimizer) or one server's range (--mode ps). It owns the state
// tensors for that range only; the update's element code is ew::apply_update, on the backend.
class Optimizer {
 public:
  Optimizer(Backend& backend, size_t elements, const OptimizerOptions& options);

  // One update of the range with the given constants (ew::update_constants). params and grads
  // point at the range's first element.
  void step(float* params, const float* grads, const ew::UpdateStep& constants);
  // The update that `guard` (backend memory) decided on, with its constants; nothing if it
  // decided to skip.
  void guarded_step(float* params, const float* grads, const ew::StepGuard* guard);

  const OptimizerOptions& options() const { return options_; }
  const std::vector<std::string>& state_names() const { return names_; }
  size_t elements() const { return elements_; }
  // Tensor i of state_names(), `elements()` floats of backend memory.
  float* state(size_t i) { return state_[i].data(); }
  // Bytes of all state tensors: what --shard-optimizer divides among the ranks.
  size_t state_bytes() const { return names_.size() * elements_ * sizeof(float); }

 private:
  ew::StateTensors tensors();

  Backend& backend_;
  OptimizerOptions options_;
  size_t elements_;
  std::vector<std::string> names_;
  std::vector<DeviceArray<float>> state_;
};

}  // namespace dptrain
