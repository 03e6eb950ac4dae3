#include "dptrain/model/layers/pool.hpp"

#include <memory>

#include "dptrain/core/error.hpp"
#include "dptrain/model/layers/registry.hpp"

namespace dptrain::layers {
namespace {

// The window position of a maximum is kept in a byte (ew::PoolGeometry): at most 16 x 16.
constexpr int kMaxWindow = 16;

}  // namespace

Pool::Pool(const LayerArgs& args, int window)
    : geometry_{args.input.height, args.input.width, args.input.channels, window, window} {
  if (!geometry_.valid())
    throw InputError(args.where() + " met a " + args.input.text() + " map, smaller than its " +
                     std::to_string(window) + "x" + std::to_string(window) + " window");
}

MapShape Pool::output() const {
  return {geometry_.out_height(), geometry_.out_width(), geometry_.channels};
}

void Pool::allocate(Backend& backend, int max_rows) {
  argmax_ = DeviceArray<uint8_t>(backend, static_cast<size_t>(max_rows) * output().size());
}

void Pool::forward(Backend& backend, const float* /*params*/, const float* x, int rows, float* y) {
  backend.max_pool_forward(x, geometry_, rows, y, argmax_.data());
}

void Pool::input_gradient(Backend& backend, const float* /*params*/, const float* /*x*/,
                          const float* /*y*/, const float* dy, int rows, float* dx) {
  backend.max_pool_backward(dy, argmax_.data(), geometry_, rows, dx);
}

std::unique_ptr<Layer> make_pool(const LayerArgs& args) {
  return std::make_unique<Pool>(args, parse_count(args, args.rest, "a window", 1, kMaxWindow));
}

}  // namespace dptrain::layers
