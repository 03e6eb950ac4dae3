#include "dptrain/train/checkpoint.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>

#include "dptrain/core/error.hpp"
#include "dptrain/data/h5_io.hpp"
#include "dptrain/optim/update_rules.hpp"

namespace dptrain {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "dptrain-checkpoint-1";
constexpr const char* kPrefix = "ckpt-";
constexpr const char* kSuffix = ".h5";

std::string file_name(int64_t global_step) {
  char name[32];
  std::snprintf(name, sizeof name, "%s%010lld%s", kPrefix, static_cast<long long>(global_step),
                kSuffix);
  return name;
}

// Checkpoint files of a directory, newest (largest global step) first.
std::vector<fs::path> checkpoint_files(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    const std::string prefix(kPrefix), suffix(kSuffix);
    if (name.size() != prefix.size() + 10 + suffix.size() || !name.starts_with(prefix) ||
        !name.ends_with(suffix))
      continue;
    const std::string digits = name.substr(prefix.size(), 10);
    if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      files.push_back(entry.path());
  }
  std::sort(files.rbegin(), files.rend());
  return files;
}

void write_tensors(hid_t file, const std::string& group, const ParameterLayout& layout,
                   const std::vector<float>& flat) {
  for (const TensorSlot& slot : layout.tensors()) {
    const std::vector<hsize_t> dims(slot.shape.begin(), slot.shape.end());
    h5::write_dataset(file, group + "/" + slot.name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, dims,
                      flat.data() + slot.offset);
  }
}

std::vector<float> read_tensors(hid_t file, const std::string& group,
                                const ParameterLayout& layout) {
  // Every tensor's dataset is found and its extents compared with the model's before the
  // buffer is sized or anything read.
  std::vector<h5::Id> datasets;
  for (const TensorSlot& slot : layout.tensors()) {
    const std::string path = group + "/" + slot.name;
    h5::Id dataset(H5Lexists(file, group.c_str(), H5P_DEFAULT) > 0 &&
                           H5Lexists(file, path.c_str(), H5P_DEFAULT) > 0
                       ? H5Dopen2(file, path.c_str(), H5P_DEFAULT)
                       : H5I_INVALID_HID,
                   H5Dclose);
    if (!dataset.valid()) throw std::runtime_error(path + " is missing");
    const h5::Id space(h5Check(H5Dget_space(dataset.get())), H5Sclose);
    std::vector<hsize_t> dims(
        static_cast<size_t>(h5Check(H5Sget_simple_extent_ndims(space.get()))));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    if (!std::equal(dims.begin(), dims.end(), slot.shape.begin(), slot.shape.end()))
      throw std::runtime_error(path + " has another shape than this run's model");
    datasets.push_back(std::move(dataset));
  }
  std::vector<float> flat(layout.total());
  for (size_t t = 0; t < datasets.size(); ++t) {
    const TensorSlot& slot = layout.tensors()[t];
    if (H5Dread(datasets[t].get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                flat.data() + slot.offset) < 0)
      throw std::runtime_error("cannot read " + group + "/" + slot.name + ": " + h5::last_error());
  }
  return flat;
}

void check_format(hid_t file, const std::string& path);

h5::Id open_checkpoint(const std::string& path) {
  h5::silence_errors();
  std::error_code error;
  if (!fs::is_regular_file(path, error))
    throw InputError("checkpoint '" + path + "' does not exist or is not a regular file");
  h5::Id file(H5Fis_hdf5(path.c_str()) > 0 ? H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)
                                           : H5I_INVALID_HID,
              H5Fclose);
  if (!file.valid())
    throw InputError("checkpoint '" + path + "' is not a readable HDF5 file (corrupt?)");
  check_format(file.get(), path);
  return file;
}

void check_format(hid_t file, const std::string& path) {
  std::string format;
  try {
    format = h5::read_string_attribute(file, "format");
  } catch (const std::exception&) {
  }
  if (format != kFormat)
    throw InputError("'" + path + "' is not a dptrain checkpoint (no format attribute '" + kFormat +
                     "')");
}

