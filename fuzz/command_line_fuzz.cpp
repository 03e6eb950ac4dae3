// `dptrain train`'s command line: the input is its arguments, separated by NUL bytes (the first
// byte picks the number of ranks, 1 to 8), parsed by the options of the shipped CLI (src/cli,
// library dptrain_cli) and checked by validate(), as run_train does; an accepted configuration
// then builds its model's description for MNIST's shape and its JSON record. CLI11's ParseError
// is how the binary refuses a malformed command line (status 2), so it is accepted with
// InputError.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "commands.hpp"
#include "dptrain/model/model_spec.hpp"
#include "dptrain/train/config.hpp"
#include "fuzz_check.hpp"

namespace {

// Longer command lines only repeat options.
constexpr size_t kMaxCommandLineBytes = 4096;

// The arguments after `dptrain`, in CLI11's order for parse(): last first.
std::vector<std::string> reversed_arguments(const uint8_t* data, size_t size) {
  std::vector<std::string> arguments{"train"};
  std::string argument;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      arguments.push_back(argument);
      argument.clear();
    } else {
      argument += static_cast<char>(data[i]);
    }
  }
  arguments.push_back(argument);
  std::reverse(arguments.begin(), arguments.end());
  return arguments;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dptrain;
  if (size < 1 || size > kMaxCommandLineBytes) return 0;
  const int world_size = 1 + data[0] % 8;
  std::vector<std::string> arguments = reversed_arguments(data + 1, size - 1);
  fuzz::accepts_input_errors([&] {
    CLI::App app{"dptrain", "dptrain"};
    app.require_subcommand(1);
    CLI::App* train = app.add_subcommand("train", "Train");
    TrainConfig config;
    cli::add_train_options(*train, config);
    try {
      app.parse(arguments);
    } catch (const CLI::ParseError&) {
      return;  // --help too: the binary prints it and exits
    }
    cli::validate(config, world_size);
    const ModelSpec spec = model_spec(config);
    fuzz::require(!(config.hidden && spec.hidden != *config.hidden),
                  "--hidden's widths are the MLP's");
    describe_model(spec);
    config_to_json(config);
  });
  return 0;
}
