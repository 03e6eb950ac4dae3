#pragma once

#include <mpi.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "dptrain/comm/communicator.hpp"
#include "dptrain/comm/shards.hpp"
#include "dptrain/comm/wire_format.hpp"
#include "dptrain/core/trace.hpp"

namespace dptrain {

// Allreduce on host memory: a ring reduce-scatter followed by a ring allgather over MPI
// point-to-point messages (Patarasuk & Yuan 2009; the algorithm of gloo and NCCL). Each rank
// sends and receives 2(n-1)/n of the buffer, the bandwidth optimum. It waits under the
// collective watchdog, so a rank that never sends is named instead of hanging the others.
// It reduces float sums, int64 sums (--exact's fixed-point gradients) and float maxima.
//
// Small buffers take recursive doubling instead (Thakur, Rabenseifner & Gropp 2005): log2(n)
// steps that each swap the whole buffer with one partner and add, instead of the ring's 2(n-1)
// steps of 1/n of it; fewer round trips, more bytes, so it wins below a size (measured, README
// "Many hosts"). Partners add the same two values in either order, which IEEE addition makes
// the same bits, so every rank still gets the same result; ranks beyond the largest power of two
// first hand their data to a partner and get the result back. For 2 ranks both algorithms
// compute a + b: the same bits. Narrowed sums always take the ring (partners would narrow
// different values).
//
// Float sums may travel narrowed (WireFormat): each partial sum of the reduce-scatter is sent
// as bfloat16 or half and added in float where it arrives; the rank that completes a chunk
// narrows it once, keeps the narrowed values itself and sends the same message around the
// allgather, which forwards it unchanged. Every rank decodes the same bytes, so results stay
// identical on every rank, and each element is rounded n times at most.
//
// Sums may be started without waiting (start), advanced whenever the caller has a moment
// (progress: it never blocks) and finished together (wait): the bucketed gradient exchange starts
// each bucket while backward still computes. Started sums run one after another, in the order
// started, which every rank must share. Over TCP, Open MPI moves a large message only inside MPI
// calls, so a caller busy in a long computation stalls its sums: progress_in_background() moves
// them on from a thread of the ring's own instead.
//
// ZeRO-1 runs the two halves apart (reduce_scatter, allgather): the same state machine, its
// first n - 1 steps or its last n - 1, over the aligned shards of comm/shards.hpp instead of
// the allreduce's chunks, numbered so that rank r's result is its own shard. The two halves
// send exactly the bytes of one allreduce (bytes_sent counts them).
//
// Why not MPI_Allreduce: Open MPI 4.1 allocates memory on every call of MPI_Allreduce,
// MPI_Iallreduce and the persistent MPIX_Allreduce_init (1, 10 and 2 allocations per call,
// measured with a counting malloc on the 50,890 floats of the reference model), and the MPI
// standard only advises, without requiring, that all ranks get bitwise the same result. Here the
// scratch is allocated by reserve(), and every element is reduced once, on one rank, in ring
// order, then copied to the others, so replicas that apply the result stay bitwise equal.
class RingAllreduce {
 public:
  explicit RingAllreduce(MPI_Comm comm, WireFormat float_sums = WireFormat::fp32);
  ~RingAllreduce();
  RingAllreduce(const RingAllreduce&) = delete;
  RingAllreduce& operator=(const RingAllreduce&) = delete;

  // From now on a thread of the ring's own advances started sums every kPollInterval until they
  // are done, or until wait() takes over. Every MPI call of the ring is then made under one
  // lock, so MPI_THREAD_SERIALIZED suffices; the caller must make no MPI calls of its own while
  // sums are started (dptrain waits for them before anything else). Returns false, and changes
  // nothing, when MPI was not initialised with at least MPI_THREAD_SERIALIZED.
  bool progress_in_background();

  // data <- the sum over ranks, now.
  void sum(SumBuffer buffer);
  void sum(float* data, size_t count) { sum(sum_buffer(data, count)); }
  // data <- the element-wise maximum over ranks, now.
  void max(float* data, size_t count);

  // ZeRO-1's halves of sum(), now (Communicator::reduce_scatter and allgather say what they
  // leave where). Always the ring, never recursive doubling: its steps do not split into halves.
  // A narrowed float reduce-scatter narrows its partial sums as sum() does; the result stays
  // float, on its owner only. The allgather is never narrowed.
  void reduce_scatter(SumBuffer buffer);
  void allgather(float* data, size_t count);

  // Bytes of every message this rank has sent (every MPI_Isend), since construction.
  uint64_t bytes_sent() const { return bytes_sent_.load(std::memory_order_relaxed); }

  // Started sums appear in a --trace as gradient buckets, each from its first message (sums run
  // one after another) to its result.
  void start(SumBuffer buffer);
  // Advances the started sums as far as possible without waiting (in the background, the thread
  // does); true when none is left.
  bool progress();
  // Until every started sum is done.
  void wait();

  // Allocates for reductions (and halves) of up to `bytes`, up to `queued` of them started at
  // once, so that no later call allocates.
  void reserve(size_t bytes, size_t queued = 1);

