#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "dptrain/comm/world.hpp"
#include "dptrain/data/prepare.hpp"
#include "dptrain/train/config.hpp"

namespace dptrain::cli {

struct PrepareOptions {
  DataSet data_set = DataSet::kMnist;  // set by the subcommand given
  std::string idx_dir;
  std::string out;
  bool overwrite = false;
};

struct EvalOptions {
  std::string checkpoint;
  std::string data;
  int batch_rows = 1000;
  std::string json;  // --json: also write the result here (rank 0)
  bool overwrite = false;
};

struct ReportOptions {
  std::vector<std::string> metrics;  // a run per file
  std::vector<std::string> labels;   // by run, in order; the file's name for runs without one
  std::string eval;
  std::string out;
  bool overwrite = false;
};

// `prepare <data set>`: sets options.data_set when it is the subcommand given.
void add_prepare_options(CLI::App& command, DataSet data_set, PrepareOptions& options);
void add_eval_options(CLI::App& command, EvalOptions& options);
void add_train_options(CLI::App& command, TrainConfig& config);
void add_report_options(CLI::App& command, ReportOptions& options);

// For a number option whose range is checked after parsing (validate(), naming the option and
// the rule): text that is not a T is refused here, "--epochs: 'abc' is not a whole number", and
// the help names the range: INT:POSITIVE. T: int, int64_t or double.
template <class T>
CLI::Option* ranged(CLI::Option* option, const std::string& range);

// Throws InputError for settings no run can use on world_size ranks, ranges included (the parser
// checks types and lists before).
void validate(const TrainConfig& config, int world_size);

// Each returns the exit status; errors that every rank shares come back as AgreedError.
int run_prepare(const PrepareOptions& options, const World& world);
int run_train(const TrainConfig& config, const World& world);
// Test accuracy and confusion matrix of a checkpoint.
int run_eval(const EvalOptions& options, const World& world);
// What this build and this machine offer: backends, BLAS, MPI, visible CUDA devices.
int run_info(const World& world);
// The HTML page of one or more runs (and an evaluation): a single process, without MPI.
int run_report(const ReportOptions& options);
// `dptrain report ...` as a whole, argv[1] being "report": parses, runs, prints any error and
// returns the exit status. main calls it before MPI starts, as the report needs none.
int report_main(int argc, char** argv);

}  // namespace dptrain::cli
