#pragma once

// The index arithmetic of convolution (im2col and col2im around a GEMM) and of max-pooling,
// written once for both backends, as elementwise.hpp is for the rest of a step.
//
// Images are NHWC: element (n, h, w, c) of a batch [rows, height, width, channels] lives at
// ((n * height + h) * width + w) * channels + c. Channels vary fastest, so the channels of one
// pixel are contiguous: im2col copies them as one block, and a convolution's GEMM output
// [rows * out_height * out_width, out_channels] already is the NHWC input of the next layer.
// An MNIST image [784] is NHWC with one channel as it comes.

#include <cstddef>
#include <cstdint>

#include "dptrain/core/host_device.hpp"

namespace dptrain::ew {

// A square convolution over an NHWC input: kernel x kernel taps, zero padding of `pad` pixels on
// every side, and a stride. Output sizes round down, as in PyTorch and cuDNN.
struct ConvGeometry {
  int height;
  int width;
  int channels;
  int kernel;
  int pad;
  int stride;

  DPTRAIN_HD int out_height() const { return (height + 2 * pad - kernel) / stride + 1; }
  DPTRAIN_HD int out_width() const { return (width + 2 * pad - kernel) / stride + 1; }
  // Columns of the im2col matrix, one per tap and input channel, (kh, kw, c) with c fastest:
  // the order of a row of a weight [out_channels, kernel, kernel, channels].
  DPTRAIN_HD int patch() const { return kernel * kernel * channels; }
  DPTRAIN_HD bool valid() const {
    return height > 0 && width > 0 && channels > 0 && kernel > 0 && pad >= 0 && stride > 0 &&
           pad < kernel && height + 2 * pad >= kernel && width + 2 * pad >= kernel;
  }
};

// Offset in the NHWC input of channel 0 of the pixel that tap (kh, kw) of im2col row `row` reads
// (row = (n * out_height + ho) * out_width + wo), or -1 where the tap lies in the zero padding.
DPTRAIN_HD int64_t conv_tap_source(const ConvGeometry& g, size_t row, int kh, int kw) {
  const size_t out_w = static_cast<size_t>(g.out_width());
  const size_t out_h = static_cast<size_t>(g.out_height());
  const int wo = static_cast<int>(row % out_w);
  const int ho = static_cast<int>(row / out_w % out_h);
  const size_t n = row / out_w / out_h;
  const int h = ho * g.stride + kh - g.pad;
  const int w = wo * g.stride + kw - g.pad;
  if (h < 0 || h >= g.height || w < 0 || w >= g.width) return -1;
  return static_cast<int64_t>(((n * g.height + h) * g.width + w) * g.channels);
}

// Element `index` of the im2col matrix col[rows * out_height * out_width, patch].
DPTRAIN_HD float im2col_element(const float* x, const ConvGeometry& g, size_t index) {
  const size_t patch = static_cast<size_t>(g.patch());
  const int column = static_cast<int>(index % patch);
  const int tap = column / g.channels;
  const int64_t source = conv_tap_source(g, index / patch, tap / g.kernel, tap % g.kernel);
  return source < 0 ? 0.0f : x[source + column % g.channels];
}

// The im2col row whose tap (kh, kw) reads input pixel (n, h, w), or -1 if that tap of no output
// pixel reads it.
DPTRAIN_HD int64_t conv_tap_reader(const ConvGeometry& g, size_t n, int h, int w, int kh, int kw) {
  const int hs = h + g.pad - kh;  // ho * stride, if such an output row exists
  const int ws = w + g.pad - kw;
  if (hs < 0 || ws < 0 || hs % g.stride != 0 || ws % g.stride != 0) return -1;
  const int ho = hs / g.stride;
  const int wo = ws / g.stride;
  if (ho >= g.out_height() || wo >= g.out_width()) return -1;
  return static_cast<int64_t>((n * g.out_height() + ho) * g.out_width() + wo);
}

// Element (n, h, w, c) of the input gradient from the gradient of the im2col matrix: the sum of
// dcol over every (row, tap) that read the pixel. Taps go from the last to the first, which
// visits the rows in increasing order: the order in which a scatter over the rows (the CPU's
// col2im) adds them, so that every backend adds the same numbers in the same order.
DPTRAIN_HD float col2im_element(const float* dcol, const ConvGeometry& g, size_t n, int h, int w,
                                int c) {
  const size_t patch = static_cast<size_t>(g.patch());
  float sum = 0.0f;
  for (int kh = g.kernel - 1; kh >= 0; --kh)
    for (int kw = g.kernel - 1; kw >= 0; --kw) {
      const int64_t row = conv_tap_reader(g, n, h, w, kh, kw);
      if (row >= 0)
        sum += dcol[static_cast<size_t>(row) * patch + (kh * g.kernel + kw) * g.channels + c];
    }
  return sum;
}

// Max-pooling over window x window pixels every `stride` pixels of an NHWC input. Rows and
// columns at the bottom and right that fill no whole window are left out (floor), as in PyTorch
// and Keras' "valid" pooling; their gradient is zero.
struct PoolGeometry {
  int height;
  int width;
  int channels;
  int window;
  int stride;

