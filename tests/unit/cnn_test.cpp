// The CNN preset (a Sequential model of its layer spec) on the CPU backend: its gradients
// against central differences for a sample of every tensor, its layout and the shapes between
// its layers, its description and the parsing of descriptions, initialisation, the
// GradientsReady reports of backward, and its limits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/random.hpp"
#include "dptrain/model/model.hpp"
#include "dptrain/model/sequential.hpp"
#include "support/model_fixture.hpp"
#include "support/model_specs.hpp"
#include "support/numeric_checks.hpp"

namespace dptrain {
namespace {

using testing::random_values;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int kPixels = 28 * 28;
constexpr int kClasses = 10;

// The CNN preset for `rows` rows on MNIST-shaped random images (support/model_fixture.hpp).
struct CnnFixture : testing::ModelFixture {
  explicit CnnFixture(int rows_, uint64_t seed = 7)
      : ModelFixture(testing::cnn_spec(), rows_, seed) {}
};

// Elements of every tensor against kink-free central differences of the mean loss: the first,
// the last, 10 at random and the 2 of largest gradient. The tolerance is the float noise of
// the loss over the step (about 1e-7 / h, taken four times), what curvature is left, and 0.2%:
// 4e-5 absolute where the network is smooth over h = 1e-2, up to 5e-3 where it takes h = 1e-4
// (conv biases, whose gradients are 1e-2 to 1e-1). Over 25 seeds the worst error was a third of
// its tolerance.
TEST(CnnGradientCheck, SampleOfEveryTensor) {
  CnnFixture net(2);
  std::vector<float> grads(net.params.size(), kNaN);
  net.loss(&grads);
  for (const TensorSlot& slot : net.model.layout().tensors()) {
    const auto gradient = [&](size_t e) { return grads[slot.offset + e]; };
    std::vector<size_t> sample{0, slot.size - 1};
    const uint64_t key = random::stream_key(41, slot.offset);
    for (uint64_t i = 0; sample.size() < 12;)
      sample.push_back(static_cast<size_t>(random::below(key, i, slot.size)));
    std::vector<size_t> by_size(slot.size);
    std::iota(by_size.begin(), by_size.end(), size_t{0});
    std::partial_sort(by_size.begin(), by_size.begin() + 2, by_size.end(), [&](size_t a, size_t b) {
      return std::abs(gradient(a)) > std::abs(gradient(b));
    });
    sample.insert(sample.end(), by_size.begin(), by_size.begin() + 2);

    double largest = 0.0;
    for (size_t e : sample) {
      largest =
          std::max(largest, std::abs(testing::expect_matches_difference(net, grads, slot, e)));
    }
    // Not only dead units: the sample holds gradients worth checking.
    EXPECT_GT(largest, 1e-3) << slot.name;
  }
}

TEST(Cnn, LayoutIsTheDocumentedOne) {
  struct Expected {
    const char* name;
    std::vector<int> shape;
    size_t offset;
    size_t size;
  };
  const std::vector<Expected> expected{
      {"conv1/weight", {32, 5, 5, 1}, 0, 800},       {"conv1/bias", {32}, 800, 32},
      {"conv2/weight", {64, 5, 5, 32}, 832, 51200},  {"conv2/bias", {64}, 52032, 64},
      {"dense1/weight", {128, 1024}, 52096, 131072}, {"dense1/bias", {128}, 183168, 128},
      {"dense2/weight", {10, 128}, 183296, 1280},    {"dense2/bias", {10}, 184576, 10},
  };
  const ParameterLayout layout = model_layout(testing::cnn_spec());
  ASSERT_EQ(layout.tensors().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const TensorSlot& slot = layout.tensors()[i];
    EXPECT_EQ(slot.name, expected[i].name);
    EXPECT_EQ(slot.shape, expected[i].shape) << slot.name;
    EXPECT_EQ(slot.offset, expected[i].offset) << slot.name;
    EXPECT_EQ(slot.size, expected[i].size) << slot.name;
  }
  EXPECT_EQ(layout.total(), 184586u);

  CpuBackend backend(1);
  const Sequential model(backend, testing::cnn_spec(), 2);
  EXPECT_EQ(model.layout().fingerprint(), layout.fingerprint());
  EXPECT_EQ(model_layout({ModelKind::cnn, {}, {}, {}}).fingerprint(), layout.fingerprint());
  EXPECT_EQ(model.layer_count(), 4u);
  // The layers, each ReLU fused into the convolution or dense before it, and the shapes between
  // them: [24,24,32] pooled to [12,12,32], [8,8,64] to [4,4,64] = 1024, 128, 10.
  const std::vector<std::string> tokens{"conv5x32", "pool2",    "conv5x64",
                                        "pool2",    "dense128", "dense10"};
  const std::vector<std::string> shapes{"24x24x32", "12x12x32", "8x8x64",
                                        "4x4x64",   "1x1x128",  "1x1x10"};
  ASSERT_EQ(model.layers().size(), tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(model.layers()[i]->token(), tokens[i]);
    EXPECT_EQ(model.layers()[i]->output().text(), shapes[i]) << tokens[i];
    EXPECT_EQ(model.layers()[i]->fused(),
              i == 1 || i == 3 || i == 5 ? ew::Activation::none : ew::Activation::relu)
        << tokens[i];
  }
}

TEST(ModelSpec, DescriptionsRoundTrip) {
  CpuBackend backend(1);
  const std::vector<ModelSpec> specs{{ModelKind::cnn, {}, {}, {}},
                                     {ModelKind::mlp, {64}, {}, {}},
                                     {ModelKind::mlp, {}, {}, {}},
                                     {ModelKind::mlp, {128, 32}, {}, {}}};
  const std::vector<std::string> descriptions{"cnn 28x28x1-c5x32-p2-c5x64-p2-128-10",
                                              "mlp 784-64-10", "mlp 784-10", "mlp 784-128-32-10"};
  for (size_t i = 0; i < specs.size(); ++i) {
    const std::string& description = descriptions[i];
    EXPECT_EQ(describe_model(specs[i]), description);
    const ModelSpec parsed = parse_model(description);
    EXPECT_EQ(parsed.kind, specs[i].kind) << description;
    EXPECT_EQ(parsed.hidden, specs[i].hidden) << description;
    const std::unique_ptr<Model> model = make_model(backend, parsed, 2);
    EXPECT_EQ(model->describe(), description);
    EXPECT_EQ(model->layout().fingerprint(), model_layout(parsed).fingerprint()) << description;
  }
  EXPECT_EQ(describe_model(testing::cnn_spec()), descriptions[0]);
  EXPECT_STREQ(model_kind_name(ModelKind::cnn), "cnn");
  EXPECT_STREQ(model_kind_name(ModelKind::mlp), "mlp");
}

TEST(ModelSpec, ParseRejectsWhatDescribeNeverWrites) {
  for (const char* garbage : {"",
                              "cnn",
                              "mlp",
                              "mlp ",
                              "CNN 28x28x1-c5x32-p2-c5x64-p2-128-10",
                              "cnn 28x28x1-c5x32-p2-c5x64-p2-128-11",
                              "cnn 28x28x1-c5x32-p2-c5x64-p2-128-10 ",
                              " mlp 784-64-10",
                              "mlp 784-64-10 ",
                              "mlp 784-64-10-",
                              "mlp 784--64-10",
                              "mlp -784-64-10",
                              "mlp 785-64-10",
                              "mlp 784-64-11",
                              "mlp 784",
                              "mlp 784-064-10",
                              "mlp 784-+64-10",
                              "mlp 784-6x4-10",
                              "mlp 784-99999999999-10",
                              "mlp784-64-10",
                              "mlp  784-64-10"})
    EXPECT_THROW(parse_model(garbage), std::invalid_argument) << "'" << garbage << "'";
}

TEST(Cnn, InitializeIsAPureFunctionOfTheSeedWithZeroBiases) {
  CpuBackend backend(1);
  const Sequential model(backend, testing::cnn_spec(), 1);
  const ParameterLayout& layout = model.layout();
  std::vector<float> first(layout.total(), kNaN), again(layout.total(), 5.0f),
      other(layout.total(), kNaN);
  model.initialize(first, 3);
  model.initialize(again, 3);
  model.initialize(other, 4);
  EXPECT_EQ(first, again);  // also: no element left as it was (NaN never equals)
  EXPECT_NE(first, other);
  for (const TensorSlot& slot : layout.tensors()) {
    const bool bias = slot.name.ends_with("/bias");
    size_t zeros = 0;
    for (size_t e = 0; e < slot.size; ++e)
      zeros += first[slot.offset + e] == 0.0f ? 1 : 0;
    if (bias) {
      EXPECT_EQ(zeros, slot.size) << slot.name;
    } else {
      EXPECT_LT(zeros, slot.size / 100 + 1) << slot.name;
    }
  }
  // Glorot's limit for conv1: fans 25 * 1 in and 25 * 32 out.
  const float limit = std::sqrt(6.0f / (25.0f + 800.0f));
  for (size_t e = 0; e < 800; ++e)
    ASSERT_LE(std::abs(first[e]), limit) << e;
  std::vector<float> wrong(layout.total() - 1);
  EXPECT_THROW(model.initialize(wrong, 3), std::invalid_argument);
}

// Records what backward reports, and the gradients it called final at that moment.
class ReadyRecorder : public GradientsReady {
 public:
  explicit ReadyRecorder(const std::vector<float>& grads) : grads_(grads) {}
  void ready_from(size_t offset) override {
    offsets.push_back(offset);
    suffixes.emplace_back(grads_.begin() + static_cast<ptrdiff_t>(offset), grads_.end());
  }
  std::vector<size_t> offsets;
  std::vector<std::vector<float>> suffixes;

