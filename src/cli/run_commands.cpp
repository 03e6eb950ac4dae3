#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "commands.hpp"
#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/comm/mpi_communicator.hpp"
#include "dptrain/core/log.hpp"
#include "dptrain/data/prepare.hpp"
#include "reporters.hpp"

namespace dptrain::cli {
namespace {

int blas_threads(const TrainConfig& config, const World& world) {
  if (config.blas_threads == 0) return default_blas_threads(world.local_size());
  if (config.blas_threads * world.local_size() > cores_on_node())
    warn0("%d ranks on this node x %d BLAS threads exceed its %d cores (--threads)",
          world.local_size(), config.blas_threads, cores_on_node());
  return config.blas_threads;
}

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

  CpuBackend backend(blas_threads(config, world));
  MpiCommunicator communicator(world.comm());
  printf0(
      "dptrain: %d rank(s), %d on this node, %d BLAS thread(s) each; backend %s, gradients "
      "summed with %s\n",
      world.size(), world.local_size(), backend.blas_threads(), backend.name().c_str(),
      communicator.name().c_str());

  const std::unique_ptr<Trainer> trainer = Trainer::create(config, world, communicator, backend);
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

int run_prepare_mnist(const PrepareOptions& options, const World& world) {
  PreparedData prepared;
  world.together([&] {
    if (world.is_root()) prepared = prepare_mnist(options.idx_dir, options.out, options.overwrite);
  });
  printf0("wrote %s: %zu training and %zu test images\n", options.out.c_str(), prepared.train_rows,
          prepared.test_rows);
  return kExitOk;
}

}  // namespace dptrain::cli
