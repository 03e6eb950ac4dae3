// dptrain_check_trace [--micro-batches M] [--exact] [--gpu] STEPS LAYERS BUCKETS FILE...
// Checks --trace files: each is Chrome trace-event JSON with nothing dropped, names its rank as
// a process, and holds, for every one of STEPS steps, one complete event per phase of the step
// (M of them for the micro-batches' gather, forward and backward per layer; the exchange, with
// --exact the agreement on the scales, the optimizer) and, on the in-flight track, BUCKETS
// gradient buckets per step, with non-negative durations that do not overlap within a phase and
// track. A GPU stream track (required with --gpu) holds the same spans as the host's step track.
// Exits 1 with the reason otherwise.
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

struct Expected {
  long steps = 0;
  int layers = 0;
  long buckets = 0;
  long micro_batches = 1;
  bool exact = false;
  bool gpu = false;
};

constexpr int kStepTrack = 0;
constexpr int kGpuTrack = 2;  // the spans as the device's stream ran them

int check(const std::string& path, const Expected& e) {
  std::ifstream file(path);
  if (!file) return fail(path, "cannot open");
  nlohmann::json trace;
  try {
    trace = nlohmann::json::parse(file);
  } catch (const std::exception& error) {
    return fail(path, std::string("not JSON: ") + error.what());
  }
  if (trace["otherData"]["dropped_events"] != 0) return fail(path, "events were dropped");
  std::map<std::string, long> count;  // on the host's tracks
  std::map<std::string, long> step_count, gpu_count;
  std::map<std::string, double> end_of_last;
  bool named = false, gpu_named = false;
  for (const nlohmann::json& event : trace["traceEvents"]) {
    if (event["ph"] == "M") {
      named = named || event["name"] == "process_name";
      gpu_named = gpu_named || (event["tid"] == kGpuTrack && event["args"]["name"] == "GPU stream");
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
    if (event["tid"] == kGpuTrack) {
      ++gpu_count[name];
      continue;
    }
    ++count[name];
    if (event["tid"] == kStepTrack) ++step_count[name];
  }
  if (!named) return fail(path, "no process_name metadata");
  if (e.gpu && !gpu_named) return fail(path, "no GPU stream track");
  if (gpu_named && gpu_count != step_count)
    return fail(path, "the GPU stream track does not hold the same spans as the step track");
  const long passes = e.steps * e.micro_batches;
  std::map<std::string, long> expected = {
      {"gather batch", passes},         {"forward and loss", passes},
      {"allreduce", e.steps},           {"agree on scales", e.exact ? e.steps : 0},
      {"check and optimizer", e.steps}, {"gradient bucket", e.steps * e.buckets}};
  for (int layer = 0; layer < e.layers; ++layer)
    expected["backward layer" + std::to_string(layer)] = passes;
  for (const auto& [name, n] : expected)
    if (count[name] != n)
      return fail(path, "'" + name + "': " + std::to_string(count[name]) + " events, expected " +
                            std::to_string(n));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Expected expected;
  int next = 1;
  for (; next < argc && std::string(argv[next]).starts_with("--"); ++next) {
    const std::string flag = argv[next];
    if (flag == "--exact") {
      expected.exact = true;
    } else if (flag == "--gpu") {
      expected.gpu = true;
    } else if (flag == "--micro-batches" && next + 1 < argc) {
      expected.micro_batches = std::stol(argv[++next]);
    } else {
      next = argc;  // the usage below
    }
  }
  if (argc - next < 4) {
    std::fprintf(stderr,
                 "usage: dptrain_check_trace [--micro-batches M] [--exact] [--gpu] STEPS LAYERS "
                 "BUCKETS FILE...\n");
    return 1;
  }
  expected.steps = std::stol(argv[next]);
  expected.layers = std::stoi(argv[next + 1]);
  expected.buckets = std::stol(argv[next + 2]);
  for (int i = next + 3; i < argc; ++i)
    if (check(argv[i], expected) != 0) return 1;
  std::printf("check_trace: %d file(s), %ld steps each, all phases present\n", argc - next - 3,
              expected.steps);
  return 0;
}
