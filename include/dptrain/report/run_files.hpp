#pragma once

// What `dptrain report` reads: the --metrics files of `dptrain train` (a JSON object per line and
// epoch, reporters.cpp MetricsFile::write) and the --json file of `dptrain eval`; and the rule
// for what it and `eval --json` write: nothing a user wrote is replaced without --overwrite, and
// nothing is left half written.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dptrain::report {

inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();

// One line of a metrics file. A quantity the line lacks (or records as null: JSON's NaN) is
// kNoValue.
struct EpochRecord {
  int epoch = 0;
  double train_loss = kNoValue;
  double test_loss = kNoValue;
  double test_accuracy = kNoValue;
  double lr = kNoValue;
  double samples_per_second = kNoValue;
  double train_seconds = kNoValue;
  std::optional<int64_t> world_size;
  std::optional<int64_t> replicas;
  std::optional<int64_t> global_batch;
  std::optional<int64_t> test_rows;
  std::string mode;         // "allreduce", "allreduce, sharded", "parameter servers", ... or ""
  std::string phase_clock;  // "host", "gpu stream" or ""
  // Seconds per phase, in trace::Phase's order (data, forward, ...), then any others by name.
  std::vector<std::pair<std::string, double>> phase_seconds;
};

// A run as the report shows it.
struct Run {
  std::string label;
  std::string path;
  std::vector<EpochRecord> epochs;  // rising epoch numbers
};

// A metrics file's lines, as `name` (its path) in messages: InputError naming the line for a line
// that is not a JSON object, lacks a whole positive "epoch", holds a recorded quantity of the
// wrong type, or does not follow the epoch before it; and for a file without any epoch. Blank
// lines are passed over.
std::vector<EpochRecord> parse_metrics(const std::string& text, const std::string& name);
// The same from the file: InputError also when it is missing or cannot be read.
std::vector<EpochRecord> read_metrics_file(const std::string& path);

// What `dptrain eval --json` writes: the checkpoint, its scores on the test set, and the
// confusion matrix, counts[label][prediction].
struct EvalResult {
  std::string model;
  std::string checkpoint;
  std::string data;
  std::string data_set;          // the data file's "dataset" attribute, or "" when it has none
  std::optional<int64_t> epoch;  // the checkpoint's epoch in progress, from 1
  std::optional<int64_t> step;   // that epoch's steps already taken
  std::optional<int64_t> global_step;       // steps since training began
  std::optional<int64_t> epochs_completed;  // epoch - 1
  std::optional<int64_t> world_size;
  std::optional<int64_t> global_batch;
  double test_loss = kNoValue;
  double test_accuracy = kNoValue;
  std::optional<int64_t> test_correct;
  std::optional<int64_t> test_rows;
  std::vector<std::string> classes;             // names by label
  std::vector<std::vector<int64_t>> confusion;  // [label][prediction]
};

// One JSON object, pretty-printed, with a final newline.
std::string eval_result_json(const EvalResult& result);
// InputError (naming `name`) for anything but such an object: "classes" a list of N >= 1
// names, "confusion" N lists of N counts >= 0, and the other keys, where present, of their types.
EvalResult parse_eval_result(const std::string& text, const std::string& name);
EvalResult read_eval_file(const std::string& path);

// For an output file (`what` names it in messages, e.g. "report file"): InputError if it exists
// and overwrite is false, if it is a directory, or if its directory does not exist.
void check_new_file(const std::string& what, const std::string& path, bool overwrite);
// Writes text to path.tmp, then renames it onto path: a reader never sees half a file.
// InputError if it cannot be written.
void write_file_atomically(const std::string& what, const std::string& path,
                           const std::string& text);

}  // namespace dptrain::report
