#pragma once

#include <memory>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/comm/mpi_communicator.hpp"
#include "dptrain/train/trainer.hpp"

namespace dptrain::testing {

// A trainer with everything it needs, on a communicator of the caller's choosing.
struct TrainerRig {
  TrainerRig(const TrainConfig& config, MPI_Comm comm)
      : world(comm),
        communicator(comm),
        trainer(Trainer::create(config, world, communicator, backend)) {}

  // Runs `steps` steps from the start of training, starting epochs as needed.
  void train_steps(size_t steps) {
    const size_t per_epoch = trainer->sampler().steps_per_epoch();
    for (size_t s = 0; s < steps; ++s) {
      if (s % per_epoch == 0) trainer->begin_epoch(static_cast<int>(s / per_epoch) + 1);
      trainer->step(s % per_epoch);
    }
  }

  CpuBackend backend{1};
  World world;
  MpiCommunicator communicator;
  std::unique_ptr<Trainer> trainer;
};

}  // namespace dptrain::testing
