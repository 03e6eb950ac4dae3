// Convolution (im2col, a GEMM, col2im) and max-pooling on the CPU backend against naive
// references, adjoints and finite differences, over odd sizes, padding, strides and channels;
// and the CPU loops against the shared element functions of conv_elements.hpp, bit for bit,
// which is what makes the CUDA kernels' arithmetic (the same functions) tested here too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/conv_elements.hpp"
#include "dptrain/model/dense_layer.hpp"
#include "support/numeric_checks.hpp"

namespace dptrain {
namespace {

using ew::ConvGeometry;
using ew::PoolGeometry;
using testing::central_difference;
using testing::random_values;
using testing::same_bits;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// f(n, h, w, c) for every element of an NHWC tensor [rows, height, width, channels], in memory
// order: the i-th call is for element i.
template <class F>
void for_each_nhwc(int rows, int height, int width, int channels, const F& f) {
  for (int n = 0; n < rows; ++n)
    for (int h = 0; h < height; ++h)
      for (int w = 0; w < width; ++w)
        for (int c = 0; c < channels; ++c)
          f(n, h, w, c);
}

// ---------------------------------------------------------------------------------------------
// Convolution

struct ConvCase {
  ConvGeometry g;
  int rows;
  int out_channels;

  size_t input_size() const { return static_cast<size_t>(rows) * g.height * g.width * g.channels; }
  int pixel_rows() const { return rows * g.out_height() * g.out_width(); }
  size_t col_size() const { return static_cast<size_t>(pixel_rows()) * g.patch(); }
  size_t output_size() const { return static_cast<size_t>(pixel_rows()) * out_channels; }
};

std::string case_name(const ::testing::TestParamInfo<ConvCase>& info) {
  const ConvGeometry& g = info.param.g;
  return std::to_string(g.height) + "x" + std::to_string(g.width) + "x" +
         std::to_string(g.channels) + "_k" + std::to_string(g.kernel) + "_p" +
         std::to_string(g.pad) + "_s" + std::to_string(g.stride) + "_rows" +
         std::to_string(info.param.rows) + "_out" + std::to_string(info.param.out_channels);
}

// Height, width, channels, kernel, pad, stride; rows; output channels.
const ConvCase kConvCases[] = {
    {{7, 5, 1, 3, 1, 1}, 2, 4},     // "same" padding, odd sizes
    {{7, 5, 3, 3, 0, 1}, 3, 2},     // no padding, three channels
    {{7, 5, 3, 5, 2, 2}, 2, 3},     // padding 2 and stride 2
    {{5, 7, 3, 3, 2, 2}, 2, 2},     // outputs that lie mostly in the padding
    {{6, 9, 1, 1, 0, 2}, 3, 2},     // 1x1, stride 2: odd rows and columns are never read
    {{7, 6, 2, 3, 0, 2}, 2, 3},     // the last column fills no window: never read
    {{9, 6, 1, 5, 1, 2}, 1, 2},     // the bottom padding row is never read
    {{28, 28, 1, 5, 0, 1}, 2, 4},   // the CNN's first convolution
    {{12, 12, 32, 5, 0, 1}, 1, 3},  // and its second, with fewer outputs
};

class ConvTest : public ::testing::TestWithParam<ConvCase> {
 protected:
  ConvTest() : c_(GetParam()), g_(c_.g) {
    conv_ = DenseLayer::add_to(layout_, "conv", g_.patch(), c_.out_channels,
                               {c_.out_channels, g_.kernel, g_.kernel, g_.channels},
                               ew::Activation::none);
  }

  void SetUp() override { ASSERT_TRUE(g_.valid()); }

  // The im2col matrix of x, in a buffer that starts as NaNs (so that every element is written).
  std::vector<float> im2col(const std::vector<float>& x) {
    std::vector<float> col(c_.col_size(), kNaN);
    backend_.im2col(x.data(), g_, c_.rows, col.data());
    return col;
  }
  std::vector<float> col2im(const std::vector<float>& dcol) {
    std::vector<float> dx(c_.input_size(), kNaN);
    backend_.col2im(dcol.data(), g_, c_.rows, dx.data());
    return dx;
  }
  // y = the convolution of x as Cnn computes it: im2col, then a DenseLayer over its rows.
  std::vector<float> convolve(const std::vector<float>& params, const std::vector<float>& x) {
    const std::vector<float> col = im2col(x);
    std::vector<float> y(c_.output_size(), kNaN);
    conv_.forward(backend_, params.data(), col.data(), c_.pixel_rows(), y.data());
    return y;
  }

