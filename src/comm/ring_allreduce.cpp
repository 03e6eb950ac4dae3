#include "dptrain/comm/ring_allreduce.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <stdexcept>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"

namespace dptrain {
namespace {

constexpr int kReduceScatterTag = 7101;
constexpr int kAllgatherTag = 7102;
constexpr int kDoublingTag = 7103;
constexpr const char* kWhat = "the ring allreduce of the gradients";
// How often the background thread tests the messages in flight. Each test wakes a thread on a
// core that is computing; on 2 hosts x 1 rank sharing 2 cores, CNN, 200 us gave 5,950 samples/s
// unshaped and 5,660 at 1 Gbit/s, 50 us 5,775 and 5,647 (one run each, 2026-12-02): the tests
// cost more than the latency they save, and at 1 Gbit/s a 64 KiB fragment takes 0.5 ms anyway.
constexpr auto kPollInterval = std::chrono::microseconds(200);

int as_count(size_t n) {
  if (n > static_cast<size_t>(INT_MAX))
    throw std::length_error("ring allreduce chunk exceeds INT_MAX elements");
  return static_cast<int>(n);
}

// target[i] <- target[i] (op) incoming[i]. Integer sums wrap (unsigned arithmetic): --exact's
// bounds keep every partial sum in range, and a step whose values were clamped is recomputed,
// so wrapping only ever happens to results that are thrown away, and it is never undefined.
void reduce_into(float* target, const float* incoming, size_t n, bool maximum) {
  if (maximum) {
    for (size_t i = 0; i < n; ++i)
      target[i] = incoming[i] > target[i] ? incoming[i] : target[i];
  } else {
    for (size_t i = 0; i < n; ++i)
      target[i] += incoming[i];
  }
}

void reduce_into(int64_t* target, const int64_t* incoming, size_t n) {
  for (size_t i = 0; i < n; ++i)
    target[i] =
        static_cast<int64_t>(static_cast<uint64_t>(target[i]) + static_cast<uint64_t>(incoming[i]));
}

}  // namespace

RingAllreduce::RingAllreduce(MPI_Comm comm, WireFormat float_sums)
    : comm_(comm), codec_(float_sums) {
  mpiCheck(MPI_Comm_rank(comm_, &rank_));
  mpiCheck(MPI_Comm_size(comm_, &size_));
  while (power_of_two_ * 2 <= size_)
    power_of_two_ *= 2;
}

RingAllreduce::~RingAllreduce() {
  if (!thread_.joinable()) return;
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

bool RingAllreduce::progress_in_background() {
  int level = MPI_THREAD_SINGLE;
  mpiCheck(MPI_Query_thread(&level));
  if (level < MPI_THREAD_SERIALIZED) return false;
  if (size_ > 1 && !thread_.joinable()) thread_ = std::thread([this] { background_loop(); });
  return true;
}

void RingAllreduce::background_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || (posted_ && !waiting_ && !error_); });
    if (stop_) return;
    try {
      advance();
    } catch (...) {
      error_ = std::current_exception();  // wait() rethrows it on the caller's thread
    }
    lock.unlock();
    std::this_thread::sleep_for(kPollInterval);
    lock.lock();
  }
}

size_t RingAllreduce::element_bytes(Reduction reduction) {
  return reduction == Reduction::sum_i64 ? sizeof(int64_t) : sizeof(float);
}

size_t RingAllreduce::chunk_begin(size_t count, int chunk) const {
  return count * static_cast<size_t>(chunk) / static_cast<size_t>(size_);
}

ShardRange RingAllreduce::chunk_range(const Job& job, int c) const {
  if (job.part == Part::allreduce) {
    const size_t begin = chunk_begin(job.count, c);
    return {begin, chunk_begin(job.count, c + 1) - begin};
  }
  // The reduce-scatter leaves rank r with ring chunk r + 1 (post_step): calling that chunk
  // shard r leaves each rank with its own shard, and the allgather then starts from it.
  return shard_of(job.count, size_, chunk(c - 1));
}

