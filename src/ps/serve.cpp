#include "dptrain/ps/serve.hpp"

#include <memory>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/data/mnist_h5.hpp"
#include "dptrain/data/sampler.hpp"
#include "dptrain/ps/parameter_server.hpp"
#include "dptrain/train/trainer.hpp"

namespace dptrain {

void serve_parameters(const TrainConfig& config, const World& world, const PsPlan& plan) {
  CpuBackend layout_only(1);
  std::unique_ptr<Mlp> model;
  ServerSchedule schedule;
  schedule.epochs = config.epochs;
  schedule.async = config.ps_async;
  schedule.staleness = config.ps_staleness.value_or(0);
  const ParameterLayout layout = Mlp::layout_for(mlp_widths(config));
  schedule.nonfinite = {config.on_nonfinite, &layout};
  world.together([&] {  // Trainer::create's first agreement
    const MnistH5Reader reader(config.data_path);
    schedule.steps_per_epoch =
        ShardedSampler(reader.train_rows(), config.batch_size, 0, plan.workers, config.seed)
            .steps_per_epoch();
    model = std::make_unique<Mlp>(layout_only, mlp_widths(config), 1);
  });
  check_same_model(world, *model);
  ParameterServer server(world, plan, config.adam, schedule);
  server.initialize(*model, config.seed);
  server.run();
}

}  // namespace dptrain
