#include "dptrain/backend/device_choice.hpp"

#include <gtest/gtest.h>

#include "dptrain/core/error.hpp"

namespace dptrain {
namespace {

const VisibleDevices kNoDriver{0, "CUDA driver version is insufficient for CUDA runtime version"};
const VisibleDevices kFourGpus{4, ""};

std::string error_of(DeviceRequest request, bool built, const VisibleDevices& visible, int rank,
                     int ranks) {
  try {
    choose_device(request, built, visible, rank, ranks);
  } catch (const InputError& error) {
    return error.what();
  }
  return "no error";
}

TEST(DeviceChoice, CpuWhenAsked) {
  const DeviceChoice choice = choose_device(DeviceRequest::cpu, true, kFourGpus, 0, 1);
  EXPECT_FALSE(choice.cuda);
  EXPECT_EQ(choice.reason, "cpu, as asked (--device cpu)");
}

TEST(DeviceChoice, AutoFallsBackToTheCpuAndSaysWhy) {
  DeviceChoice choice = choose_device(DeviceRequest::automatic, true, kNoDriver, 0, 2);
  EXPECT_FALSE(choice.cuda);
  EXPECT_EQ(choice.reason,
            "cpu: no CUDA device: CUDA driver version is insufficient for CUDA runtime version");
  choice = choose_device(DeviceRequest::automatic, false, kFourGpus, 0, 2);
  EXPECT_FALSE(choice.cuda);
  EXPECT_EQ(choice.reason, "cpu: this dptrain was built without the CUDA backend");
}

TEST(DeviceChoice, EachLocalRankGetsItsOwnGpu) {
  for (int rank = 0; rank < 4; ++rank) {
    const DeviceChoice choice = choose_device(DeviceRequest::automatic, true, kFourGpus, rank, 4);
    EXPECT_TRUE(choice.cuda);
    EXPECT_EQ(choice.device, rank);
  }
  EXPECT_EQ(choose_device(DeviceRequest::cuda, true, kFourGpus, 1, 2).reason,
            "cuda device 1 of 4 visible (local rank 1)");
}

TEST(DeviceChoice, CudaThatCannotBeIsAnError) {
  EXPECT_EQ(error_of(DeviceRequest::cuda, true, kNoDriver, 0, 1),
            "--device cuda: no CUDA device: CUDA driver version is insufficient for CUDA runtime "
            "version");
  EXPECT_EQ(error_of(DeviceRequest::cuda, false, kFourGpus, 0, 1),
            "--device cuda: this dptrain was built without the CUDA backend (configure with "
            "-DDPTRAIN_CUDA=ON)");
}

TEST(DeviceChoice, MoreRanksThanGpusIsAnErrorNamingBothCounts) {
  const std::string expected =
      "5 ranks on this node but 4 visible CUDA devices: every rank needs a GPU of its own (start "
      "at most 4 ranks per node, or use --device cpu)";
  EXPECT_EQ(error_of(DeviceRequest::cuda, true, kFourGpus, 4, 5), expected);
  EXPECT_EQ(error_of(DeviceRequest::automatic, true, kFourGpus, 0, 5), expected);
}

}  // namespace
}  // namespace dptrain
