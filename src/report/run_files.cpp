#include "dptrain/report/run_files.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>

#include "dptrain/core/error.hpp"
#include "dptrain/core/trace.hpp"

namespace dptrain::report {
namespace {

using nlohmann::json;

// What a file holds, as text; InputError when it is missing or unreadable.
std::string read_text(const std::string& what, const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    throw InputError(what + " '" + path + "' does not exist or is not a regular file");
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream text;
  if (stream) text << stream.rdbuf();
  if (!stream || stream.bad()) throw InputError("cannot read " + what + " '" + path + "'");
  return text.str();
}

// A number, or kNoValue for null (how nlohmann::json writes NaN and infinities); throws the
// message's tail for any other type.
std::optional<double> number_or_null(const json& value) {
  if (value.is_null()) return kNoValue;
  if (value.is_number()) return value.get<double>();
  return std::nullopt;
}

std::optional<int64_t> whole_number(const json& value) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t{INT64_MAX})
      return std::nullopt;
    return value.get<int64_t>();
  }
  if (value.is_number_float()) {
    const double v = value.get<double>();
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15)
      return static_cast<int64_t>(v);
  }
  return std::nullopt;
}

// Each of `fields` that `object` holds: a whole number from 0 into its place; otherwise an
// InputError naming it.
void read_counts(const json& object,
                 std::initializer_list<std::pair<const char*, std::optional<int64_t>*>> fields,
                 const std::string& where) {
  for (const auto& [key, field] : fields) {
    if (!object.contains(key)) continue;
    *field = whole_number(object.at(key));
    if (!*field || **field < 0)
      throw InputError(where + "\"" + key + "\" must be a whole number from 0");
  }
}

std::vector<std::pair<std::string, double>> phases_in_order(const json& object,
                                                            const std::string& where) {
  if (!object.is_object()) throw InputError(where + "\"phase_seconds\" must be an object");
  std::vector<std::pair<std::string, double>> phases;
  // trace::Phase's order first, so that the stacks read as a step runs; names this build does
  // not know (a newer dptrain's) after them, by name.
  std::vector<std::string> known;
  for (int p = 0; p < trace::kPhases; ++p)
    known.emplace_back(trace::phase_name(static_cast<trace::Phase>(p)));
  auto value_of = [&](const std::string& name, const json& value) {
    const std::optional<double> seconds = number_or_null(value);
    if (!seconds) throw InputError(where + "\"phase_seconds\"." + name + " must be a number");
    return *seconds;
  };
  for (const std::string& name : known)
    if (object.contains(name)) phases.emplace_back(name, value_of(name, object.at(name)));
  for (const auto& [name, value] : object.items())
    if (std::find(known.begin(), known.end(), name) == known.end())
      phases.emplace_back(name, value_of(name, value));
  return phases;
}

EpochRecord parse_line(const json& line, const std::string& where) {
  if (!line.is_object()) throw InputError(where + "is not a JSON object");
  if (!line.contains("epoch")) throw InputError(where + "has no \"epoch\"");
  EpochRecord record;
  const std::optional<int64_t> epoch = whole_number(line.at("epoch"));
  if (!epoch || *epoch < 1 || *epoch > INT_MAX)
    throw InputError(where + "\"epoch\" must be a whole number from 1");
  record.epoch = static_cast<int>(*epoch);

  const std::pair<const char*, double*> numbers[] = {
      {"train_loss", &record.train_loss},
      {"test_loss", &record.test_loss},
      {"test_accuracy", &record.test_accuracy},
      {"lr", &record.lr},
      {"samples_per_second", &record.samples_per_second},
      {"train_seconds", &record.train_seconds},
  };
  for (const auto& [key, field] : numbers) {
    if (!line.contains(key)) continue;
    const std::optional<double> value = number_or_null(line.at(key));
    if (!value) throw InputError(where + "\"" + key + "\" must be a number");
    *field = *value;
  }
  read_counts(line,
              {{"world_size", &record.world_size},
               {"replicas", &record.replicas},
               {"global_batch", &record.global_batch},
               {"test_rows", &record.test_rows}},
              where);
  if (line.contains("phase_clock")) {
    if (!line.at("phase_clock").is_string())
      throw InputError(where + "\"phase_clock\" must be a string");
    record.phase_clock = line.at("phase_clock").get<std::string>();
  }
  if (line.contains("phase_seconds"))
    record.phase_seconds = phases_in_order(line.at("phase_seconds"), where);
  if (line.contains("ps") && line.at("ps").is_object()) {
    const json& ps = line.at("ps");
    record.mode =
        ps.value("async", false) ? "parameter servers, asynchronous" : "parameter servers";
  } else if (line.contains("allreduce") && line.at("allreduce").is_object()) {
    record.mode =
        line.at("allreduce").value("sharded", false) ? "allreduce, sharded optimizer" : "allreduce";
  }
  return record;
}

}  // namespace

std::vector<EpochRecord> parse_metrics(const std::string& text, const std::string& name) {
  std::vector<EpochRecord> records;
  std::istringstream lines(text);
  std::string line;
  for (size_t number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = "metrics file '" + name + "', line " + std::to_string(number) + ": ";
    const json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) throw InputError(where + "is not JSON");
    EpochRecord record = parse_line(parsed, where);
    if (!records.empty() && record.epoch <= records.back().epoch)
      throw InputError(where + "epoch " + std::to_string(record.epoch) + " follows epoch " +
                       std::to_string(records.back().epoch) + "; epochs must rise");
    records.push_back(std::move(record));
  }
  if (records.empty()) throw InputError("metrics file '" + name + "' holds no epoch");
  return records;
}

