// The training step allocates nothing after the first one. This binary replaces the C allocator's
// entry points with counting wrappers around glibc's, so that every allocation is seen: C++ new,
// OpenBLAS and MPI included.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>

#include "mpi/shared_files.hpp"
#include "mpi/trainer_fixture.hpp"

extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* pointer, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
}

namespace {

std::atomic<bool> counting{false};
std::atomic<long> allocations{0};

void note() {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

extern "C" {
void* malloc(size_t size) {
  note();
  return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
  note();
  return __libc_calloc(count, size);
}
void* realloc(void* pointer, size_t size) {
  note();
  return __libc_realloc(pointer, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
  note();
  return __libc_memalign(alignment, size);
}
void* memalign(size_t alignment, size_t size) {
  note();
  return __libc_memalign(alignment, size);
}
int posix_memalign(void** pointer, size_t alignment, size_t size) {
  note();
  *pointer = __libc_memalign(alignment, size);
  return *pointer == nullptr ? ENOMEM : 0;
}
}

namespace dptrain {
namespace {

TEST(Allocation, TrainingStepsAllocateNothingAfterTheFirst) {
  TrainConfig config;
  config.data_path = testing::shared_synthetic_file(3000, 250, 1);
  config.batch_size = 32;
  testing::TrainerRig rig(config, MPI_COMM_WORLD);
  Trainer& trainer = *rig.trainer;
  trainer.begin_epoch(1);
  trainer.step(0);

  const size_t steps = trainer.sampler().steps_per_epoch();
  counting = true;
  for (size_t k = 1; k < steps; ++k)
    trainer.step(k);
  trainer.begin_epoch(2);  // the reshuffle between epochs allocates nothing either
  for (size_t k = 0; k < steps; ++k)
    trainer.step(k);
  counting = false;
  EXPECT_EQ(allocations.load(), 0) << "allocations in " << 2 * steps - 1 << " steps";
}

TEST(Allocation, TheCounterSeesAllocations) {
  counting = true;
  void* volatile pointer = std::malloc(100);
  std::vector<float>* volatile vector = new std::vector<float>(1000);
  counting = false;
  delete vector;
  std::free(pointer);
  EXPECT_GE(allocations.exchange(0), 3);
}

}  // namespace
}  // namespace dptrain
