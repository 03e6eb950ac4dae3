#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "commands.hpp"
#include "dptrain/comm/host_layout.hpp"
#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/core/log.hpp"
#include "dptrain/core/stop_signal.hpp"
#include "dptrain/core/trace.hpp"
#include "dptrain/data/agree_data_shape.hpp"
#include "dptrain/data/prepare.hpp"
#include "dptrain/ps/ps_worker.hpp"
#include "dptrain/ps/serve.hpp"
#include "dptrain/train/checkpoint.hpp"
#include "dptrain/train/lr_plan.hpp"
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

// The ranks of one role (servers or workers) as a communicator of their own, freed at the end.
class RoleCommunicator {
 public:
  RoleCommunicator(const World& world, bool is_server) {
    mpiCheck(MPI_Comm_split(world.comm(), is_server ? 0 : 1, world.rank(), &comm_));
    mpiCheck(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
  }
  ~RoleCommunicator() { MPI_Comm_free(&comm_); }
  RoleCommunicator(const RoleCommunicator&) = delete;
  RoleCommunicator& operator=(const RoleCommunicator&) = delete;
  MPI_Comm comm() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

// Collective: what every rank computes on, host by host, as each host chose for its own ranks
// (BLAS threads from its cores and ranks, the CUDA device from the local rank):
//   h1: ranks 0-1: cpu, 1 BLAS thread each; h2: rank 2: server, rank 3: cpu, 2 BLAS threads
std::string describe_placement(const World& world, const HostLayout& hosts,
                               const Runtime& runtime) {
  const uint64_t mine =
      static_cast<uint64_t>(runtime.kind) << 32 | static_cast<uint32_t>(runtime.units);
  const std::vector<uint64_t> all = world.all_gather(mine);
  // What a group of `count` ranks with the same code computes on.
  const auto what = [](uint64_t code, size_t count) -> std::string {
    const int units = static_cast<int>(code & 0xffffffffu);
    switch (static_cast<Runtime::Kind>(code >> 32)) {
      case Runtime::Kind::cuda:
        return "cuda:" + std::to_string(units);
      case Runtime::Kind::cpu:
        return "cpu, " + std::to_string(units) + " BLAS thread" + (units == 1 ? "" : "s") +
               (count > 1 ? " each" : "");
      default:
        return count > 1 ? "parameter servers" : "parameter server";
    }
  };
  std::string line;
  for (size_t host = 0; host < hosts.hosts(); ++host) {
    const std::vector<int> ranks = hosts.ranks_on(host);
    std::string groups;
    for (size_t i = 0; i < ranks.size();) {
      size_t j = i;
      while (j + 1 < ranks.size() &&
             all[static_cast<size_t>(ranks[j + 1])] == all[static_cast<size_t>(ranks[i])])
        ++j;
      const std::vector<int> group(ranks.begin() + static_cast<ptrdiff_t>(i),
                                   ranks.begin() + static_cast<ptrdiff_t>(j) + 1);
      groups += std::string(groups.empty() ? "" : ", ") + (group.size() > 1 ? "ranks " : "rank ") +
                rank_ranges(group) + ": " + what(all[static_cast<size_t>(ranks[i])], group.size());
      i = j + 1;
    }
    line += (line.empty() ? "" : "; ") + hosts.host_name(host) + ": " + groups;
  }
  return line;
}

// How each step's gradients are formed and summed (README, "Reproducibility").
void print_gradient_sums(const GradientSum& sum, int micro_rows, size_t global_batch) {
  const std::string passes = sum.micro_batches() == 1
                                 ? "one pass of " + std::to_string(micro_rows) + " rows per rank"
                                 : std::to_string(sum.micro_batches()) + " micro-batches of " +
                                       std::to_string(micro_rows) + " rows per rank";
  if (!sum.exact()) {
    printf0(
        "step: %s; gradients summed in float (their last bits depend on how the global batch "
        "is split)\n",
        passes.c_str());
    return;
  }
  printf0(
      "step: %s; gradients of the %zu micro-batches of a global batch summed in 64-bit fixed "
      "point with agreed per-tensor scales (--exact: the same bits on any number of ranks)\n",
      passes.c_str(), global_batch / static_cast<size_t>(micro_rows));
}

}  // namespace

int run_train(const TrainConfig& options, const World& world) {
  world.together([&] { validate(options, world.size()); });
  // The model's input and output widths follow the data, read before anything is built.
  TrainConfig config = options;
  config.data_shape = agree_data_shape(world, config.data_path);
  // Every output path is made or checked before any step. First --checkpoint-dir, which would
  // otherwise be found unwritable only at the first checkpoint, after an epoch of training (and
  // before --overwrite has emptied a --metrics or --trace file, opened below).
  world.together([&] { check_checkpoint_dir(world, config); });
  watchdog::set_timeout(config.collective_timeout_seconds);
  const bool ps = config.mode == TrainMode::ps;
  ParameterLayout layout;
  world.together([&] { layout = model_layout(model_spec(config)); });
  const size_t parameters = layout.total();
  std::optional<PsPlan> plan;
  if (ps) plan.emplace(world.size(), config.ps_servers.value_or(1), parameters);
  const bool is_server = ps && plan->is_server(world.rank());
  std::unique_ptr<RoleCommunicator> role;
  std::unique_ptr<World> workers;
  if (ps) {
    role = std::make_unique<RoleCommunicator>(world, is_server);
    workers = std::make_unique<World>(role->comm());
  }
  const World& replicas = ps ? *workers : world;
  set_printer(!is_server && replicas.rank() == 0);

  std::unique_ptr<MetricsFile> metrics;
  std::unique_ptr<TraceFile> trace_file;
  world.together([&] {
    if (is_printer() && !config.metrics_path.empty())
      metrics = std::make_unique<MetricsFile>(
          config.metrics_path, config.overwrite, world.size(), replicas.size(),
          static_cast<size_t>(config.batch_size) * static_cast<size_t>(replicas.size()));
    if (!is_server && !config.trace_path.empty())
      trace_file = std::make_unique<TraceFile>(config.trace_path, world.rank(), config.overwrite);
  });
  const Runtime runtime = make_runtime(config, world, replicas, is_server);
  // Collective over every rank, servers too, before they part.
  const HostLayout hosts(world);
  watchdog::set_warning_after(config.stall_warning_seconds);
  watchdog::set_hosts(hosts.host_indices(),
                      [hosts](const std::vector<int>& ranks) { return hosts.name_ranks(ranks); });
  const std::string placement = describe_placement(world, hosts, runtime);
  install_stop_handlers();
  if (is_server) {
    try {
      serve_parameters(config, world, *plan, /*stop_signals=*/true);
    } catch (const StopRequested&) {
      return kExitStopped;  // the first worker says why
    }
    return kExitOk;
  }

  const SumType sums = config.exact ? SumType::i64 : SumType::f32;
  std::unique_ptr<ParameterUpdate> update;
  if (ps)
    update = std::make_unique<PsWorkerUpdate>(world, *plan, *runtime.backend, parameters,
                                              ps_worker_options(config));
  else
    update = make_allreduce_update(*runtime.communicator, *runtime.backend, parameters,
                                   update_options(config, &layout), config.shard_optimizer);
  printf0("dptrain: %d rank(s) on %s; device: %s\n", world.size(), hosts.describe().c_str(),
          runtime.device.c_str());
  printf0("placement: %s\n", placement.c_str());
  printf0("backend %s; gradients: %s\n", runtime.backend->name().c_str(), update->name().c_str());

  const std::unique_ptr<Trainer> trainer =
      Trainer::create(config, replicas, *update, *runtime.backend, &world);
  if (!trainer->resumed_from().empty())
    printf0("resumed from %s: epoch %d, step %zu\n", trainer->resumed_from().c_str(),
            trainer->position().epoch, trainer->position().step);
  const ShardedSampler& sampler = trainer->sampler();
  const DataSetInfo* data_set = find_data_set(trainer->data_set());
  printf0(
      "data: %s%s%s%s, %s, %zu training rows on this %s, %zu steps of %zu x %d rows per epoch, "
      "%zu rows left out per epoch\n",
      config.data_path.c_str(), data_set ? " (" : "", data_set ? data_set->title : "",
      data_set ? ")" : "", describe_data_shape(config.data_shape).c_str(), trainer->shard_rows(),
      ps ? "worker" : "rank", sampler.steps_per_epoch(), static_cast<size_t>(replicas.size()),
      config.batch_size, sampler.dropped_per_epoch());
  print_gradient_sums(trainer->gradient_sum(), micro_batch_rows(config), sampler.global_batch());
  printf0("model: %s, %zu parameters; %s\n", trainer->model().describe().c_str(),
          trainer->model().layout().total(), describe_optimizer(config.optimizer).c_str());
  printf0("%s\n", describe_lr_schedule(config, trainer->lr_schedule(), sampler.global_batch(),
                                       sampler.steps_per_epoch())
                      .c_str());
  if (ps) {
    std::string ranges;
    for (const ParameterRange& range : plan->ranges)
      ranges += (ranges.empty() ? "" : "/") + std::to_string(range.size());
    printf0(
        "ps: ranks 0-%d serve %s parameters, ranks %d-%d work; each worker pushes and pulls "
        "%zu bytes per step\n",
        plan->servers - 1, ranges.c_str(), plan->servers, world.size() - 1,
        parameters * sizeof(float));
  }

  ConsoleReporter reporter(config.epochs, wants_progress_bar(config.progress), metrics.get());
  trainer->enable_stop_signals();
  if (trace_file) {
    const size_t layers = trainer->model().layer_count();
    const size_t bucket_elements =
        config.bucket_kb.value_or(kDefaultBucketKb) * 1024 / sum_buffer_element_bytes(sums);
    const size_t buckets =
        bucket_elements == 0 ? 1 : (parameters + bucket_elements - 1) / bucket_elements;
    // Per micro-batch: gather, forward and two per layer in backward; per step: the exchange,
    // the scales' agreement, the optimizer and each bucket in flight; with --shard-optimizer
    // the optimizer twice, the step's agreement, the reduce-scatter and the all-gather.
    const size_t spans_per_step = trainer->gradient_sum().micro_batches() * (2 + 2 * layers) + 3 +
                                  buckets + (config.shard_optimizer ? 3 : 0);
    trace::enable(static_cast<size_t>(config.epochs) * sampler.steps_per_epoch() * spans_per_step +
                  1000);
  }
  int status = kExitOk;
  try {
    trainer->fit(is_printer() ? &reporter : nullptr);
  } catch (const StopRequested& stop) {
    printf0("\ndptrain: %s\n", stop.what());
    status = kExitStopped;
  }
  if (is_printer()) reporter.print_where_time_went();
  if (trace_file) trace_file->write();
  return status;
}

}  // namespace dptrain::cli
