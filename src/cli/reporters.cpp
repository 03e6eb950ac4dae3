#include "reporters.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "dptrain/core/error.hpp"

namespace dptrain::cli {
namespace {

// Why the file could not be opened, as the C library said when opening it (libstdc++'s streams
// open with open(2), which sets errno), or nothing when it did not say.
std::string reason() {
  return errno != 0 ? std::string(": ") + std::strerror(errno) : std::string();
}

}  // namespace

MetricsFile::MetricsFile(const std::string& path, bool overwrite, int world_size, int replicas,
                         size_t global_batch)
    : path_(path), world_size_(world_size), replicas_(replicas), global_batch_(global_batch) {
  if (!overwrite && std::filesystem::exists(path))
    throw InputError("metrics file '" + path + "' already exists; pass --overwrite to replace it");
  errno = 0;
  stream_.open(path, std::ios::out | std::ios::trunc);
  if (!stream_) throw InputError("cannot create metrics file '" + path + "'" + reason());
}

namespace {

std::string with_rank(const std::string& path, int rank) {
  const std::filesystem::path file(path);
  std::filesystem::path ranked = file;
  ranked.replace_filename(file.stem().string() + ".rank" + std::to_string(rank) +
                          file.extension().string());
  return ranked.string();
}

}  // namespace

TraceFile::TraceFile(const std::string& path, int rank, bool overwrite)
    : path_(with_rank(path, rank)), rank_(rank) {
  if (!overwrite && std::filesystem::exists(path_))
    throw InputError("trace file '" + path_ + "' already exists; pass --overwrite to replace it");
  errno = 0;
  stream_.open(path_, std::ios::out | std::ios::trunc);
  if (!stream_) throw InputError("cannot create trace file '" + path_ + "'" + reason());
}

void TraceFile::write() {
  trace::write_chrome_trace(stream_, rank_);
  stream_.flush();
  if (!stream_) throw std::runtime_error("cannot write trace file '" + path_ + "'");
}

namespace {

nlohmann::json by_phase(const std::array<double, trace::kPhases>& seconds) {
  nlohmann::json phases = nlohmann::json::object();
  for (int p = 0; p < trace::kPhases; ++p)
    phases[trace::phase_name(static_cast<trace::Phase>(p))] = seconds[static_cast<size_t>(p)];
  return phases;
}

}  // namespace

void MetricsFile::write(const EpochMetrics& metrics) {
  // EpochMetrics carries one set of totals, the GPU stream's on a GPU; the host's beside them
  // come from the same read of the trace's totals.
  const trace::PhaseReading reading = trace::last_phase_reading();
  nlohmann::json line = {
      {"epoch", metrics.epoch},
      {"train_loss", metrics.train_loss},
      {"lr", metrics.lr},
      {"test_loss", metrics.test.loss},
      {"test_accuracy", metrics.test.accuracy},
      {"test_correct", metrics.test.correct},
      {"test_rows", metrics.test.rows},
      {"steps", metrics.steps},
      {"steps_run", metrics.steps_run},
      {"skipped_steps", metrics.skipped_steps},
      {"recomputed_steps", metrics.recomputed_steps},
      {"samples", metrics.samples},
      {"train_seconds", metrics.train_seconds},
      {"epoch_seconds", metrics.epoch_seconds},
      {"samples_per_second", metrics.samples_per_second},
      {"world_size", world_size_},
      {"phase_seconds", by_phase(metrics.phase_seconds)},
      {"phase_clock", reading.device ? "gpu stream" : "host"},
      {"replicas", replicas_},
      {"global_batch", global_batch_},
  };
  if (reading.device) line["phase_host_seconds"] = by_phase(reading.host);
  if (metrics.ps) {
    const PsMetrics& ps = *metrics.ps;
    line["ps"] = {
        {"async", ps.async},
        {"servers", ps.servers},
        {"server_elements", ps.server_elements},
        {"push_bytes_per_step", ps.push_bytes_per_step},
        {"pull_bytes_per_step", ps.pull_bytes_per_step},
        {"updates_per_server", ps.updates_per_server},
        {"max_staleness", ps.max_staleness},
    };
  }
  if (metrics.allreduce) {
    const AllreduceMetrics& allreduce = *metrics.allreduce;
    line["allreduce"] = {
        {"collectives_per_step", allreduce.collectives_per_step},
        {"bytes_per_step", allreduce.bytes_per_step},
        {"optimizer_state_bytes", allreduce.optimizer_state_bytes},
        {"sharded", allreduce.sharded},
    };
    line["allreduce"]["all_ranks_optimizer_state_bytes"] =
        allreduce.all_ranks_optimizer_state_bytes;
    if (allreduce.sent_bytes_per_step) {
      line["allreduce"]["sent_bytes_per_step"] = *allreduce.sent_bytes_per_step;
      line["allreduce"]["all_ranks_sent_bytes_per_step"] = *allreduce.all_ranks_sent_bytes_per_step;
    }
  }
  if (metrics.grad_norm)
    line["grad_norm"] = {{"mean", metrics.grad_norm->mean},
                         {"last", metrics.grad_norm->last},
                         {"clipped_steps", metrics.grad_norm->clipped_steps}};
  stream_ << line.dump() << '\n' << std::flush;
  if (!stream_) throw std::runtime_error("cannot write metrics file '" + path_ + "'");
}

ConsoleReporter::ConsoleReporter(int epochs, bool progress_bar, MetricsFile* metrics)
    : epochs_(epochs), progress_bar_(progress_bar), metrics_(metrics) {}

void ConsoleReporter::on_step(int epoch, size_t step, size_t steps) {
  if (!progress_bar_) return;
  const auto now = std::chrono::steady_clock::now();
  if (step != steps && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 40;
  const int filled = static_cast<int>(kWidth * step / steps);
  std::printf("\repoch %d/%d [%-*s] %zu/%zu", epoch, epochs_, kWidth,
              std::string(static_cast<size_t>(filled), '#').c_str(), step, steps);
  std::fflush(stdout);
}

void ConsoleReporter::on_epoch_end(const EpochMetrics& m) {
  if (progress_bar_) std::printf("\r\033[K");
  std::printf(
      "epoch %d/%d  train loss %.4f  test loss %.4f  test accuracy %.2f%% (%lld/%lld)  "
      "%.2f s  %.0f samples/s\n",
      m.epoch, epochs_, m.train_loss, m.test.loss, 100.0 * m.test.accuracy,
      static_cast<long long>(m.test.correct), static_cast<long long>(m.test.rows), m.epoch_seconds,
      m.samples_per_second);
  if (m.skipped_steps > 0)
    std::printf("  %zu step(s) skipped for non-finite gradients\n", m.skipped_steps);
  if (m.recomputed_steps > 0)
    std::printf("  %zu step(s) computed again with larger --exact scales\n", m.recomputed_steps);
  if (m.allreduce && m.allreduce->sent_bytes_per_step)
    std::printf(
        "  exchange: %.0f bytes sent per step by this rank, %.0f by all (counted); optimizer "
        "state: %zu bytes on this rank, %zu on all%s\n",
        *m.allreduce->sent_bytes_per_step, m.allreduce->all_ranks_sent_bytes_per_step.value_or(0),
        m.allreduce->optimizer_state_bytes, m.allreduce->all_ranks_optimizer_state_bytes,
        m.allreduce->sharded ? " (sharded, --shard-optimizer)" : "");
  if (m.grad_norm)
    std::printf("  gradient norm: mean %.4g, last %.4g; %zu of %zu step(s) clipped (--clip-norm)\n",
                m.grad_norm->mean, m.grad_norm->last, m.grad_norm->clipped_steps, m.steps_run);
  if (m.ps && m.ps->async)
    std::printf("  ps: %zu updates per server, workers at most %zu steps apart\n",
                m.ps->updates_per_server, m.ps->max_staleness);
  std::fflush(stdout);
  if (metrics_ != nullptr) metrics_->write(m);
  const trace::PhaseReading reading = trace::last_phase_reading();  // the same read as m's
  for (size_t p = 0; p < phase_seconds_.size(); ++p) {
    phase_seconds_[p] += m.phase_seconds[p];
    host_phase_seconds_[p] += reading.host[p];
  }
  on_gpu_stream_ = on_gpu_stream_ || reading.device.has_value();
}

namespace {

void print_phases(const std::array<double, trace::kPhases>& seconds, double total) {
  for (int p = 0; p < trace::kPhases; ++p)
    if (static_cast<trace::Phase>(p) != trace::Phase::graph || seconds[static_cast<size_t>(p)] > 0)
      std::printf("  %s %.2f s (%.0f%%)", trace::phase_name(static_cast<trace::Phase>(p)),
                  seconds[static_cast<size_t>(p)], 100.0 * seconds[static_cast<size_t>(p)] / total);
}

double sum(const std::array<double, trace::kPhases>& seconds) {
  double total = 0.0;
  for (double s : seconds)
    total += s;
  return total;
}

}  // namespace

void ConsoleReporter::print_where_time_went() const {
  const double total = sum(phase_seconds_);
  if (total <= 0.0) return;
  std::printf("where the time went (this rank, all epochs%s):",
              on_gpu_stream_ ? ", GPU stream time" : "");
  print_phases(phase_seconds_, total);
  std::printf("\n");
  // A phase whose host time exceeds its stream time is bound by the host: the GPU waits for it.
  if (on_gpu_stream_ && sum(host_phase_seconds_) > 0.0) {
    std::printf("  host time in the same spans (launches and waits):");
    print_phases(host_phase_seconds_, sum(host_phase_seconds_));
    std::printf("\n");
  }
  std::fflush(stdout);
}

}  // namespace dptrain::cli
