#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>

#include "dptrain/comm/world.hpp"
#include "dptrain/core/error.hpp"

namespace dptrain {
namespace {

AgreedError agreed_error_of(const World& world, const std::function<void()>& work) {
  try {
    world.together(work);
  } catch (const AgreedError& error) {
    return error;
  }
  return AgreedError("no error", kExitOk);
}

TEST(Agree, NoErrorReturnsEverywhere) {
  const World world(MPI_COMM_WORLD);
  EXPECT_NO_THROW(world.together([] {}));
}

TEST(Agree, OneFailingRankFailsEveryRankWithItsMessage) {
  const World world(MPI_COMM_WORLD);
  const int last = world.size() - 1;
  const AgreedError error = agreed_error_of(world, [&] {
    if (world.rank() == last) throw InputError("label 11 in row 40");
  });
  EXPECT_EQ(error.exit_status(), kExitBadInput);
  const std::string expected = world.size() == 1
                                   ? "label 11 in row 40"
                                   : "rank " + std::to_string(last) + ": label 11 in row 40";
  EXPECT_EQ(std::string(error.what()), expected);
}

TEST(Agree, TheLowestFailingRankSpeaksAndAllFailuresAreNamed) {
  const World world(MPI_COMM_WORLD);
  if (world.size() < 3) GTEST_SKIP() << "needs 3 ranks";
  const AgreedError error = agreed_error_of(world, [&] {
    if (world.rank() >= 1) throw std::runtime_error("rank " + std::to_string(world.rank()));
  });
  EXPECT_EQ(error.exit_status(), kExitFailure);
  std::string failing;
  for (int r = 1; r < world.size(); ++r)
    failing += (r > 1 ? "," : "") + std::to_string(r);
  EXPECT_EQ(std::string(error.what()), "ranks " + failing + ": rank 1");
}

TEST(Agree, WhenEveryRankFailsTheMessageStandsAlone) {
  const World world(MPI_COMM_WORLD);
  const AgreedError error = agreed_error_of(world, [] { throw InputError("no such file"); });
  EXPECT_EQ(std::string(error.what()), "no such file");
  EXPECT_EQ(error.exit_status(), kExitBadInput);
}

}  // namespace
}  // namespace dptrain