  const ConvCase c_;
  const ConvGeometry& g_;
  CpuBackend backend_{1};
  ParameterLayout layout_;
  DenseLayer conv_;
};

// The convolution of x in double precision, straight from its definition (no im2col, no GEMM);
// with `magnitudes`, of |params| and |x|: the sums of the terms' magnitudes, which bound rounding.
std::vector<double> direct_convolution(const ConvCase& c, const DenseLayer& conv,
                                       const std::vector<float>& params,
                                       const std::vector<float>& x, bool magnitudes = false) {
  const ConvGeometry& g = c.g;
  const auto value = [magnitudes](float v) {
    return magnitudes ? std::abs(static_cast<double>(v)) : static_cast<double>(v);
  };
  // x with its zero border made explicit: [rows, height + 2 pad, width + 2 pad, channels].
  const int padded_h = g.height + 2 * g.pad, padded_w = g.width + 2 * g.pad;
  const auto padded_at = [&](int n, int h, int w, int ch) {
    return ((static_cast<size_t>(n) * padded_h + h) * padded_w + w) * g.channels + ch;
  };
  std::vector<double> padded(static_cast<size_t>(c.rows) * padded_h * padded_w * g.channels, 0);
  size_t in = 0;
  for_each_nhwc(c.rows, g.height, g.width, g.channels, [&](int n, int h, int w, int ch) {
    padded[padded_at(n, h + g.pad, w + g.pad, ch)] = value(x[in++]);
  });
  const float* weight = params.data() + conv.weight;
  const float* bias = params.data() + conv.bias;
  std::vector<double> y;
  for_each_nhwc(c.rows, g.out_height(), g.out_width(), c.out_channels,
                [&](int n, int ho, int wo, int co) {
                  double sum = value(bias[co]);
                  const float* filter = weight + static_cast<size_t>(co) * g.patch();
                  for (int kh = 0; kh < g.kernel; ++kh)
                    for (int kw = 0; kw < g.kernel; ++kw)
                      for (int ch = 0; ch < g.channels; ++ch)
                        sum += value(*filter++) *
                               padded[padded_at(n, ho * g.stride + kh, wo * g.stride + kw, ch)];
                  y.push_back(sum);
                });
  return y;
}

TEST_P(ConvTest, Im2colAndGemmMatchADirectConvolution) {
  const std::vector<float> params = random_values(layout_.total(), 1);
  const std::vector<float> x = random_values(c_.input_size(), 2);
  const std::vector<float> y = convolve(params, x);
  const std::vector<double> exact = direct_convolution(c_, conv_, params, x);
  const std::vector<double> magnitude = direct_convolution(c_, conv_, params, x, true);
  ASSERT_EQ(y.size(), exact.size());
  // Each output is a bias plus a dot product of patch() terms, summed in float in any order:
  // within gamma(patch + 1) of the sum of the terms' magnitudes (Higham, 2nd ed., eq. 3.5).
  const double gamma = testing::float_gamma(g_.patch() + 1);
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_LE(std::abs(y[i] - exact[i]), gamma * magnitude[i]) << "output " << i;
}

// <im2col(x), dcol> == <x, col2im(dcol)> for all x and dcol: col2im is the transpose of im2col,
// which is what the backward pass of a convolution needs.
TEST_P(ConvTest, Col2imIsTheAdjointOfIm2col) {
  for (uint64_t seed = 0; seed < 3; ++seed) {
    const std::vector<float> x = random_values(c_.input_size(), 10 + seed);
    const std::vector<float> dcol = random_values(c_.col_size(), 20 + seed);
    const std::vector<float> col = im2col(x);
    const std::vector<float> dx = col2im(dcol);
    double forward = 0.0, backward = 0.0, magnitude = 0.0;
    for (size_t i = 0; i < col.size(); ++i) {
      ASSERT_FALSE(std::isnan(col[i])) << "im2col left element " << i << " unwritten";
      forward += static_cast<double>(col[i]) * dcol[i];
      magnitude += std::abs(static_cast<double>(col[i]) * dcol[i]);
    }
    for (size_t i = 0; i < dx.size(); ++i) {
      ASSERT_FALSE(std::isnan(dx[i])) << "col2im left element " << i << " unwritten";
      backward += static_cast<double>(x[i]) * dx[i];
    }
    EXPECT_NEAR(forward, backward, 1e-6 * magnitude) << "seed " << seed;
  }
}

// col2im of a matrix of ones counts the taps that read each pixel: exactly, zero for the pixels
// that no output reads (the stride's leftovers).
TEST_P(ConvTest, Col2imOfOnesCountsTheTapsThatReadEachPixel) {
  std::vector<float> expected(c_.input_size(), 0.0f);
  for (int n = 0; n < c_.rows; ++n)
    for (int ho = 0; ho < g_.out_height(); ++ho)
      for (int wo = 0; wo < g_.out_width(); ++wo)
        for (int kh = 0; kh < g_.kernel; ++kh)
          for (int kw = 0; kw < g_.kernel; ++kw) {
            const int h = ho * g_.stride + kh - g_.pad, w = wo * g_.stride + kw - g_.pad;
            if (h < 0 || h >= g_.height || w < 0 || w >= g_.width) continue;
            for (int c = 0; c < g_.channels; ++c)
              expected[((static_cast<size_t>(n) * g_.height + h) * g_.width + w) * g_.channels +
                       c] += 1.0f;
          }
  EXPECT_TRUE(same_bits(col2im(std::vector<float>(c_.col_size(), 1.0f)), expected));
}

// A convolution layer, as Cnn uses it, against central differences of the loss
// sum(r * conv(x)) for a random r: every weight and bias, and the input (all of it, or 512
// elements spread over it, borders included).
TEST_P(ConvTest, LayerGradientsMatchFiniteDifferences) {
  std::vector<float> params = random_values(layout_.total(), 3);
  std::vector<float> x = random_values(c_.input_size(), 4);
  const std::vector<float> r = random_values(c_.output_size(), 5);

  std::vector<float> grads(layout_.total(), kNaN);
  std::vector<float> dcol(c_.col_size(), kNaN);
  const std::vector<float> col = im2col(x);
  conv_.parameter_gradients(backend_, r.data(), col.data(), c_.pixel_rows(), grads.data());
  conv_.input_gradient(backend_, params.data(), r.data(), c_.pixel_rows(), dcol.data());
  const std::vector<float> dx = col2im(dcol);

  // The loss sum(r * conv(x)) with the forward in double, and the same of the magnitudes, whose
  // slope in the magnitude of a parameter or input is the sum of |terms| of its gradient.
  const auto loss = [&](bool magnitudes) {
    const std::vector<double> y = direct_convolution(c_, conv_, params, x, magnitudes);
    double sum = 0.0;
    for (size_t i = 0; i < y.size(); ++i)
      sum += (magnitudes ? std::abs(static_cast<double>(r[i])) : r[i]) * y[i];
    return sum;
  };
  // The loss is linear in each parameter and input, so a large step is exact but for the double
  // rounding of the loss, at most gamma_d(terms of the loss) * its magnitude, over the step.
  const float step = 0.05f;
  const double loss_terms = static_cast<double>(c_.output_size()) * (g_.patch() + 2);
  const double loss_rounding = 2.0 * testing::double_gamma(loss_terms) * loss(true) / step;
  // A gradient element computed in float with n roundings, in any order, is within
  // gamma(n) * sum |terms| of the exact (Higham, eq. 3.5): a weight's or bias's gradient sums
  // its pixel rows' products (n = pixel rows); an input's, the out channels' products of each tap
  // (the GEMM into dcol) and then the taps (col2im): n = out channels + taps.
  const auto expect_gradient = [&](float analytic, float& value, double roundings,
                                   const std::string& what) {
    const double numeric = central_difference(value, step, [&] { return loss(false); });
    // The magnitudes' loss is A + B |value|, B the gradient's sum of |terms|.
    const float saved = value;
    value = 1.0f;
    const double magnitude_at_one = loss(true);
    value = 0.0f;
    const double magnitude = magnitude_at_one - loss(true);
    value = saved;
    ASSERT_LE(std::abs(analytic - numeric),
              testing::float_gamma(roundings) * magnitude + loss_rounding)
        << what;
  };
  for (const TensorSlot& slot : layout_.tensors())
    for (size_t e = 0; e < slot.size; ++e)
      expect_gradient(grads[slot.offset + e], params[slot.offset + e], c_.pixel_rows(),
                      slot.name + "[" + std::to_string(e) + "]");
  const double input_roundings = c_.out_channels + g_.kernel * g_.kernel;
  const size_t stride = std::max<size_t>(1, x.size() / 512);
  for (size_t e = 0; e < x.size(); e += stride)
    expect_gradient(dx[e], x[e], input_roundings, "input[" + std::to_string(e) + "]");
  expect_gradient(dx.back(), x.back(), input_roundings, "the last input");
}

// What the CUDA kernels compute, element by element, is what the CPU loops compute.
TEST_P(ConvTest, CpuLoopsAreTheSharedElementFunctions) {
  const std::vector<float> x = random_values(c_.input_size(), 6);
  const std::vector<float> col = im2col(x);
  std::vector<float> elements(col.size());
  for (size_t i = 0; i < col.size(); ++i)
    elements[i] = ew::im2col_element(x.data(), g_, i);
  EXPECT_TRUE(same_bits(col, elements)) << "im2col";

  const std::vector<float> dcol = random_values(c_.col_size(), 7);
  const std::vector<float> dx = col2im(dcol);
  elements.clear();
  for_each_nhwc(c_.rows, g_.height, g_.width, g_.channels, [&](int n, int h, int w, int c) {
    elements.push_back(ew::col2im_element(dcol.data(), g_, n, h, w, c));
  });
  EXPECT_TRUE(same_bits(dx, elements)) << "col2im";
}

INSTANTIATE_TEST_SUITE_P(Geometries, ConvTest, ::testing::ValuesIn(kConvCases), case_name);

TEST(ConvGeometry, OutputSizesRoundDown) {
  EXPECT_EQ((ConvGeometry{28, 28, 1, 5, 0, 1}.out_height()), 24);
  EXPECT_EQ((ConvGeometry{7, 6, 2, 3, 0, 2}.out_height()), 3);
  EXPECT_EQ((ConvGeometry{7, 6, 2, 3, 0, 2}.out_width()), 2);
  EXPECT_EQ((ConvGeometry{5, 7, 3, 3, 2, 2}.out_height()), 4);
  EXPECT_EQ((ConvGeometry{5, 7, 3, 3, 2, 2}.out_width()), 5);
  EXPECT_EQ((ConvGeometry{5, 7, 3, 3, 2, 2}.patch()), 27);
  EXPECT_FALSE((ConvGeometry{5, 5, 1, 3, 3, 1}.valid()));  // padding as wide as the kernel
  EXPECT_FALSE((ConvGeometry{2, 5, 1, 5, 1, 1}.valid()));  // taller kernel than padded input
  EXPECT_FALSE((ConvGeometry{5, 5, 1, 3, 1, 0}.valid()));
}

// ---------------------------------------------------------------------------------------------
// Max-pooling

struct PoolCase {
  PoolGeometry g;
  int rows;

