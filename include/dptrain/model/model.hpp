#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "dptrain/backend/backend.hpp"
#include "dptrain/model/gradients_ready.hpp"
#include "dptrain/model/model_spec.hpp"
#include "dptrain/model/parameter_layout.hpp"

namespace dptrain {

// A network on one backend. It holds no parameters, only its activation buffers for up to
// max_rows rows, allocated when it is built so that a step allocates nothing; parameters and
// gradients live in flat buffers laid out by layout(), which everything else (the optimizer,
// the exchange, parameter servers, checkpoints, the replica check) reads.
class Model {
 public:
  virtual ~Model() = default;

  virtual const ParameterLayout& layout() const = 0;
  virtual std::string describe() const = 0;  // describe_model of its spec
  virtual int max_rows() const = 0;
  // Layers with parameters: a trace span each in backward.
  virtual size_t layer_count() const = 0;

  // Keras' defaults: Glorot-uniform weights, zero biases; a pure function of the seed.
  virtual void initialize(std::span<float> params_on_host, uint64_t seed) const = 0;

  // Logits [rows, 10] of images x [rows, 784] in [0, 1]; valid until the next forward.
  virtual const float* forward(const float* params, const float* x, int rows) = 0;

  // Gradients of the loss whose gradient with respect to the logits of the last forward (same x
  // and rows) is dlogits [rows, 10]; every gradient element is overwritten. Layers are done last
  // first, and each one's tensors come after those of the layers before it in the layout, so
  // the end of the flat gradient buffer is final first; `ready`, if given, hears of it layer by
  // layer. May reuse the forward's buffers: call forward again before another backward.
  virtual void backward(const float* params, const float* x, const float* dlogits, int rows,
                        float* grads, GradientsReady* ready = nullptr) = 0;
};

// The network `spec` names, for up to max_rows rows per forward.
std::unique_ptr<Model> make_model(Backend& backend, const ModelSpec& spec, int max_rows);

}  // namespace dptrain
