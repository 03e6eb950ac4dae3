#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "dptrain/core/device_timer.hpp"

namespace dptrain::testing {

// A DeviceTimer over a pretend stream: a point recorded takes the stream's time `now_ms`, which
// the test moves on, and counts as passed only once it or a later point was waited for, the way
// a real stream may lag the host. Reading an interval whose ends the stream has not passed
// throws (CUDA would answer cudaErrorNotReady), so a test sees any read that did not wait.
class FakeStream final : public trace::DeviceTimer {
 public:
  explicit FakeStream(size_t slots) : time_(slots), sequence_(slots, 0) {}

  double now_ms = 0.0;              // the stream's clock, moved on by the test
  std::vector<std::string> ranges;  // "push NAME" and "pop", in order
  std::vector<int64_t> wait_lags;   // per wait: how many points were recorded after it
  bool fail_to_record = false;      // record() throws, as CUDA would on a broken context

  size_t slots() const override { return time_.size(); }
  void record(size_t slot) override {
    if (fail_to_record) throw std::runtime_error("cudaEventRecord failed: pretend");
    time_[slot] = now_ms;
    sequence_[slot] = ++recorded_;
  }
  void wait(size_t slot) override {
    if (sequence_[slot] == 0) throw std::logic_error("waited for a point never recorded");
    wait_lags.push_back(recorded_ - sequence_[slot]);
    passed_ = std::max(passed_, sequence_[slot]);
  }
  double elapsed_ms(size_t from, size_t to) override {
    if (sequence_[from] == 0 || sequence_[from] > passed_ || sequence_[to] == 0 ||
        sequence_[to] > passed_)
      throw std::logic_error("read an interval the stream has not passed");
    return time_[to] - time_[from];
  }
  void range_push(const char* name) override { ranges.push_back(std::string("push ") + name); }
  void range_pop() override { ranges.push_back("pop"); }

  int64_t recorded() const { return recorded_; }

 private:
  std::vector<double> time_;
  std::vector<int64_t> sequence_;  // 1, 2, ... in the order recorded; 0: never
  int64_t recorded_ = 0;
  int64_t passed_ = 0;  // the stream has passed every point up to this one
};

}  // namespace dptrain::testing