  DPTRAIN_HD int out_height() const { return (height - window) / stride + 1; }
  DPTRAIN_HD int out_width() const { return (width - window) / stride + 1; }
  DPTRAIN_HD bool valid() const {
    // The position of the maximum in its window is kept in a byte.
    return height >= window && width >= window && channels > 0 && window > 0 && stride > 0 &&
           window * window <= 256;
  }
};

// Output (n, ho, wo, c): the largest input of the window, the first one on ties; *argmax
// receives its position in the window, kh * window + kw.
DPTRAIN_HD float max_pool_element(const float* x, const PoolGeometry& g, size_t n, int ho, int wo,
                                  int c, uint8_t* argmax) {
  const size_t row_stride = static_cast<size_t>(g.width) * g.channels;
  const float* corner = x +
                        ((n * g.height + static_cast<size_t>(ho) * g.stride) * g.width +
                         static_cast<size_t>(wo) * g.stride) *
                            g.channels +
                        c;
  float best = corner[0];
  int best_at = 0;
  for (int kh = 0; kh < g.window; ++kh)
    for (int kw = 0; kw < g.window; ++kw) {
      const float value = corner[kh * row_stride + static_cast<size_t>(kw) * g.channels];
      if (value > best) {
        best = value;
        best_at = kh * g.window + kw;
      }
    }
  *argmax = static_cast<uint8_t>(best_at);
  return best;
}

// Input gradient (n, h, w, c): the sum of dy over the windows whose maximum this pixel was, in
// (ho, wo) order. A gather, so that no two threads write one element.
DPTRAIN_HD float max_pool_gradient_element(const float* dy, const uint8_t* argmax,
                                           const PoolGeometry& g, size_t n, int h, int w, int c) {
  const int out_h = g.out_height();
  const int out_w = g.out_width();
  // Windows ho with ho * stride <= h < ho * stride + window.
  const int ho_first = h < g.window ? 0 : (h - g.window) / g.stride + 1;
  const int wo_first = w < g.window ? 0 : (w - g.window) / g.stride + 1;
  const int ho_last = h / g.stride < out_h - 1 ? h / g.stride : out_h - 1;
  const int wo_last = w / g.stride < out_w - 1 ? w / g.stride : out_w - 1;
  float sum = 0.0f;
  for (int ho = ho_first; ho <= ho_last; ++ho)
    for (int wo = wo_first; wo <= wo_last; ++wo) {
      const size_t out = ((n * out_h + ho) * out_w + wo) * g.channels + c;
      if (argmax[out] == (h - ho * g.stride) * g.window + (w - wo * g.stride)) sum += dy[out];
    }
  return sum;
}

}  // namespace dptrain::ew
