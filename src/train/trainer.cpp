#include "dptrain/train/trainer.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <csignal>
#include <limits>

#include "dptrain/core/log.hpp"
#include "dptrain/core/random.hpp"
#include "dptrain/core/stop_signal.hpp"
#include "dptrain/data/mnist_format.hpp"

namespace dptrain {
namespace {

using Clock = std::chrono::steady_clock;

// How often (in steps) the ranks agree on stop signals: cheap (one float around the ring), and
// a signal is answered within this many steps.
constexpr int64_t kStopCheckSteps = 10;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

template <class T>
DeviceArray<T> upload(Backend& backend, const std::vector<T>& host) {
  DeviceArray<T> array(backend, host.size());
  backend.copy_to_device(array.data(), host.data(), array.bytes());
  return array;
}

template <class T>
std::vector<T> download(Backend& backend, const DeviceArray<T>& array) {
  std::vector<T> host(array.size());
  backend.copy_to_host(host.data(), array.data(), array.bytes());
  return host;
}

}  // namespace

std::vector<int> mlp_widths(const TrainConfig& config) {
  std::vector<int> widths{mnist::kPixels};
  widths.insert(widths.end(), config.hidden.begin(), config.hidden.end());
  widths.push_back(mnist::kClasses);
  return widths;
}

void check_same_model(const World& world, const Mlp& model) {
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
    const MnistH5Reader reader(config.data_path);
    trainer.reset(new Trainer(config, replicas, update, backend, reader));
  });
  check_same_model(everyone, trainer->model_);
  update.initialize(trainer->params_.data(), trainer->model_, config.seed);
  if (config.resume) trainer->resume(everyone);
  return trainer;
}

Trainer::Trainer(const TrainConfig& config, const World& world, ParameterUpdate& update,
                 Backend& backend, const MnistH5Reader& reader)
    : config_(config),
      world_(world),
      update_(update),
      backend_(backend),
      sampler_(reader.train_rows(), config.batch_size, world.rank(), world.size(), config.seed),
      model_(backend, mlp_widths(config), std::max(config.batch_size, config.eval_batch_size)),
      evaluator_(backend, world, reader, model_, config.eval_batch_size),
      grad_scale_(update.gradient_scale(sampler_.local_batch(), sampler_.global_batch())),
      fault_(fault_from_environment()),
      control_(world.comm()) {
  control_.reserve(2);
  const LabeledImages train = reader.read_train(sampler_.shard());
  train_rows_ = train.rows;
  train_images_ = upload(backend_, train.images);
  train_labels_ = upload(backend_, train.labels);

  epoch_order_.resize(sampler_.steps_per_epoch() * sampler_.local_batch());
  epoch_order_on_device_ = DeviceArray<uint32_t>(backend_, epoch_order_.size());

  const size_t parameters = model_.layout().total();
  const size_t batch = static_cast<size_t>(config.batch_size);
  params_ = DeviceArray<float>(backend_, parameters);
  grads_ = DeviceArray<float>(backend_, parameters);
  x_ = DeviceArray<float>(backend_, batch * mnist::kPixels);
  y_ = DeviceArray<int32_t>(backend_, batch);
  dlogits_ = DeviceArray<float>(backend_, batch * mnist::kClasses);
  loss_sum_ = DeviceArray<double>(backend_, 1);
}

