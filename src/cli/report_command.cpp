// `dptrain report`: one self-contained HTML page from --metrics files (and an `eval --json`
// file). It only reads files and writes one, so it runs as a single process without MPI (main
// calls report_main before MPI starts): on a laptop the files were copied to, no launcher needed.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "commands.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/report/html_report.hpp"
#include "dptrain/report/run_files.hpp"

namespace dptrain::cli {
namespace {

// The processes a launcher started this one among (Open MPI's mpirun, or a PMI launcher such as
// MPICH's or srun), and this one's rank; 1 and 0 when none did.
long launched(const char* open_mpi, const char* pmi) {
  for (const char* name : {open_mpi, pmi})
    if (const char* value = std::getenv(name)) return std::strtol(value, nullptr, 10);
  return -1;
}

// Each run's label: --label in the order of the --metrics options, else the file's name; the
// path as given where two files share a name.
std::vector<std::string> labels_of(const ReportOptions& options) {
  std::vector<std::string> labels;
  for (size_t i = 0; i < options.metrics.size(); ++i) {
    if (i < options.labels.size()) {
      if (options.labels[i].empty()) throw InputError("--label must not be empty");
      labels.push_back(options.labels[i]);
      continue;
    }
    const std::string name = std::filesystem::path(options.metrics[i]).filename().string();
    bool shared = false;
    for (size_t j = options.labels.size(); j < options.metrics.size(); ++j)
      shared = shared || (j != i && std::filesystem::path(options.metrics[j]).filename() == name);
    labels.push_back(shared || name.empty() ? options.metrics[i] : name);
  }
  for (size_t i = 0; i < labels.size(); ++i)
    for (size_t j = i + 1; j < labels.size(); ++j)
      if (labels[i] == labels[j])
        throw InputError("two runs are labelled '" + labels[i] +
                         "'; give each its own --label (in the order of the --metrics)");
  return labels;
}

}  // namespace

void add_report_options(CLI::App& command, ReportOptions& options) {
  command.add_option("--metrics", options.metrics,
                     "A --metrics file of dptrain train (a JSON line per epoch); one per run, "
                     "the runs overlaid");
  command.add_option("--label", options.labels,
                     "The runs' names, in the order of the --metrics (default: the file's name)");
  command.add_option("--eval", options.eval,
                     "A file of dptrain eval --json: its confusion matrix as a heat map");
  command.add_option("--out", options.out, "The HTML file to write")->required();
  command.add_flag("--overwrite", options.overwrite, "Replace --out if it exists");
}

int run_report(const ReportOptions& options) {
  if (options.metrics.empty() && options.eval.empty())
    throw InputError("dptrain report needs --metrics (a run) or --eval (an evaluation)");
  if (options.labels.size() > options.metrics.size())
    throw InputError("--label is given " + std::to_string(options.labels.size()) +
                     " times but --metrics " + std::to_string(options.metrics.size()) +
                     "; each --label names the run of the --metrics in its place");
  report::check_new_file("report file", options.out, options.overwrite);
  const std::vector<std::string> labels = labels_of(options);
  std::vector<report::Run> runs;
  for (size_t i = 0; i < options.metrics.size(); ++i)
    runs.push_back({labels[i], options.metrics[i], report::read_metrics_file(options.metrics[i])});
  std::optional<report::EvalResult> eval;
  if (!options.eval.empty()) eval = report::read_eval_file(options.eval);

  const std::string page = report::render_report(runs, eval ? &*eval : nullptr,
                                                 std::string("dptrain ") + DPTRAIN_VERSION);
  report::write_file_atomically("report file", options.out, page);
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(options.out, error);
  std::printf("dptrain: wrote %s: %zu run(s)%s; open file://%s in a browser\n", options.out.c_str(),
              runs.size(), eval ? " and a confusion matrix" : "",
              (error ? options.out : absolute.lexically_normal().string()).c_str());
  return kExitOk;
}

int report_main(int argc, char** argv) {
  // Under mpirun -np N, N processes would write one file: refuse, once (the first process).
  const long processes = launched("OMPI_COMM_WORLD_SIZE", "PMI_SIZE");
  if (processes > 1) {
    if (launched("OMPI_COMM_WORLD_RANK", "PMI_RANK") <= 0)
      std::fprintf(stderr,
                   "dptrain: error: dptrain report is a single process, here started as %ld; "
                   "run it without mpirun\n",
                   processes);
    return kExitBadInput;
  }
  CLI::App app{"dptrain report: an HTML page of training runs and an evaluation", "dptrain report"};
  ReportOptions options;
  add_report_options(app, options);
  try {
    app.parse(argc - 1, argv + 1);  // argv[1], "report", as the program's name
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help
    std::fprintf(stderr, "dptrain: error: %s (see dptrain report --help)\n", error.what());
    return kExitBadInput;
  }
  try {
    return run_report(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "dptrain: error: %s\n", error.what());
    return exit_status_of(error);
  }
}

}  // namespace dptrain::cli
