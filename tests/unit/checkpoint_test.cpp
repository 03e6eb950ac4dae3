// Checkpoint files: a model's tensors and its description round-trip, a checkpoint of one
// model is refused for another, checkpoints written before the CNN (which recorded the MLP's
// widths instead of a model description) still read as that MLP, and --exact's scales
// round-trip while checkpoints from before --exact read as float-summed ones.
#include "dptrain/train/checkpoint.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dptrain/core/error.hpp"
#include "dptrain/data/h5_io.hpp"
#include "dptrain/model/model_spec.hpp"
#include "support/numeric_checks.hpp"
#include "support/synthetic_data.hpp"

namespace dptrain {
namespace {

const ModelSpec kMlp{ModelKind::mlp, {64}, {}, {}};
const ModelSpec kCnn{ModelKind::cnn, {}, {}, {}};

class CheckpointFile : public ::testing::Test {
 protected:
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A checkpoint of `spec` with distinct values in every tensor; returns its path.
  std::string write(const ModelSpec& spec, bool exact = false) {
    const ParameterLayout layout = model_layout(spec);
    Checkpoint checkpoint;
    checkpoint.exact = exact;
    checkpoint.micro_batch = 16;
    if (exact)
      for (size_t t = 0; t < layout.tensors().size(); ++t)
        checkpoint.fixed_point_exponents.push_back(static_cast<int32_t>(t) - 20);
    checkpoint.position = {2, 7, 19, 1.5};
    checkpoint.world_size = 2;
    checkpoint.global_batch = 64;
    checkpoint.seed = 3;
    checkpoint.model = describe_model(spec);
    checkpoint.config_json = "{}";
    checkpoint.optimizer_steps = 19;
    checkpoint.params = testing::random_values(layout.total(), 1, -1.0f, 1.0f);
    checkpoint.optimizer_state = {{"m", testing::random_values(layout.total(), 2, -1.0f, 1.0f)},
                                  {"v", testing::random_values(layout.total(), 3, 0.0f, 1.0f)}};
    written_ = checkpoint;
    return write_checkpoint(dir_, layout, checkpoint, 3);
  }

  std::string dir_ = testing::make_temp_dir();
  Checkpoint written_;
};

TEST_F(CheckpointFile, HoldsTheCnnAndItsDescription) {
  const std::string path = write(kCnn);
  EXPECT_EQ(checkpoint_model(path).description, "cnn 28x28x1-c5x32-p2-c5x64-p2-128-10");
  const Checkpoint read = read_checkpoint(path, kCnn, model_layout(kCnn));
  EXPECT_EQ(read.model, written_.model);
  EXPECT_EQ(read.params, written_.params);
  EXPECT_EQ(read.optimizer, "adam");
  EXPECT_EQ(read.optimizer_steps, 19);
  ASSERT_EQ(read.optimizer_state.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(read.optimizer_state[i].name, written_.optimizer_state[i].name);
    EXPECT_EQ(read.optimizer_state[i].values, written_.optimizer_state[i].values);
  }
  EXPECT_EQ(read.position.global_step, 19);
  EXPECT_EQ(parse_model(checkpoint_model(path).description).kind, ModelKind::cnn);
}

TEST_F(CheckpointFile, RefusesAnotherModel) {
  const std::string path = write(kMlp);
  try {
    read_checkpoint(path, kCnn, model_layout(kCnn));
    FAIL() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what())
                  .find("holds model mlp 784-64-10, but this run builds cnn 28x28x1-c5x32"),
              std::string::npos)
        << error.what();
  }
}

TEST_F(CheckpointFile, ReadsTheWidthsOfCheckpointsFromBeforeTheCnn) {
  const std::string path = write(kMlp);
  {  // What the first format recorded: the widths, and no model description.
    const h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    ASSERT_TRUE(file.valid());
    ASSERT_GE(H5Adelete(file.get(), "model"), 0);
    h5::write_attribute(file.get(), "widths", std::vector<int64_t>{784, 64, 10});
  }
  EXPECT_EQ(checkpoint_model(path).description, "mlp 784-64-10");
  const Checkpoint read = read_checkpoint(path, kMlp, model_layout(kMlp));
  EXPECT_EQ(read.params, written_.params);
  EXPECT_THROW(read_checkpoint(path, kCnn, model_layout(kCnn)), InputError);
}

TEST_F(CheckpointFile, KeepsExactSumsMicroBatchAndScales) {
  const std::string path = write(kCnn, /*exact=*/true);
  const Checkpoint read = read_checkpoint(path, kCnn, model_layout(kCnn));
  EXPECT_TRUE(read.exact);
  EXPECT_EQ(read.micro_batch, 16);
  EXPECT_EQ(read.fixed_point_exponents, written_.fixed_point_exponents);
  EXPECT_EQ(read.fixed_point_exponents.size(), 8u);
}

