#include "dptrain/optim/optimizer.hpp"

#include <cstdio>
#include <stdexcept>

namespace dptrain {

ew::OptimizerHyper OptimizerOptions::hyper() const {
  ew::OptimizerHyper hyper;
  hyper.rule = kind == OptimizerKind::adam ? ew::UpdateRule::adam : ew::UpdateRule::sgd;
  hyper.beta1 = beta1;
  hyper.beta2 = beta2;
  hyper.eps = eps;
  hyper.momentum = momentum.value_or(0.0f);
  hyper.weight_decay = weight_decay;
  return hyper;
}

const char* optimizer_name(OptimizerKind kind) {
  return kind == OptimizerKind::adam ? "adam" : "sgd";
}

namespace {

std::string number(float value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", static_cast<double>(value));
  return text;
}

}  // namespace

std::string describe_optimizer(const OptimizerOptions& options) {
  if (options.kind == OptimizerKind::sgd)
    return "SGD (momentum " + number(options.momentum.value_or(0.0f)) + ", weight decay " +
           number(options.weight_decay) + ")";
  const bool decays = options.weight_decay > 0.0f;
  return std::string(decays ? "AdamW" : "Adam") + " (beta1 " + number(options.beta1) + ", beta2 " +
         number(options.beta2) + ", eps " + number(options.eps) +
         (decays ? ", decoupled weight decay " + number(options.weight_decay) : "") + ")";
}

std::vector<std::string> optimizer_state_names(const OptimizerOptions& options) {
  if (options.kind == OptimizerKind::adam) return {"m", "v"};
  if (options.momentum.value_or(0.0f) != 0.0f) return {"velocity"};
  return {};
}

Optimizer::Optimizer(Backend& backend, size_t elements, const OptimizerOptions& options)
    : backend_(backend),
      options_(options),
      elements_(elements),
      names_(optimizer_state_names(options)) {
  if (names_.size() > static_cast<size_t>(ew::kMaxStateTensors))
    throw std::logic_error("an optimizer keeps more state tensors than ew::StateTensors holds");
  for (size_t i = 0; i < names_.size(); ++i) {
    state_.emplace_back(backend_, elements_);
    backend_.fill(state_.back().data(), elements_, 0.0f);
  }
}

ew::StateTensors Optimizer::tensors() {
  ew::StateTensors tensors;
  for (size_t i = 0; i < state_.size(); ++i)
    tensors.tensor[i] = state_[i].data();
  return tensors;
}

void Optimizer::step(float* params, const float* grads, const ew::UpdateStep& constants) {
  backend_.optimizer_update(params, grads, tensors(), elements_, constants);
}

void Optimizer::guarded_step(float* params, const float* grads, const ew::StepGuard* guard) {
  backend_.guarded_optimizer_update(params, grads, tensors(), elements_, guard);
}

}  // namespace dptrain
