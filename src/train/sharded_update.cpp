#include "dptrain/train/sharded_update.hpp"

#include <algorithm>
#include <vector>

#include "dptrain/comm/gather_ranges.hpp"
#include "dptrain/core/trace.hpp"
#include "dptrain/train/trainer.hpp"

namespace dptrain {

static_assert(kShardAlignment % ew::kNormBlock == 0,
              "a shard must hold whole blocks of the gradient norm");

ShardedUpdate::ShardedUpdate(Communicator& communicator, Backend& backend, size_t parameters,
                             const UpdateOptions& options)
    : communicator_(communicator),
      backend_(backend),
      parameters_(parameters),
      check_(options.check),
      shard_(shard_of(parameters, communicator.size(), communicator.rank())),
      optimizer_(backend, shard_.count, options.optimizer, options.check, options.clip_norm),
      sums_(options.sums),
      blocks_(optimizer_.clips() ? ew::norm_blocks(parameters) : 0),
      agreement_(backend, blocks_ + static_cast<size_t>(communicator.size())),
      agreement_start_(backend, agreement_.size()),
      report_every_step_(backend.host_accessible()) {
  optimizer_.set_agreement(static_cast<uint32_t>(blocks_),
                           static_cast<uint32_t>(communicator.size()),
                           shard_stride(parameters, communicator.size()));
  prepare_agreement();
}

std::string ShardedUpdate::name() const {
  return communicator_.name() + ", optimizer sharded (ZeRO-1)";
}

size_t ShardedUpdate::buffer_elements(size_t parameters) const {
  return padded_shard_count(parameters, communicator_.size());
}

void ShardedUpdate::prepare_agreement() {
  std::vector<int64_t> start(agreement_.size(), 0);
  start[blocks_ + static_cast<size_t>(communicator_.rank())] = static_cast<int64_t>(ew::kNoIndex);
  backend_.copy_to_device(agreement_start_.data(), start.data(), agreement_start_.bytes());
}

void ShardedUpdate::initialize(float* params, const Model& model, uint64_t seed) {
  broadcast_initial_parameters(communicator_, backend_, params, model, seed);
}

StepOutcome ShardedUpdate::apply(float* params, GradientSum& sum, int64_t step) {
  {
    const trace::Span span("reduce-scatter", trace::Phase::exchange);
    communicator_.reduce_scatter(sum.local_sum());
  }
  uint64_t found_by_host = ew::kNoIndex;
  if (sum.exact()) {
    const FixedPointScales::Judgement judgement =
        agree_on_scales(communicator_, backend_, sum, maxima_);
    if (const auto outcome = judge_exact_step(judgement, sum, check_, step, found_by_host))
      return *outcome;
  }
  const float* shard_gradients = sum.gradients() + shard_.begin;
  {
    const trace::Span span("check and optimizer", trace::Phase::optimizer);
    backend_.copy_within(agreement_.data(), agreement_start_.data(), agreement_.bytes());
    int64_t* slot = agreement_.data() + blocks_ + communicator_.rank();
    if (!sum.exact())
      backend_.find_non_finite(shard_gradients, shard_.count, reinterpret_cast<uint64_t*>(slot));
    if (blocks_ > 0)
      backend_.block_sums_of_squares(shard_gradients, shard_.count,
                                     agreement_.data() + shard_.begin / ew::kNormBlock);
  }
  {
    const trace::Span span("agree on the step", trace::Phase::exchange);
    communicator_.allreduce({agreement_.data(), agreement_.size(), SumType::i64});
  }
  {
    const trace::Span span("check and optimizer", trace::Phase::optimizer);
    optimizer_.decide(found_by_host, agreement_.data());
    optimizer_.update(params + shard_.begin, shard_gradients);
  }
  {
    const trace::Span span("all-gather", trace::Phase::exchange);
    communicator_.allgather(params, parameters_);
  }
  if (!report_every_step_) return StepOutcome::applied;
  return collect_deferred() > 0 ? StepOutcome::skipped : StepOutcome::applied;
}

void ShardedUpdate::end_epoch(EpochMetrics& metrics) {
  AllreduceMetrics allreduce;
  allreduce.sharded = true;
  allreduce.collectives_per_step = 3 + (maxima_ > 0 ? 1 : 0);
  allreduce.bytes_per_step =
      communicator_.wire_bytes(sums_, parameters_) + agreement_.bytes() + maxima_ * sizeof(float);
  allreduce.optimizer_state_bytes = optimizer_.optimizer().state_bytes();
  allreduce.sent_bytes_per_step = sent_.epoch(communicator_, metrics.steps_run);
  metrics.allreduce = allreduce;
  optimizer_.end_epoch(metrics);
}

namespace {

std::vector<RankRange> every_shard(size_t parameters, int ranks) {
  std::vector<RankRange> shards;
  for (int r = 0; r < ranks; ++r) {
    const ShardRange shard = shard_of(parameters, ranks, r);
    shards.push_back({shard.begin, shard.count});
  }
  return shards;
}

}  // namespace

std::string ShardedUpdate::save_checkpoint(const World& everyone, Checkpoint checkpoint,
                                           double local_loss, const float* params,
                                           const CheckpointPlace& place) {
  add_epoch_loss(everyone, checkpoint, local_loss);
  Optimizer& optimizer = optimizer_.optimizer();
  const std::vector<RankRange> shards = every_shard(parameters_, communicator_.size());
  std::vector<float> mine(shard_.count);
  for (size_t i = 0; i < optimizer.state_names().size(); ++i) {
    backend_.copy_to_host(mine.data(), optimizer.state(i), mine.size() * sizeof(float));
    checkpoint.optimizer_state.push_back({optimizer.state_names()[i], {}});
    gather_ranges(everyone, shards, mine.data(), checkpoint.optimizer_state.back().values,
                  parameters_);
  }
  std::string path;
  if (everyone.is_root()) {  // the parameters are whole on every rank after the all-gather
    checkpoint.params.resize(parameters_);
    backend_.copy_to_host(checkpoint.params.data(), params, parameters_ * sizeof(float));
    checkpoint.optimizer_steps = optimizer_.read_guard().optimizer_steps;
    path = write_checkpoint(place.dir, *place.layout, checkpoint, place.keep);
  }
  return share_path(everyone, path);
}

void ShardedUpdate::restore(float* params, const Checkpoint& checkpoint) {
  backend_.copy_to_device(params, checkpoint.params.data(),
                          checkpoint.params.size() * sizeof(float));
  restore_optimizer_state(backend_, optimizer_.optimizer(), checkpoint, shard_.begin);
  optimizer_.restore_counters(checkpoint.position.global_step, checkpoint.optimizer_steps);
}

}  // namespace dptrain
