#pragma once

#include <memory>
#include <stdexcept>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/comm/mpi_communicator.hpp"
#include "dptrain/train/trainer.hpp"
#if defined(DPTRAIN_HAVE_CUDA)
#include "dptrain/cuda/cuda_api.hpp"
#endif

namespace dptrain::testing {

enum class TestDevice { cpu, cuda };

// A trainer with everything it needs, on a communicator of the caller's choosing: the CPU
// backend with MPI, or the CUDA device of the local rank with NCCL.
struct TrainerRig {
  TrainerRig(const TrainConfig& config, MPI_Comm comm, TestDevice device = TestDevice::cpu,
             int blas_threads = 1)
      : world(comm) {
    if (device == TestDevice::cpu) {
      backend = std::make_unique<CpuBackend>(blas_threads);
      communicator = std::make_unique<MpiCommunicator>(comm);
    } else {
#if defined(DPTRAIN_HAVE_CUDA)
      backend = cuda::make_backend(world.local_rank(), GemmPrecision::fp32);
      communicator = cuda::make_nccl_communicator(world, *backend, 60.0);
#else
      throw std::logic_error("a CUDA test in a build without the CUDA backend");
#endif
    }
    update =
        make_allreduce_update(*communicator, *backend, model_layout(model_spec(config)).total(),
                              update_options(config, nullptr), config.shard_optimizer);
    trainer = Trainer::create(config, world, *update, *backend);
  }

  // Runs `steps` steps from the start of training, starting epochs as needed.
  void train_steps(size_t steps) {
    const size_t per_epoch = trainer->sampler().steps_per_epoch();
    for (size_t s = 0; s < steps; ++s) {
      if (s % per_epoch == 0) trainer->begin_epoch(static_cast<int>(s / per_epoch) + 1);
      trainer->step(s % per_epoch);
    }
  }

  World world;
  std::unique_ptr<Backend> backend;
  std::unique_ptr<Communicator> communicator;
  std::unique_ptr<ParameterUpdate> update;
  std::unique_ptr<Trainer> trainer;
};

}  // namespace dptrain::testing
