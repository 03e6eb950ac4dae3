#include <cmath>

#include "commands.hpp"
#include "dptrain/core/error.hpp"

namespace dptrain::cli {

void add_prepare_mnist_options(CLI::App& command, PrepareOptions& options) {
  command
      .add_option("--idx-dir", options.idx_dir,
                  "Directory with train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                  "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte")
      ->required();
  command.add_option("--out", options.out, "HDF5 file to write")->required();
  command.add_flag("--overwrite", options.overwrite, "Replace --out if it exists");
}

void add_train_options(CLI::App& command, TrainConfig& config) {
  command.add_option("--data", config.data_path, "HDF5 file in dptrain's layout (README)")
      ->required();
  command.add_option("--epochs", config.epochs, "Passes over the training set")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option("--batch-size", config.batch_size,
                  "Rows per rank and step; the global batch is this times the ranks")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command.add_option("--lr", config.adam.lr, "Adam learning rate")->capture_default_str();
  command.add_option("--hidden", config.hidden, "Hidden layer widths, comma-separated")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command.add_option("--seed", config.seed, "Seed of the initial weights and of the shuffles")
      ->capture_default_str();
  command.add_option("--metrics", config.metrics_path,
                     "Write one JSON object per epoch to this file (rank 0)");
  command.add_flag("--overwrite", config.overwrite, "Replace the --metrics file if it exists");
  command
      .add_option("--threads", config.blas_threads,
                  "BLAS threads per rank; 0: the node's cores divided among its ranks")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command
      .add_option("--weight-decay", config.adam.weight_decay,
                  "Decoupled weight decay (AdamW); 0 for plain Adam")
      ->capture_default_str();
  command.add_option("--beta1", config.adam.beta1, "Adam beta1")->capture_default_str();
  command.add_option("--beta2", config.adam.beta2, "Adam beta2")->capture_default_str();
  command.add_option("--eps", config.adam.eps, "Adam epsilon")->capture_default_str();
  command.add_option("--eval-batch-size", config.eval_batch_size, "Rows per evaluation batch")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option_function<std::string>(
          "--progress",
          [&config](const std::string& mode) {
            config.progress = mode == "on"    ? ProgressMode::on
                              : mode == "off" ? ProgressMode::off
                                              : ProgressMode::automatic;
          },
          "Progress bar on rank 0: on, off, or auto: on when stdout is a terminal, but off under "
          "Open MPI's mpirun, which gives every rank a terminal")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->default_str("auto");
}

void validate(const TrainConfig& config) {
  const auto require = [](bool ok, const std::string& message) {
    if (!ok) throw InputError(message);
  };
  const AdamOptions& adam = config.adam;
  require(std::isfinite(adam.lr) && adam.lr > 0, "--lr must be a positive number");
  require(adam.beta1 >= 0 && adam.beta1 < 1, "--beta1 must be in [0, 1)");
  require(adam.beta2 >= 0 && adam.beta2 < 1, "--beta2 must be in [0, 1)");
  require(std::isfinite(adam.eps) && adam.eps > 0, "--eps must be a positive number");
  require(
      std::isfinite(adam.weight_decay) && adam.weight_decay >= 0 && adam.lr * adam.weight_decay < 1,
      "--weight-decay must be >= 0 with --lr times --weight-decay below 1");
  require(!config.hidden.empty(), "--hidden needs at least one width");
}

}  // namespace dptrain::cli