// The model a checkpoint holds. Checkpoints written before the CNN record only the MLP's
// widths ("widths" = 784, hidden..., 10); those still resume and evaluate.
std::string recorded_model(hid_t file) {
  if (H5Aexists(file, "model") > 0) return h5::read_string_attribute(file, "model");
  std::string text = "mlp ";
  const std::vector<int64_t> widths = h5::read_int_array_attribute(file, "widths");
  for (size_t i = 0; i < widths.size(); ++i)
    text += (i ? "-" : "") + std::to_string(widths[i]);
  return text;
}

// The shape of the rows a checkpoint was trained on; MNIST's for checkpoints from before the
// attribute, which knew no other.
DataShape recorded_data_shape(hid_t file) {
  if (H5Aexists(file, "data_shape") <= 0) return DataShape{};
  const std::string record = h5::read_string_attribute(file, "data_shape");
  try {
    return parse_data_shape_record(record);
  } catch (const std::invalid_argument&) {
    throw std::runtime_error("its data_shape attribute '" + record + "' is not one dptrain writes");
  }
}

// `value` of attribute `name`, refused (naming both) outside [low, high]: the numbers of a file
// from elsewhere size and index what is built from them.
int64_t in_range(int64_t value, const char* name, int64_t low, int64_t high) {
  if (value < low || value > high)
    throw std::runtime_error("its attribute " + std::string(name) + " is " + std::to_string(value) +
                             ", outside " + std::to_string(low) + ".." + std::to_string(high));
  return value;
}

// --exact's attributes; a checkpoint from before them was not exact, and its micro-batch was
// the whole local batch.
void read_exactness(hid_t file, const ParameterLayout& layout, Checkpoint& checkpoint) {
  if (H5Aexists(file, "exact") <= 0) {
    checkpoint.micro_batch =
        static_cast<int>(checkpoint.global_batch / static_cast<size_t>(checkpoint.world_size));
    return;
  }
  checkpoint.exact = h5::read_int_attribute(file, "exact") != 0;
  checkpoint.micro_batch =
      static_cast<int>(in_range(h5::read_int_attribute(file, "micro_batch"), "micro_batch", 0,
                                std::numeric_limits<int>::max()));
  if (!checkpoint.exact) return;
  // One exponent per tensor of the model (FixedPointScales).
  const std::vector<int64_t> exponents =
      h5::read_int_array_attribute(file, "fixed_point_exponents");
  if (exponents.size() != layout.tensors().size())
    throw std::runtime_error("its attribute fixed_point_exponents holds " +
                             std::to_string(exponents.size()) +
                             " exponents, but this run's model has " +
                             std::to_string(layout.tensors().size()) + " tensors");
  for (int64_t exponent : exponents)
    checkpoint.fixed_point_exponents.push_back(static_cast<int32_t>(
        in_range(exponent, "fixed_point_exponents", std::numeric_limits<int32_t>::min(),
                 std::numeric_limits<int32_t>::max())));
}

// The optimizer's name, state tensors and step count; checkpoints from before the optimizer
// attribute were Adam's, with "m" and "v" and "adam_steps".
void read_optimizer(hid_t file, const ParameterLayout& layout, Checkpoint& checkpoint) {
  std::vector<std::string> names = {"m", "v"};
  if (H5Aexists(file, "optimizer") > 0) {
    checkpoint.optimizer = h5::read_string_attribute(file, "optimizer");
    checkpoint.optimizer_steps = h5::read_int_attribute(file, "optimizer_steps");
    names.clear();
    const std::string list = h5::read_string_attribute(file, "optimizer_state");
    for (size_t begin = 0; begin < list.size();) {
      const size_t comma = std::min(list.find(',', begin), list.size());
      names.push_back(list.substr(begin, comma - begin));
      begin = comma + 1;
    }
    // Each name is a copy of the parameters in memory: as many as an optimizer keeps, no more.
    if (names.size() > static_cast<size_t>(ew::kMaxStateTensors))
      throw std::runtime_error("its attribute optimizer_state names " +
                               std::to_string(names.size()) +
                               " state tensors, but an optimizer "
                               "keeps at most " +
                               std::to_string(ew::kMaxStateTensors));
    for (size_t i = 0; i < names.size(); ++i)
      if (std::find(names.begin(), names.begin() + static_cast<ptrdiff_t>(i), names[i]) !=
          names.begin() + static_cast<ptrdiff_t>(i))
        throw std::runtime_error("its attribute optimizer_state names '" + names[i] + "' twice");
  } else {
    checkpoint.optimizer = "adam";
    checkpoint.optimizer_steps = h5::read_int_attribute(file, "adam_steps");
  }
  for (const std::string& name : names)
    checkpoint.optimizer_state.push_back({name, read_tensors(file, "/optimizer/" + name, layout)});
}

}  // namespace

