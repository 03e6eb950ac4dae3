// Layer specs (model/layers/registry.hpp): what good specs build, the one-line error every bad
// one gets, describe/parse round trips, and a spec model that learns.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/core/random.hpp"
#include "dptrain/model/sequential.hpp"
#include "support/model_specs.hpp"

namespace dptrain {
namespace {

using testing::layers_spec;

const DataShape kColour{DataShape::Kind::images, 32, 32, 3, 5};
const DataShape kSmall{DataShape::Kind::images, 12, 12, 3, 5};
const DataShape kFeatures = DataShape::features(20, 3);

TEST(LayerSpec, BuildsTheLayersItNamesWithTheirShapes) {
  CpuBackend backend(1);
  const Sequential model(backend, layers_spec("conv5x32s,relu,pool2,conv3x8,tanh,denseK", kColour),
                         2);
  const std::vector<std::string> tokens{"conv5x32s", "pool2", "conv3x8", "tanh", "dense5"};
  const std::vector<std::string> shapes{"32x32x32", "16x16x32", "14x14x8", "14x14x8", "1x1x5"};
  ASSERT_EQ(model.layers().size(), tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(model.layers()[i]->token(), tokens[i]);
    EXPECT_EQ(model.layers()[i]->output().text(), shapes[i]) << tokens[i];
  }
  EXPECT_EQ(model.layout().describe(),
            "conv1/weight [32,5,5,3] @0, conv1/bias [32] @2400, conv2/weight [8,3,3,32] @2432, "
            "conv2/bias [8] @4736, dense1/weight [5,1568] @4744, dense1/bias [5] @12584");
  EXPECT_EQ(model.layer_count(), 3u);
  EXPECT_EQ(model.describe(), "net 32x32x3 conv5x32s,relu,pool2,conv3x8,tanh,dense5");
}

TEST(LayerSpec, FusesAReluOnlyIntoADenseOrAConvBeforeIt) {
  CpuBackend backend(1);
  const Sequential fused(backend, layers_spec("conv3x4,relu,pool2,denseK", kSmall), 1);
  const Sequential standalone(backend, layers_spec("conv3x4,pool2,relu,denseK", kSmall), 1);
  ASSERT_EQ(fused.layers().size(), 3u);
  EXPECT_EQ(fused.layers()[0]->fused(), ew::Activation::relu);
  ASSERT_EQ(standalone.layers().size(), 4u);
  EXPECT_EQ(standalone.layers()[2]->token(), "relu");
  EXPECT_EQ(standalone.layers()[0]->fused(), ew::Activation::none);
  // A second relu finds the first one fused already, and is a layer of its own.
  const Sequential twice(backend, layers_spec("dense8,relu,relu,denseK", kFeatures), 1);
  EXPECT_EQ(twice.layers().size(), 3u);
}

TEST(LayerSpec, PresetsAreLayerSpecs) {
  EXPECT_EQ(preset_layers(testing::cnn_spec()),
            "conv5x32,relu,pool2,conv5x64,relu,pool2,dense128,relu,denseK");
  EXPECT_EQ(preset_layers({ModelKind::mlp, {64}, {}, {}}), "dense64,relu,denseK");
  EXPECT_EQ(preset_layers({ModelKind::mlp, {128, 32}, {}, {}}),
            "dense128,relu,dense32,relu,denseK");
  EXPECT_EQ(preset_layers({ModelKind::mlp, {}, {}, {}}), "denseK");
  EXPECT_STREQ(model_kind_name(ModelKind::layers), "layers");
}

struct BadSpec {
  const char* spec;
  DataShape input;
  const char* message;  // the whole message
};

TEST(LayerSpec, EveryBadSpecGetsOneLineNamingItsItem) {
  const std::vector<BadSpec> cases{
      {"conv5x32,resnet,denseK", kColour,
       "model: layer 2 'resnet' is no layer: items start with one of conv, pool, dense, relu, "
       "tanh (README, \"Models\")"},
      {"relux,denseK", kColour,
       "model: layer 1 'relux' is no layer: items start with one of conv, pool, dense, relu, "
       "tanh (README, \"Models\")"},
      {"conv4x8s,denseK", kColour,
       "model: layer 1 'conv4x8s' has an even kernel; 'same' padding (s) needs an odd one"},
      {"conv5x8,pool2,conv5x8,pool2,conv3x8,pool2,pool2,denseK", kColour,
       "model: layer 7 'pool2' met a 1x1x8 map, smaller than its 2x2 window"},
      {"conv5x8,pool4,conv5x8,denseK", kSmall,
       "model: layer 3 'conv5x8' met a 2x2x8 map, smaller than its 5x5 kernel"},
      {"conv3x8,relu,pool2", kColour,
       "model: the last layer must be dense5 (or denseK), one unit per class with no activation "
       "(the softmax is in the loss), and the spec ends with 'pool2'"},
      {"dense16,relu,dense4", kColour,
       "model: the last layer must be dense5 (or denseK), one unit per class with no activation "
       "(the softmax is in the loss), and the spec ends with 'dense4'"},
      {"dense16,denseK,relu", kColour,
       "model: the last layer must be dense5 (or denseK), one unit per class with no activation "
       "(the softmax is in the loss), and the spec ends with 'dense5,relu'"},
      {"conv5x32,,relu,denseK", kColour, "model: layer 2 of 'conv5x32,,relu,denseK' is empty"},
      {",denseK", kColour, "model: layer 1 of ',denseK' is empty"},
      {"denseK,", kColour, "model: layer 2 of 'denseK,' is empty"},
      {"", kColour, "model: the layer spec is empty"},
      {"conv0x8,denseK", kColour, "model: layer 1 'conv0x8' needs a kernel size from 1 to 65536"},
      {"conv3x0,denseK", kColour, "model: layer 1 'conv3x0' needs channels from 1 to 65536"},
      {"conv3x99999999999,denseK", kColour,
       "model: layer 1 'conv3x99999999999' needs channels from 1 to 65536"},
      {"conv3x8x,denseK", kColour, "model: layer 1 'conv3x8x' needs channels from 1 to 65536"},
      {"conv3,denseK", kColour,
       "model: layer 1 'conv3' is not convKxC or convKxCs (kernel K, C channels)"},
      {"pool17,denseK", kColour, "model: layer 1 'pool17' needs a window from 1 to 16"},
      {"dense-3,denseK", kColour, "model: layer 1 'dense-3' needs units from 1 to 65536"},
      {"dense065,denseK", kColour, "model: layer 1 'dense065' needs units from 1 to 65536"},
      {"dense65537,denseK", kColour, "model: layer 1 'dense65537' needs units from 1 to 65536"},
      {"tanh2,denseK", kColour,
       "model: layer 1 'tanh2' is no layer: items start with one of conv, pool, dense, relu, "
       "tanh (README, \"Models\")"},
      {"conv5x32,relu,denseK", kFeatures,
       "model: layer 1 'conv5x32' takes images, and the data holds 20 features, 3 classes"},
  };
  for (const BadSpec& bad : cases) {
    try {
      model_layout(layers_spec(bad.spec, bad.input));
      ADD_FAILURE() << "'" << bad.spec << "' was accepted";
    } catch (const InputError& error) {
      EXPECT_EQ(std::string(error.what()), bad.message) << "'" << bad.spec << "'";
    }
  }
}

TEST(LayerSpec, TheCnnPresetOnFeaturesNamesItsFirstConvolution) {
  EXPECT_THROW(model_layout(testing::cnn_spec(kFeatures)), InputError);
}

TEST(LayerSpec, DescriptionsRoundTripThroughParse) {
  CpuBackend backend(1);
  const std::vector<ModelSpec> specs{
      layers_spec("conv5x32s,relu,pool2,dense5", kColour),
      layers_spec("conv3x8s,tanh,pool2,dense16,relu,denseK", kSmall),
      layers_spec("conv3x4,pool2,relu,dense10"),
      layers_spec("dense7,tanh,denseK", kFeatures),
      testing::cnn_spec(kColour),
      {ModelKind::mlp, {12}, kFeatures, {}},
  };
  for (const ModelSpec& spec : specs) {
    const std::string description = describe_model(spec);
    const ModelSpec parsed = parse_model(description, spec.input);
    EXPECT_EQ(parsed.kind, spec.kind) << description;
    EXPECT_EQ(describe_model(parsed), description);
    EXPECT_EQ(parse_model(describe_model(parsed), spec.input).layers, parsed.layers);
    const std::unique_ptr<Model> model = make_model(backend, parsed, 1);
    EXPECT_EQ(model->describe(), description);
    EXPECT_EQ(model->layout().fingerprint(), model_layout(spec).fingerprint()) << description;
  }
  EXPECT_EQ(describe_model(specs[0]), "net 32x32x3 conv5x32s,relu,pool2,dense5");
  EXPECT_EQ(describe_model(specs[1]), "net 12x12x3 conv3x8s,tanh,pool2,dense16,relu,dense5");
  EXPECT_EQ(describe_model(specs[3]), "net 1x20x1 dense7,tanh,dense3");
}

TEST(LayerSpec, ParseRejectsWhatDescribeNeverWritesForThatInput) {
  for (const char* garbage :
       {"net", "net ", "net 32x32x3", "net 32x32x3 ",
        "net 28x28x1 conv5x32s,relu,pool2,dense5",  // another input
        "net 32x32x3 conv5x32s,relu,pool2,denseK",  // K unresolved
        "net 32x32x3 conv5x32s,relu,pool2,dense6",  // not 5 classes
        "net 32x32x3 conv33x32,dense5",             // does not build
        "net 32x32x3  conv5x32s,relu,pool2,dense5", "net 32x32x3 conv5x32s,relu,pool2,dense5 "})
    EXPECT_THROW(parse_model(garbage, kColour), std::invalid_argument) << "'" << garbage << "'";
}

// A batch a small network can learn: each class has its own pattern, under noise.
struct LearnableBatch {
  std::vector<float> x;
  std::vector<int32_t> labels;
};

LearnableBatch learnable_batch(const DataShape& input, int rows) {
  LearnableBatch batch;
  const size_t width = static_cast<size_t>(input.row_width());
  const uint64_t pattern_key = random::stream_key(21, 0), noise_key = random::stream_key(21, 1);
  for (int r = 0; r < rows; ++r) {
    const int label = r % input.classes;
    batch.labels.push_back(label);
    for (size_t e = 0; e < width; ++e)
      batch.x.push_back(0.7f * random::uniform01(pattern_key, label * width + e) +
                        0.3f * random::uniform01(noise_key, r * width + e));
  }
  return batch;
}

double sgd_step(Backend& backend, Model& model, std::vector<float>& params,
                const LearnableBatch& batch, int classes, float lr) {
  const int rows = static_cast<int>(batch.labels.size());
  const float* logits = model.forward(params.data(), batch.x.data(), rows);
  std::vector<float> dlogits(static_cast<size_t>(rows) * classes), grads(params.size());
  double loss = 0.0;
  backend.softmax_cross_entropy(logits, batch.labels.data(), rows, classes,
                                1.0f / static_cast<float>(rows), dlogits.data(), &loss);
  model.backward(params.data(), batch.x.data(), dlogits.data(), rows, grads.data());
  for (size_t i = 0; i < params.size(); ++i)
    params[i] -= lr * grads[i];
  return loss / rows;
}

TEST(LayerSpec, ASpecModelLearnsASmallBatch) {
  constexpr int kRows = 20;
  constexpr int kSteps = 40;
  CpuBackend backend(1);
  Sequential model(backend, layers_spec("conv3x8s,tanh,pool2,dense16,relu,denseK", kSmall), kRows);
  std::vector<float> params(model.layout().total());
  model.initialize(params, 3);
  const LearnableBatch batch = learnable_batch(kSmall, kRows);
  const double first = sgd_step(backend, model, params, batch, kSmall.classes, 0.1f);
  // Chance is log(classes): a network that starts near it and learns ends well below.
  EXPECT_NEAR(first, std::log(static_cast<double>(kSmall.classes)), 0.5);
  double last = first;
  for (int s = 1; s < kSteps; ++s)
    last = sgd_step(backend, model, params, batch, kSmall.classes, 0.1f);
  EXPECT_LT(last, 0.5 * first) << "from " << first;
}

}  // namespace
}  // namespace dptrain
