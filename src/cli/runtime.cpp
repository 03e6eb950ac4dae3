#include "runtime.hpp"

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/comm/mpi_communicator.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/core/log.hpp"
#if defined(DPTRAIN_HAVE_CUDA)
#include "dptrain/cuda/cuda_api.hpp"
#endif

namespace dptrain::cli {
namespace {

int blas_threads(const TrainConfig& config, const World& world) {
  if (config.blas_threads == 0) return default_blas_threads(world.local_size());
  if (config.blas_threads * world.local_size() > cores_on_node())
    warn0("%d ranks on this node x %d BLAS threads exceed its %d cores (--threads)",
          world.local_size(), config.blas_threads, cores_on_node());
  return config.blas_threads;
}

}  // namespace

VisibleDevices probe_cuda_devices() {
#if defined(DPTRAIN_HAVE_CUDA)
  return cuda::visible_devices();
#else
  return {0, "built without the CUDA backend"};
#endif
}

Runtime make_runtime(const TrainConfig& config, const World& world) {
  DeviceChoice choice;
  world.together([&] {
    choice = choose_device(config.device, kCudaBuilt, probe_cuda_devices(), world.local_rank(),
                           world.local_size());
  });
  // One communicator spans all ranks, so all must be CPU ranks or all CUDA ranks.
  if (world.min(choice.cuda ? 1 : 0) != world.max(choice.cuda ? 1 : 0))
    throw AgreedError("some ranks found a GPU and some did not; choose with --device cpu|cuda",
                      kExitBadInput);

  Runtime runtime;
  runtime.device = choice.reason;
  if (!choice.cuda) {
    if (config.precision == GemmPrecision::tf32)
      warn0("--precision tf32 applies to cuBLAS only; the CPU computes in fp32");
    world.together(
        [&] { runtime.backend = std::make_unique<CpuBackend>(blas_threads(config, world)); });
    runtime.communicator = std::make_unique<MpiCommunicator>(world.comm());
    return runtime;
  }
#if defined(DPTRAIN_HAVE_CUDA)
  world.together([&] { runtime.backend = cuda::make_backend(choice.device, config.precision); });
  runtime.communicator =
      cuda::make_nccl_communicator(world, *runtime.backend, config.nccl_init_timeout_seconds);
#endif
  return runtime;
}

}  // namespace dptrain::cli