std::string write_checkpoint(const std::string& dir, const ParameterLayout& layout,
                             const Checkpoint& checkpoint, int keep) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error)
    throw InputError("cannot create checkpoint directory '" + dir + "': " + error.message());
  const std::string path = (fs::path(dir) / file_name(checkpoint.position.global_step)).string();
  {
    h5::AtomicFile file(path, /*replace=*/true);
    write_checkpoint_to(file.id(), layout, checkpoint);
    file.commit();
  }
  const std::vector<fs::path> files = checkpoint_files(dir);
  for (size_t i = static_cast<size_t>(std::max(keep, 1)); i < files.size(); ++i)
    fs::remove(files[i], error);
  return path;
}

void write_checkpoint_to(hid_t id, const ParameterLayout& layout, const Checkpoint& checkpoint) {
  write_tensors(id, "/model", layout, checkpoint.params);
  std::string state_names;
  for (const OptimizerTensor& tensor : checkpoint.optimizer_state) {
    write_tensors(id, "/optimizer/" + tensor.name, layout, tensor.values);
    state_names += (state_names.empty() ? "" : ",") + tensor.name;
  }
  h5::write_attribute(id, "format", std::string(kFormat));
  h5::write_attribute(id, "epoch", static_cast<int64_t>(checkpoint.position.epoch));
  h5::write_attribute(id, "step_in_epoch", static_cast<int64_t>(checkpoint.position.step));
  h5::write_attribute(id, "global_step", checkpoint.position.global_step);
  h5::write_attribute(id, "epoch_loss_sum", checkpoint.position.epoch_loss_sum);
  h5::write_attribute(id, "world_size", static_cast<int64_t>(checkpoint.world_size));
  h5::write_attribute(id, "global_batch", static_cast<int64_t>(checkpoint.global_batch));
  h5::write_attribute(id, "seed", static_cast<int64_t>(checkpoint.seed));
  h5::write_attribute(id, "model", checkpoint.model);
  h5::write_attribute(id, "data_shape", data_shape_record(checkpoint.data_shape));
  h5::write_attribute(id, "optimizer", checkpoint.optimizer);
  h5::write_attribute(id, "optimizer_state", state_names);
  h5::write_attribute(id, "optimizer_steps", checkpoint.optimizer_steps);
  h5::write_attribute(id, "config", checkpoint.config_json);
  h5::write_attribute(id, "exact", static_cast<int64_t>(checkpoint.exact ? 1 : 0));
  h5::write_attribute(id, "micro_batch", static_cast<int64_t>(checkpoint.micro_batch));
  if (checkpoint.exact)
    h5::write_attribute(id, "fixed_point_exponents",
                        std::vector<int64_t>(checkpoint.fixed_point_exponents.begin(),
                                             checkpoint.fixed_point_exponents.end()));
}

