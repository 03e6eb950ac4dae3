#include "dptrain/train/trainer.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "dptrain/core/log.hpp"
#include "dptrain/core/random.hpp"
#include "dptrain/core/trace.hpp"
#include "dptrain/train/lr_plan.hpp"

namespace dptrain {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The run was set up (its model sized) for config.data_shape, read from the same file by
// agree_data_shape: a file that changed since is refused, not misread.
void check_row_shape(const H5DataReader& reader, const DataShape& expected) {
  DataShape found = reader.row_shape();
  found.classes = expected.classes;
  if (!(found == expected))
    throw InputError("data file '" + reader.path() + "' holds " + describe_data_shape(found) +
                     ", but the run was set up for " + describe_data_shape(expected));
}

}  // namespace

void check_same_model(const World& world, const Model& model) {
  const uint64_t fingerprint = model.layout().fingerprint();
  if (world.min(fingerprint) != world.max(fingerprint))
    throw AgreedError("the ranks built different models (rank " + std::to_string(world.rank()) +
                          ": " + model.describe() + ")",
                      kExitBadInput);
}

std::unique_ptr<Trainer> Trainer::create(const TrainConfig& config, const World& replicas,
                                         ParameterUpdate& update, Backend& backend,
                                         const World* agreement) {
  const World& everyone = agreement != nullptr ? *agreement : replicas;
  std::unique_ptr<Trainer> trainer;
  everyone.together([&] {
    const H5DataReader reader(config.data_path);
    check_row_shape(reader, config.data_shape);
    trainer.reset(new Trainer(config, replicas, everyone, update, backend, reader));
  });
  check_same_model(everyone, *trainer->model_);
  update.initialize(trainer->params_.data(), *trainer->model_, config.seed);
  if (config.resume) trainer->resume();
  return trainer;
}

Trainer::Trainer(const TrainConfig& config, const World& world, const World& everyone,
                 ParameterUpdate& update, Backend& backend, const H5DataReader& reader)
    : config_(config),
      world_(world),
      everyone_(everyone),
      update_(update),
      backend_(backend),
      sampler_(reader.train_rows(), config.batch_size, world.rank(), world.size(), config.seed),
      model_(make_model(backend, model_spec(config),
                        std::max(micro_batch_rows(config), config.eval_batch_size))),
      evaluator_(backend, world, reader, config.data_shape, *model_, config.eval_batch_size),
      grad_scale_(update.gradient_scale(sampler_.local_batch(), sampler_.global_batch())),
      micro_rows_(micro_batch_rows(config)),
      fault_(fault_from_environment()),
      schedule_(step_schedule(config, false)),
      stop_(everyone.comm()),
      params_(backend, update.buffer_elements(model_->layout().total())),
      sum_(backend, model_->layout(), sampler_.local_batch() / static_cast<size_t>(micro_rows_),
           sampler_.global_batch() / static_cast<size_t>(micro_rows_), config.exact,
           update.buffer_elements(model_->layout().total())) {
  lr_schedule_ = dptrain::lr_schedule(config_, sampler_.global_batch(), sampler_.steps_per_epoch());
  update_.set_schedule(lr_schedule_);
  const DataShape& shape = config_.data_shape;
  const LabeledRows train = reader.read_train(sampler_.shard(), shape.classes);
  train_rows_ = train.rows;
  data_set_ = reader.data_set();
  train_data_ = DeviceRows(backend_, train, shape);

  epoch_order_.resize(sampler_.steps_per_epoch() * sampler_.local_batch());
  epoch_order_on_device_ = DeviceArray<uint32_t>(backend_, epoch_order_.size());

  const size_t rows = static_cast<size_t>(micro_rows_);
  x_ = DeviceArray<float>(backend_, rows * static_cast<size_t>(shape.row_width()));
  y_ = DeviceArray<int32_t>(backend_, rows);
  dlogits_ = DeviceArray<float>(backend_, rows * static_cast<size_t>(shape.classes));
  loss_sum_ = DeviceArray<double>(backend_, 1);
  recomputed_loss_ = DeviceArray<double>(backend_, 1);
  // Every rank decides the same (the configuration, the fault asked for), as NCCL requires of
  // collectives in a graph.
  record_steps_ = config.cuda_graph && backend_.records() && update_.recordable() &&
                  fault_.kind == Fault::Kind::none;
  if (record_steps_) step_rows_ = DeviceArray<uint32_t>(backend_, sampler_.local_batch());
}

