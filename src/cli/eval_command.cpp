#include <memory>
#include <stdexcept>

#include "commands.hpp"
#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/core/log.hpp"
#include "dptrain/data/mnist_format.hpp"
#include "dptrain/data/prepare.hpp"
#include "dptrain/train/checkpoint.hpp"
#include "dptrain/train/evaluator.hpp"

namespace dptrain::cli {
namespace {

void print_confusion(const Evaluation& evaluation, const DataSetInfo* data_set) {
  printf0("confusion matrix (rows: label, columns: prediction)\n      ");
  for (int p = 0; p < mnist::kClasses; ++p)
    printf0("%6d", p);
  printf0("\n");
  for (int label = 0; label < mnist::kClasses; ++label) {
    printf0("%6d", label);
    for (int p = 0; p < mnist::kClasses; ++p)
      printf0("%6lld", static_cast<long long>(
                           evaluation.confusion[static_cast<size_t>(label) * mnist::kClasses + p]));
    printf0("\n");
  }
  if (data_set == nullptr) return;
  printf0("%s labels:", data_set->title);
  for (int label = 0; label < mnist::kClasses; ++label)
    printf0(" %d %s%s", label, data_set->class_names[static_cast<size_t>(label)],
            label + 1 < mnist::kClasses ? "," : "\n");
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
    const std::string described = checkpoint_model(options.checkpoint);
    ModelSpec spec;
    try {
      spec = parse_model(described);
    } catch (const std::invalid_argument& error) {
      throw InputError("checkpoint '" + options.checkpoint + "': " + error.what());
    }
    model = make_model(backend, spec, options.batch_rows);
    checkpoint = read_checkpoint(options.checkpoint, described, model->layout());
    const MnistH5Reader reader(options.data);
    data_set = reader.data_set();
    evaluator = std::make_unique<Evaluator>(backend, world, reader, *model, options.batch_rows);
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
  print_confusion(evaluation, find_data_set(data_set));
  return kExitOk;
}

}  // namespace dptrain::cli
