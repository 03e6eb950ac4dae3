// NCCL and the CUDA backend under mpirun: each rank on its own GPU. Skipped on every rank, with
// the reason, unless every rank has a GPU of its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

#include "dptrain/comm/ring_allreduce.hpp"
#include "dptrain/comm/shards.hpp"
#include "dptrain/core/random.hpp"
#include "dptrain/cuda/cuda_api.hpp"
#include "mpi/data_parallel_checks.hpp"
#include "support/numeric_checks.hpp"

namespace dptrain {
namespace {

class OneGpuPerRank : public ::testing::Test {
 protected:
  void SetUp() override {
    const VisibleDevices devices = cuda::visible_devices();
    const uint64_t enough = devices.count >= world_.local_size() ? 1 : 0;
    if (world_.min(enough) == 0)
      GTEST_SKIP() << "needs a GPU per rank; this rank sees " << devices.count << " for "
                   << world_.local_size() << " ranks on its node"
                   << (devices.error.empty() ? "" : " (" + devices.error + ")");
  }

  // This rank's GPU and an NCCL communicator over every rank.
  void connect() {
    backend_ = cuda::make_backend(world_.local_rank(), GemmPrecision::fp32);
    nccl_ = cuda::make_nccl_communicator(world_, *backend_, 60.0);
  }

  template <class T>
  std::vector<T> through_the_device(const std::vector<T>& host,
                                    const std::function<void(T*)>& collective) {
    DeviceArray<T> device(*backend_, host.size());
    backend_->copy_to_device(device.data(), host.data(), device.bytes());
    collective(device.data());
    std::vector<T> result(host.size());
    backend_->copy_to_host(result.data(), device.data(), device.bytes());
    return result;
  }

  // count values in [0, 1), different on every rank.
  std::vector<float> contribution(size_t count, uint64_t seed) const {
    std::vector<float> values(count);
    const uint64_t key = random::stream_key(seed, static_cast<uint64_t>(world_.rank()));
    for (size_t i = 0; i < count; ++i)
      values[i] = random::uniform01(key, i);
    return values;
  }

