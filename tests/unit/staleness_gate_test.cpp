#include "dptrain/ps/staleness_gate.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "dptrain/core/random.hpp"

namespace dptrain {
namespace {

// Workers of random speeds against the gate, message by message: a worker computes a step, pushes
// it, and waits for the reply before its next step; the server replies whenever the gate lets it.
// Checks the bound at every push, that nobody is starved, and that an epoch ends in agreement.
struct Simulation {
  Simulation(int workers, size_t steps_per_epoch, size_t staleness, uint64_t seed)
      : gate(workers, steps_per_epoch, staleness),
        steps(steps_per_epoch),
        key(random::stream_key(seed, 77)) {
    waiting.assign(static_cast<size_t>(workers), -1);
    done.assign(static_cast<size_t>(workers), 0);
  }

  // Runs one epoch; returns the largest lead seen at a push.
  size_t run_epoch() {
    gate.begin_epoch();
    std::fill(done.begin(), done.end(), 0);
    size_t lead = 0;
    uint64_t draw = 0;
    const size_t workers = waiting.size();
    for (size_t pushes = 0, turns = 0; pushes < workers * steps; ++turns) {
      if (turns > 1000000) {
        ADD_FAILURE() << "no worker can move: the gate deadlocked";
        break;
      }
      // A random worker that is not waiting for a reply and has steps left pushes its next one.
      const size_t w = static_cast<size_t>(random::below(key, draw, workers));
      if (waiting[w] >= 0 || done[w] == steps) {
        reply_to_whoever_may();
        continue;
      }
      const size_t slowest = gate.slowest();
      const size_t step = gate.push(static_cast<int>(w));
      EXPECT_EQ(step, done[w]);
      lead = std::max(lead, step - slowest);
      waiting[w] = static_cast<long>(step);
      ++done[w];
      ++pushes;
      reply_to_whoever_may();
    }
    reply_to_whoever_may();
    for (long step : waiting)
      EXPECT_EQ(step, -1) << "a reply was never sent";
    return lead;
  }

  void reply_to_whoever_may() {
    for (long& step : waiting)
      if (step >= 0 && gate.may_reply(static_cast<size_t>(step))) {
        // The last reply of the epoch goes only when every worker has pushed everything.
        if (static_cast<size_t>(step) + 1 == steps) {
          EXPECT_EQ(gate.slowest(), steps);
        }
        step = -1;
      }
  }

  StalenessGate gate;
  size_t steps;
  uint64_t key;
  std::vector<long> waiting;  // the step whose reply a worker waits for, or -1
  std::vector<size_t> done;
};

TEST(StalenessGate, NoWorkerEverRunsMoreThanTheBoundAhead) {
  for (size_t staleness : {0, 1, 2, 5})
    for (uint64_t seed = 0; seed < 20; ++seed) {
      Simulation simulation(3, 40, staleness, seed);
      for (int epoch = 0; epoch < 2; ++epoch) {
        const size_t lead = simulation.run_epoch();
        EXPECT_LE(lead, staleness) << "seed " << seed;
        EXPECT_EQ(simulation.gate.max_lead_seen(), lead);
      }
    }
}

TEST(StalenessGate, TheBoundIsReachedWhenWorkersDiffer) {
  size_t largest = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Simulation simulation(4, 60, 3, seed);
    largest = std::max(largest, simulation.run_epoch());
  }
  EXPECT_EQ(largest, 3u);  // the gate allows 3 steps of lead, and random speeds use them
}

TEST(StalenessGate, ZeroIsLockstep) {
  StalenessGate gate(2, 3, 0);
  gate.begin_epoch();
  EXPECT_EQ(gate.push(0), 0u);
  EXPECT_FALSE(gate.may_reply(0));  // worker 1 has not pushed step 0
  EXPECT_EQ(gate.push(1), 0u);
  EXPECT_TRUE(gate.may_reply(0));
  EXPECT_THROW(
      {
        gate.push(0);
        gate.push(0);
        gate.push(0);
      },
      std::logic_error);
}

}  // namespace
}  // namespace dptrain
