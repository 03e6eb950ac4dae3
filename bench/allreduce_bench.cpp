// Google Benchmark of the gradient exchange under MPI, nccl-tests style: dptrain's
// RingAllreduce as it chooses (recursive doubling up to kDoublingUpTo bytes, the ring above),
// each algorithm forced at every size (the crossover), and a plain MPI_Allreduce of the same
// bytes, reporting
//   algbw = bytes / time and busbw = algbw * 2(n-1)/n
// (busbw is what each link carries, comparable across rank counts). Every benchmark checks its
// own result first: the sum of integer-valued inputs, exact in float, on every element, and
// bitwise the same on every rank; a wrong result aborts the run. Run:
//   mpirun -np 2 build/bench/dptrain_allreduce_bench
// Each iteration's time is the slowest rank's; iterations are fixed, so all ranks run the same
// number of collectives. Only rank 0 reports.
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/ring_allreduce.hpp"

namespace dptrain {
namespace {

using Allreduce = void (*)(float* data, size_t count);

RingAllreduce* chosen = nullptr;
RingAllreduce* ring = nullptr;
RingAllreduce* doubling = nullptr;

void chosen_sum(float* data, size_t count) {
  chosen->sum(data, count);
}
void ring_sum(float* data, size_t count) {
  ring->sum(data, count);
}
void doubling_sum(float* data, size_t count) {
  doubling->sum(data, count);
}

void mpi_sum(float* data, size_t count) {
  mpiCheck(MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count), MPI_FLOAT, MPI_SUM,
                         MPI_COMM_WORLD));
}

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// Rank r contributes (i + r) mod 1000 at element i: every sum is an integer below 2^24, so
// exact in float whatever the order of the additions.
void check_result(Allreduce allreduce, size_t count, const char* name) {
  const int rank = world_rank(), size = world_size();
  std::vector<float> data(count);
  for (size_t i = 0; i < count; ++i)
    data[i] = static_cast<float>((i + static_cast<size_t>(rank)) % 1000);
  allreduce(data.data(), count);
  size_t wrong = 0;
  for (size_t i = 0; i < count; ++i) {
    double expected = 0.0;
    for (int r = 0; r < size; ++r)
      expected += static_cast<double>((i + static_cast<size_t>(r)) % 1000);
    if (static_cast<double>(data[i]) != expected) ++wrong;
  }
  unsigned long long wrong_anywhere = wrong;
  mpiCheck(MPI_Allreduce(MPI_IN_PLACE, &wrong_anywhere, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM,
                         MPI_COMM_WORLD));
  if (wrong_anywhere != 0) {
    if (rank == 0)
      std::fprintf(stderr, "allreduce_bench: %s of %zu floats: %llu wrong elements\n", name, count,
                   wrong_anywhere);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

void AllreduceBandwidth(benchmark::State& state, Allreduce allreduce, const char* name) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  const size_t count = bytes / sizeof(float);
  check_result(allreduce, count, name);
  std::vector<float> data(count, 0.0f);  // zeros stay zeros: the timed sums never overflow
  for (auto _ : state) {
    mpiCheck(MPI_Barrier(MPI_COMM_WORLD));
    const auto begin = std::chrono::steady_clock::now();
    allreduce(data.data(), count);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    mpiCheck(MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD));
    state.SetIterationTime(seconds);
  }
  const double n = world_size();
  // Bytes per second, printed with SI prefixes (G/s = GB/s).
  state.counters["algbw"] =
      benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["busbw"] = benchmark::Counter(static_cast<double>(bytes) * 2.0 * (n - 1.0) / n,
                                               benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel("checked");
}

void register_benchmarks() {
  for (const auto& [name, allreduce] :
       {std::pair<const char*, Allreduce>{"RingAllreduce", chosen_sum},
        std::pair<const char*, Allreduce>{"RingAllreduce/ring", ring_sum},
        std::pair<const char*, Allreduce>{"RingAllreduce/doubling", doubling_sum},
        std::pair<const char*, Allreduce>{"MPI_Allreduce", mpi_sum}}) {
    // 1 KiB to 64 MiB in powers of 2; about 256 MiB moved per size, 20 to 2000 iterations.
    for (int64_t bytes = 1024; bytes <= (int64_t{64} << 20); bytes *= 2)
      benchmark::RegisterBenchmark(name, AllreduceBandwidth, allreduce, name)
          ->Arg(bytes)
          ->UseManualTime()
          ->Iterations(std::clamp<int64_t>((int64_t{256} << 20) / bytes, 20, 2000));
  }
}

// Ranks other than 0 run every benchmark, in step with rank 0, and print nothing.
class SilentReporter final : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};

}  // namespace
}  // namespace dptrain

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  {
    dptrain::RingAllreduce chosen(MPI_COMM_WORLD), ring(MPI_COMM_WORLD), doubling(MPI_COMM_WORLD);
    ring.set_doubling_up_to(0);
    doubling.set_doubling_up_to(SIZE_MAX);
    dptrain::chosen = &chosen;
    dptrain::ring = &ring;
    dptrain::doubling = &doubling;
    benchmark::Initialize(&argc, argv);
    dptrain::register_benchmarks();
    if (dptrain::world_rank() == 0) {
      std::printf("%d ranks; busbw = algbw * 2(n-1)/n\n", dptrain::world_size());
      benchmark::RunSpecifiedBenchmarks();
    } else {
      dptrain::SilentReporter silent;
      benchmark::RunSpecifiedBenchmarks(&silent);
    }
    benchmark::Shutdown();
  }
  MPI_Finalize();
  return 0;
}
