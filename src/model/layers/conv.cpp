#include "dptrain/model/layers/conv.hpp"

#include <cstdint>
#include <memory>

#include "dptrain/core/error.hpp"
#include "dptrain/model/layers/registry.hpp"

namespace dptrain::layers {

Conv::Conv(const LayerArgs& args, int kernel, int channels, bool same)
    : same_(same), geometry_{args.input.height,     args.input.width, args.input.channels, kernel,
                             same ? kernel / 2 : 0, /*stride=*/1} {
  if (!args.data.images())
    throw InputError(args.where() + " takes images, and the data holds " +
                     describe_data_shape(args.data));
  if (same && kernel % 2 == 0)
    throw InputError(args.where() + " has an even kernel; 'same' padding (s) needs an odd one");
  if (!geometry_.valid())
    throw InputError(args.where() + " met a " + args.input.text() + " map, smaller than its " +
                     std::to_string(kernel) + "x" + std::to_string(kernel) + " kernel");
  // The im2col matrix's columns are counted in int, as a row of data is (kMaxRowValues).
  if (int64_t{kernel} * kernel * args.input.channels > kMaxRowValues)
    throw InputError(args.where() + " has a " + std::to_string(kernel) + "x" +
                     std::to_string(kernel) + "x" + std::to_string(args.input.channels) +
                     " patch, more than 2^28 values");
  name_ = args.names.next("conv");
  dense_ =
      DenseLayer::add_to(args.layout, name_, geometry_.patch(), channels,
                         {channels, kernel, kernel, args.input.channels}, ew::Activation::none);
}

MapShape Conv::output() const {
  return {geometry_.out_height(), geometry_.out_width(), dense_.out};
}

std::string Conv::token() const {
  return "conv" + std::to_string(geometry_.kernel) + "x" + std::to_string(dense_.out) +
         (same_ ? "s" : "");
}

void Conv::initialize(std::span<float> params, uint64_t key) const {
  const int field = geometry_.kernel * geometry_.kernel;
  dense_.initialize(params, key, geometry_.patch(), field * dense_.out);
}

void Conv::allocate(Backend& backend, int max_rows) {
  col_ = DeviceArray<float>(backend, static_cast<size_t>(pixel_rows(max_rows)) * geometry_.patch());
}

void Conv::forward(Backend& backend, const float* params, const float* x, int rows, float* y) {
  backend.im2col(x, geometry_, rows, col_.data());
  dense_.forward(backend, params, col_.data(), pixel_rows(rows), y);
}

void Conv::parameter_gradients(Backend& backend, const float* /*x*/, const float* dy, int rows,
                               float* grads) {
  dense_.parameter_gradients(backend, dy, col_.data(), pixel_rows(rows), grads);
}

void Conv::input_gradient(Backend& backend, const float* params, const float* /*x*/,
                          const float* /*y*/, const float* dy, int rows, float* dx) {
  // The forward's im2col matrix is spent once the weight gradient has it: it takes its gradient.
  float* dcol = col_.data();
  dense_.input_gradient(backend, params, dy, pixel_rows(rows), dcol);
  backend.col2im(dcol, geometry_, rows, dx);
}

// "5x32" or "5x32s".
std::unique_ptr<Layer> make_conv(const LayerArgs& args) {
  std::string_view rest = args.rest;
  const bool same = rest.ends_with('s');
  if (same) rest.remove_suffix(1);
  const size_t by = rest.find('x');
  if (by == std::string_view::npos)
    throw InputError(args.where() + " is not convKxC or convKxCs (kernel K, C channels)");
  const int kernel = parse_count(args, rest.substr(0, by), "a kernel size", 1, kMaxUnits);
  const int channels = parse_count(args, rest.substr(by + 1), "channels", 1, kMaxUnits);
  return std::make_unique<Conv>(args, kernel, channels, same);
}

}  // namespace dptrain::layers
