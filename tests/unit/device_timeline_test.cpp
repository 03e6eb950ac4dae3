#include "dptrain/core/device_timeline.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "support/fake_stream.hpp"

namespace dptrain::trace {
namespace {

using dptrain::testing::FakeStream;

constexpr int kData = static_cast<int>(Phase::data);
constexpr int kForward = static_cast<int>(Phase::forward);
constexpr int kBackward = static_cast<int>(Phase::backward);
constexpr int kExchange = static_cast<int>(Phase::exchange);

int64_t ms(double milliseconds) {
  return static_cast<int64_t>(milliseconds * 1e6);
}

int64_t total(const DeviceTimeline& timeline, int phase) {
  return timeline.totals_ns()[static_cast<size_t>(phase)];
}

TEST(DeviceTimeline, EachPhaseGetsTheStreamTimeFromItsPointToTheNext) {
  FakeStream stream(16);
  DeviceTimeline timeline(stream);
  timeline.mark(kData);  // at 0
  stream.now_ms = 3.0;
  timeline.mark(kNoPhase);  // between spans: counted nowhere
  stream.now_ms = 5.0;
  timeline.mark(kForward);
  stream.now_ms = 12.5;
  timeline.mark(kNoPhase);
  timeline.resolve_all();
  EXPECT_EQ(total(timeline, kData), ms(3.0));
  EXPECT_EQ(total(timeline, kForward), ms(7.5));
  EXPECT_EQ(total(timeline, kBackward), 0);
}

TEST(DeviceTimeline, ANestedSpanTakesItsTimeFromTheEnclosingOne) {
  FakeStream stream(16);
  DeviceTimeline timeline(stream);
  timeline.mark(kBackward);  // backward layer1 begins at 0
  stream.now_ms = 2.0;
  timeline.mark(kExchange);  // start buckets, within it
  stream.now_ms = 3.0;
  timeline.mark(kBackward);  // start buckets ends: backward again
  stream.now_ms = 10.0;
  timeline.mark(kNoPhase);
  timeline.resolve_all();
  EXPECT_EQ(total(timeline, kBackward), ms(9.0));
  EXPECT_EQ(total(timeline, kExchange), ms(1.0));
}

TEST(DeviceTimeline, MarksNeverWaitWhileTheRingHasRoom) {
  FakeStream stream(16);
  DeviceTimeline timeline(stream);
  for (int i = 0; i < 15; ++i) {
    stream.now_ms += 1.0;
    timeline.mark(i % 2 == 0 ? kForward : kNoPhase);
  }
  EXPECT_TRUE(stream.wait_lags.empty());  // FakeStream would throw at any read without a wait
  timeline.resolve_all();
  ASSERT_EQ(stream.wait_lags.size(), 1u);
  EXPECT_EQ(stream.wait_lags[0], 0);  // the last point: every one resolved at once
  EXPECT_EQ(total(timeline, kForward), ms(7.0));
  EXPECT_EQ(timeline.early_resolutions(), 0u);
}

// 8 slots, 101 points: the ring fills again and again. Nothing is lost, and every early wait is
// for a point recorded half a ring before.
TEST(DeviceTimeline, AFullRingResolvesItsOldestHalfAndLosesNothing) {
  FakeStream stream(8);
  DeviceTimeline timeline(stream);
  int64_t forward = 0, backward = 0;
  for (int i = 0; i < 101; ++i) {
    const double step = 0.25 * (i % 5 + 1);
    const int phase = i % 3 == 0 ? kForward : (i % 3 == 1 ? kBackward : kNoPhase);
    timeline.mark(phase);
    stream.now_ms += step;
    if (i < 100 && phase == kForward) forward += ms(step);
    if (i < 100 && phase == kBackward) backward += ms(step);
  }
  EXPECT_GT(timeline.early_resolutions(), 10u);
  for (int64_t lag : stream.wait_lags)
    EXPECT_GE(lag, 8 / 2 - 1);
  timeline.resolve_all();
  EXPECT_EQ(total(timeline, kForward), forward);
  EXPECT_EQ(total(timeline, kBackward), backward);
}

TEST(DeviceTimeline, ResetDropsTheTotalsButNotTheIntervalInProgress) {
  FakeStream stream(8);
  DeviceTimeline timeline(stream);
  timeline.mark(kForward);
  stream.now_ms = 4.0;
  timeline.mark(kNoPhase);
  timeline.resolve_all();
  timeline.reset_totals();
  stream.now_ms = 6.0;
  timeline.mark(kForward);
  stream.now_ms = 7.0;
  timeline.mark(kNoPhase);
  timeline.resolve_all();
  EXPECT_EQ(total(timeline, kForward), ms(1.0));
}

// The reference point: the stream at 50 ms when the host's clock says 1 ms; a span from the
// stream's 52 ms to 55.5 ms is then at 3 ms for 3.5 ms on the host's clock.
TEST(DeviceTimeline, EventsAreMappedOntoTheHostClockByOneReferencePoint) {
  FakeStream stream(8);
  DeviceTimeline timeline(stream);
  stream.now_ms = 50.0;
  int64_t recorded_before_host_read = -1;
  timeline.start_events(
      4,
      [&] {
        recorded_before_host_read = stream.recorded();
        return ms(1.0);
      },
      kNoPhase);
  // A first point drained the stream before the reference was recorded and the host's clock read.
  EXPECT_EQ(recorded_before_host_read, 2);
  EXPECT_EQ(stream.wait_lags.size(), 2u);
  const size_t event = timeline.open_event("forward and loss", kForward);
  ASSERT_NE(event, kNoEvent);
  stream.now_ms = 52.0;
  timeline.mark(kForward, event);
  stream.now_ms = 55.5;
  timeline.mark(kNoPhase, event);
  timeline.resolve_all();
  ASSERT_EQ(timeline.events().size(), 1u);
  EXPECT_STREQ(timeline.events()[0].name, "forward and loss");
  EXPECT_EQ(timeline.events()[0].phase, kForward);
  EXPECT_EQ(timeline.events()[0].begin_ns, ms(3.0));
  EXPECT_EQ(timeline.events()[0].duration_ns, ms(3.5));
}

// After a new reference (host 100 ms, stream 500 ms), an event at the stream's 501 ms is at the
// host's 101 ms, whatever the intervals before it added up to.
TEST(DeviceTimeline, ANewReferenceRetimesTheEventsAfterIt) {
  FakeStream stream(8);
  DeviceTimeline timeline(stream);
  timeline.start_events(
      4, [] { return ms(1.0); }, kNoPhase);
  stream.now_ms = 500.0;
  timeline.synchronize_clocks([] { return ms(100.0); }, kNoPhase);
  const size_t event = timeline.open_event("allreduce", kExchange);
  stream.now_ms = 501.0;
  timeline.mark(kNoPhase, event);
  stream.now_ms = 503.0;
  timeline.mark(kNoPhase, event);
  timeline.resolve_all();
  EXPECT_EQ(timeline.events()[0].begin_ns, ms(101.0));
  EXPECT_EQ(timeline.events()[0].duration_ns, ms(2.0));
}

TEST(DeviceTimeline, AnEventNotYetResolvedHasNoDuration) {
  FakeStream stream(8);
  DeviceTimeline timeline(stream);
  timeline.start_events(
      4, [] { return int64_t{0}; }, kNoPhase);
  const size_t event = timeline.open_event("allreduce", kExchange);
  timeline.mark(kExchange, event);
  timeline.mark(kNoPhase, event);
  EXPECT_LT(timeline.events()[0].duration_ns, 0);
  timeline.resolve_all();
  EXPECT_GE(timeline.events()[0].duration_ns, 0);
}

TEST(DeviceTimeline, EventsBeyondTheCapacityAreCountedNotKept) {
  FakeStream stream(8);
  DeviceTimeline timeline(stream);
  EXPECT_EQ(timeline.open_event("before tracing", kForward), kNoEvent);
  EXPECT_EQ(timeline.dropped_events(), 0u);  // not tracing is not dropping
  timeline.start_events(
      1, [] { return int64_t{0}; }, kNoPhase);
  EXPECT_NE(timeline.open_event("kept", kForward), kNoEvent);
  EXPECT_EQ(timeline.open_event("dropped", kForward), kNoEvent);
  EXPECT_EQ(timeline.dropped_events(), 1u);
}

TEST(DeviceTimeline, ATimerWithOneSlotIsRefused) {
  FakeStream stream(1);
  EXPECT_THROW(DeviceTimeline timeline(stream), std::logic_error);
}

}  // namespace
}  // namespace dptrain::trace