std::string checkpoint_dir_problem(const std::string& dir, bool resume) {
  std::error_code error;
  const fs::file_status status = fs::status(dir, error);
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) return std::strerror(ENOTDIR);
  } else {
    if (resume) return "";
    fs::create_directories(dir, error);
    if (error) return error.message();
  }
  // mkstemp() creates a file of a new name (O_EXCL), so no file of the user's is ever replaced.
  std::string probe = (fs::path(dir) / ".dptrain-write-probe-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) return std::strerror(errno);
  const char byte = 0;
  const bool written = ::write(fd, &byte, 1) == 1;
  const int write_errno = errno;
  const bool closed = ::close(fd) == 0;
  const int close_errno = errno;
  ::unlink(probe.c_str());
  if (!written) return std::strerror(write_errno);
  if (!closed) return std::strerror(close_errno);
  return "";
}

Checkpoint read_checkpoint(const std::string& path, const ModelSpec& spec,
                           const ParameterLayout& layout) {
  const h5::Id file = open_checkpoint(path);
  return read_checkpoint(file.get(), path, spec, layout);
}

Checkpoint read_checkpoint(hid_t file, const std::string& path, const ModelSpec& spec,
                           const ParameterLayout& layout) {
  h5::silence_errors();
  check_format(file, path);
  Checkpoint checkpoint;
  try {
    checkpoint.data_shape = recorded_data_shape(file);
    if (!(checkpoint.data_shape == spec.input))
      throw InputError("checkpoint '" + path + "' was trained on " +
                       describe_data_shape(checkpoint.data_shape) + ", but this data holds " +
                       describe_data_shape(spec.input));
    checkpoint.model = recorded_model(file);
    const std::string model = describe_model(spec);
    if (checkpoint.model != model)
      throw InputError("checkpoint '" + path + "' holds model " + checkpoint.model +
                       ", but this run builds " + model);
    constexpr int64_t kMaxInt = std::numeric_limits<int>::max();
    constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();
    const auto attribute = [&](const char* name, int64_t low, int64_t high) {
      return in_range(h5::read_int_attribute(file, name), name, low, high);
    };
    checkpoint.position.epoch = static_cast<int>(attribute("epoch", 1, kMaxInt));
    checkpoint.position.step = static_cast<size_t>(attribute("step_in_epoch", 0, kMaxInt64));
    checkpoint.position.global_step = attribute("global_step", 0, kMaxInt64);
    checkpoint.position.epoch_loss_sum = h5::read_double_attribute(file, "epoch_loss_sum");
    checkpoint.world_size = static_cast<int>(attribute("world_size", 1, kMaxInt));
    checkpoint.global_batch = static_cast<size_t>(attribute("global_batch", 1, kMaxInt64));
    checkpoint.seed = static_cast<uint64_t>(h5::read_int_attribute(file, "seed"));
    checkpoint.config_json = h5::read_string_attribute(file, "config");
    read_exactness(file, layout, checkpoint);
    checkpoint.params = read_tensors(file, "/model", layout);
    read_optimizer(file, layout, checkpoint);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& error) {
    throw InputError("checkpoint '" + path + "' is incomplete or corrupt: " + error.what());
  }
  return checkpoint;
}

CheckpointModel checkpoint_model(const std::string& path) {
  const h5::Id file = open_checkpoint(path);
  return checkpoint_model(file.get(), path);
}

CheckpointModel checkpoint_model(hid_t file, const std::string& path) {
  h5::silence_errors();
  check_format(file, path);
  try {
    return {recorded_model(file), recorded_data_shape(file)};
  } catch (const std::exception& error) {
    throw InputError("checkpoint '" + path + "' is incomplete or corrupt: " + error.what());
  }
}

CheckpointChoice newest_checkpoint(const std::string& dir) {
  CheckpointChoice choice;
  for (const fs::path& file : checkpoint_files(dir)) {
    try {
      open_checkpoint(file.string());
      choice.path = file.string();
      return choice;
    } catch (const InputError& error) {
      choice.passed_over.push_back(error.what());
    }
  }
  std::string why = "--resume: no checkpoint in '" + dir + "'";
  for (const std::string& reason : choice.passed_over)
    why += "; passed over " + reason;
  throw InputError(why);
}

}  // namespace dptrain

