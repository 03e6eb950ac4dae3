#include "dptrain/train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "dptrain/core/error.hpp"
#include "dptrain/data/mnist_format.hpp"

namespace dptrain {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

template <class T>
DeviceArray<T> upload(Backend& backend, const std::vector<T>& host) {
  DeviceArray<T> array(backend, host.size());
  backend.copy_to_device(array.data(), host.data(), array.bytes());
  return array;
}

// Accumulators in loss_sum_: the training loss of the epoch and the test loss.
constexpr size_t kTrainLoss = 0;
constexpr size_t kTestLoss = 1;

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
      grad_scale_(update.gradient_scale(sampler_.local_batch(), sampler_.global_batch())) {
  const LabeledImages train = reader.read_train(sampler_.shard());
  const LabeledImages test =
      reader.read_test(even_split(reader.test_rows(), world.rank(), world.size()));
  train_rows_ = train.rows;
  test_rows_ = test.rows;
  train_images_ = upload(backend_, train.images);
  train_labels_ = upload(backend_, train.labels);
  test_images_ = upload(backend_, test.images);
  test_labels_ = upload(backend_, test.labels);
  std::vector<uint32_t> identity(test.rows);
  std::iota(identity.begin(), identity.end(), 0u);
  test_order_ = upload(backend_, identity);

  epoch_order_.resize(sampler_.steps_per_epoch() * sampler_.local_batch());
  epoch_order_on_device_ = DeviceArray<uint32_t>(backend_, epoch_order_.size());

  const size_t parameters = model_.layout().total();
  const size_t max_rows = static_cast<size_t>(model_.max_rows());
  params_ = DeviceArray<float>(backend_, parameters);
  grads_ = DeviceArray<float>(backend_, parameters);
  x_ = DeviceArray<float>(backend_, max_rows * mnist::kPixels);
  y_ = DeviceArray<int32_t>(backend_, max_rows);
  dlogits_ = DeviceArray<float>(backend_, static_cast<size_t>(config.batch_size) * mnist::kClasses);
  loss_sum_ = DeviceArray<double>(backend_, 2);
  correct_ = DeviceArray<int64_t>(backend_, 1);
}

void Trainer::begin_epoch(int epoch) {
  sampler_.epoch_order(static_cast<uint64_t>(epoch), epoch_order_);
  backend_.copy_to_device(epoch_order_on_device_.data(), epoch_order_.data(),
                          epoch_order_on_device_.bytes());
  const double zero = 0.0;
  backend_.copy_to_device(loss_sum_.data() + kTrainLoss, &zero, sizeof zero);
}

void Trainer::step(size_t k) {
  const int rows = config_.batch_size;
  backend_.gather_batch(train_images_.data(), train_labels_.data(), mnist::kPixels,
                        epoch_order_on_device_.data() + k * sampler_.local_batch(), rows, x_.data(),
                        y_.data());
  const float* logits = model_.forward(params_.data(), x_.data(), rows);
  backend_.softmax_cross_entropy(logits, y_.data(), rows, mnist::kClasses, grad_scale_,
                                 dlogits_.data(), loss_sum_.data() + kTrainLoss);
  model_.backward(params_.data(), x_.data(), dlogits_.data(), rows, grads_.data());
  update_.apply(params_.data(), grads_.data());
}

Evaluation Trainer::evaluate() {
  const double zero_loss = 0.0;
  const int64_t zero_count = 0;
  backend_.copy_to_device(loss_sum_.data() + kTestLoss, &zero_loss, sizeof zero_loss);
  backend_.copy_to_device(correct_.data(), &zero_count, sizeof zero_count);
  const size_t batch = static_cast<size_t>(config_.eval_batch_size);
  for (size_t begin = 0; begin < test_rows_; begin += batch) {
    const int rows = static_cast<int>(std::min(batch, test_rows_ - begin));
    backend_.gather_batch(test_images_.data(), test_labels_.data(), mnist::kPixels,
                          test_order_.data() + begin, rows, x_.data(), y_.data());
    const float* logits = model_.forward(params_.data(), x_.data(), rows);
    backend_.softmax_cross_entropy(logits, y_.data(), rows, mnist::kClasses, 0.0f, nullptr,
                                   loss_sum_.data() + kTestLoss);
    backend_.count_correct(logits, y_.data(), rows, mnist::kClasses, correct_.data());
  }
  double totals[3] = {0.0, 0.0, static_cast<double>(test_rows_)};
  int64_t correct = 0;
  backend_.copy_to_host(&totals[0], loss_sum_.data() + kTestLoss, sizeof(double));
  backend_.copy_to_host(&correct, correct_.data(), sizeof correct);
  totals[1] = static_cast<double>(correct);
  world_.sum(totals);
  Evaluation result;
  result.rows = static_cast<int64_t>(totals[2]);
  result.correct = static_cast<int64_t>(totals[1]);
  result.loss = totals[0] / totals[2];
  result.accuracy = totals[1] / totals[2];
  return result;
}

EpochMetrics Trainer::run_epoch(int epoch, TrainingObserver* observer) {
  const Clock::time_point start = Clock::now();
  begin_epoch(epoch);
  const size_t steps = sampler_.steps_per_epoch();
  for (size_t k = 0; k < steps; ++k) {
    step(k);
    if (observer != nullptr) observer->on_step(epoch, k + 1, steps);
  }
  double train_loss = 0.0;
  backend_.copy_to_host(&train_loss, loss_sum_.data() + kTrainLoss, sizeof train_loss);
  EpochMetrics metrics;
  metrics.train_seconds = seconds_since(start);
  world_.sum({&train_loss, 1});
  metrics.epoch = epoch;
  metrics.steps = steps;
  metrics.samples = steps * sampler_.global_batch();
  metrics.train_loss = train_loss / static_cast<double>(metrics.samples);
  metrics.test = evaluate();
  metrics.epoch_seconds = seconds_since(start);
  metrics.samples_per_second = static_cast<double>(metrics.samples) / metrics.train_seconds;
  update_.end_epoch(metrics);
  if (observer != nullptr) observer->on_epoch_end(metrics);
  return metrics;
}

void Trainer::fit(TrainingObserver* observer) {
  for (int epoch = 1; epoch <= config_.epochs; ++epoch)
    run_epoch(epoch, observer);
}

std::vector<float> Trainer::parameters() const {
  std::vector<float> host(params_.size());
  backend_.copy_to_host(host.data(), params_.data(), params_.bytes());
  return host;
}

}  // namespace dptrain
