#include <memory>
#include <stdexcept>

#include "commands.hpp"
#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/core/log.hpp"
#include "dptrain/data/prepare.hpp"
#include "dptrain/report/run_files.hpp"
#include "dptrain/train/checkpoint.hpp"
#include "dptrain/train/evaluator.hpp"

namespace dptrain::cli {
namespace {

// The data set whose class names label the results: one dptrain knows, of as many classes.
const DataSetInfo* named_data_set(const std::string& name, int classes) {
  const DataSetInfo* data_set = find_data_set(name);
  return data_set != nullptr && static_cast<size_t>(classes) == data_set->class_names.size()
             ? data_set
             : nullptr;
}

void print_confusion(const Evaluation& evaluation, const DataSetInfo* data_set) {
  const int classes = evaluation.classes;
  printf0("confusion matrix (rows: label, columns: prediction)\n      ");
  for (int p = 0; p < classes; ++p)
    printf0("%6d", p);
  printf0("\n");
  for (int label = 0; label < classes; ++label) {
    printf0("%6d", label);
    for (int p = 0; p < classes; ++p)
      printf0("%6lld", static_cast<long long>(
                           evaluation.confusion[static_cast<size_t>(label) * classes + p]));
    printf0("\n");
  }
  if (data_set == nullptr) return;
  printf0("%s labels:", data_set->title);
  for (int label = 0; label < classes; ++label)
    printf0(" %d %s%s", label, data_set->class_names[static_cast<size_t>(label)],
            label + 1 < classes ? "," : "\n");
}

// What --json records (dptrain report reads it): the checkpoint, the scores, and the class names
// by label (the data set's, or the digits for a file that names none) with the confusion matrix.
report::EvalResult eval_result(const EvalOptions& options, const std::string& model,
                               const Checkpoint& checkpoint, const Evaluation& evaluation,
                               const DataSetInfo* data_set) {
  report::EvalResult result;
  result.model = model;
  result.checkpoint = options.checkpoint;
  result.data = options.data;
  result.data_set = data_set != nullptr ? data_set->name : "";
  result.epoch = checkpoint.position.epoch;
  result.step = static_cast<int64_t>(checkpoint.position.step);
  result.global_step = checkpoint.position.global_step;
  result.epochs_completed = checkpoint.position.epoch - 1;
  result.world_size = checkpoint.world_size;
  result.global_batch = static_cast<int64_t>(checkpoint.global_batch);
  result.test_loss = evaluation.loss;
  result.test_accuracy = evaluation.accuracy;
  result.test_correct = evaluation.correct;
  result.test_rows = evaluation.rows;
  const int classes = evaluation.classes;
  for (int label = 0; label < classes; ++label) {
    result.classes.push_back(data_set != nullptr ? data_set->class_names[static_cast<size_t>(label)]
                                                 : std::to_string(label));
    const auto row = evaluation.confusion.begin() + static_cast<ptrdiff_t>(label) * classes;
    result.confusion.emplace_back(row, row + classes);
  }
  return result;
}

}  // namespace

void add_eval_options(CLI::App& command, EvalOptions& options) {
  command.add_option("--checkpoint", options.checkpoint, "A checkpoint written by dptrain train")
      ->required();
  command.add_option("--data", options.data, "HDF5 file in dptrain's layout; its /test is scored")
      ->required();
  // Its range is checked in run_eval.
  ranged<int>(
      command.add_option("--eval-batch-size", options.batch_rows, "Rows per evaluation batch"),
      "POSITIVE")
      ->capture_default_str();
  command.add_option("--json", options.json,
                     "Also write the result as one JSON object here (for dptrain report)");
  command.add_flag("--overwrite", options.overwrite, "Replace the --json file if it exists");
}

int run_eval(const EvalOptions& options, const World& world) {
  CpuBackend backend(default_blas_threads(world.local_size()));
  std::unique_ptr<Model> model;
  std::unique_ptr<Evaluator> evaluator;
  std::unique_ptr<DeviceArray<float>> params;
  Checkpoint checkpoint;
  std::string data_set;
  world.together([&] {
    if (options.batch_rows < 1) throw InputError("--eval-batch-size must be at least 1");
    // Before the work: nothing a user wrote is replaced unless asked.
    if (world.is_root() && !options.json.empty())
      report::check_new_file("eval file", options.json, options.overwrite);
    const CheckpointModel recorded = checkpoint_model(options.checkpoint);
    ModelSpec spec;
    try {
      spec = parse_model(recorded.description, recorded.data_shape);
    } catch (const std::invalid_argument& error) {
      throw InputError("checkpoint '" + options.checkpoint + "': " + error.what());
    }
    const H5DataReader reader(options.data);
    // A file without num_classes takes the checkpoint's K, and its labels are checked against it.
    DataShape data_shape = reader.row_shape();
    const std::string holds = describe_data_shape(data_shape);
    if (data_shape.classes == 0) data_shape.classes = recorded.data_shape.classes;
    if (!(data_shape == recorded.data_shape))
      throw InputError("checkpoint '" + options.checkpoint + "' was trained on " +
                       describe_data_shape(recorded.data_shape) + ", but data file '" +
                       options.data + "' holds " + holds);
    // The checkpoint first: its tensors must be the model's before the model is built by the
    // sizes its description gives.
    checkpoint = read_checkpoint(options.checkpoint, spec, model_layout(spec));
    model = make_model(backend, spec, options.batch_rows);
    data_set = reader.data_set();
    evaluator =
        std::make_unique<Evaluator>(backend, world, reader, data_shape, *model, options.batch_rows);
    params = std::make_unique<DeviceArray<float>>(backend, checkpoint.params.size());
    backend.copy_to_device(params->data(), checkpoint.params.data(), params->bytes());
  });
  const Evaluation evaluation = evaluator->evaluate(params->data());
  printf0("checkpoint %s: model %s, epoch %d, step %zu (global step %lld)\n",
          options.checkpoint.c_str(), model->describe().c_str(), checkpoint.position.epoch,
          checkpoint.position.step, static_cast<long long>(checkpoint.position.global_step));
  printf0("test accuracy %.2f%% (%lld/%lld), test loss %.4f\n", 100.0 * evaluation.accuracy,
          static_cast<long long>(evaluation.correct), static_cast<long long>(evaluation.rows),
          evaluation.loss);
  const DataSetInfo* named = named_data_set(data_set, evaluation.classes);
  print_confusion(evaluation, named);
  if (!options.json.empty())
    world.together([&] {
      if (!world.is_root()) return;
      report::write_file_atomically(
          "eval file", options.json,
          report::eval_result_json(
              eval_result(options, model->describe(), checkpoint, evaluation, named)));
      printf0("wrote %s\n", options.json.c_str());
    });
  return kExitOk;
}

}  // namespace dptrain::cli