  World world_{MPI_COMM_WORLD};
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Communicator> nccl_;
};

TEST_F(OneGpuPerRank, NcclAllreduceMatchesTheMpiRing) {
  connect();
  const size_t count = 50890;
  std::vector<float> data = contribution(count, 23);
  for (float& value : data)
    value -= 0.5f;
  const std::vector<float> from_nccl =
      through_the_device<float>(data, [&](float* device) { nccl_->allreduce_sum(device, count); });
  std::vector<double> magnitudes(count);
  for (size_t i = 0; i < count; ++i)
    magnitudes[i] = std::abs(static_cast<double>(data[i]));
  MPI_Allreduce(MPI_IN_PLACE, magnitudes.data(), static_cast<int>(count), MPI_DOUBLE, MPI_SUM,
                MPI_COMM_WORLD);
  RingAllreduce(MPI_COMM_WORLD).sum(data.data(), count);
  // Two sums of the same W terms in different orders: within 2 gamma(W - 1) * sum |terms|.
  const double bound = 2.0 * testing::float_gamma(world_.size() - 1);
  for (size_t i = 0; i < count; ++i)
    ASSERT_LE(std::abs(static_cast<double>(from_nccl[i]) - data[i]), bound * magnitudes[i])
        << "element " << i;
  // Every rank holds the same bits.
  std::vector<float> root = from_nccl;
  MPI_Bcast(root.data(), static_cast<int>(count), MPI_FLOAT, 0, MPI_COMM_WORLD);
  EXPECT_EQ(std::memcmp(root.data(), from_nccl.data(), count * sizeof(float)), 0);
}

// --exact's integer sums and the scales' maxima: NCCL gives the ring's bits, whatever its order.
TEST_F(OneGpuPerRank, NcclIntegerSumsAndMaximaMatchTheMpiRingBitForBit) {
  connect();
  const size_t count = 50890;
  std::vector<float> maxima = contribution(count, 29);
  std::vector<int64_t> integers(count);
  for (size_t i = 0; i < count; ++i)
    integers[i] = static_cast<int64_t>((maxima[i] - 0.5f) * 0x1p40f) * (int64_t{1} << 20);
  const std::vector<int64_t> nccl_integers = through_the_device<int64_t>(
      integers, [&](int64_t* device) { nccl_->allreduce(sum_buffer(device, count)); });
  const std::vector<float> nccl_maxima = through_the_device<float>(
      maxima, [&](float* device) { nccl_->allreduce_max(device, count); });
  RingAllreduce ring(MPI_COMM_WORLD);
  ring.sum(sum_buffer(integers.data(), count));
  ring.max(maxima.data(), count);
  EXPECT_EQ(nccl_integers, integers);
  EXPECT_EQ(std::memcmp(nccl_maxima.data(), maxima.data(), count * sizeof(float)), 0);
}

// ZeRO-1's halves on NCCL, over the padded buffer: each rank's shard of the reduce-scatter, and
// the whole all-gathered buffer, are the MPI ring's bits, for float sums exact in any order and
// for --exact's integers.
TEST_F(OneGpuPerRank, NcclReduceScatterAndAllgatherMatchTheMpiRingBitForBit) {
  connect();
  const int n = world_.size(), rank = world_.rank();
  const size_t count = 50890;
  const ShardRange own = shard_of(count, n, rank);
  std::vector<float> floats(padded_shard_count(count, n), 0.0f);
  std::vector<int64_t> integers(floats.size(), 0);
  for (size_t i = 0; i < count; ++i) {
    floats[i] = static_cast<float>((rank + 1) * static_cast<int>(i % 97));  // small integers
    integers[i] = (int64_t{1} << 50) * (rank + 1) + static_cast<int64_t>(i);
  }
  const std::vector<float> nccl_floats = through_the_device<float>(
      floats, [&](float* device) { nccl_->reduce_scatter(sum_buffer(device, count)); });
  const std::vector<int64_t> nccl_integers = through_the_device<int64_t>(
      integers, [&](int64_t* device) { nccl_->reduce_scatter(sum_buffer(device, count)); });
  RingAllreduce ring(MPI_COMM_WORLD);
  ring.reduce_scatter(sum_buffer(floats.data(), count));
  ring.reduce_scatter(sum_buffer(integers.data(), count));
  EXPECT_EQ(std::memcmp(nccl_floats.data() + own.begin, floats.data() + own.begin,
                        own.count * sizeof(float)),
            0);
  EXPECT_TRUE(std::equal(nccl_integers.begin() + static_cast<std::ptrdiff_t>(own.begin),
                         nccl_integers.begin() + static_cast<std::ptrdiff_t>(own.end()),
                         integers.begin() + static_cast<std::ptrdiff_t>(own.begin)));
  // From the ring's result, where only this rank's shard is the sum: every shard everywhere.
  const std::vector<float> nccl_gathered =
      through_the_device<float>(floats, [&](float* device) { nccl_->allgather(device, count); });
  ring.allgather(floats.data(), count);
  EXPECT_EQ(std::memcmp(nccl_gathered.data(), floats.data(), count * sizeof(float)), 0);
  EXPECT_FALSE(nccl_->bytes_sent().has_value());
}

// --exact on GPUs: N GPUs of B rows and one GPU of N*B rows in micro-batches of B, bit for bit.
TEST_F(OneGpuPerRank, ExactNGpusMatchOneGpuInMicroBatches) {
  testing::expect_exact_n_ranks_match_one_rank(testing::TestDevice::cuda, testing::ExactCase{});
}

TEST_F(OneGpuPerRank, ExactNGpusMatchOneGpuWithTheCnn) {
  testing::expect_exact_n_ranks_match_one_rank(
      testing::TestDevice::cuda,
      testing::ExactCase{.model = ModelKind::cnn, .rows_per_rank = 8, .micro_batch = 8});
}

// Without --exact: the first step's NCCL sums within the float summation bound.
TEST_F(OneGpuPerRank, FirstStepSumsAgreeWithinTheSummationBound) {
  testing::expect_first_step_sums_within_the_summation_bound(testing::TestDevice::cuda,
                                                             ModelKind::mlp);
}

TEST_F(OneGpuPerRank, NonFiniteSkipOnTheDeviceTrainsAsWhenHeardOfAtOnce) {
  testing::expect_deferred_skip_matches_immediate(testing::TestDevice::cuda);
}

TEST_F(OneGpuPerRank, NonFiniteAbortOnTheDeviceAppliesNothingAfterTheBadStep) {
  testing::expect_deferred_abort_halts_at_the_bad_step(testing::TestDevice::cuda);
}

// The step as one CUDA graph (--cuda-graph, the default) must train as the step launched kernel
// by kernel, bit for bit: the same kernels with the same arguments, NCCL's sum included.
TEST_F(OneGpuPerRank, CudaGraphStepsTrainAsLaunchedStepsBitForBit) {
  for (const size_t bucket_kb : {size_t{0}, size_t{4}}) {
    TrainConfig config = testing::small_config();
    config.bucket_kb = bucket_kb;
    config.cuda_graph = false;
    testing::TrainerRig launched(config, MPI_COMM_WORLD, testing::TestDevice::cuda);
    config.cuda_graph = true;
    testing::TrainerRig replayed(config, MPI_COMM_WORLD, testing::TestDevice::cuda);
    const size_t steps = launched.trainer->sampler().steps_per_epoch() + 7;  // into epoch 2
    launched.train_steps(steps);
    replayed.train_steps(steps);
    const std::vector<float> a = launched.trainer->parameters();
    const std::vector<float> b = replayed.trainer->parameters();
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
        << "--bucket-kb " << bucket_kb;
  }
}

// ZeRO-1 on GPUs: NCCL's reduce-scatter and all-gather, the agreement in an int64 sum, the shard's
// update on the device. With --exact and clipping, bitwise the unsharded run; and its steps
// replayed as a CUDA graph bitwise the launched ones, in float.
TEST_F(OneGpuPerRank, ShardedStepsMatchTheUnshardedAndReplayAsLaunched) {
  TrainConfig config = testing::small_config();
  config.exact = true;
  config.clip_norm = 0.05f;
  const auto train = [](TrainConfig c, bool shard) {
    c.shard_optimizer = shard;
    testing::TrainerRig rig(c, MPI_COMM_WORLD, testing::TestDevice::cuda);
    rig.train_steps(rig.trainer->sampler().steps_per_epoch() + 7);
    return rig.trainer->parameters();
  };
  EXPECT_TRUE(testing::same_bits(train(config, true), train(config, false))) << "--exact";
  config.exact = false;
  config.cuda_graph = false;
  const std::vector<float> launched = train(config, true);
  config.cuda_graph = true;
  EXPECT_TRUE(testing::same_bits(train(config, true), launched)) << "--cuda-graph";
}

TEST_F(OneGpuPerRank, ReplicasStayBitwiseIdentical) {
  testing::expect_replicas_bitwise_equal_after_training(testing::TestDevice::cuda);
}

}  // namespace
}  // namespace dptrain