 private:
  const std::vector<float>& grads_;
};

TEST(Cnn, BackwardReportsFinalSuffixesDownToZero) {
  CnnFixture net(2);
  std::vector<float> grads(net.params.size(), kNaN);
  ReadyRecorder ready(grads);
  net.loss(&grads, &ready);
  // A layer at a time, last first: each layer's first tensor.
  const ParameterLayout& layout = net.model.layout();
  EXPECT_EQ(ready.offsets, (std::vector<size_t>{layout.tensor("dense2/weight").offset,
                                                layout.tensor("dense1/weight").offset,
                                                layout.tensor("conv2/weight").offset, 0}));
  for (size_t i = 0; i < ready.offsets.size(); ++i)
    EXPECT_TRUE(std::equal(ready.suffixes[i].begin(), ready.suffixes[i].end(),
                           grads.begin() + static_cast<ptrdiff_t>(ready.offsets[i])))
        << "the gradients from " << ready.offsets[i] << " changed after they were reported";
}

TEST(Cnn, BackwardOverwritesEveryGradient) {
  CnnFixture net(2);
  std::vector<float> first(net.params.size(), kNaN), second(net.params.size(), -7.0f);
  net.loss(&first);
  net.loss(&second);
  EXPECT_EQ(first, second);
}

TEST(Cnn, RefusesMoreRowsThanItWasBuiltFor) {
  CpuBackend backend(1);
  EXPECT_THROW(Sequential(backend, testing::cnn_spec(), /*max_rows=*/0), std::invalid_argument);
  Sequential model(backend, testing::cnn_spec(), 2);
  std::vector<float> params(model.layout().total());
  model.initialize(params, 1);
  const std::vector<float> x(3 * kPixels, 0.5f);
  EXPECT_THROW(model.forward(params.data(), x.data(), 3), std::logic_error);
  EXPECT_NO_THROW(model.forward(params.data(), x.data(), 2));
}

}  // namespace
}  // namespace dptrain