  size_t input_size() const { return static_cast<size_t>(rows) * g.height * g.width * g.channels; }
  size_t output_size() const {
    return static_cast<size_t>(rows) * g.out_height() * g.out_width() * g.channels;
  }
};

std::string pool_case_name(const ::testing::TestParamInfo<PoolCase>& info) {
  const PoolGeometry& g = info.param.g;
  return std::to_string(g.height) + "x" + std::to_string(g.width) + "x" +
         std::to_string(g.channels) + "_window" + std::to_string(g.window) + "_s" +
         std::to_string(g.stride) + "_rows" + std::to_string(info.param.rows);
}

// Height, width, channels, window, stride; rows.
const PoolCase kPoolCases[] = {
    {{5, 7, 2, 2, 2}, 2},    // the last row and column fill no window
    {{5, 7, 3, 3, 2}, 2},    // overlapping windows
    {{6, 6, 1, 2, 2}, 1},    // every pixel in exactly one window
    {{7, 7, 2, 3, 1}, 2},    // stride 1: up to nine windows share a pixel
    {{9, 5, 1, 3, 3}, 2},    // window 3 stride 3, leftovers at the right
    {{24, 24, 4, 2, 2}, 1},  // the CNN's first pooling, fewer channels
    {{4, 3, 2, 1, 1}, 2},    // window 1: the identity
};

// The naive pooling: per window, the first of its largest values, and its position.
struct NaivePool {
  std::vector<float> y;
  std::vector<uint8_t> argmax;
  std::vector<float> dx;  // the gradient of sum(dy * y), scattered window by window
  int most_windows = 0;   // the most windows whose maximum one input is
};

NaivePool naive_pool(const PoolCase& c, const std::vector<float>& x, const std::vector<float>& dy) {
  const PoolGeometry& g = c.g;
  NaivePool result;
  result.dx.assign(c.input_size(), 0.0f);
  std::vector<int> maxima(c.input_size(), 0);
  const auto at = [&](int n, int h, int w, int ch) {
    return ((static_cast<size_t>(n) * g.height + h) * g.width + w) * g.channels + ch;
  };
  for_each_nhwc(c.rows, g.out_height(), g.out_width(), g.channels,
                [&](int n, int ho, int wo, int ch) {
                  int best_h = 0, best_w = 0;
                  for (int kh = 0; kh < g.window; ++kh)
                    for (int kw = 0; kw < g.window; ++kw)
                      if (x[at(n, ho * g.stride + kh, wo * g.stride + kw, ch)] >
                          x[at(n, ho * g.stride + best_h, wo * g.stride + best_w, ch)]) {
                        best_h = kh;
                        best_w = kw;
                      }
                  const size_t source = at(n, ho * g.stride + best_h, wo * g.stride + best_w, ch);
                  result.dx[source] += dy[result.y.size()];
                  result.most_windows = std::max(result.most_windows, ++maxima[source]);
                  result.y.push_back(x[source]);
                  result.argmax.push_back(static_cast<uint8_t>(best_h * g.window + best_w));
                });
  return result;
}

class PoolTest : public ::testing::TestWithParam<PoolCase> {
 protected:
  void SetUp() override { ASSERT_TRUE(c_.g.valid()); }