void Trainer::resume() {
  const Checkpoint checkpoint = share_newest_checkpoint(everyone_, config_, model_->layout(),
                                                        sampler_.global_batch(), world_.size());
  update_.restore(params_.data(), checkpoint);
  if (config_.exact && checkpoint.exact)
    sum_.scales().set_exponents(checkpoint.fixed_point_exponents);
  position_ = resume_position(checkpoint, sampler_.global_batch(), sampler_.steps_per_epoch());
  resumed_from_ = checkpoint.source;
}

void Trainer::begin_epoch(int epoch) {
  const bool continuing = epoch == position_.epoch && position_.step > 0;  // resumed within it
  if (!continuing) position_ = {epoch, 0, position_.global_step, 0.0};
  sampler_.epoch_order(static_cast<uint64_t>(epoch), epoch_order_);
  backend_.copy_to_device(epoch_order_on_device_.data(), epoch_order_.data(),
                          epoch_order_on_device_.bytes());
  // The loss so far is a sum over all ranks; rank 0 carries what a resumed epoch had.
  const double start = world_.is_root() ? position_.epoch_loss_sum : 0.0;
  backend_.copy_to_device(loss_sum_.data(), &start, sizeof start);
}

void Trainer::compute_gradients(size_t k, const uint32_t* rows_of_step, int64_t step_number,
                                double* loss_sum) {
  const size_t micro_batches = sum_.micro_batches();
  const size_t rows = static_cast<size_t>(micro_rows_);
  sum_.begin_step();
  for (size_t j = 0; j < micro_batches; ++j) {
    // Micro-batch j is the local batch's rows [j * rows, (j + 1) * rows): columns of the global
    // batch that do not depend on how it is split among ranks (ShardedSampler).
    const size_t first_row = k * sampler_.local_batch() + j * rows;
    {
      const trace::Span span("gather batch", trace::Phase::data);
      train_data_.gather(rows_of_step + j * rows, micro_rows_, x_.data(), y_.data());
    }
    {
      const trace::Span span("forward and loss", trace::Phase::forward);
      const float* logits = model_->forward(params_.data(), x_.data(), micro_rows_);
      backend_.softmax_cross_entropy(logits, y_.data(), micro_rows_, config_.data_shape.classes,
                                     grad_scale_, dlogits_.data(), loss_sum);
    }
    // The next rows are scattered over the data set: ask for them now, so that the memory
    // fetches run under this backward's GEMMs instead of stalling the next gather.
    if (first_row + rows < epoch_order_.size())
      train_data_.prefetch(epoch_order_.data() + first_row + rows, micro_rows_);
    const bool last = j + 1 == micro_batches;
    float* grads = sum_.gradients_of(j);
    // An injected NaN must be in place before any of the gradients it is in is sent: that
    // step's backward tells nobody.
    const bool poison =
        j == 0 && fault_.at(Fault::Kind::nonfinite_gradient, world_.rank(), step_number);
    GradientsReady* ready =
        poison ? nullptr
               : sum_.listener(j, last ? update_.begin_backward(sum_.local_sum()) : nullptr);
    model_->backward(params_.data(), x_.data(), dlogits_.data(), micro_rows_, grads, ready);
    if (poison) backend_.fill(grads, 1, std::numeric_limits<float>::quiet_NaN());
    sum_.end_micro_batch(j);
  }
}

