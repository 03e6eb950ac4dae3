#include <chrono>
#include <exception>
#include <stdexcept>

#include "cuda_backend.hpp"
#include "cuda_check.hpp"
#include "cuda_handles.hpp"
#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/shards.hpp"
#include "dptrain/comm/watchdog.hpp"
#include "dptrain/core/backoff.hpp"
#include "dptrain/cuda/cuda_api.hpp"

namespace dptrain::cuda {
namespace {

// NCCL on the backend's stream. The communicator is non-blocking (ncclConfig_t::blocking = 0):
// every call may return ncclInProgress, and the communicator's state is polled until it is
// settled, with a deadline, so that a peer that never arrives ends in an error, not a hang.
class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(const World& world, CudaBackend& backend, double init_timeout_seconds)
      : rank_(world.rank()), size_(world.size()), stream_(backend.stream()) {
    cudaCheck(cudaStreamCreateWithFlags(exchange_stream_.put(), cudaStreamNonBlocking));
    cudaCheck(cudaEventCreateWithFlags(gradients_ready_.put(), cudaEventDisableTiming));
    cudaCheck(cudaEventCreateWithFlags(exchange_done_.put(), cudaEventDisableTiming));
    ncclUniqueId id{};
    world.together([&] {
      if (world.is_root()) ncclCheck(ncclGetUniqueId(&id));
    });
    world.broadcast_bytes(&id, sizeof id, 0);
    world.together([&] {
      ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
      config.blocking = 0;
      ncclCheck(ncclCommInitRankConfig(comm_.put(), size_, id, rank_, &config));
      settle("ncclCommInitRankConfig", init_timeout_seconds);
    });
  }

  // The members go after teardown() in reverse order: the events, then the exchange stream,
  // whose work has ended (finished, or the communicator aborted: no kernel still waits for peers).
  ~NcclCommunicator() override { teardown(); }

  std::string name() const override { return "nccl"; }
  bool recordable() const override { return true; }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  // --exact's int64 sums: NCCL adds integers exactly, so its choice of ring, tree or order
  // cannot change the bits.
  void allreduce(SumBuffer buffer) override {
    ncclCheck(ncclAllReduce(buffer.data, buffer.data, buffer.count, nccl_type(buffer.type), ncclSum,
                            comm_, stream_));
    settle("ncclAllReduce", watchdog::timeout());
  }

  void allreduce_max(float* data, size_t count) override {
    ncclCheck(ncclAllReduce(data, data, count, ncclFloat, ncclMax, comm_, stream_));
    settle("ncclAllReduce", watchdog::timeout());
  }

  // Bucketed exchange: each bucket's allreduce runs on a stream of its own as soon as the
  // backward kernels before it have finished (an event), concurrently with the backward kernels
  // after it; the compute stream waits for the exchange only where the optimizer needs it.
  // Nothing here waits on the host.
  void start_allreduce(SumBuffer buffer) override {
    cudaCheck(cudaEventRecord(gradients_ready_, stream_));
    cudaCheck(cudaStreamWaitEvent(exchange_stream_, gradients_ready_, 0));
    ncclCheck(ncclAllReduce(buffer.data, buffer.data, buffer.count, nccl_type(buffer.type), ncclSum,
                            comm_, exchange_stream_));
    settle("ncclAllReduce", watchdog::timeout());
  }

  void wait_started() override {
    cudaCheck(cudaEventRecord(exchange_done_, exchange_stream_));
    cudaCheck(cudaStreamWaitEvent(stream_, exchange_done_, 0));
  }

  void broadcast(float* data, size_t count, int root) override {
    ncclCheck(ncclBroadcast(data, data, count, ncclFloat, root, comm_, stream_));
    settle("ncclBroadcast", watchdog::timeout());
  }

  // ZeRO-1's halves, in place on the backend's stream. NCCL takes a full stride from every
  // rank, so they run over the padded buffer (padded_shard_count): the padding is summed and
  // gathered along, and holds nothing anyone reads. Rank r's shard is its stride-long block r,
  // where NCCL's in-place forms put rank r's part.
  void reduce_scatter(SumBuffer buffer) override {
    const size_t stride = shard_stride(buffer.count, size_);
    if (size_ == 1 || stride == 0) return;
    const SumBuffer own = buffer.slice(static_cast<size_t>(rank_) * stride, stride);
    ncclCheck(ncclReduceScatter(buffer.data, own.data, stride, nccl_type(buffer.type), ncclSum,
                                comm_, stream_));
    settle("ncclReduceScatter", watchdog::timeout());
  }

  void allgather(float* data, size_t count) override {
    const size_t stride = shard_stride(count, size_);
    if (size_ == 1 || stride == 0) return;
    ncclCheck(ncclAllGather(data + static_cast<size_t>(rank_) * stride, data, stride, ncclFloat,
                            comm_, stream_));
    settle("ncclAllGather", watchdog::timeout());
  }

 private:
  static constexpr double kFinalizeTimeoutSeconds = 60.0;

  static ncclDataType_t nccl_type(SumType type) {
    return type == SumType::i64 ? ncclInt64 : ncclFloat;
  }

  // Waits until the communicator has no call in progress (enqueueing, for collectives; the
  // whole initialisation, for init). On an error or past the deadline, aborts the communicator
  // and throws with NCCL's own explanation.
  void settle(const char* call, double timeout_seconds) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
    ncclResult_t state = ncclInProgress;
    Backoff backoff;
    while (true) {
      if (ncclCommGetAsyncError(comm_, &state) != ncclSuccess) state = ncclInternalError;
      if (state != ncclInProgress) break;
      if (std::chrono::steady_clock::now() > deadline) break;
      backoff.pause();
    }
    if (state == ncclSuccess) return;
    std::string why = state == ncclInProgress
                          ? "did not finish within " + std::to_string(timeout_seconds) +
                                " s (did every rank start? NCCL_DEBUG=INFO shows where it waits)"
                          : std::string(ncclGetErrorString(state)) + ": " + ncclGetLastError(comm_);
    comm_.reset();  // aborts
    throw std::runtime_error(std::string("NCCL ") + call + " on rank " + std::to_string(rank_) +
                             ": " + why);
  }

  void teardown() noexcept {
    if (!comm_) return;
    // While an error unwinds, peers may never finish a collective: abort, never wait.
    if (std::uncaught_exceptions() > 0) return;  // comm_'s release aborts
    try {
      // After success nothing is in flight.
      cudaCheck(cudaStreamSynchronize(exchange_stream_));
      cudaCheck(cudaStreamSynchronize(stream_));
      ncclCheck(ncclCommFinalize(comm_));
      settle("ncclCommFinalize", kFinalizeTimeoutSeconds);  // aborts by itself if it fails
      ncclCommDestroy(comm_.release());
    } catch (const std::exception&) {
      // comm_ (if settle has not aborted it) aborts as it goes
    }
  }

  int rank_;
  int size_;
  cudaStream_t stream_;  // the backend's
  OwnedStream exchange_stream_;
  OwnedEvent gradients_ready_;
  OwnedEvent exchange_done_;
  // Released first: a communicator still held is aborted (teardown() finalizes it on success).
  Owned<ncclComm_t, ncclCommAbort> comm_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(const World& world, Backend& backend,
                                                     double init_timeout_seconds) {
  auto* cuda_backend = dynamic_cast<CudaBackend*>(&backend);
  if (cuda_backend == nullptr)
    throw std::invalid_argument("the NCCL communicator needs the CUDA backend");
  return std::make_unique<NcclCommunicator>(world, *cuda_backend, init_timeout_seconds);
}

}  // namespace dptrain::cuda