  void forward(const std::vector<float>& x) {
    y_.assign(c_.output_size(), kNaN);
    argmax_.assign(c_.output_size(), 255);
    backend_.max_pool_forward(x.data(), c_.g, c_.rows, y_.data(), argmax_.data());
  }
  std::vector<float> backward(const std::vector<float>& dy) {
    std::vector<float> dx(c_.input_size(), kNaN);
    backend_.max_pool_backward(dy.data(), argmax_.data(), c_.g, c_.rows, dx.data());
    return dx;
  }
  // Inputs of few levels, so that most windows hold ties.
  std::vector<float> tied_input(uint64_t seed) const {
    std::vector<float> x = random_values(c_.input_size(), seed, 0.0f, 3.0f);
    for (float& value : x)
      value = std::floor(value);
    return x;
  }

  const PoolCase c_ = GetParam();
  CpuBackend backend_{1};
  std::vector<float> y_;
  std::vector<uint8_t> argmax_;
};

TEST_P(PoolTest, ForwardAndBackwardMatchTheNaivePoolingTiesIncluded) {
  const std::vector<float> dy = random_values(c_.output_size(), 30);
  for (const std::vector<float>& x : {random_values(c_.input_size(), 31), tied_input(32)}) {
    const NaivePool expected = naive_pool(c_, x, dy);
    forward(x);
    EXPECT_TRUE(same_bits(y_, expected.y)) << "maxima";
    EXPECT_EQ(argmax_, expected.argmax);
    // The gradient only where a window's maximum was, summed over the windows in (ho, wo)
    // order as the naive scatter adds them; exactly zero elsewhere, the left-out border too.
    EXPECT_TRUE(same_bits(backward(dy), expected.dx)) << "gradient";
  }
  // Where windows overlap, the tied input has pixels that are the maximum of several.
  if (c_.g.stride < c_.g.window) {
    EXPECT_GT(naive_pool(c_, tied_input(32), dy).most_windows, 1);
  }
}

TEST_P(PoolTest, LeftOutBorderGetsZeroGradient) {
  const PoolGeometry& g = c_.g;
  const int covered_h = (g.out_height() - 1) * g.stride + g.window;
  const int covered_w = (g.out_width() - 1) * g.stride + g.window;
  // The largest values where no window reaches, which pooling must not see.
  std::vector<float> x = random_values(c_.input_size(), 33);
  std::vector<bool> left_out;
  for_each_nhwc(c_.rows, g.height, g.width, g.channels, [&](int, int h, int w, int) {
    left_out.push_back(h >= covered_h || w >= covered_w);
  });
  for (size_t i = 0; i < x.size(); ++i)
    if (left_out[i]) x[i] = 100.0f;
  forward(x);
  for (float value : y_)
    EXPECT_LT(value, 100.0f);
  const std::vector<float> dx = backward(std::vector<float>(c_.output_size(), 1.0f));
  for (size_t i = 0; i < x.size(); ++i)
    if (left_out[i]) {
      EXPECT_EQ(dx[i], 0.0f) << "input element " << i;
    }
}

// The gradient of sum(r * pool(x)) against central differences, on inputs without ties whose
// values lie further apart than the step, so that no maximum changes place.
TEST_P(PoolTest, GradientMatchesFiniteDifferences) {
  std::vector<size_t> order(c_.input_size());
  std::iota(order.begin(), order.end(), size_t{0});
  const std::vector<float> keys = random_values(order.size(), 34);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys[a] < keys[b]; });
  std::vector<float> x(order.size());
  for (size_t rank = 0; rank < order.size(); ++rank)
    x[order[rank]] = 0.01f * static_cast<float>(rank) - 1.0f;