TEST_F(CheckpointFile, ReadsCheckpointsFromBeforeExactSumsAsFloatSummed) {
  const std::string path = write(kMlp, /*exact=*/true);
  {  // What checkpoints before --exact recorded: none of its attributes.
    const h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    ASSERT_TRUE(file.valid());
    for (const char* name : {"exact", "micro_batch", "fixed_point_exponents"})
      ASSERT_GE(H5Adelete(file.get(), name), 0) << name;
  }
  const Checkpoint read = read_checkpoint(path, kMlp, model_layout(kMlp));
  EXPECT_FALSE(read.exact);
  EXPECT_EQ(read.micro_batch, 32);  // its whole local batch: 64 rows on 2 ranks
  EXPECT_TRUE(read.fixed_point_exponents.empty());
}

// Checkpoints from before the optimizer seam recorded Adam's step count as adam_steps and no
// optimizer: they read as Adam's, with m and v.
TEST_F(CheckpointFile, ReadsCheckpointsFromBeforeTheOptimizerSeamAsAdams) {
  const std::string path = write(kMlp);
  {
    const h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    ASSERT_TRUE(file.valid());
    for (const char* name : {"optimizer", "optimizer_state", "optimizer_steps"})
      ASSERT_GE(H5Adelete(file.get(), name), 0) << name;
    h5::write_attribute(file.get(), "adam_steps", int64_t{23});
  }
  const Checkpoint read = read_checkpoint(path, kMlp, model_layout(kMlp));
  EXPECT_EQ(read.optimizer, "adam");
  EXPECT_EQ(read.optimizer_steps, 23);
  ASSERT_EQ(read.optimizer_state.size(), 2u);
  EXPECT_EQ(read.optimizer_state[0].values, written_.optimizer_state[0].values);
  EXPECT_EQ(read.optimizer_state[1].values, written_.optimizer_state[1].values);
}

// SGD with momentum keeps one state tensor, plain SGD none: both round-trip by name.
TEST_F(CheckpointFile, KeepsAnyOptimizersNamedState) {
  const ParameterLayout layout = model_layout(kMlp);
  for (const bool momentum : {true, false}) {
    Checkpoint checkpoint;
    checkpoint.model = describe_model(kMlp);
    checkpoint.world_size = 1;
    checkpoint.global_batch = 32;
    checkpoint.optimizer = "sgd";
    checkpoint.optimizer_steps = 5;
    checkpoint.params = testing::random_values(layout.total(), 4);
    if (momentum)
      checkpoint.optimizer_state = {{"velocity", testing::random_values(layout.total(), 5)}};
    const std::string path =
        write_checkpoint(dir_ + (momentum ? "/with" : "/without"), layout, checkpoint, 1);
    const Checkpoint read = read_checkpoint(path, kMlp, layout);
    EXPECT_EQ(read.optimizer, "sgd");
    EXPECT_EQ(read.optimizer_steps, 5);
    ASSERT_EQ(read.optimizer_state.size(), momentum ? 1u : 0u);
    if (momentum) {
      EXPECT_EQ(read.optimizer_state[0].name, "velocity");
      EXPECT_EQ(read.optimizer_state[0].values, checkpoint.optimizer_state[0].values);
    }
  }
}

// A checkpoint from elsewhere (README, "Checkpoints"): each number and size that would size,
// index or divide something is refused, naming the file, the attribute and both numbers, before
// anything is built from it. Found by fuzz/checkpoint_fuzz.cpp.
void replace_attribute(const std::string& path, const char* name, int64_t value) {
  const h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
  ASSERT_TRUE(file.valid());
  ASSERT_GE(H5Adelete(file.get(), name), 0) << name;
  h5::write_attribute(file.get(), name, value);
}

void replace_attribute(const std::string& path, const char* name, const std::string& value) {
  const h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
  ASSERT_TRUE(file.valid());
  ASSERT_GE(H5Adelete(file.get(), name), 0) << name;
  h5::write_attribute(file.get(), name, value);
}

