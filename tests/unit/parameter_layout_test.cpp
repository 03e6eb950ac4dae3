#include "dptrain/model/parameter_layout.hpp"

#include <gtest/gtest.h>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/model/sequential.hpp"

namespace dptrain {
namespace {

TEST(ParameterLayout, PacksTensorsInOrderWithoutGaps) {
  ParameterLayout layout;
  EXPECT_EQ(layout.add("a", {2, 3}), 0u);
  EXPECT_EQ(layout.add("b", {4}), 6u);
  EXPECT_EQ(layout.total(), 10u);
  EXPECT_EQ(layout.tensor("b").offset, 6u);
  EXPECT_EQ(layout.describe(), "a [2,3] @0, b [4] @6");
  EXPECT_THROW(layout.add("c", {0, 2}), std::invalid_argument);
  EXPECT_THROW(layout.tensor("missing"), std::out_of_range);
}

TEST(ParameterLayout, FingerprintDistinguishesShapesAndNames) {
  const auto make = [](std::string name, std::vector<int> shape) {
    ParameterLayout layout;
    layout.add("w", {3, 2});
    layout.add(std::move(name), std::move(shape));
    return layout.fingerprint();
  };
  EXPECT_EQ(make("b", {3}), make("b", {3}));
  EXPECT_NE(make("b", {3}), make("b", {4}));
  EXPECT_NE(make("b", {3}), make("c", {3}));
  EXPECT_NE(make("b", {3}), make("b", {3, 1}));
}

TEST(ParameterLayout, MlpLayoutIsTheDocumentedOne) {
  CpuBackend backend(1);
  const Sequential model(backend, {ModelKind::mlp, {64}, {}, {}}, 32);
  EXPECT_EQ(model.describe(), "mlp 784-64-10");
  EXPECT_EQ(model.layout().describe(),
            "layer0/weight [64,784] @0, layer0/bias [64] @50176, "
            "layer1/weight [10,64] @50240, layer1/bias [10] @50880");
  EXPECT_EQ(model.layout().total(), 50890u);  // the Keras example's parameter count
}

TEST(ParameterLayout, InitialisationIsGlorotUniformAndDeterministic) {
  CpuBackend backend(1);
  const Sequential model(backend, {ModelKind::mlp, {64}, {}, {}}, 1);
  std::vector<float> a(model.layout().total()), b(a.size()), c(a.size());
  model.initialize(a, 42);
  model.initialize(b, 42);
  model.initialize(c, 43);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const TensorSlot& w0 = model.layout().tensor("layer0/weight");
  const float limit = std::sqrt(6.0f / (784 + 64));
  double sum_of_squares = 0.0;
  for (size_t i = 0; i < w0.size; ++i) {
    ASSERT_LE(std::abs(a[w0.offset + i]), limit);
    sum_of_squares += a[w0.offset + i] * a[w0.offset + i];
  }
  // Uniform(-l, l) has variance l^2 / 3.
  EXPECT_NEAR(sum_of_squares / static_cast<double>(w0.size), limit * limit / 3.0,
              0.02 * limit * limit / 3.0);
  const TensorSlot& b1 = model.layout().tensor("layer1/bias");
  for (size_t i = 0; i < b1.size; ++i)
    EXPECT_EQ(a[b1.offset + i], 0.0f);
}

}  // namespace
}  // namespace dptrain