  const std::vector<float> r = random_values(c_.output_size(), 35);
  forward(x);
  const std::vector<float> dx = backward(r);
  const auto loss = [&] {
    forward(x);
    double sum = 0.0;
    for (size_t o = 0; o < y_.size(); ++o)
      sum += static_cast<double>(r[o]) * y_[o];
    return sum;
  };
  for (size_t e = 0; e < x.size(); ++e)
    ASSERT_NEAR(dx[e], central_difference(x[e], 1e-3f, loss), 1e-5) << "input " << e;
}

TEST_P(PoolTest, CpuLoopsAreTheSharedElementFunctions) {
  const PoolGeometry& g = c_.g;
  const std::vector<float> x = tied_input(36);
  forward(x);
  std::vector<float> elements;
  std::vector<uint8_t> argmax;
  for_each_nhwc(
      c_.rows, g.out_height(), g.out_width(), g.channels, [&](int n, int ho, int wo, int ch) {
        argmax.push_back(255);
        elements.push_back(ew::max_pool_element(x.data(), g, n, ho, wo, ch, &argmax.back()));
      });
  EXPECT_TRUE(same_bits(y_, elements)) << "forward";
  EXPECT_EQ(argmax_, argmax);

  const std::vector<float> dy = random_values(c_.output_size(), 37);
  const std::vector<float> dx = backward(dy);
  elements.clear();
  for_each_nhwc(c_.rows, g.height, g.width, g.channels, [&](int n, int h, int w, int ch) {
    elements.push_back(ew::max_pool_gradient_element(dy.data(), argmax_.data(), g, n, h, w, ch));
  });
  EXPECT_TRUE(same_bits(dx, elements)) << "backward";
}

