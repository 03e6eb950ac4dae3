// The presets mlp and cnn, now built by the sequential model from layer specs, against the
// hand-wired networks they replaced (unit/reference/), computed here on this machine: the same
// tensors in the same order, the same initial values, and bit for bit the same logits, gradients
// and GradientsReady reports, at the first step and after a few SGD steps. Golden numbers would
// not do: OpenBLAS picks its kernels by CPU, so only a comparison at test time is portable.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/model/model.hpp"
#include "support/model_specs.hpp"
#include "support/numeric_checks.hpp"
#include "unit/reference/cnn.hpp"
#include "unit/reference/mlp.hpp"

namespace dptrain {
namespace {

using testing::random_values;

class OffsetRecorder : public GradientsReady {
 public:
  void ready_from(size_t offset) override { offsets.push_back(offset); }
  std::vector<size_t> offsets;
};

// What one step of a model gives: its logits, its gradients and what backward reported.
struct StepResult {
  std::vector<float> logits;
  std::vector<float> grads;
  std::vector<size_t> ready;
};

StepResult step(Backend& backend, Model& model, const std::vector<float>& params,
                const std::vector<float>& x, const std::vector<int32_t>& labels, int classes) {
  const int rows = static_cast<int>(labels.size());
  StepResult result;
  const float* logits = model.forward(params.data(), x.data(), rows);
  result.logits.assign(logits, logits + static_cast<size_t>(rows) * classes);
  std::vector<float> dlogits(result.logits.size());
  double loss = 0.0;
  backend.softmax_cross_entropy(logits, labels.data(), rows, classes,
                                1.0f / static_cast<float>(rows), dlogits.data(), &loss);
  result.grads.assign(params.size(), 0.0f);
  OffsetRecorder ready;
  model.backward(params.data(), x.data(), dlogits.data(), rows, result.grads.data(), &ready);
  result.ready = ready.offsets;
  return result;
}

// Both models from the same seed, the same rows; kSteps plain SGD steps, every one compared.
void expect_bitwise_equal(Model& preset, Model& reference, const DataShape& input, int rows) {
  constexpr int kSteps = 4;
  constexpr float kLearningRate = 0.05f;  // large enough that the steps move the ReLUs' kinks
  ASSERT_EQ(preset.layout().describe(), reference.layout().describe());
  ASSERT_EQ(preset.describe(), reference.describe());
  ASSERT_EQ(preset.layer_count(), reference.layer_count());
  std::vector<float> params(preset.layout().total()), reference_params(params.size());
  preset.initialize(params, 11);
  reference.initialize(reference_params, 11);
  ASSERT_EQ(params, reference_params);

  CpuBackend backend(1);
  const std::vector<float> x =
      random_values(static_cast<size_t>(rows) * input.row_width(), 5, 0.0f, 1.0f);
  std::vector<int32_t> labels(rows);
  for (int r = 0; r < rows; ++r)
    labels[r] = r % input.classes;
  for (int s = 0; s < kSteps; ++s) {
    const StepResult got = step(backend, preset, params, x, labels, input.classes);
    const StepResult want = step(backend, reference, params, x, labels, input.classes);
    ASSERT_EQ(got.logits, want.logits) << "step " << s;
    ASSERT_EQ(got.grads, want.grads) << "step " << s;
    ASSERT_EQ(got.ready, want.ready) << "step " << s;
    for (size_t i = 0; i < params.size(); ++i)
      params[i] -= kLearningRate * got.grads[i];
  }
}

TEST(PresetEquality, MlpOnMnistIsTheHandWiredMlp) {
  CpuBackend backend(1);
  const int rows = 6;
  const std::unique_ptr<Model> preset = make_model(backend, {ModelKind::mlp, {64}, {}, {}}, rows);
  testing::ReferenceMlp reference(backend, {784, 64, 10}, rows);
  expect_bitwise_equal(*preset, reference, DataShape{}, rows);
}

TEST(PresetEquality, DeeperMlpOnFeaturesIsTheHandWiredMlp) {
  CpuBackend backend(1);
  const int rows = 5;
  const ModelSpec spec = testing::mlp_spec({20, 16, 8, 3});
  const std::unique_ptr<Model> preset = make_model(backend, spec, rows);
  testing::ReferenceMlp reference(backend, {20, 16, 8, 3}, rows);
  expect_bitwise_equal(*preset, reference, spec.input, rows);
}

TEST(PresetEquality, CnnOnMnistIsTheHandWiredCnn) {
  CpuBackend backend(1);
  const int rows = 3;
  const std::unique_ptr<Model> preset = make_model(backend, testing::cnn_spec(), rows);
  testing::ReferenceCnn reference(backend, DataShape{}, rows);
  expect_bitwise_equal(*preset, reference, DataShape{}, rows);
}

TEST(PresetEquality, CnnOnColourImagesIsTheHandWiredCnn) {
  CpuBackend backend(1);
  const int rows = 2;
  const DataShape input{DataShape::Kind::images, 20, 24, 3, 4};
  const std::unique_ptr<Model> preset = make_model(backend, testing::cnn_spec(input), rows);
  testing::ReferenceCnn reference(backend, input, rows);
  expect_bitwise_equal(*preset, reference, input, rows);
}

}  // namespace
}  // namespace dptrain
