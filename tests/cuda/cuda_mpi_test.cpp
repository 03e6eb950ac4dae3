// NCCL and the CUDA backend under mpirun: each rank on its own GPU. Skipped on every rank, with
// the reason, unless every rank has a GPU of its own.
#include <gtest/gtest.h>

#include <cstring>

#include "dptrain/comm/ring_allreduce.hpp"
#include "dptrain/core/random.hpp"
#include "dptrain/cuda/cuda_api.hpp"
#include "mpi/data_parallel_checks.hpp"

namespace dptrain {
namespace {

class OneGpuPerRank : public ::testing::Test {
 protected:
  void SetUp() override {
    const World world(MPI_COMM_WORLD);
    const VisibleDevices devices = cuda::visible_devices();
    const uint64_t enough = devices.count >= world.local_size() ? 1 : 0;
    if (world.min(enough) == 0)
      GTEST_SKIP() << "needs a GPU per rank; this rank sees " << devices.count << " for "
                   << world.local_size() << " ranks on its node"
                   << (devices.error.empty() ? "" : " (" + devices.error + ")");
  }
};

TEST_F(OneGpuPerRank, NcclAllreduceMatchesTheMpiRing) {
  const World world(MPI_COMM_WORLD);
  std::unique_ptr<Backend> backend = cuda::make_backend(world.local_rank(), GemmPrecision::fp32);
  std::unique_ptr<Communicator> nccl = cuda::make_nccl_communicator(world, *backend, 60.0);
  const size_t count = 50890;
  std::vector<float> data(count);
  const uint64_t key = random::stream_key(23, static_cast<uint64_t>(world.rank()));
  for (size_t i = 0; i < count; ++i)
    data[i] = random::uniform01(key, i) - 0.5f;
  DeviceArray<float> device(*backend, count);
  backend->copy_to_device(device.data(), data.data(), device.bytes());
  nccl->allreduce_sum(device.data(), count);
  std::vector<float> from_nccl(count);
  backend->copy_to_host(from_nccl.data(), device.data(), device.bytes());
  RingAllreduce(MPI_COMM_WORLD).sum(data.data(), count);
  for (size_t i = 0; i < count; ++i)
    ASSERT_NEAR(from_nccl[i], data[i], 1e-6f * static_cast<float>(world.size())) << "element " << i;
  // Every rank holds the same bits.
  std::vector<float> root = from_nccl;
  MPI_Bcast(root.data(), static_cast<int>(count), MPI_FLOAT, 0, MPI_COMM_WORLD);
  EXPECT_EQ(std::memcmp(root.data(), from_nccl.data(), count * sizeof(float)), 0);
}

// --exact's integer sums and the scales' maxima: NCCL gives the ring's bits, whatever its order.
TEST_F(OneGpuPerRank, NcclIntegerSumsAndMaximaMatchTheMpiRingBitForBit) {
  const World world(MPI_COMM_WORLD);
  std::unique_ptr<Backend> backend = cuda::make_backend(world.local_rank(), GemmPrecision::fp32);
  std::unique_ptr<Communicator> nccl = cuda::make_nccl_communicator(world, *backend, 60.0);
  const size_t count = 50890;
  std::vector<int64_t> integers(count);
  std::vector<float> maxima(count);
  const uint64_t key = random::stream_key(29, static_cast<uint64_t>(world.rank()));
  for (size_t i = 0; i < count; ++i) {
    maxima[i] = random::uniform01(key, i);
    integers[i] = static_cast<int64_t>((maxima[i] - 0.5f) * 0x1p40f) * (int64_t{1} << 20);
  }
  DeviceArray<int64_t> device_integers(*backend, count);
  DeviceArray<float> device_maxima(*backend, count);
  backend->copy_to_device(device_integers.data(), integers.data(), device_integers.bytes());
  backend->copy_to_device(device_maxima.data(), maxima.data(), device_maxima.bytes());
  nccl->allreduce(sum_buffer(device_integers.data(), count));
  nccl->allreduce_max(device_maxima.data(), count);
  std::vector<int64_t> nccl_integers(count);
  std::vector<float> nccl_maxima(count);
  backend->copy_to_host(nccl_integers.data(), device_integers.data(), device_integers.bytes());
  backend->copy_to_host(nccl_maxima.data(), device_maxima.data(), device_maxima.bytes());
  RingAllreduce ring(MPI_COMM_WORLD);
  ring.sum(sum_buffer(integers.data(), count));
  ring.max(maxima.data(), count);
  EXPECT_EQ(nccl_integers, integers);
  EXPECT_EQ(std::memcmp(nccl_maxima.data(), maxima.data(), count * sizeof(float)), 0);
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

TEST_F(OneGpuPerRank, ReplicasStayBitwiseIdentical) {
  testing::expect_replicas_bitwise_equal_after_training(testing::TestDevice::cuda);
}

}  // namespace
}  // namespace dptrain
