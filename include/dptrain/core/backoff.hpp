#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>

namespace dptrain {

// How a wait that polls (a device stream, a non-blocking NCCL call) paces itself: the first
// kSpins polls only yield, so that work finishing within microseconds costs no sleep; after
// that it sleeps, doubling from 1 us up to kLongestSleep, so that a rank bound to one core leaves
// that core to NCCL's proxy thread and MPI's progress instead of spinning against them. The
// longest sleep bounds the latency it adds to a wait; the number of polls stays small.
class Backoff {
 public:
  static constexpr uint32_t kSpins = 64;
  static constexpr std::chrono::microseconds kLongestSleep{256};

  // What the next pause is: zero while spinning (a yield), then the sleep.
  std::chrono::microseconds next() {
    if (polls_ < kSpins) {
      ++polls_;
      return std::chrono::microseconds{0};
    }
    const std::chrono::microseconds sleep = sleep_;
    sleep_ = std::min(sleep_ * 2, kLongestSleep);
    return sleep;
  }

  void pause() {
    const std::chrono::microseconds sleep = next();
    if (sleep.count() == 0) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(sleep);
    }
  }

 private:
  uint32_t polls_ = 0;
  std::chrono::microseconds sleep_{1};
};

}  // namespace dptrain
