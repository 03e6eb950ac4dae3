// dptrain_check_trace STEPS LAYERS BUCKETS FILE...
// Checks --trace files: each is Chrome trace-event JSON with nothing dropped, names its rank as
// a process, and holds, for every one of STEPS steps, one complete event per phase of the step
// (the batch gather, forward, one backward event per layer, the exchange, the optimizer) and,
// on the in-flight track, BUCKETS gradient buckets per step, with non-negative
// durations that do not overlap within a phase and track. Exits 1 with the reason otherwise.
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace {

int fail(const std::string& file, const std::string& why) {
  std::fprintf(stderr, "check_trace: %s: %s\n", file.c_str(), why.c_str());
  return 1;
}

int check(const std::string& path, long steps, int layers, long buckets) {
  std::ifstream file(path);
  if (!file) return fail(path, "cannot open");
  nlohmann::json trace;
  try {
    trace = nlohmann::json::parse(file);
  } catch (const std::exception& error) {
    return fail(path, std::string("not JSON: ") + error.what());
  }
  if (trace["otherData"]["dropped_events"] != 0) return fail(path, "events were dropped");
  std::map<std::string, long> count;
  std::map<std::string, double> end_of_last;
  bool named = false;
  for (const nlohmann::json& event : trace["traceEvents"]) {
    if (event["ph"] == "M") {
      named = named || event["name"] == "process_name";
      continue;
    }
    if (event["ph"] != "X") return fail(path, "unexpected event " + event.dump());
    const std::string name = event["name"];
    const std::string phase = std::string(event["cat"]) + " on track " + event["tid"].dump();
    const double begin = event["ts"], duration = event["dur"];
    if (duration < 0) return fail(path, "negative duration in " + event.dump());
    if (end_of_last.count(phase) && begin + 1e-3 < end_of_last[phase])
      return fail(path, "events of phase " + phase + " overlap at " + event.dump());
    end_of_last[phase] = begin + duration;
    ++count[name];
  }
  if (!named) return fail(path, "no process_name metadata");
  std::map<std::string, long> expected = {{"gather batch", steps},
                                          {"forward and loss", steps},
                                          {"allreduce", steps},
                                          {"check and Adam", steps},
                                          {"gradient bucket", steps * buckets}};
  for (int layer = 0; layer < layers; ++layer)
    expected["backward layer" + std::to_string(layer)] = steps;
  for (const auto& [name, n] : expected)
    if (count[name] != n)
      return fail(path, "'" + name + "': " + std::to_string(count[name]) + " events, expected " +
                            std::to_string(n));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: dptrain_check_trace STEPS LAYERS BUCKETS FILE...\n");
    return 1;
  }
  const long steps = std::stol(argv[1]);
  const int layers = std::stoi(argv[2]);
  const long buckets = std::stol(argv[3]);
  for (int i = 4; i < argc; ++i)
    if (check(argv[i], steps, layers, buckets) != 0) return 1;
  std::printf("check_trace: %d file(s), %ld steps each, all phases present\n", argc - 4, steps);
  return 0;
}