size_t RingAllreduce::largest_shard_words(size_t bytes) const {
  size_t words = 0;
  for (const size_t element : {sizeof(float), sizeof(int64_t)}) {
    const size_t count = bytes / element;
    const size_t largest = std::min(count, shard_stride(count, size_));
    words = std::max(words, (largest * element + sizeof(uint64_t) - 1) / sizeof(uint64_t));
  }
  return words;
}

void RingAllreduce::reserve(size_t bytes, size_t queued) {
  const std::lock_guard lock(mutex_);
  make_room(bytes, queued);
}

void RingAllreduce::make_room(size_t bytes, size_t queued) {
  const size_t ranks = static_cast<size_t>(size_);
  // The largest chunk of `bytes` in elements of 4 bytes or more, in 8-byte words, plus one for
  // the rounding of the split; or the largest shard, which its alignment may make larger (by
  // less than kShardAlignment elements), so that the halves allocate nothing after reserve().
  const size_t words =
      std::max((bytes + ranks - 1) / ranks / sizeof(uint64_t) + 1, largest_shard_words(bytes));
  // Recursive doubling receives a whole buffer, up to doubling_up_to_ bytes.
  const size_t doubling_words = std::min(bytes, doubling_up_to_) / sizeof(uint64_t) + 1;
  // A slot holds the message of the largest chunk or shard of float elements, in whole 8-byte
  // words.
  const size_t floats = bytes / sizeof(float);
  const size_t largest_floats =
      std::max((floats + ranks - 1) / ranks + 1, std::min(floats, shard_stride(floats, size_)));
  const size_t slot_words =
      codec_.format() == WireFormat::fp32
          ? 0
          : (codec_.message_bytes(largest_floats) + sizeof(uint64_t) - 1) / sizeof(uint64_t);
  const bool grows = scratch_.size() < std::max(words, doubling_words) ||
                     slot_bytes_ < slot_words * sizeof(uint64_t);
  // Messages in flight are received into the scratch and the slots: moving them would corrupt
  // memory, so a sum larger than reserve() allowed for may not start while others are.
  if (grows && posted_)
    throw std::logic_error(
        "ring allreduce: a sum started while others were in flight needs more "
        "room than reserve() made");
  if (scratch_.size() < std::max(words, doubling_words))
    scratch_.resize(std::max(words, doubling_words));
  if (slot_bytes_ < slot_words * sizeof(uint64_t)) {
    slot_bytes_ = slot_words * sizeof(uint64_t);
    wire_.assign(slot_words * (ranks + 1), 0);
  }
  if (queue_.capacity() < queued) queue_.reserve(queued);
}

void RingAllreduce::run_now(const Job& job) {
  {
    const std::lock_guard lock(mutex_);
    enqueue(job);
  }
  wait();
}

void RingAllreduce::sum(SumBuffer buffer) {
  run_now({buffer.data, buffer.count, sum_of(buffer.type), {}, false});
}

void RingAllreduce::max(float* data, size_t count) {
  run_now({data, count, Reduction::max_f32, {}, false});
}

void RingAllreduce::reduce_scatter(SumBuffer buffer) {
  Job job{buffer.data, buffer.count, sum_of(buffer.type), {}, false};
  job.part = Part::reduce_scatter;
  run_now(job);
}

void RingAllreduce::allgather(float* data, size_t count) {
  Job job{data, count, Reduction::copy_f32, {}, false};
  job.part = Part::allgather;
  run_now(job);
}

void RingAllreduce::start(SumBuffer buffer) {
  {
    const std::lock_guard lock(mutex_);
    enqueue({buffer.data, buffer.count, sum_of(buffer.type), {}, true});
  }
  wake_.notify_one();
}

void RingAllreduce::enqueue(const Job& job) {
  if (size_ == 1 || job.count == 0) return;
  if (queue_head_ == queue_.size()) {  // idle: reuse the queue from its start
    record_finished();
    recorded_ = 0;
    queue_.clear();
    queue_head_ = 0;
  }
  make_room(job.count * element_bytes(job.reduction), queue_.size() + 1);
  queue_.push_back(job);
  // The halves run the ring's steps, which doubling does not have.
  queue_.back().doubling = job.part == Part::allreduce && !narrowed(job) &&
                           job.count * element_bytes(job.reduction) <= doubling_up_to_;
  if (queue_head_ + 1 == queue_.size()) post_step();
}

