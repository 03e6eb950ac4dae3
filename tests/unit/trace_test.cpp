// The trace's spans as the trainer uses them: per-phase totals on the host's clock and, with a
// DeviceTimer installed (a FakeStream here), on the device's stream, the NVTX-style ranges, and
// the Chrome trace's GPU track. The trace is one per process: every test resets the totals and
// picks span names of its own.
#include "dptrain/core/trace.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_stream.hpp"

namespace dptrain::trace {
namespace {

using dptrain::testing::FakeStream;

double seconds_of(const std::array<double, kPhases>& seconds, Phase phase) {
  return seconds[static_cast<size_t>(phase)];
}

// Installs a FakeStream of `slots` for the test's lifetime; the test keeps a pointer to it.
struct WithFakeStream {
  explicit WithFakeStream(size_t slots = 64) {
    auto owned = std::make_unique<FakeStream>(slots);
    stream = owned.get();
    installed = std::make_unique<InstalledDeviceTimer>(std::move(owned));
    reset_phase_seconds();
  }
  FakeStream* stream;
  std::unique_ptr<InstalledDeviceTimer> installed;
};

TEST(Trace, HostTotalsGiveANestedSpansTimeToItOnly) {
  reset_phase_seconds();
  using std::chrono::milliseconds;
  const Clock::time_point begin = Clock::now();
  {
    const Span outer("host nesting: backward", Phase::backward);
    std::this_thread::sleep_for(milliseconds(20));
    const Span inner("host nesting: start buckets", Phase::exchange);
    std::this_thread::sleep_for(milliseconds(20));
  }
  const double wall = std::chrono::duration<double>(Clock::now() - begin).count();
  const std::array<double, kPhases> seconds = phase_seconds();
  EXPECT_GE(seconds_of(seconds, Phase::backward), 0.020);
  EXPECT_GE(seconds_of(seconds, Phase::exchange), 0.020);
  // Counting the inner span in both phases would exceed the time that passed by 20 ms.
  EXPECT_LE(seconds_of(seconds, Phase::backward) + seconds_of(seconds, Phase::exchange), wall);
  EXPECT_FALSE(last_phase_reading().device.has_value());
}

TEST(Trace, WithADeviceTimerThePhaseTotalsAreTheStreams) {
  WithFakeStream fake;
  FakeStream& stream = *fake.stream;
  const size_t waits_before = stream.wait_lags.size();  // with tracing on, installing waits
  {
    const Span span("device totals: forward", Phase::forward);
    stream.now_ms += 4.0;
  }
  stream.now_ms += 100.0;  // between spans: the stream's time counts nowhere
  {
    const Span outer("device totals: backward", Phase::backward);
    stream.now_ms += 6.0;
    {
      const Span inner("device totals: start buckets", Phase::exchange);
      stream.now_ms += 1.0;
    }
    stream.now_ms += 2.0;
  }
  EXPECT_EQ(stream.wait_lags.size(), waits_before);  // the spans never waited for the stream
  const std::array<double, kPhases> seconds = phase_seconds();
  EXPECT_DOUBLE_EQ(seconds_of(seconds, Phase::forward), 0.004);
  EXPECT_DOUBLE_EQ(seconds_of(seconds, Phase::backward), 0.008);
  EXPECT_DOUBLE_EQ(seconds_of(seconds, Phase::exchange), 0.001);
  const PhaseReading reading = last_phase_reading();
  ASSERT_TRUE(reading.device.has_value());
  EXPECT_EQ(*reading.device, seconds);
  // The host's own clock saw no 100 ms: its totals are kept apart, not the stream's.
  EXPECT_LT(seconds_of(reading.host, Phase::forward), 0.004);
}

TEST(Trace, ResetDropsTheStreamTimeOfSpansBeforeIt) {
  WithFakeStream fake;
  {
    const Span span("device reset: before", Phase::optimizer);
    fake.stream->now_ms += 5.0;
  }
  reset_phase_seconds();
  {
    const Span span("device reset: after", Phase::optimizer);
    fake.stream->now_ms += 2.0;
  }
  EXPECT_DOUBLE_EQ(seconds_of(phase_seconds(), Phase::optimizer), 0.002);
}

TEST(Trace, EverySpanOpensAndClosesAProfilerRange) {
  WithFakeStream fake;
  {
    const Span outer("ranges: outer", Phase::backward);
    const Span inner("ranges: inner", Phase::exchange);
  }
  const std::vector<std::string> expected = {"push ranges: outer", "push ranges: inner", "pop",
                                             "pop"};
  EXPECT_EQ(fake.stream->ranges, expected);
}

TEST(Trace, ADeviceErrorWithinASpanIsThrownWhereTheTotalsAreRead) {
  WithFakeStream fake;
  fake.stream->fail_to_record = true;
  EXPECT_NO_THROW({ const Span span("device error", Phase::forward); });
  EXPECT_THROW(phase_seconds(), std::runtime_error);
}

TEST(Trace, UninstallingATimerPutsTheSpansBackOnTheHostClock) {
  { WithFakeStream fake; }
  reset_phase_seconds();
  {
    const Span span("back on the host", Phase::data);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_GE(seconds_of(phase_seconds(), Phase::data), 0.002);
  EXPECT_FALSE(last_phase_reading().device.has_value());
}

// The events of one name on one track of a Chrome trace.
std::vector<nlohmann::json> events_named(const nlohmann::json& trace, const std::string& name,
                                         int track) {
  std::vector<nlohmann::json> found;
  for (const nlohmann::json& event : trace["traceEvents"])
    if (event["ph"] == "X" && event["name"] == name && event["tid"] == track)
      found.push_back(event);
  return found;
}

nlohmann::json written_trace() {
  std::ostringstream out;
  write_chrome_trace(out, 3);
  return nlohmann::json::parse(out.str());
}

TEST(Trace, TheChromeTraceShowsTheStreamsSpansOnATrackOfTheirOwn) {
  WithFakeStream fake;
  enable(1000);
  {
    const Span span("chrome: forward and loss", Phase::forward);
    fake.stream->now_ms += 4.0;
  }
  const nlohmann::json trace = written_trace();
  bool named = false;
  for (const nlohmann::json& event : trace["traceEvents"])
    named =
        named || (event["ph"] == "M" && event["tid"] == 2 && event["args"]["name"] == "GPU stream");
  EXPECT_TRUE(named);
  ASSERT_EQ(events_named(trace, "chrome: forward and loss", 0).size(), 1u);  // the host's
  const std::vector<nlohmann::json> gpu = events_named(trace, "chrome: forward and loss", 2);
  ASSERT_EQ(gpu.size(), 1u);
  EXPECT_EQ(gpu[0]["cat"], "forward");
  EXPECT_DOUBLE_EQ(gpu[0]["dur"].get<double>(), 4000.0);  // microseconds
  EXPECT_EQ(trace["otherData"]["dropped_events"], 0);
}

// The trace is written after training; a timer gone by then leaves its resolved spans behind.
TEST(Trace, ResolvedStreamSpansOutliveTheirTimer) {
  {
    WithFakeStream fake;
    enable(1000);
    {
      const Span span("outlive: resolved", Phase::optimizer);
      fake.stream->now_ms += 1.5;
    }
    phase_seconds();  // resolves
    const Span span("outlive: pending", Phase::optimizer);
  }
  const nlohmann::json trace = written_trace();
  const std::vector<nlohmann::json> gpu = events_named(trace, "outlive: resolved", 2);
  ASSERT_EQ(gpu.size(), 1u);
  EXPECT_DOUBLE_EQ(gpu[0]["dur"].get<double>(), 1500.0);
  EXPECT_TRUE(events_named(trace, "outlive: pending", 2).empty());  // dropped, not waited for
}

}  // namespace
}  // namespace dptrain::trace
