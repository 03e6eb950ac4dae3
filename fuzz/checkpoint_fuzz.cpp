// Checkpoints from elsewhere (README, "Checkpoints"): read_checkpoint and checkpoint_model, with
// eval's parse_model of the description, on a real checkpoint that dptrain's own writer
// (write_checkpoint_to) wrote in memory for a small model and that the input then mutates:
// datasets dropped or replaced by others of any type, rank and extent (zero, or far beyond the
// model), attributes dropped or replaced by strings, integers (negative, huge), floats, arrays of
// any length. Whatever the file says, a read must not read or write out of bounds nor allocate
// by the file's sizes: an accepted checkpoint holds exactly the model's tensors.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "choices.hpp"
#include "dptrain/data/h5_io.hpp"
#include "dptrain/model/model_spec.hpp"
#include "dptrain/optim/update_rules.hpp"
#include "dptrain/train/checkpoint.hpp"
#include "fuzz_check.hpp"
#include "h5_layout.hpp"
#include "h5_memory_file.hpp"

namespace {

using namespace dptrain;
using namespace dptrain::fuzz;

constexpr const char* kName = "fuzz-ckpt.h5";
// Eval builds the model a checkpoint describes; above this many parameters the harness stops at
// its layout (the allocation would be eval's, by the description's sizes; see README, "Fuzzing").
constexpr size_t kMaxReadParameters = size_t{1} << 22;
constexpr const char* kAttributes[] = {"format",
                                       "epoch",
                                       "step_in_epoch",
                                       "global_step",
                                       "epoch_loss_sum",
                                       "world_size",
                                       "global_batch",
                                       "seed",
                                       "model",
                                       "data_shape",
                                       "optimizer",
                                       "optimizer_state",
                                       "optimizer_steps",
                                       "config",
                                       "exact",
                                       "micro_batch",
                                       "fixed_point_exponents",
                                       "widths",
                                       "adam_steps"};
constexpr uint8_t kAttributeCount = sizeof kAttributes / sizeof kAttributes[0];

// Small models of both families: an MLP on features, a spec net on images.
ModelSpec model(uint8_t choice) {
  if (choice == 0) return {ModelKind::mlp, {4}, DataShape::features(5, 3), {}};
  return {
      ModelKind::layers, {}, {DataShape::Kind::images, 4, 4, 1, 3}, "conv3x2s,relu,pool2,dense3"};
}

enum MutationKind : uint8_t {
  kDropDataset,
  kReplaceDataset,
  kRetypeDataset,  // the model's extents, another type or storage
  kDropAttribute,
  kReplaceAttribute,
  kMutationKinds
};

struct Mutation {
  uint8_t kind = kDropDataset;
  uint8_t target = 0;  // a dataset (modulo their count) or an attribute of kAttributes
  DatasetPlan dataset;
  AttributePlan attribute;
};

struct CheckpointPlan {
  uint8_t model = 0;
  uint8_t optimizer = 0;  // 0: Adam (m, v), 1: SGD with momentum (velocity), 2: SGD
  uint8_t exact = 0;
  std::vector<Mutation> mutations;
};

template <class Io>
void visit(Io& io, CheckpointPlan& plan) {
  io.integer(plan.model, uint8_t{0}, uint8_t{1});
  io.integer(plan.optimizer, uint8_t{0}, uint8_t{2});
  io.integer(plan.exact, uint8_t{0}, uint8_t{1});
  uint8_t count = static_cast<uint8_t>(plan.mutations.size());
  io.integer(count, uint8_t{0}, uint8_t{8});
  plan.mutations.resize(count);
  for (Mutation& mutation : plan.mutations) {
    io.integer(mutation.kind, uint8_t{0}, uint8_t{kMutationKinds - 1});
    io.integer(mutation.target, uint8_t{0}, uint8_t{255});
    if (mutation.kind == kReplaceDataset || mutation.kind == kRetypeDataset)
      visit_dataset(io, mutation.dataset);
    if (mutation.kind == kReplaceAttribute) visit_attribute(io, mutation.attribute);
  }
}

std::vector<std::string> optimizer_names(uint8_t optimizer) {
  if (optimizer == 0) return {"m", "v"};
  if (optimizer == 1) return {"velocity"};
  return {};
}

// The checkpoint dptrain writes for `spec` after a few steps, values distinct.
Checkpoint written(const CheckpointPlan& plan, const ModelSpec& spec,
                   const ParameterLayout& layout) {
  Checkpoint checkpoint;
  checkpoint.position = {2, 3, 11, 4.5};
  checkpoint.world_size = 2;
  checkpoint.global_batch = 16;
  checkpoint.seed = 7;
  checkpoint.model = describe_model(spec);
  checkpoint.data_shape = spec.input;
  checkpoint.config_json = "{\"epochs\":2}";
  checkpoint.optimizer = plan.optimizer == 0 ? "adam" : "sgd";
  checkpoint.optimizer_steps = 11;
  checkpoint.exact = plan.exact != 0;
  checkpoint.micro_batch = 8;
  if (checkpoint.exact)
    for (size_t t = 0; t < layout.tensors().size(); ++t)
      checkpoint.fixed_point_exponents.push_back(static_cast<int32_t>(t) - 20);
  checkpoint.params.resize(layout.total());
  for (size_t i = 0; i < layout.total(); ++i)
    checkpoint.params[i] = static_cast<float>(i) * 0.25f - 1.0f;
  for (const std::string& name : optimizer_names(plan.optimizer))
    checkpoint.optimizer_state.push_back({name, std::vector<float>(layout.total(), 0.5f)});
  return checkpoint;
}

void mutate(hid_t file, const Mutation& mutation, const std::vector<std::string>& datasets,
            const ParameterLayout& layout, size_t& budget) {
  const std::string& dataset = datasets[mutation.target % datasets.size()];
  const char* attribute = kAttributes[mutation.target % kAttributeCount];
  switch (mutation.kind) {
    case kDropDataset:
      H5Ldelete(file, dataset.c_str(), H5P_DEFAULT);
      return;
    case kReplaceDataset:
    case kRetypeDataset: {
      H5Ldelete(file, dataset.c_str(), H5P_DEFAULT);
      DatasetPlan plan = mutation.dataset;
      plan.path = dataset;
      if (mutation.kind == kRetypeDataset) {
        const std::vector<int>& shape =
            layout.tensors()[mutation.target % layout.tensors().size()].shape;
        plan.extents.assign(shape.begin(), shape.end());
        plan.rank = static_cast<uint8_t>(shape.size());
      }
      build_dataset(file, plan, budget);
      return;
    }
    case kDropAttribute:
      H5Adelete(file, attribute);
      return;
    default:
      build_attribute(file, attribute, mutation.attribute);
  }
}

void check_read(const Checkpoint& checkpoint, const ParameterLayout& layout) {
  require(checkpoint.params.size() == layout.total(), "the parameters are the model's");
  require(checkpoint.optimizer_state.size() <= static_cast<size_t>(ew::kMaxStateTensors),
          "no more state tensors than an optimizer keeps");
  for (const OptimizerTensor& tensor : checkpoint.optimizer_state)
    require(tensor.values.size() == layout.total(), "each state tensor is the model's size");
  require(!checkpoint.exact || checkpoint.fixed_point_exponents.size() == layout.tensors().size(),
          "one fixed-point exponent per tensor");
  // micro_batch 0 is what checkpoints of tests record; nothing divides by it.
  require(checkpoint.world_size >= 1 && checkpoint.global_batch >= 1 && checkpoint.micro_batch >= 0,
          "world size and global batch are positive, the micro-batch not negative");
  require(checkpoint.position.epoch >= 1 && checkpoint.position.global_step >= 0,
          "the position is one training reaches");
}

void run(const CheckpointPlan& plan) {
  const ModelSpec spec = model(plan.model);
  const ParameterLayout layout = model_layout(spec);
  const h5::Id file = make_memory_file();
  write_checkpoint_to(file.get(), layout, written(plan, spec, layout));
  std::vector<std::string> datasets;
  for (const std::string& group : {std::string("/model"), std::string("/optimizer/m"),
                                   std::string("/optimizer/v"), std::string("/optimizer/velocity")})
    for (const TensorSlot& slot : layout.tensors())
      datasets.push_back(group + "/" + slot.name);
  datasets.push_back("/model");
  size_t budget = size_t{1} << 20;
  for (const Mutation& mutation : plan.mutations)
    mutate(file.get(), mutation, datasets, layout, budget);

  accepts_input_errors(
      [&] { check_read(read_checkpoint(file.get(), kName, spec, layout), layout); });
  // What eval does: build the model the checkpoint describes, then read it for that model.
  accepts_input_errors([&] {
    const CheckpointModel recorded = checkpoint_model(file.get(), kName);
    ModelSpec described;
    try {
      described = parse_model(recorded.description, recorded.data_shape);
    } catch (const std::invalid_argument&) {
      return;  // eval's contract: it reports the description as not one it builds
    }
    const ParameterLayout described_layout = model_layout(described);
    if (described_layout.total() > kMaxReadParameters) return;
    check_read(read_checkpoint(file.get(), kName, described, described_layout), described_layout);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run(read_plan<CheckpointPlan>(data, size));
  return 0;
}

extern "C" int DptrainFuzzWriteSeeds(const char* dir) {
  std::vector<std::pair<std::string, CheckpointPlan>> seeds;
  for (uint8_t model = 0; model < 2; ++model)
    for (uint8_t optimizer = 0; optimizer < 3; ++optimizer)
      for (uint8_t exact = 0; exact < 2; ++exact)
        seeds.push_back({"m" + std::to_string(model) + "-o" + std::to_string(optimizer) + "-e" +
                             std::to_string(exact),
                         {model, optimizer, exact, {}}});
  const auto with = [&](const std::string& name, Mutation mutation) {
    seeds.push_back({name, {0, 0, 1, {mutation}}});
  };
  with("drop-dataset", {kDropDataset, 1, {}, {}});
  DatasetPlan huge;
  huge.type = kFloat32;
  huge.rank = 2;
  huge.storage = kUnwritten;
  huge.extents = {uint64_t{1} << 32, 5};
  with("huge-dataset", {kReplaceDataset, 0, huge, {}});
  DatasetPlan empty;
  empty.type = kFloat32;
  empty.rank = 2;
  empty.extents = {0, 5};
  with("empty-dataset", {kReplaceDataset, 0, empty, {}});
  DatasetPlan strings;
  strings.type = kString;
  with("string-dataset", {kRetypeDataset, 0, strings, {}});
  DatasetPlan doubles;
  doubles.type = kFloat64;
  with("float64-dataset", {kRetypeDataset, 0, doubles, {}});
  with("drop-world-size", {kDropAttribute, 5, {}, {}});
  with("world-size-0", {kReplaceAttribute, 5, {}, {kInt64Scalar, 0, 1, {}}});
  with("epoch-negative", {kReplaceAttribute, 1, {}, {kInt64Scalar, -5, 1, {}}});
  with("global-batch-huge", {kReplaceAttribute, 6, {}, {kUint64Scalar, -1, 1, {}}});
  with("state-names", {kReplaceAttribute, 11, {}, {kFixedString, 0, 1, "m,v,m,v,m"}});
  with("exponents-short", {kReplaceAttribute, 16, {}, {kInt64Array, -20, 3, {}}});
  with("model-huge-net",
       {kReplaceAttribute,
        8,
        {},
        {kFixedString, 0, 1, "net 1x5x1 dense65536,relu,dense65536,relu,dense3"}});
  with("data-shape-text",
       {kReplaceAttribute, 9, {}, {kFixedString, 0, 1, "images 4x4x1 classes 3"}});
  with("format-int", {kReplaceAttribute, 0, {}, {kInt64Scalar, 1, 1, {}}});
  with("legacy-widths", {kReplaceAttribute, 17, {}, {kInt64Array, 5, 3, {}}});
  return write_seeds(dir, seeds);
}
