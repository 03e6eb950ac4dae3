#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/comm/world.hpp"
#include "dptrain/model/parameter_layout.hpp"
#include "dptrain/train/config.hpp"

namespace dptrain {

// Where training stands, at a step boundary.
struct TrainingPosition {
  int epoch = 1;                // the epoch in progress, from 1
  size_t step = 0;              // its steps already taken
  int64_t global_step = 0;      // steps since training began
  double epoch_loss_sum = 0.0;  // the epoch's training loss so far, summed over its samples
};

// One of the optimizer's state tensors over all parameters (optimizer_state_names), laid out like
// them: /optimizer/<name>/<tensor> in the file.
struct OptimizerTensor {
  std::string name;
  std::vector<float> values;
};

// A checkpoint (README, "Checkpoints"): the model, the optimizer's state and step count, the
// position in training, and what is needed to continue exactly: the seed (the sampler's order is a
// pure function of seed, epoch and step, and no other random state exists), the world size and
// global batch, the micro-batch and --exact's scales, the model (describe_model) and the full
// configuration as JSON.
struct Checkpoint {
  TrainingPosition position;
  int world_size = 0;  // replicas that trained
  size_t global_batch = 0;
  uint64_t seed = 0;
  std::string model;
  // The rows it was trained on; checkpoints from before the attribute: MNIST's.
  DataShape data_shape;
  std::string config_json;
  std::string optimizer = "adam";  // optimizer_name; checkpoints from before the attribute: Adam
  int64_t optimizer_steps = 0;     // the optimizer's t: steps whose update ran
  // --exact's fixed-point sums: whether the run had them, its micro-batch rows, and the scales'
  // exponents for the next step (FixedPointScales). Checkpoints from before --exact: not exact.
  bool exact = false;
  int micro_batch = 0;
  std::vector<int32_t> fixed_point_exponents;
  std::vector<float> params;
  std::vector<OptimizerTensor> optimizer_state;
  std::string source;  // the file it was read from, when it was
};

// Writes DIR/ckpt-<global step, 10 digits>.h5 atomically (temporary file, flush, fsync, rename),
// then removes all but the newest `keep` checkpoints of DIR. Returns the file's path.
std::string write_checkpoint(const std::string& dir, const ParameterLayout& layout,
                             const Checkpoint& checkpoint, int keep);

// The same checkpoint written into an open, empty HDF5 file (write_checkpoint's contents).
void write_checkpoint_to(hid_t file, const ParameterLayout& layout, const Checkpoint& checkpoint);

// Why checkpoints cannot be written to DIR, or "" when they can: DIR is created if missing
// (unless `resume`: the resume then reports that it holds no checkpoint), then a probe file of a
// unique name is created, written and removed there. Nothing already in DIR is touched.
std::string checkpoint_dir_problem(const std::string& dir, bool resume);

// Collective over `world`, during set-up: rank 0, which writes the checkpoints, checks
// config.checkpoint_dir (checkpoint_dir_problem), and every rank throws the same InputError,
// "cannot write checkpoints to 'DIR': <why>", when it cannot. Nothing without --checkpoint-dir.
void check_checkpoint_dir(const World& world, const TrainConfig& config);

// Reads a checkpoint; `model` (with its input, the data's shape) and `layout` are what this run
// builds. InputError saying why for a file that is not a complete dptrain checkpoint, one trained
// on data of another shape (both shapes named), or one of another model.
Checkpoint read_checkpoint(const std::string& path, const ModelSpec& model,
                           const ParameterLayout& layout);
// The same of a file already open (`path` names it in messages). Every size and number the file
// holds is checked against the model or its range before anything is sized or read from it.
Checkpoint read_checkpoint(hid_t file, const std::string& path, const ModelSpec& model,
                           const ParameterLayout& layout);

// What a checkpoint records of its model, to build it (dptrain eval).
struct CheckpointModel {
  std::string description;  // describe_model
  DataShape data_shape;
};
CheckpointModel checkpoint_model(const std::string& path);
CheckpointModel checkpoint_model(hid_t file, const std::string& path);

// Collective over `world`: rank 0 picks the newest checkpoint of config.checkpoint_dir (warning
// about those it passes over), reads it and checks that this run may continue from it (same
// model and seed; the same global batch unless --allow-resize); every rank receives it. Any
// problem is the same AgreedError everywhere.
Checkpoint share_newest_checkpoint(const World& world, const TrainConfig& config,
                                   const ParameterLayout& layout, size_t global_batch,
                                   int replicas);

// A checkpoint's metadata for this run at `position`, without the tensors.
Checkpoint checkpoint_header(const TrainConfig& config, const TrainingPosition& position,
                             int replicas, size_t global_batch, const std::string& model);

// Collective over the whole job: the checkpoint's epoch loss is the sum of every rank's
// `local_loss`.
void add_epoch_loss(const World& everyone, Checkpoint& checkpoint, double local_loss);

// Collective: rank 0's path, on every rank.
std::string share_path(const World& world, std::string path);

// Where training resumes from a checkpoint: its position, or with another global batch
// (--allow-resize) the same share of the epoch's samples in steps of the new batch.
TrainingPosition resume_position(const Checkpoint& checkpoint, size_t global_batch,
                                 size_t steps_per_epoch);

// Where checkpoints go.
struct CheckpointPlace {
  std::string dir;
  int keep = 3;
  const ParameterLayout* layout = nullptr;
};

// The newest checkpoint of DIR that opens as one, and why any newer ones were passed over.
// InputError when there is none.
struct CheckpointChoice {
  std::string path;
  std::vector<std::string> passed_over;  // "<file>: <why>"
};
CheckpointChoice newest_checkpoint(const std::string& dir);

}  // namespace dptrain