void expect_refused(const std::string& path, const ModelSpec& spec, const std::string& fragment) {
  try {
    read_checkpoint(path, spec, model_layout(spec));
    FAIL() << "no InputError; expected: " << fragment;
  } catch (const InputError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("checkpoint '" + path + "' is incomplete or corrupt: "),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

// Without the exact attributes, the micro-batch is the global batch divided by the world size:
// a world size of 0 divided by zero.
TEST_F(CheckpointFile, RefusesAWorldSizeOfZero) {
  const std::string path = write(kMlp);
  {
    const h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    ASSERT_TRUE(file.valid());
    ASSERT_GE(H5Adelete(file.get(), "exact"), 0);
  }
  replace_attribute(path, "world_size", 0);
  expect_refused(path, kMlp, "its attribute world_size is 0, outside 1..2147483647");
}

TEST_F(CheckpointFile, RefusesPositionsNoTrainingReaches) {
  const std::string path = write(kMlp);
  replace_attribute(path, "step_in_epoch", -1);
  expect_refused(path, kMlp, "its attribute step_in_epoch is -1, outside 0..");
  replace_attribute(path, "step_in_epoch", 7);
  replace_attribute(path, "epoch", int64_t{1} << 40);
  expect_refused(path, kMlp, "its attribute epoch is 1099511627776, outside 1..2147483647");
  replace_attribute(path, "epoch", 2);
  replace_attribute(path, "global_batch", 0);
  expect_refused(path, kMlp, "its attribute global_batch is 0, outside 1..");
}

// Each state name is another copy of the parameters in memory: a list of thousands of "m"s
// made as many copies.
TEST_F(CheckpointFile, RefusesMoreStateTensorsThanAnOptimizerKeeps) {
  const std::string path = write(kMlp);
  replace_attribute(path, "optimizer_state", std::string("m,v,m,v,m"));
  expect_refused(path, kMlp,
                 "its attribute optimizer_state names 5 state tensors, but an "
                 "optimizer keeps at most 2");
  replace_attribute(path, "optimizer_state", std::string("m,m"));
  expect_refused(path, kMlp, "its attribute optimizer_state names 'm' twice");
}

// FixedPointScales indexes the exponents by tensor.
TEST_F(CheckpointFile, RefusesFixedPointExponentsOfAnotherCount) {
  const std::string path = write(kCnn, /*exact=*/true);
  {
    const h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    ASSERT_TRUE(file.valid());
    ASSERT_GE(H5Adelete(file.get(), "fixed_point_exponents"), 0);
    h5::write_attribute(file.get(), "fixed_point_exponents", std::vector<int64_t>{-20, -19, -18});
  }
  expect_refused(path, kCnn,
                 "its attribute fixed_point_exponents holds 3 exponents, but this run's model "
                 "has 8 tensors");
}

// The same checks on a file that is already open, here one in memory (the fuzz harness's way).
TEST_F(CheckpointFile, ReadsAnOpenFileAsItsPath) {
  const ParameterLayout layout = model_layout(kMlp);
  const h5::Id access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  ASSERT_GE(H5Pset_fapl_core(access.get(), 1 << 16, /*backing_store=*/0), 0);
  const h5::Id file(H5Fcreate("in-memory.h5", H5F_ACC_TRUNC, H5P_DEFAULT, access.get()), H5Fclose);
  ASSERT_TRUE(file.valid());
  write(kMlp);
  write_checkpoint_to(file.get(), layout, written_);
  const Checkpoint read = read_checkpoint(file.get(), "in-memory.h5", kMlp, layout);
  EXPECT_EQ(read.params, written_.params);
  EXPECT_EQ(checkpoint_model(file.get(), "in-memory.h5").description, "mlp 784-64-10");
}

// The set-up check of --checkpoint-dir: a missing directory is made (not with --resume, which
// then reports it), an existing one keeps exactly what it held (the probe file is gone), and one
// that cannot be a directory says why.
std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST_F(CheckpointFile, SetUpMakesAMissingDirectory) {
  const std::string dir = dir_ + "/a/b";
  EXPECT_EQ(checkpoint_dir_problem(dir, /*resume=*/true), "");
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_EQ(checkpoint_dir_problem(dir, /*resume=*/false), "");
  ASSERT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_TRUE(entries(dir).empty());
}

TEST_F(CheckpointFile, SetUpLeavesWhatADirectoryHolds) {
  const std::string checkpoint = write(kMlp);
  { std::ofstream(dir_ + "/notes.txt") << "mine"; }
  const std::vector<std::string> before = entries(dir_);
  for (const bool resume : {false, true}) {
    EXPECT_EQ(checkpoint_dir_problem(dir_, resume), "");
    EXPECT_EQ(entries(dir_), before);
  }
  EXPECT_EQ(read_checkpoint(checkpoint, kMlp, model_layout(kMlp)).params, written_.params);
}

TEST_F(CheckpointFile, SetUpSaysWhyADirectoryCannotBeWritten) {
  const std::string file = dir_ + "/file";
  { std::ofstream(file) << "mine"; }
  EXPECT_EQ(checkpoint_dir_problem(file, false), "Not a directory");
  EXPECT_EQ(checkpoint_dir_problem(file + "/sub", false), "Not a directory");
  EXPECT_EQ(checkpoint_dir_problem(file, true), "Not a directory");
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"file"});
}

}  // namespace
}  // namespace dptrain
