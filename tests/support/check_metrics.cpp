// dptrain_check_metrics FILE --epochs N --world-size W --test-rows R --min-accuracy A
//                       [--max-staleness S]
// Checks a --metrics file line by line: one JSON object per epoch, numbered 1..N, with the keys
// the README documents, finite values, the world size and test set expected, the phase totals
// on the clock they name, and a final test accuracy of at least A; with --max-staleness,
// parameter-server metrics whose staleness stayed within S. Prints the final accuracy; exits 1
// with the reason otherwise.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

int fail(const std::string& why) {
  std::fprintf(stderr, "check_metrics: %s\n", why.c_str());
  return 1;
}

// The phase totals: seconds >= 0 for each of the seven phases, on the clock `phase_clock` names;
// on a GPU stream's, the host's beside them. Empty if so, else why not.
std::string check_phases(const nlohmann::json& object) {
  const nlohmann::json clock = object.value("phase_clock", nlohmann::json());
  if (clock != "host" && clock != "gpu stream") return "phase_clock is " + clock.dump();
  std::vector<std::string> totals = {"phase_seconds"};
  if (clock == "gpu stream") totals.push_back("phase_host_seconds");
  for (const std::string& key : totals)
    for (const char* phase :
         {"data", "forward", "backward", "exchange", "optimizer", "other", "graph"})
      if (!object.contains(key) || !object[key].contains(phase) ||
          !object[key][phase].is_number() || object[key][phase].get<double>() < 0)
        return key + " lacks seconds >= 0 for '" + phase + "'";
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> options;
  for (int i = 2; i + 1 < argc; i += 2)
    options[argv[i]] = argv[i + 1];
  for (const char* required : {"--epochs", "--world-size", "--test-rows", "--min-accuracy"})
    if (argc < 2 || argc % 2 != 0 || !options.count(required))
      return fail(
          "usage: FILE --epochs N --world-size W --test-rows R --min-accuracy A "
          "[--max-staleness S]");
  const std::string path = argv[1];
  const int epochs = std::stoi(options["--epochs"]);
  const int world_size = std::stoi(options["--world-size"]);
  const long test_rows = std::stol(options["--test-rows"]);
  const double min_accuracy = std::stod(options["--min-accuracy"]);
  const bool ps = options.count("--max-staleness") > 0;
  const long max_staleness = ps ? std::stol(options["--max-staleness"]) : 0;

  std::ifstream file(path);
  if (!file) return fail("cannot open " + path);
  std::string line;
  int seen = 0;
  double accuracy = 0.0;
  while (std::getline(file, line)) {
    ++seen;
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(line);
    } catch (const std::exception& error) {
      return fail("line " + std::to_string(seen) + " is not JSON: " + error.what());
    }
    for (const char* key :
         {"epoch", "train_loss", "test_loss", "test_accuracy", "epoch_seconds", "train_seconds",
          "samples_per_second", "world_size", "test_rows", "test_correct", "steps", "samples",
          "global_batch", "recomputed_steps"}) {
      if (!object.contains(key) || !object[key].is_number())
        return fail("line " + std::to_string(seen) + " lacks the number '" + key + "'");
      if (!std::isfinite(object[key].get<double>()) || object[key].get<double>() < 0)
        return fail("line " + std::to_string(seen) + ": '" + key + "' is not a finite value >= 0");
    }
    if (const std::string why = check_phases(object); !why.empty())
      return fail("line " + std::to_string(seen) + ": " + why);
    if (object["epoch"] != seen) return fail("epochs out of order at line " + std::to_string(seen));
    if (object["world_size"] != world_size)
      return fail("world_size is " + object["world_size"].dump());
    if (object["test_rows"] != test_rows) return fail("test_rows is " + object["test_rows"].dump());
    if (object["samples_per_second"].get<double>() <= 0) return fail("no throughput");
    if (ps) {
      if (!object.contains("ps") || !object["ps"].contains("max_staleness"))
        return fail("line " + std::to_string(seen) + " has no parameter-server metrics");
      if (object["ps"]["max_staleness"].get<long>() > max_staleness)
        return fail("staleness " + object["ps"]["max_staleness"].dump() + " exceeds the bound");
    }
    accuracy = object["test_accuracy"].get<double>();
    if (std::abs(accuracy - object["test_correct"].get<double>() / static_cast<double>(test_rows)) >
        1e-12)
      return fail("test_accuracy disagrees with test_correct / test_rows");
  }
  if (seen != epochs)
    return fail(std::to_string(seen) + " lines, expected " + std::to_string(epochs));
  std::printf("check_metrics: %d epochs, final test accuracy %.4f (at least %.4f wanted)\n", seen,
              accuracy, min_accuracy);
  return accuracy >= min_accuracy ? 0 : fail("test accuracy below the bound");
}
