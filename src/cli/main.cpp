// dptrain: data-parallel training over MPI. Error policy (README, "Errors"): problems found while
// setting up are agreed among all ranks, so that every rank exits with the same status and rank 0
// prints one line; a failure later, which the other ranks cannot know about, aborts the job.
#include <cstdio>
#include <string_view>

#include "commands.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/core/log.hpp"

namespace {

using namespace dptrain;

int report_parse_error(const CLI::App& app, const CLI::ParseError& error, const World& world) {
  if (error.get_exit_code() == 0) {  // --help
    if (world.is_root()) app.exit(error);
    return kExitOk;
  }
  if (world.is_root())
    std::fprintf(stderr, "dptrain: error: %s (see dptrain --help)\n", error.what());
  return kExitBadInput;
}

int run(int argc, char** argv, const World& world) {
  CLI::App app{"dptrain: data-parallel neural-network training over MPI", "dptrain"};
  app.require_subcommand(1);

  CLI::App* prepare = app.add_subcommand("prepare", "Convert a data set to dptrain's HDF5 layout");
  prepare->require_subcommand(1);
  cli::PrepareOptions prepare_options;
  for (const DataSetInfo& data_set : data_sets())
    cli::add_prepare_options(
        *prepare->add_subcommand(data_set.name, std::string(data_set.title) + " IDX files to HDF5"),
        data_set.data_set, prepare_options);

  CLI::App* train = app.add_subcommand("train", "Train a model, data-parallel over all ranks");
  TrainConfig train_config;
  cli::add_train_options(*train, train_config);

  CLI::App* eval = app.add_subcommand("eval", "Score a checkpoint on a data set's test split");
  cli::EvalOptions eval_options;
  cli::add_eval_options(*eval, eval_options);

  CLI::App* info =
      app.add_subcommand("info", "What this build and machine offer: backends, MPI, GPUs");

  // main runs `dptrain report` before MPI starts (report_main); here it is listed in --help.
  CLI::App* report =
      app.add_subcommand("report", "An HTML page of --metrics runs and an eval --json (no MPI)");
  cli::ReportOptions report_options;
  cli::add_report_options(*report, report_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return report_parse_error(app, error, world);
  }
  if (*prepare) return cli::run_prepare(prepare_options, world);
  if (*info) return cli::run_info(world);
  if (*eval) return cli::run_eval(eval_options, world);
  if (*report) return cli::run_report(report_options);
  return cli::run_train(train_config, world);
}

}  // namespace

int main(int argc, char** argv) {
  // `report` reads files and writes one: no MPI, so it needs no launcher.
  if (argc > 1 && std::string_view(argv[1]) == "report") return cli::report_main(argc, argv);
  MpiSession mpi(argc, argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  set_printer(rank == 0);
  try {
    const World world(MPI_COMM_WORLD);
    return run(argc, argv, world);
  } catch (const AgreedError& error) {
    if (rank == 0) std::fprintf(stderr, "dptrain: error: %s\n", error.what());
    return error.exit_status();
  } catch (const std::exception& error) {
    // Only this rank knows; the others may be waiting in a collective, so end the whole job.
    std::fprintf(stderr, "dptrain: error: rank %d: %s\n", rank, error.what());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_status_of(error));
    return exit_status_of(error);
  }
}