namespace dptrain {
namespace {

template <class T>
void share(const World& world, std::vector<T>& values) {
  uint64_t count = values.size();
  world.broadcast_bytes(&count, sizeof count, 0);
  values.resize(count);
  world.broadcast_bytes(values.data(), count * sizeof(T), 0);
}

void share(const World& world, std::string& text) {
  std::vector<char> bytes(text.begin(), text.end());
  share(world, bytes);
  text.assign(bytes.begin(), bytes.end());
}

}  // namespace

namespace {

// --exact continues bit for bit only from an exact checkpoint of the same micro-batch rows; any
// other resume changes how the sums are rounded, which --allow-resize accepts, with a warning
// that says what changes.
void refuse_or_warn_exactness(const Checkpoint& checkpoint, const TrainConfig& config,
                              const std::string& refused) {
  std::string change;
  if (checkpoint.exact != config.exact) {
    change = checkpoint.exact
                 ? "it was trained with --exact and this run is not: from here on the gradients "
                   "are summed in float, whose rounding depends on the number of ranks"
                 : "it was trained without --exact and this run has it: from here on the sums are "
                   "exact, but the steps before were not, so this run will not match one that "
                   "was exact from the start";
  } else if (config.exact && checkpoint.micro_batch != micro_batch_rows(config)) {
    change = "it was trained with --exact and --micro-batch " +
             std::to_string(checkpoint.micro_batch) + ", this run has --micro-batch " +
             std::to_string(micro_batch_rows(config)) +
             ": other micro-batches round other gradients, so the run no longer matches one "
             "that kept " +
             std::to_string(checkpoint.micro_batch);
  }
  if (change.empty()) return;
  if (!config.allow_resize) throw InputError(refused + change + " (--allow-resize resumes anyway)");
  std::fprintf(stderr, "dptrain: warning: --allow-resize: resuming although %s\n", change.c_str());
}

// The optimizer's state is its own: another optimizer, or SGD with momentum from one without
// (whose velocity was never kept), cannot continue it.
void refuse_other_optimizer(const Checkpoint& checkpoint, const TrainConfig& config,
                            const std::string& refused) {
  const std::string mine = optimizer_name(config.optimizer.kind);
  if (checkpoint.optimizer != mine)
    throw InputError(refused + "it was trained with --optimizer " + checkpoint.optimizer +
                     ", this run has --optimizer " + mine);
  std::string kept, wanted;
  for (const OptimizerTensor& tensor : checkpoint.optimizer_state)
    kept += (kept.empty() ? "" : ",") + tensor.name;
  for (const std::string& name : optimizer_state_names(config.optimizer))
    wanted += (wanted.empty() ? "" : ",") + name;
  if (kept != wanted)
    throw InputError(refused + "its optimizer kept state '" + kept + "', this run's keeps '" +
                     wanted + "' (--momentum)");
}

}  // namespace

void add_epoch_loss(const World& everyone, Checkpoint& checkpoint, double local_loss) {
  double loss = local_loss;
  everyone.sum({&loss, 1});
  checkpoint.position.epoch_loss_sum = loss;
}

Checkpoint checkpoint_header(const TrainConfig& config, const TrainingPosition& position,
                             int replicas, size_t global_batch, const std::string& model) {
  Checkpoint checkpoint;
  checkpoint.position = position;
  checkpoint.world_size = replicas;
  checkpoint.global_batch = global_batch;
  checkpoint.seed = config.seed;
  checkpoint.model = model;
  checkpoint.data_shape = config.data_shape;
  checkpoint.config_json = config_to_json(config);
  checkpoint.exact = config.exact;
  checkpoint.micro_batch = micro_batch_rows(config);
  return checkpoint;
}

TrainingPosition resume_position(const Checkpoint& checkpoint, size_t global_batch,
                                 size_t steps_per_epoch) {
  TrainingPosition position = checkpoint.position;
  if (checkpoint.global_batch != global_batch) {
    const size_t samples = position.step * checkpoint.global_batch;
    position.step = std::min(steps_per_epoch, (samples + global_batch - 1) / global_batch);
  }
  return position;
}

void check_checkpoint_dir(const World& world, const TrainConfig& config) {
  if (config.checkpoint_dir.empty()) return;
  std::string problem;
  if (world.is_root()) problem = checkpoint_dir_problem(config.checkpoint_dir, config.resume);
  share(world, problem);
  if (!problem.empty())
    throw InputError("cannot write checkpoints to '" + config.checkpoint_dir + "': " + problem);
}

std::string share_path(const World& world, std::string path) {
  share(world, path);
  return path;
}

Checkpoint share_newest_checkpoint(const World& world, const TrainConfig& config,
                                   const ParameterLayout& layout, size_t global_batch,
                                   int replicas) {
  Checkpoint checkpoint;
  std::string path;
  world.together([&] {
    if (!world.is_root()) return;
    const CheckpointChoice choice = newest_checkpoint(config.checkpoint_dir);
    for (const std::string& reason : choice.passed_over)
      std::fprintf(stderr, "dptrain: warning: --resume passes over %s\n", reason.c_str());
    path = choice.path;
    checkpoint = read_checkpoint(path, model_spec(config), layout);
    const std::string refused = "refusing to resume from '" + path + "': ";
    if (checkpoint.seed != config.seed)
      throw InputError(refused + "it was trained with --seed " + std::to_string(checkpoint.seed) +
                       ", this run has --seed " + std::to_string(config.seed));
    if (checkpoint.global_batch != global_batch && !config.allow_resize)
      throw InputError(refused + "it was written by " + std::to_string(checkpoint.world_size) +
                       " ranks with a global batch of " + std::to_string(checkpoint.global_batch) +
                       ", this run has " + std::to_string(replicas) +
                       " ranks and a global batch of " + std::to_string(global_batch) +
                       " (--allow-resize resumes anyway; the epoch's order then changes)");
    refuse_or_warn_exactness(checkpoint, config, refused);
    refuse_other_optimizer(checkpoint, config, refused);
    if (config.mode == TrainMode::ps && config.ps_async && checkpoint.position.step != 0)
      throw InputError(refused +
                       "it stands within an epoch, and asynchronous parameter servers "
                       "resume only from the end of an epoch");
  });
  share(world, path);
  struct Numbers {
    int64_t epoch, step, global_step, world_size, global_batch, optimizer_steps, exact, micro_batch;
    uint64_t seed;
    double loss;
  } numbers{checkpoint.position.epoch,
            static_cast<int64_t>(checkpoint.position.step),
            checkpoint.position.global_step,
            checkpoint.world_size,
            static_cast<int64_t>(checkpoint.global_batch),
            checkpoint.optimizer_steps,
            checkpoint.exact ? 1 : 0,
            checkpoint.micro_batch,
            checkpoint.seed,
            checkpoint.position.epoch_loss_sum};
  world.broadcast_bytes(&numbers, sizeof numbers, 0);
  checkpoint.position = {static_cast<int>(numbers.epoch), static_cast<size_t>(numbers.step),
                         numbers.global_step, numbers.loss};
  checkpoint.world_size = static_cast<int>(numbers.world_size);
  checkpoint.global_batch = static_cast<size_t>(numbers.global_batch);
  checkpoint.optimizer_steps = numbers.optimizer_steps;
  checkpoint.seed = numbers.seed;
  checkpoint.exact = numbers.exact != 0;
  checkpoint.micro_batch = static_cast<int>(numbers.micro_batch);
  share(world, checkpoint.fixed_point_exponents);
  share(world, checkpoint.model);
  checkpoint.data_shape = config.data_shape;  // read_checkpoint found it the same
  share(world, checkpoint.config_json);
  share(world, checkpoint.params);
  share(world, checkpoint.optimizer);
  size_t tensors = checkpoint.optimizer_state.size();
  world.broadcast_bytes(&tensors, sizeof tensors, 0);
  checkpoint.optimizer_state.resize(tensors);
  for (OptimizerTensor& tensor : checkpoint.optimizer_state) {
    share(world, tensor.name);
    share(world, tensor.values);
  }
  checkpoint.source = path;
  return checkpoint;
}

}  // namespace dptrain