void RingAllreduce::post(void* send, size_t send_count, void* receive, size_t receive_count,
                         MPI_Datatype type, int tag) {
  const int right = (rank_ + 1) % size_;
  const int left = (rank_ + size_ - 1) % size_;
  mpiCheck(MPI_Irecv(receive, as_count(receive_count), type, left, tag, comm_, &requests_[0]));
  mpiCheck(MPI_Isend(send, as_count(send_count), type, right, tag, comm_, &requests_[1]));
  count_sent(send_count, type);
  posted_ = true;
}

void RingAllreduce::count_sent(size_t count, MPI_Datatype type) {
  int type_bytes = 0;
  mpiCheck(MPI_Type_size(type, &type_bytes));
  bytes_sent_.fetch_add(count * static_cast<size_t>(type_bytes), std::memory_order_relaxed);
}

RingAllreduce::DoublingStep RingAllreduce::doubling_step(int step) const {
  const int p2 = power_of_two_;
  const int extra = size_ - p2;
  if (rank_ >= p2) {  // hand the data over, get the result back
    return step == 0 ? DoublingStep{rank_ - p2, -1, false} : DoublingStep{-1, rank_ - p2, false};
  }
  const bool folds = rank_ < extra;  // receives rank_ + p2's data first, returns the result last
  if (folds && step == 0) return {-1, rank_ + p2, true};
  const int k = step - (folds ? 1 : 0);
  if (folds && k == doubling_steps() - 2) return {rank_ + p2, -1, false};
  const int partner = rank_ ^ (1 << k);
  return {partner, partner, true};
}

int RingAllreduce::doubling_steps() const {
  if (rank_ >= power_of_two_) return 2;
  int rounds = 0;
  for (int p = 1; p < power_of_two_; p *= 2)
    ++rounds;
  return rounds + (rank_ < size_ - power_of_two_ ? 2 : 0);
}

void RingAllreduce::reduce_into_job(const Job& job, size_t begin, size_t count,
                                    const void* incoming) {
  if (job.reduction == Reduction::sum_i64)
    reduce_into(static_cast<int64_t*>(job.data) + begin, static_cast<const int64_t*>(incoming),
                count);
  else
    reduce_into(static_cast<float*>(job.data) + begin, static_cast<const float*>(incoming), count,
                job.reduction == Reduction::max_f32);
}

