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

TEST_F(OneGpuPerRank, NGpusMatchOneGpuWithTheGlobalBatch) {
  testing::expect_n_ranks_match_one_rank(testing::TestDevice::cuda);
}

TEST_F(OneGpuPerRank, NGpusMatchOneGpuWithTheCnn) {
  testing::expect_n_ranks_match_one_rank(testing::TestDevice::cuda, 0, ModelKind::cnn);
}

TEST_F(OneGpuPerRank, ReplicasStayBitwiseIdentical) {
  testing::expect_replicas_bitwise_equal_after_training(testing::TestDevice::cuda);
}

}  // namespace
}  // namespace dptrain