std::vector<EpochRecord> read_metrics_file(const std::string& path) {
  return parse_metrics(read_text("metrics file", path), path);
}

std::string eval_result_json(const EvalResult& r) {
  nlohmann::ordered_json out = {
      {"model", r.model},
      {"checkpoint", r.checkpoint},
      {"data", r.data},
      {"data_set", r.data_set.empty() ? json(nullptr) : json(r.data_set)},
  };
  const std::pair<const char*, const std::optional<int64_t>*> counts[] = {
      {"epoch", &r.epoch},
      {"step", &r.step},
      {"global_step", &r.global_step},
      {"epochs_completed", &r.epochs_completed},
      {"world_size", &r.world_size},
      {"global_batch", &r.global_batch},
      {"test_correct", &r.test_correct},
      {"test_rows", &r.test_rows},
  };
  for (const auto& [key, value] : counts)
    if (*value) out[key] = **value;
  out["test_loss"] = r.test_loss;  // null if not finite
  out["test_accuracy"] = r.test_accuracy;
  out["classes"] = r.classes;
  // A key a line, and the confusion matrix a row a line, so that it reads as the table `eval`
  // prints.
  // The paths may hold bytes that are not UTF-8, which JSON must be: they become U+FFFD.
  const auto text_of = [](const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
  };
  std::string text = "{\n";
  for (const auto& [key, value] : out.items())
    text += "  " + text_of(json(key)) + ": " + text_of(value) + ",\n";
  text += "  \"confusion\": [";
  for (size_t row = 0; row < r.confusion.size(); ++row)
    text += std::string(row == 0 ? "\n" : ",\n") + "    " + json(r.confusion[row]).dump();
  return text + "\n  ]\n}\n";
}

EvalResult parse_eval_result(const std::string& text, const std::string& name) {
  const std::string where = "eval file '" + name + "': ";
  const json in = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded()) throw InputError(where + "is not JSON (dptrain eval --json writes it)");
  if (!in.is_object()) throw InputError(where + "is not a JSON object");
  EvalResult r;
  if (!in.contains("classes") || !in.at("classes").is_array() || in.at("classes").empty())
    throw InputError(where + "\"classes\" must be a list of the class names");
  for (const json& name_of_class : in.at("classes")) {
    if (!name_of_class.is_string())
      throw InputError(where + "\"classes\" must be a list of the class names");
    r.classes.push_back(name_of_class.get<std::string>());
  }
  const size_t n = r.classes.size();
  const std::string shape = "\"confusion\" must be " + std::to_string(n) + " rows (labels) of " +
                            std::to_string(n) + " counts (predictions), one per class";
  if (!in.contains("confusion") || !in.at("confusion").is_array() || in.at("confusion").size() != n)
    throw InputError(where + shape);
  for (const json& row : in.at("confusion")) {
    if (!row.is_array() || row.size() != n) throw InputError(where + shape);
    std::vector<int64_t>& counts = r.confusion.emplace_back();
    for (const json& count : row) {
      const std::optional<int64_t> value = whole_number(count);
      if (!value || *value < 0) throw InputError(where + shape);
      counts.push_back(*value);
    }
  }
  const std::pair<const char*, std::string*> strings[] = {
      {"model", &r.model}, {"checkpoint", &r.checkpoint}, {"data", &r.data}};
  for (const auto& [key, field] : strings) {
    if (!in.contains(key)) continue;
    if (!in.at(key).is_string()) throw InputError(where + "\"" + key + "\" must be a string");
    *field = in.at(key).get<std::string>();
  }
  if (in.contains("data_set") && !in.at("data_set").is_null()) {
    if (!in.at("data_set").is_string())
      throw InputError(where + "\"data_set\" must be a string or null");
    r.data_set = in.at("data_set").get<std::string>();
  }
  read_counts(in,
              {{"epoch", &r.epoch},
               {"step", &r.step},
               {"global_step", &r.global_step},
               {"epochs_completed", &r.epochs_completed},
               {"world_size", &r.world_size},
               {"global_batch", &r.global_batch},
               {"test_correct", &r.test_correct},
               {"test_rows", &r.test_rows}},
              where);
  const std::pair<const char*, double*> numbers[] = {{"test_loss", &r.test_loss},
                                                     {"test_accuracy", &r.test_accuracy}};
  for (const auto& [key, field] : numbers) {
    if (!in.contains(key)) continue;
    const std::optional<double> value = number_or_null(in.at(key));
    if (!value) throw InputError(where + "\"" + key + "\" must be a number");
    *field = *value;
  }
  return r;
}

EvalResult read_eval_file(const std::string& path) {
  return parse_eval_result(read_text("eval file", path), path);
}

void check_new_file(const std::string& what, const std::string& path, bool overwrite) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (fs::is_directory(status)) throw InputError(what + " '" + path + "' is a directory");
  if (fs::exists(status) && !overwrite)
    throw InputError(what + " '" + path + "' already exists; pass --overwrite to replace it");
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, error))
    throw InputError("cannot create " + what + " '" + path + "': no directory '" + parent.string() +
                     "'");
}

void write_file_atomically(const std::string& what, const std::string& path,
                           const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream stream(temporary, std::ios::binary | std::ios::trunc);
    if (!stream) throw InputError("cannot create " + what + " '" + path + "'");
    stream << text;
    stream.flush();
    if (!stream) {
      std::remove(temporary.c_str());
      throw InputError("cannot write " + what + " '" + path + "'");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::remove(temporary.c_str());
    throw InputError("cannot write " + what + " '" + path + "': " + error.message());
  }
}

}  // namespace dptrain::report
