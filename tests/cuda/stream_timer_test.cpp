// The CUDA backend's DeviceTimer on a real stream: its events see the kernels, not their launch.
// Skipped, with the CUDA runtime's reason, where no GPU is visible.
#include "dptrain/cuda/stream_timer.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/trace.hpp"
#include "dptrain/cuda/cuda_api.hpp"

namespace dptrain {
namespace {

// A 4096-cubed GEMM: 137 GFLOP, milliseconds on any GPU, microseconds to launch.
constexpr int kSide = 4096;

class StreamTimerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const VisibleDevices devices = cuda::visible_devices();
    if (devices.count == 0) GTEST_SKIP() << "no CUDA device: " << devices.error;
    gpu_ = cuda::make_backend(0, GemmPrecision::fp32);
    const size_t elements = static_cast<size_t>(kSide) * kSide;
    a_ = DeviceArray<float>(*gpu_, elements);
    c_ = DeviceArray<float>(*gpu_, elements);
    gpu_->fill(a_.data(), elements, 0.5f);
    gemm();  // loads cuBLAS's kernels, which the timed launches should not include
    wait_for_stream();
  }

  void gemm() {
    gpu_->gemm(Transpose::no, Transpose::no, kSide, kSide, kSide, 1.0f, a_.data(), kSide, a_.data(),
               kSide, 0.0f, c_.data(), kSide);
  }
  void wait_for_stream() {
    float first = 0.0f;
    gpu_->copy_to_host(&first, c_.data(), sizeof first);
  }

  std::unique_ptr<Backend> gpu_;
  DeviceArray<float> a_, c_;
};

TEST_F(StreamTimerTest, TimesTheKernelsBetweenTwoPoints) {
  const std::unique_ptr<trace::DeviceTimer> timer = cuda::make_stream_timer(*gpu_);
  ASSERT_GE(timer->slots(), 2u);
  timer->record(0);
  gemm();
  timer->record(1);
  timer->record(2);  // nothing between 1 and 2
  timer->wait(2);
  const double gemm_ms = timer->elapsed_ms(0, 1);
  EXPECT_GT(gemm_ms, 0.1);
  EXPECT_LT(timer->elapsed_ms(1, 2), gemm_ms / 10);
  EXPECT_NEAR(timer->elapsed_ms(0, 2), gemm_ms + timer->elapsed_ms(1, 2), 1e-2);
}

// The reason for the timer: the host's clock sees a launch, the stream's the GEMM itself.
TEST_F(StreamTimerTest, SpansOnTheStreamExceedTheirLaunchOnTheHost) {
  const trace::InstalledDeviceTimer installed(cuda::make_stream_timer(*gpu_));
  trace::reset_phase_seconds();
  {
    const trace::Span span("stream timer test: gemm", trace::Phase::forward);
    gemm();
  }
  wait_for_stream();
  const auto forward = static_cast<size_t>(trace::Phase::forward);
  const double stream_seconds = trace::phase_seconds()[forward];
  const trace::PhaseReading reading = trace::last_phase_reading();
  ASSERT_TRUE(reading.device.has_value());
  EXPECT_GT(stream_seconds, 1e-4);
  EXPECT_GT(stream_seconds, reading.host[forward]);
}

TEST(StreamTimer, NeedsACudaBackend) {
  CpuBackend cpu(1);
  EXPECT_THROW(cuda::make_stream_timer(cpu), std::logic_error);
}

}  // namespace
}  // namespace dptrain