void Trainer::step(size_t k) {
  const int64_t step_number = position_.global_step + 1;
  if (record_steps_) {
    replay_step(k, step_number);
  } else {
    launch_step(k, step_number);
  }
  if (fault_.at(Fault::Kind::diverge, world_.rank(), step_number)) {
    float first = 0.0f;
    backend_.copy_to_host(&first, params_.data(), sizeof first);
    first += 0.5f;
    backend_.copy_to_device(params_.data(), &first, sizeof first);
  }
  position_.step = k + 1;
  position_.global_step = step_number;
}

void Trainer::launch_step(size_t k, int64_t step_number) {
  const uint32_t* rows_of_step = epoch_order_on_device_.data() + k * sampler_.local_batch();
  double* loss_sum = loss_sum_.data();
  while (true) {
    compute_gradients(k, rows_of_step, step_number, loss_sum);
    const StepOutcome outcome = update_.apply(params_.data(), sum_, step_number);
    if (outcome != StepOutcome::recompute) {
      if (outcome == StepOutcome::skipped) ++skipped_steps_;
      break;
    }
    // --exact: the same gradients again with larger scales; their losses are counted already.
    ++recomputed_steps_;
    loss_sum = recomputed_loss_.data();
  }
}

// The step's rows go to one fixed place, and the step, recorded once with its pointers, replays
// from it: every step is the same kernels with the same arguments, only the rows differ.
void Trainer::replay_step(size_t k, int64_t step_number) {
  backend_.copy_within(step_rows_.data(),
                       epoch_order_on_device_.data() + k * sampler_.local_batch(),
                       step_rows_.bytes());
  if (recorded_step_ == nullptr) record_step(k, step_number);
  const trace::Span span("step, one CUDA graph", trace::Phase::graph);
  recorded_step_->replay();
}

void Trainer::record_step(size_t k, int64_t step_number) {
  const trace::PausedDeviceMarks recording;
  try {
    recorded_step_ = backend_.record([&] {
      compute_gradients(k, step_rows_.data(), step_number, loss_sum_.data());
      if (update_.apply(params_.data(), sum_, step_number) != StepOutcome::applied)
        throw std::logic_error("a recorded step's update must not depend on the host");
    });
  } catch (const std::exception& error) {
    // Never retried without the graph: the other ranks' NCCL calls were captured, or not, with
    // this rank's, and must stay so.
    throw std::runtime_error(std::string("recording the step as a CUDA graph failed: ") +
                             error.what() + " (--cuda-graph off launches each kernel instead)");
  }
  if (recorded_step_ == nullptr)
    throw std::logic_error("the backend cannot record the step (--cuda-graph off)");
}

void Trainer::between_steps() {
  const int64_t step = position_.global_step;
  if (config_.check_replicas_every > 0 && step % config_.check_replicas_every == 0)
    check_replicas();
  if (schedule_.stop_check_after(step)) stop_if_agreed("");
  if (schedule_.checkpoint_after(step)) save_checkpoint();
}

void Trainer::stop_if_agreed(const std::string& checkpoint_just_written) {
  dptrain::stop_if_agreed(stop_, schedule_, position_, sampler_.steps_per_epoch(),
                          checkpoint_just_written, [this] { return save_checkpoint(); });
}

void Trainer::collect_deferred() {
  skipped_steps_ += static_cast<size_t>(update_.collect_deferred());
}

void Trainer::check_replicas() {
  collect_deferred();
  uint64_t hash = 0;
  for (float value : parameters())
    hash = random::mix64(hash ^ std::bit_cast<uint32_t>(value));
  const std::vector<uint64_t> hashes = world_.all_gather(hash);
  std::string differing;
  for (size_t r = 1; r < hashes.size(); ++r)
    if (hashes[r] != hashes[0]) differing += (differing.empty() ? "" : ",") + std::to_string(r);
  if (!differing.empty())
    throw AgreedError("step " + std::to_string(position_.global_step) +
                          ": replica check failed (--check-replicas-every): the parameters of "
                          "rank(s) " +
                          differing + " differ from rank 0's",
                      kExitFailure);
}

