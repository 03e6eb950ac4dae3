#include "dptrain/ps/serve.hpp"

#include <memory>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/data/h5_data_reader.hpp"
#include "dptrain/data/sampler.hpp"
#include "dptrain/ps/parameter_server.hpp"
#include "dptrain/train/lr_plan.hpp"
#include "dptrain/train/trainer.hpp"

namespace dptrain {

void serve_parameters(const TrainConfig& config, const World& world, const PsPlan& plan,
                      bool stop_signals) {
  CpuBackend layout_only(1);
  std::unique_ptr<Model> model;
  size_t steps_per_epoch = 0;
  world.together([&] {                             // Trainer::create's first agreement
    const H5DataReader reader(config.data_path);  // the header only: servers hold no data
    steps_per_epoch =
        ShardedSampler(reader.train_rows(), config.batch_size, 0, plan.workers, config.seed)
            .steps_per_epoch();
    model = make_model(layout_only, model_spec(config), 1);
    // Refused here, in the agreement, as the workers refuse it: a warm-up longer than the run.
    lr_schedule(config, static_cast<size_t>(config.batch_size) * static_cast<size_t>(plan.workers),
                steps_per_epoch);
  });
  check_same_model(world, *model);
  ParameterServer server(world, plan, config, steps_per_epoch, stop_signals);
  server.initialize(*model, config.seed);
  if (config.resume) server.resume();
  server.run();
}

}  // namespace dptrain
