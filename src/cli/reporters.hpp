#pragma once

#include <array>
#include <chrono>
#include <fstream>
#include <string>

#include "dptrain/train/trainer.hpp"

namespace dptrain::cli {

// One JSON object per line and epoch (README, "Metrics"). Opened before training, so that a
// path that cannot be written fails the run before it starts; each line is flushed at once.
class MetricsFile {
 public:
  // InputError if the file exists and overwrite is false, or if it cannot be created.
  MetricsFile(const std::string& path, bool overwrite, int world_size, int replicas,
              size_t global_batch);
  void write(const EpochMetrics& metrics);

 private:
  std::string path_;
  std::ofstream stream_;
  int world_size_;
  int replicas_;
  size_t global_batch_;
};

// --trace: this rank's Chrome trace, FILE.json becoming FILE.rank<r>.json. Created before
// training, under the same rules as the metrics file; written when training ends.
class TraceFile {
 public:
  TraceFile(const std::string& path, int rank, bool overwrite);
  void write();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream stream_;
  int rank_;
};

// What rank 0 prints: a line per epoch and, if wanted, a progress bar within the epoch.
class ConsoleReporter final : public TrainingObserver {
 public:
  ConsoleReporter(int epochs, bool progress_bar, MetricsFile* metrics);
  void on_step(int epoch, size_t step, size_t steps) override;
  void on_epoch_end(const EpochMetrics& metrics) override;
  // The end-of-run table: where the printing rank's time went, by phase, over all epochs; on a
  // GPU the stream's time, with the host's in the same spans below it.
  void print_where_time_went() const;

 private:
  int epochs_;
  bool progress_bar_;
  MetricsFile* metrics_;
  std::chrono::steady_clock::time_point last_draw_{};
  std::array<double, trace::kPhases> phase_seconds_{};       // EpochMetrics::phase_seconds
  std::array<double, trace::kPhases> host_phase_seconds_{};  // the host's, beside them
  bool on_gpu_stream_ = false;  // phase_seconds_ are a GPU stream's (a DeviceTimer)
};

}  // namespace dptrain::cli
