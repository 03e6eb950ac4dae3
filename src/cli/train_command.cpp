#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "commands.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/core/log.hpp"
#include "dptrain/train/trainer.hpp"
#include "reporters.hpp"
#include "runtime.hpp"

namespace dptrain::cli {
namespace {

// Open MPI gives every rank a pseudo-terminal whether or not mpirun writes to one, so under its
// launcher isatty() proves nothing and `auto` stays quiet; `--progress on` forces the bar.
bool wants_progress_bar(ProgressMode mode) {
  if (mode != ProgressMode::automatic) return mode == ProgressMode::on;
  return ::isatty(1) == 1 && std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr;
}

}  // namespace

int run_train(const TrainConfig& config, const World& world) {
  std::unique_ptr<MetricsFile> metrics;
  world.together([&] {
    validate(config);
    if (world.is_root() && !config.metrics_path.empty())
      metrics = std::make_unique<MetricsFile>(
          config.metrics_path, config.overwrite, world.size(),
          static_cast<size_t>(config.batch_size) * static_cast<size_t>(world.size()));
  });

  const Runtime runtime = make_runtime(config, world);
  printf0("dptrain: %d rank(s), %d on this node; device: %s\n", world.size(), world.local_size(),
          runtime.device.c_str());
  printf0("backend %s, gradients summed with %s\n", runtime.backend->name().c_str(),
          runtime.communicator->name().c_str());

  const std::unique_ptr<Trainer> trainer =
      Trainer::create(config, world, *runtime.communicator, *runtime.backend);
  const ShardedSampler& sampler = trainer->sampler();
  printf0(
      "data: %s, %zu training rows on this rank, %zu steps of %zu x %d rows per epoch, "
      "%zu rows left out per epoch\n",
      config.data_path.c_str(), trainer->shard_rows(), sampler.steps_per_epoch(),
      static_cast<size_t>(world.size()), config.batch_size, sampler.dropped_per_epoch());
  printf0("model: mlp %s, %zu parameters; Adam lr %g, weight decay %g\n",
          trainer->model().describe().c_str(), trainer->model().layout().total(),
          static_cast<double>(config.adam.lr), static_cast<double>(config.adam.weight_decay));

  ConsoleReporter reporter(config.epochs, wants_progress_bar(config.progress), metrics.get());
  trainer->fit(world.is_root() ? &reporter : nullptr);
  return kExitOk;
}

}  // namespace dptrain::cli
