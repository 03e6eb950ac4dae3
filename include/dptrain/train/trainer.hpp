#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dptrain/backend/backend.hpp"
#include "dptrain/comm/communicator.hpp"
#include "dptrain/comm/world.hpp"
#include "dptrain/data/mnist_h5.hpp"
#include "dptrain/data/sampler.hpp"
#include "dptrain/model/mlp.hpp"
#include "dptrain/optim/adam.hpp"
#include "dptrain/train/config.hpp"

namespace dptrain {

struct Evaluation {
  double loss = 0.0;      // mean over the test set
  double accuracy = 0.0;  // correct / rows
  int64_t correct = 0;
  int64_t rows = 0;
};

struct EpochMetrics {
  int epoch = 0;  // from 1
  size_t steps = 0;
  size_t samples = 0;       // trained this epoch, over all ranks
  double train_loss = 0.0;  // mean over the epoch's samples
  Evaluation test;
  double train_seconds = 0.0;
  double epoch_seconds = 0.0;       // training and evaluation
  double samples_per_second = 0.0;  // samples / train_seconds
};

class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  virtual void on_step(int /*epoch*/, size_t /*step*/, size_t /*steps*/) {}
  virtual void on_epoch_end(const EpochMetrics& /*metrics*/) {}
};

// The data-parallel training loop of one rank. Every rank holds a replica of the model in one
// flat parameter buffer and a shard of the data on its backend; a step computes gradients of its
// local batch into one flat gradient buffer, sums them across ranks (they are pre-scaled by
// 1 / global batch), and applies Adam.
class Trainer {
 public:
  // Collective. Loads this rank's shard and builds the model on every rank; any problem on any
  // rank (bad data, too few rows, ...) becomes the same AgreedError on every rank. Then checks
  // that all ranks built the same model and gives every rank rank 0's initial parameters.
  static std::unique_ptr<Trainer> create(const TrainConfig& config, const World& world,
                                         Communicator& communicator, Backend& backend);

  // All epochs, reporting to the observer (which may be null).
  void fit(TrainingObserver* observer);
  EpochMetrics run_epoch(int epoch, TrainingObserver* observer);

  // The pieces of an epoch, for tests: begin_epoch shuffles, step(k) runs the k-th step.
  void begin_epoch(int epoch);
  void step(size_t k);
  Evaluation evaluate();  // collective

  const Mlp& model() const { return model_; }
  const ShardedSampler& sampler() const { return sampler_; }
  size_t shard_rows() const { return train_rows_; }
  std::vector<float> parameters() const;  // a host copy of the flat parameter buffer

 private:
  Trainer(const TrainConfig& config, const World& world, Communicator& communicator,
          Backend& backend, const MnistH5Reader& reader);
  void synchronize_replicas();

  TrainConfig config_;
  const World& world_;
  Communicator& communicator_;
  Backend& backend_;
  ShardedSampler sampler_;
  Mlp model_;
  Adam adam_;
  float grad_scale_;

  size_t train_rows_;
  size_t test_rows_;
  DeviceArray<uint8_t> train_images_, train_labels_, test_images_, test_labels_;
  DeviceArray<uint32_t> test_order_;   // 0, 1, ... : the test shard in order
  std::vector<uint32_t> epoch_order_;  // host copy of the epoch's order (see ShardedSampler)
  DeviceArray<uint32_t> epoch_order_on_device_;

  DeviceArray<float> params_, grads_;
  DeviceArray<float> x_, dlogits_;
  DeviceArray<int32_t> y_;
  DeviceArray<double> loss_sum_;
  DeviceArray<int64_t> correct_;
};

}  // namespace dptrain