void RingAllreduce::post_step() {
  Job& job = queue_[queue_head_];
  if (step_ == 0) job.started = trace::Clock::now();  // it moves from now on
  const MPI_Datatype type = job.reduction == Reduction::sum_i64 ? MPI_INT64_T : MPI_FLOAT;
  if (job.doubling) {
    const DoublingStep step = doubling_step(step_);
    requests_[0] = requests_[1] = MPI_REQUEST_NULL;
    if (step.receive_from >= 0)
      mpiCheck(MPI_Irecv(step.reduce ? static_cast<void*>(scratch_.data()) : job.data,
                         as_count(job.count), type, step.receive_from, kDoublingTag, comm_,
                         &requests_[0]));
    if (step.send_to >= 0) {
      mpiCheck(MPI_Isend(job.data, as_count(job.count), type, step.send_to, kDoublingTag, comm_,
                         &requests_[1]));
      count_sent(job.count, type);
    }
    posted_ = true;
    return;
  }
  const int step = ring_step(job);
  const bool reducing = step < size_ - 1;
  const int s = reducing ? step : step - (size_ - 1);
  // Reduce-scatter: after step s, rank r holds the reduction over s + 2 ranks of chunk r - s - 1;
  // after n - 1 steps it holds the full result of chunk r + 1. Allgather: pass the finished chunks
  // on.
  const int send = reducing ? chunk(rank_ - s) : chunk(rank_ + 1 - s);
  const int receive = reducing ? chunk(rank_ - s - 1) : chunk(rank_ - s);
  const int tag = reducing ? kReduceScatterTag : kAllgatherTag;
  char* data = static_cast<char*>(job.data);
  const size_t bytes = element_bytes(job.reduction);
  const ShardRange sent = chunk_range(job, send);
  const ShardRange received = chunk_range(job, receive);
  const size_t send_begin = sent.begin, send_count = sent.count;
  const size_t receive_begin = received.begin, receive_count = received.count;
  check_room(job, reducing, std::max(send_count, receive_count));
  if (!narrowed(job)) {
    void* receive_into = reducing ? static_cast<void*>(scratch_.data())
                                  : static_cast<void*>(data + receive_begin * bytes);
    post(data + send_begin * bytes, send_count, receive_into, receive_count,
         job.reduction == Reduction::sum_i64 ? MPI_INT64_T : MPI_FLOAT, tag);
    return;
  }
  float* floats = static_cast<float*>(job.data);
  if (reducing || s == 0) {  // a partial sum, or this rank's finished chunk: narrow it
    codec_.encode(floats + send_begin, send_count, slot(send));
    // The finished chunk: keep what the others will get.
    if (!reducing) codec_.decode(slot(send), send_count, floats + send_begin);
  }
  post(slot(send), codec_.message_bytes(send_count), slot(reducing ? size_ : receive),
       codec_.message_bytes(receive_count), MPI_BYTE, tag);
}

void RingAllreduce::check_room(const Job& job, bool reducing, size_t chunk_elements) const {
  const bool fits = narrowed(job) ? codec_.message_bytes(chunk_elements) <= slot_bytes_
                                  : !reducing || chunk_elements * element_bytes(job.reduction) <=
                                                     scratch_.size() * sizeof(uint64_t);
  if (!fits)
    throw std::logic_error("ring allreduce: a chunk larger than the room make_room() made");
}

void RingAllreduce::finish_step() {
  posted_ = false;
  const Job& job = queue_[queue_head_];
  if (job.doubling) {
    if (doubling_step(step_).reduce) reduce_into_job(job, 0, job.count, scratch_.data());
  } else {
    finish_ring_step(job);
  }
  if (++step_ == steps(job)) {
    if (job.traced) queue_[queue_head_].finished = trace::Clock::now();
    step_ = 0;
    ++queue_head_;
  }
  if (queue_head_ < queue_.size()) post_step();
}

void RingAllreduce::finish_ring_step(const Job& job) {
  const int step = ring_step(job);
  const bool reducing = step < size_ - 1;
  const int receive = reducing ? chunk(rank_ - step - 1) : chunk(rank_ - (step - (size_ - 1)));
  const ShardRange received = chunk_range(job, receive);
  const size_t begin = received.begin, size = received.count;
  if (narrowed(job)) {
    float* target = static_cast<float*>(job.data) + begin;
    if (reducing)
      codec_.decode_add(slot(size_), size, target);
    else
      codec_.decode(slot(receive), size, target);
  } else if (reducing) {
    reduce_into_job(job, begin, size, scratch_.data());
  }
}

void RingAllreduce::advance() {
  while (posted_) {
    int done = 0;
    mpiCheck(MPI_Testall(2, requests_, &done, MPI_STATUSES_IGNORE));
    if (done == 0) return;
    finish_step();
  }
}

void RingAllreduce::record_finished() {
  for (; recorded_ < queue_head_; ++recorded_) {
    const Job& job = queue_[recorded_];
    if (job.traced)
      trace::record_in_flight("gradient bucket", trace::Phase::exchange, job.started, job.finished);
  }
}

bool RingAllreduce::progress() {
  const std::lock_guard lock(mutex_);
  if (!thread_.joinable()) advance();
  return !posted_;
}

void RingAllreduce::wait() {
  const std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
  waiting_ = true;
  while (posted_) {
    watchdog::wait_all(requests_, kWhat);
    finish_step();
  }
  waiting_ = false;
  record_finished();
}

}  // namespace dptrain