double Trainer::local_epoch_loss() {
  double loss = 0.0;
  backend_.copy_to_host(&loss, loss_sum_.data(), sizeof loss);
  collect_deferred();  // the host has waited for the device: hear what it decided
  return loss;
}

std::string Trainer::save_checkpoint() {
  const trace::Span span("checkpoint", trace::Phase::other);
  collect_deferred();  // never a checkpoint of a halted run
  Checkpoint header = checkpoint_header(config_, position_, world_.size(), sampler_.global_batch(),
                                        model_->describe());
  if (sum_.exact()) header.fixed_point_exponents = sum_.scales().exponents();
  // Within an epoch the checkpoint carries its loss so far; at its end there is none.
  const double loss = position_.step > 0 ? local_epoch_loss() : 0.0;
  const CheckpointPlace place{config_.checkpoint_dir, config_.keep_checkpoints, &model_->layout()};
  return update_.save_checkpoint(everyone_, header, loss, params_.data(), place);
}

Evaluation Trainer::evaluate() {
  const trace::Span span("evaluate", trace::Phase::other);
  return evaluator_.evaluate(params_.data());
}

EpochMetrics Trainer::run_epoch(int epoch, TrainingObserver* observer) {
  const Clock::time_point start = Clock::now();
  trace::reset_phase_seconds();
  begin_epoch(epoch);
  const size_t steps = sampler_.steps_per_epoch();
  const size_t first = position_.step;
  skipped_steps_ = 0;
  recomputed_steps_ = 0;
  for (size_t k = first; k < steps; ++k) {
    step(k);
    if (observer != nullptr) observer->on_step(epoch, k + 1, steps);
    between_steps();
  }
  EpochMetrics metrics;
  double loss = local_epoch_loss();
  world_.sum({&loss, 1});
  metrics.train_seconds = seconds_since(start);
  metrics.epoch = epoch;
  metrics.steps = steps;
  metrics.steps_run = steps - first;
  metrics.skipped_steps = skipped_steps_;
  metrics.recomputed_steps = recomputed_steps_;
  metrics.samples = metrics.steps_run * sampler_.global_batch();
  metrics.train_loss = loss / static_cast<double>(steps * sampler_.global_batch());
  metrics.lr = ew::lr_at(lr_schedule_, position_.global_step);
  position_ = {epoch + 1, 0, position_.global_step, 0.0};
  metrics.test = evaluate();
  metrics.epoch_seconds = seconds_since(start);
  metrics.samples_per_second = static_cast<double>(metrics.samples) / metrics.train_seconds;
  metrics.phase_seconds = trace::phase_seconds();
  update_.end_epoch(metrics);
  if (metrics.allreduce) add_all_ranks(metrics.allreduce.value());
  const std::string checkpoint = schedule_.checkpoint_at_epoch_end() ? save_checkpoint() : "";
  if (observer != nullptr) observer->on_epoch_end(metrics);
  if (schedule_.stop_check_at_epoch_end()) stop_if_agreed(checkpoint);
  return metrics;
}

void Trainer::add_all_ranks(AllreduceMetrics& allreduce) const {
  double totals[2] = {allreduce.sent_bytes_per_step.value_or(0.0),
                      static_cast<double>(allreduce.optimizer_state_bytes)};
  world_.sum(totals);
  if (allreduce.sent_bytes_per_step) allreduce.all_ranks_sent_bytes_per_step = totals[0];
  allreduce.all_ranks_optimizer_state_bytes = static_cast<size_t>(totals[1]);
}

void Trainer::fit(TrainingObserver* observer) {
  while (position_.epoch <= config_.epochs)
    run_epoch(position_.epoch, observer);
}

std::vector<float> Trainer::parameters() const {
  std::vector<float> host(model_->layout().total());
  backend_.copy_to_host(host.data(), params_.data(), host.size() * sizeof(float));
  return host;
}

}  // namespace dptrain
