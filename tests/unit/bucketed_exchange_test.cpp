#include "dptrain/train/bucketed_exchange.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dptrain {
namespace {

// Records what the exchange asks of the transport, in order.
class RecordingCommunicator final : public Communicator {
 public:
  std::string name() const override { return "recording"; }
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void allreduce(SumBuffer) override { calls.push_back("allreduce"); }
  void allreduce_max(float*, size_t) override { calls.push_back("max"); }
  void broadcast(float*, size_t, int) override {}
  void start_allreduce(SumBuffer buffer) override {
    const ptrdiff_t bytes = static_cast<const char*>(buffer.data) - static_cast<const char*>(base);
    calls.push_back("start " +
                    std::to_string(bytes / static_cast<ptrdiff_t>(buffer.element_bytes())) + "+" +
                    std::to_string(buffer.count));
  }
  void progress() override { calls.push_back("progress"); }
  void wait_started() override { calls.push_back("wait"); }

  const void* base = nullptr;
  std::vector<std::string> calls;
};

TEST(BucketedExchange, StartsEachBucketOnceItIsFinalFromTheEndOfTheBuffer) {
  RecordingCommunicator transport;
  std::vector<float> grads(1000);
  transport.base = grads.data();
  BucketedExchange exchange(transport, grads.size(), 256 * sizeof(float));
  EXPECT_EQ(exchange.buckets(), 4u);  // 1000 = 256 + 256 + 256 + 232, cut from the end
  exchange.begin(sum_buffer(grads.data(), grads.size()));
  exchange.ready_from(900);  // not a whole bucket yet
  exchange.ready_from(600);  // [744, 1000) is final
  exchange.ready_from(0);    // everything but the last bucket's start...
  exchange.finish(sum_buffer(grads.data(), grads.size()));
  const std::vector<std::string> expected = {"progress",      "start 744+256", "progress",
                                             "start 488+256", "start 232+256", "progress",
                                             "start 0+232",   "wait"};
  EXPECT_EQ(transport.calls, expected);
}

TEST(BucketedExchange, TheBucketsAreTheSameEveryStep) {
  RecordingCommunicator transport;
  std::vector<float> grads(100);
  transport.base = grads.data();
  BucketedExchange exchange(transport, grads.size(), 30 * sizeof(float));
  std::vector<std::string> first;
  for (int step = 0; step < 2; ++step) {
    transport.calls.clear();
    exchange.begin(sum_buffer(grads.data(), grads.size()));
    for (size_t offset : {80u, 40u, 0u})
      exchange.ready_from(offset);
    exchange.finish(sum_buffer(grads.data(), grads.size()));
    if (step == 0) first = transport.calls;
  }
  EXPECT_EQ(transport.calls, first);
}

TEST(BucketedExchange, WithoutBucketsOneAllreduceFollowsBackward) {
  RecordingCommunicator transport;
  std::vector<float> grads(100);
  transport.base = grads.data();
  BucketedExchange exchange(transport, grads.size(), 0);
  EXPECT_EQ(exchange.buckets(), 1u);
  exchange.begin(sum_buffer(grads.data(), grads.size()));
  exchange.ready_from(50);
  exchange.ready_from(0);
  exchange.finish(sum_buffer(grads.data(), grads.size()));
  EXPECT_EQ(transport.calls, (std::vector<std::string>{"start 0+100", "wait"}));
}

TEST(BucketedExchange, BucketsLargerThanTheBufferMakeOneBucket) {
  RecordingCommunicator transport;
  std::vector<float> grads(100);
  transport.base = grads.data();
  BucketedExchange exchange(transport, grads.size(), 1 << 20);
  EXPECT_EQ(exchange.buckets(), 1u);
}

TEST(BucketedExchange, AGradientBufferBackwardDidNotReportIsSentWhole) {
  RecordingCommunicator transport;
  std::vector<float> grads(100);
  transport.base = grads.data();
  BucketedExchange exchange(transport, grads.size(), 40 * sizeof(float));
  exchange.finish(sum_buffer(grads.data(), grads.size()));
  EXPECT_EQ(transport.calls, (std::vector<std::string>{"start 0+100", "wait"}));
}

// --exact's int64 sums: the same bucket bytes hold half as many elements.
TEST(BucketedExchange, FixedPointBucketsAreCutByTheirBytes) {
  RecordingCommunicator transport;
  std::vector<int64_t> sums(100);
  transport.base = sums.data();
  BucketedExchange exchange(transport, sums.size(), 40 * sizeof(float), SumType::i64);
  EXPECT_EQ(exchange.buckets(), 5u);  // 20 elements of 8 bytes each
  exchange.begin(sum_buffer(sums.data(), sums.size()));
  exchange.ready_from(0);
  exchange.finish(sum_buffer(sums.data(), sums.size()));
  EXPECT_EQ(transport.calls,
            (std::vector<std::string>{"start 80+20", "start 60+20", "start 40+20", "start 20+20",
                                      "start 0+20", "progress", "wait"}));
}

}  // namespace
}  // namespace dptrain