  // Buffers of up to this many bytes take recursive doubling (default kDoublingUpTo); 0: none.
  // Every rank must set the same.
  void set_doubling_up_to(size_t bytes) { doubling_up_to_ = bytes; }
  // Measured crossover (bench/allreduce-across-hosts.sh): below 32 KiB doubling takes half the
  // ring's time between 2 hosts; a whole 64 KiB buffer no longer fits Open MPI's TCP eager
  // limit (64 KiB with its header) and waits a round trip for the receiver.
  static constexpr size_t kDoublingUpTo = 32 * 1024;

 private:
  // copy_f32: the allgather's floats, moved but never reduced.
  enum class Reduction { sum_f32, sum_i64, max_f32, copy_f32 };
  // Which steps of the ring a job runs: all of them, or one half over the shards.
  enum class Part { allreduce, reduce_scatter, allgather };
  struct Job {
    void* data;
    size_t count;
    Reduction reduction;
    trace::Clock::time_point started;  // its first message
    bool traced;
    trace::Clock::time_point finished = {};
    bool doubling = false;
    Part part = Part::allreduce;
  };
  static size_t element_bytes(Reduction reduction);
  static Reduction sum_of(SumType type) {
    return type == SumType::f32 ? Reduction::sum_f32 : Reduction::sum_i64;
  }
  void run_now(const Job& job);  // enqueue and wait, as sum() does
  // Under mutex_:
  void enqueue(const Job& job);
  void make_room(size_t bytes, size_t queued);
  // Elements [begin, end) of chunk c when `count` elements are split among the ranks.
  size_t chunk_begin(size_t count, int chunk) const;
  // Elements of the job's ring chunk c: the allreduce's chunk, or for the halves a shard.
  ShardRange chunk_range(const Job& job, int c) const;
  // The most 8-byte words one shard of a buffer of `bytes` takes, whatever its element type.
  size_t largest_shard_words(size_t bytes) const;
  bool narrowed(const Job& job) const {
    return job.reduction == Reduction::sum_f32 && codec_.format() != WireFormat::fp32;
  }
  // Narrowed messages: slot c holds chunk c's, slot n the one being received in the
  // reduce-scatter.
  char* slot(int c) {
    return reinterpret_cast<char*>(wire_.data()) + static_cast<size_t>(c) * slot_bytes_;
  }
  void post(void* send, size_t send_count, void* receive, size_t receive_count, MPI_Datatype type,
            int tag);
  // Adds a message just sent to bytes_sent_.
  void count_sent(size_t count, MPI_Datatype type);
  int chunk(int c) const { return (c % size_ + size_) % size_; }
  // Recursive doubling's step `step` of this rank: whom it sends to and receives from (-1: no
  // one), and whether what comes in is added (else it is the result).
  struct DoublingStep {
    int send_to;
    int receive_from;
    bool reduce;
  };
  DoublingStep doubling_step(int step) const;
  int doubling_steps() const;
  int steps(const Job& job) const {
    if (job.doubling) return doubling_steps();
    return job.part == Part::allreduce ? 2 * (size_ - 1) : size_ - 1;
  }
  // The ring step (0..n-2 reduce-scatter, n-1..2n-3 allgather) the job is at: an allgather on
  // its own starts half-way.
  int ring_step(const Job& job) const {
    return job.part == Part::allgather ? step_ + (size_ - 1) : step_;
  }
  // Adds `incoming` into elements [begin, begin + count) of the job's data.
  void reduce_into_job(const Job& job, size_t begin, size_t count, const void* incoming);
  // Messages are received into the scratch and the slots, sized by make_room() for the largest
  // chunk: one larger would be written past their end. Throws std::logic_error instead.
  void check_room(const Job& job, bool reducing, size_t chunk_elements) const;
  // Posts the messages of the current step of the oldest started job.
  void post_step();
  // The current step's messages have arrived: reduces what came in, moves to the next step.
  void finish_step();
  void finish_ring_step(const Job& job);
  // Tests the current step's messages, finishing steps while they have arrived.
  void advance();
  // Puts the finished sums of the queue into the trace (on the caller's thread: the trace is
  // not shared with the background thread).
  void record_finished();
  void background_loop();

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  WireCodec codec_;
  std::vector<uint64_t> scratch_;  // 8-byte words, aligned for every element type
  std::vector<uint64_t> wire_;     // n + 1 slots of narrowed messages
  size_t slot_bytes_ = 0;
  size_t doubling_up_to_ = kDoublingUpTo;
  int power_of_two_ = 1;    // the largest power of two <= size_
  std::vector<Job> queue_;  // started jobs, oldest at queue_head_
  size_t queue_head_ = 0;
  int step_ = 0;  // steps done of the oldest job (ring_step() says which of the ring's)
  bool posted_ = false;
  MPI_Request requests_[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  size_t recorded_ = 0;  // jobs of the queue already in the trace
  // Written under mutex_, read by bytes_sent() from any thread.
  std::atomic<uint64_t> bytes_sent_{0};

  // The background thread, and what it shares with the caller under mutex_.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
  bool stop_ = false;
  bool waiting_ = false;  // the caller is in wait(), which advances the sums itself
  std::exception_ptr error_;
};

}  // namespace dptrain