void Trainer::resume(const World& agreement) {
  std::string path;
  agreement.together([&] {
    if (!world_.is_root()) return;
    const CheckpointChoice choice = newest_checkpoint(config_.checkpoint_dir);
    for (const std::string& reason : choice.passed_over)
      warn0("--resume passes over %s", reason.c_str());
    path = choice.path;
  });
  uint64_t length = path.size();
  world_.broadcast_bytes(&length, sizeof length, 0);
  path.resize(length);
  world_.broadcast_bytes(path.data(), length, 0);

  agreement.together([&] {
    const Checkpoint checkpoint = read_checkpoint(path, model_.layout());
    const std::string refused = "refusing to resume from '" + path + "': ";
    if (checkpoint.seed != config_.seed)
      throw InputError(refused + "it was trained with --seed " + std::to_string(checkpoint.seed) +
                       ", this run has --seed " + std::to_string(config_.seed));
    if (checkpoint.global_batch != sampler_.global_batch() && !config_.allow_resize)
      throw InputError(refused + "it was written by " + std::to_string(checkpoint.world_size) +
                       " ranks with a global batch of " + std::to_string(checkpoint.global_batch) +
                       ", this run has " + std::to_string(world_.size()) +
                       " ranks and a global batch of " + std::to_string(sampler_.global_batch()) +
                       " (--allow-resize resumes anyway; the epoch's order then changes)");
    Adam* adam = update_.optimizer();
    if (adam == nullptr) throw InputError("--resume needs --mode allreduce");
    backend_.copy_to_device(params_.data(), checkpoint.params.data(), params_.bytes());
    backend_.copy_to_device(adam->first_moment().data(), checkpoint.adam_m.data(),
                            adam->first_moment().bytes());
    backend_.copy_to_device(adam->second_moment().data(), checkpoint.adam_v.data(),
                            adam->second_moment().bytes());
    adam->set_steps_taken(checkpoint.adam_steps);
    position_ = checkpoint.position;
    if (checkpoint.global_batch != sampler_.global_batch()) {
      // The same share of the epoch's samples, in steps of the new global batch.
      const size_t samples = position_.step * checkpoint.global_batch;
      position_.step = std::min(sampler_.steps_per_epoch(),
                                (samples + sampler_.global_batch() - 1) / sampler_.global_batch());
    }
  });
  resumed_from_ = path;
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

void Trainer::step(size_t k) {
  const int rows = config_.batch_size;
  const int64_t step_number = position_.global_step + 1;
  backend_.gather_batch(train_images_.data(), train_labels_.data(), mnist::kPixels,
                        epoch_order_on_device_.data() + k * sampler_.local_batch(), rows, x_.data(),
                        y_.data());
  const float* logits = model_.forward(params_.data(), x_.data(), rows);
  backend_.softmax_cross_entropy(logits, y_.data(), rows, mnist::kClasses, grad_scale_,
                                 dlogits_.data(), loss_sum_.data());
  model_.backward(params_.data(), x_.data(), dlogits_.data(), rows, grads_.data());
  if (fault_.at(Fault::Kind::nonfinite_gradient, world_.rank(), step_number))
    backend_.fill(grads_.data(), 1, std::numeric_limits<float>::quiet_NaN());
  if (!update_.apply(params_.data(), grads_.data(), step_number)) ++skipped_steps_;
  if (fault_.at(Fault::Kind::diverge, world_.rank(), step_number)) {
    float first = 0.0f;
    backend_.copy_to_host(&first, params_.data(), sizeof first);
    first += 0.5f;
    backend_.copy_to_device(params_.data(), &first, sizeof first);
  }
  position_.step = k + 1;
  position_.global_step = step_number;
}

void Trainer::between_steps() {
  const int64_t step = position_.global_step;
  if (config_.check_replicas_every > 0 && step % config_.check_replicas_every == 0)
    check_replicas();
  const std::string stopped_by = stop_checks_ && step % kStopCheckSteps == 0 ? agreed_stop() : "";
  if (!stopped_by.empty()) {
    const std::string path = config_.checkpoint_dir.empty() ? "" : save_checkpoint();
    throw StopRequested(
        "stopped by " + stopped_by + " at epoch " + std::to_string(position_.epoch) + ", step " +
            std::to_string(position_.step) + " of " + std::to_string(sampler_.steps_per_epoch()) +
            (path.empty() ? "; no --checkpoint-dir, so nothing was saved"
                          : "; checkpoint " + path + "; continue with --resume"),
        kExitStopped);
  }
  if (!config_.checkpoint_dir.empty() && config_.checkpoint_every > 0 &&
      step % config_.checkpoint_every == 0)
    save_checkpoint();
}

std::string Trainer::agreed_stop() {
  // How many ranks received each stop signal, summed around the ring.
  float received[2] = {stop_signal() == SIGTERM ? 1.0f : 0.0f,
                       stop_signal() == SIGUSR1 ? 1.0f : 0.0f};
  control_.sum(received, 2);
  if (received[0] > 0.0f) return "SIGTERM";
  if (received[1] > 0.0f) return "SIGUSR1";
  return "";
}

void Trainer::check_replicas() {
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

double Trainer::epoch_loss_so_far() {
  double loss = 0.0;
  backend_.copy_to_host(&loss, loss_sum_.data(), sizeof loss);
  world_.sum({&loss, 1});
  return loss;
}

std::string Trainer::save_checkpoint() {
  Checkpoint checkpoint;
  checkpoint.position = position_;
  checkpoint.position.epoch_loss_sum = position_.step > 0 ? epoch_loss_so_far() : 0.0;
  if (!world_.is_root()) return "";
  checkpoint.world_size = world_.size();
  checkpoint.global_batch = sampler_.global_batch();
  checkpoint.seed = config_.seed;
  for (int width : model_.widths())
    checkpoint.widths.push_back(width);
  checkpoint.config_json = config_to_json(config_);
  checkpoint.params = parameters();
  if (Adam* adam = update_.optimizer()) {
    checkpoint.adam_steps = adam->steps_taken();
    checkpoint.adam_m = download(backend_, adam->first_moment());
    checkpoint.adam_v = download(backend_, adam->second_moment());
  }
  return write_checkpoint(config_.checkpoint_dir, model_.layout(), checkpoint,
                          config_.keep_checkpoints);
}

Evaluation Trainer::evaluate() {
  return evaluator_.evaluate(params_.data());
}

EpochMetrics Trainer::run_epoch(int epoch, TrainingObserver* observer) {
  const Clock::time_point start = Clock::now();
  begin_epoch(epoch);
  const size_t steps = sampler_.steps_per_epoch();
  const size_t first = position_.step;
  skipped_steps_ = 0;
  for (size_t k = first; k < steps; ++k) {
    step(k);
    if (observer != nullptr) observer->on_step(epoch, k + 1, steps);
    between_steps();
  }
  EpochMetrics metrics;
  const double loss = epoch_loss_so_far();
  metrics.train_seconds = seconds_since(start);
  metrics.epoch = epoch;
  metrics.steps = steps;
  metrics.steps_run = steps - first;
  metrics.skipped_steps = skipped_steps_;
  metrics.samples = metrics.steps_run * sampler_.global_batch();
  metrics.train_loss = loss / static_cast<double>(steps * sampler_.global_batch());
  position_ = {epoch + 1, 0, position_.global_step, 0.0};
  metrics.test = evaluate();
  metrics.epoch_seconds = seconds_since(start);
  metrics.samples_per_second = static_cast<double>(metrics.samples) / metrics.train_seconds;
  update_.end_epoch(metrics);
  if (!config_.checkpoint_dir.empty()) save_checkpoint();
  if (observer != nullptr) observer->on_epoch_end(metrics);
  return metrics;
}

void Trainer::fit(TrainingObserver* observer) {
  while (position_.epoch <= config_.epochs)
    run_epoch(position_.epoch, observer);
}

std::vector<float> Trainer::parameters() const {
  std::vector<float> host(params_.size());
  backend_.copy_to_host(host.data(), params_.data(), params_.bytes());
  return host;
}

}  // namespace dptrain