INSTANTIATE_TEST_SUITE_P(Geometries, PoolTest, ::testing::ValuesIn(kPoolCases), pool_case_name);

TEST(MaxPool, TiesPickTheFirstInRowMajorWindowOrder) {
  CpuBackend backend(1);
  // One row, 2x6, window 2 stride 2: windows {5 5 / 5 5}, {1 3 / 3 0}, {2 0 / 2 2}.
  const PoolGeometry g{2, 6, 1, 2, 2};
  const std::vector<float> x{5, 5, 1, 3, 2, 0,  //
                             5, 5, 3, 0, 2, 2};
  std::vector<float> y(3);
  std::vector<uint8_t> argmax(3);
  backend.max_pool_forward(x.data(), g, 1, y.data(), argmax.data());
  EXPECT_EQ(y, (std::vector<float>{5, 3, 2}));
  EXPECT_EQ(argmax, (std::vector<uint8_t>{0, 1, 0}));
  std::vector<float> dx(x.size(), kNaN);
  backend.max_pool_backward(std::vector<float>{1, 2, 3}.data(), argmax.data(), g, 1, dx.data());
  EXPECT_EQ(dx, (std::vector<float>{1, 0, 0, 2, 3, 0,  //
                                    0, 0, 0, 0, 0, 0}));
}

TEST(MaxPool, OverlappingWindowsSumAtASharedMaximum) {
  CpuBackend backend(1);
  // 3x5, window 3 stride 2: two windows that share column 2, where the maximum of both is.
  const PoolGeometry g{3, 5, 1, 3, 2};
  const std::vector<float> x{0, 1, 2, 1, 0,  //
                             0, 1, 9, 1, 0,  //
                             0, 1, 2, 1, 0};
  std::vector<float> y(2);
  std::vector<uint8_t> argmax(2);
  backend.max_pool_forward(x.data(), g, 1, y.data(), argmax.data());
  EXPECT_EQ(y, (std::vector<float>{9, 9}));
  EXPECT_EQ(argmax,
            (std::vector<uint8_t>{5, 3}));  // (1, 2) in the first window, (1, 0) in the next
  std::vector<float> dx(x.size(), kNaN);
  backend.max_pool_backward(std::vector<float>{1, 10}.data(), argmax.data(), g, 1, dx.data());
  std::vector<float> expected(x.size(), 0.0f);
  expected[7] = 11.0f;
  EXPECT_EQ(dx, expected);
}

}  // namespace
}  // namespace dptrain
