#include "runtime.hpp"

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/comm/host_layout.hpp"
#include "dptrain/comm/mpi_communicator.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/core/log.hpp"
#if defined(DPTRAIN_HAVE_CUDA)
#include "dptrain/cuda/cuda_api.hpp"
#include "dptrain/cuda/stream_timer.hpp"
#endif

namespace dptrain::cli {
namespace {

int blas_threads(const TrainConfig& config, const World& world) {
  // OpenBLAS's results depend on its thread count on some kernel sets (README,
  // "Reproducibility"); with --exact a default that follows the ranks per node would change the
  // bits with the number of ranks, so it is one thread unless --threads says otherwise.
  if (config.blas_threads == 0) return config.exact ? 1 : default_blas_threads(world.local_size());
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

Runtime make_runtime(const TrainConfig& config, const World& everyone, const World& replicas,
                     bool is_server) {
  DeviceChoice choice{false, -1, "cpu: a parameter server"};
  everyone.together([&] {
    if (!is_server)
      choice = choose_device(config.device, kCudaBuilt, probe_cuda_devices(), replicas.local_rank(),
                             replicas.local_size());
  });
  // The replicas must all be CPU or all be CUDA; servers stay out of the comparison.
  const uint64_t cuda = choice.cuda ? 1 : 0;
  if (everyone.min(is_server ? 1 : cuda) != everyone.max(is_server ? 0 : cuda))
    throw AgreedError("some ranks found a GPU and some did not; choose with --device cpu|cuda",
                      kExitBadInput);

  Runtime runtime;
  runtime.device = choice.reason;
  if (!choice.cuda && config.precision == GemmPrecision::tf32)
    warn0("--precision tf32 applies to cuBLAS only; the CPU computes in fp32");
  everyone.together([&] {
    if (is_server) return;
#if defined(DPTRAIN_HAVE_CUDA)
    if (choice.cuda) {
      runtime.backend = cuda::make_backend(choice.device, config.precision);
      runtime.device_timer =
          std::make_unique<trace::InstalledDeviceTimer>(cuda::make_stream_timer(*runtime.backend));
      runtime.kind = Runtime::Kind::cuda;
      runtime.units = choice.device;
      return;
    }
#endif
    runtime.kind = Runtime::Kind::cpu;
    runtime.units = blas_threads(config, everyone);
    runtime.backend = std::make_unique<CpuBackend>(runtime.units);
  });
  if (is_server || config.mode == TrainMode::ps) return runtime;
#if defined(DPTRAIN_HAVE_CUDA)
  if (choice.cuda) {
    if (config.allreduce != AllreduceAlgorithm::ring)
      throw AgreedError(
          "--allreduce hierarchical is for the CPU path; NCCL chooses its own "
          "rings and trees across hosts",
          kExitBadInput);
    if (config.exchange_dtype != WireFormat::fp32)
      throw AgreedError(std::string("--exchange-dtype ") + wire_format_name(config.exchange_dtype) +
                            " is not implemented for NCCL yet; use --device cpu or fp32",
                        kExitBadInput);
    runtime.communicator =
        cuda::make_nccl_communicator(replicas, *runtime.backend, config.nccl_init_timeout_seconds);
    return runtime;
  }
#endif
  const HostLayout hosts(replicas);
  MpiExchangeOptions exchange;
  exchange.float_sums = config.exchange_dtype;
  // Buckets are sums started while backward computes; between hosts, over TCP, a thread moves
  // them on. Within one host, over shared memory, the copies take the cores that compute
  // anyway, and the thread's wake-ups cost more than they give (measured: MLP, 2 ranks,
  // --bucket-kb 64, 15-20% fewer samples/s; README, "Many hosts").
  exchange.progress_thread = config.bucket_kb.value_or(kDefaultBucketKb) > 0 && hosts.hosts() > 1;
  if (config.allreduce == AllreduceAlgorithm::hierarchical)
    exchange.hierarchical_hosts = hosts.host_indices();
  runtime.communicator = std::make_unique<MpiCommunicator>(replicas.comm(), exchange);
  return runtime;
}

}  // namespace dptrain::cli
