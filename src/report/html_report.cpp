#include "dptrain/report/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "dptrain/report/svg.hpp"

namespace dptrain::report {
namespace {

// Inline, like everything on the page; the policy lets the browser load nothing (no script, no
// image, font or style from anywhere), so the page works offline and cannot call out.
constexpr const char* kHead = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
)";

constexpr const char* kStyle = R"(<style>
body { font-family: system-ui, sans-serif; color: #222; background: #fff; margin: 0 auto;
       padding: 16px 24px; max-width: 1100px; }
h1 { margin-bottom: 4px; }
h2 { margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f4f4f4; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px;
          vertical-align: -1px; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 8px 0 16px; }
.note { color: #555; font-size: 14px; }
footer { margin-top: 40px; color: #777; font-size: 12px; }
</style>
)";

std::string h(std::string_view text) {
  return escape_xml(text);
}

std::string printed(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::string percent(double fraction) {
  return std::isfinite(fraction) ? printed("%.2f%%", 100.0 * fraction) : "&ndash;";
}
std::string decimal(double value, const char* format = "%.4f") {
  return std::isfinite(value) ? printed(format, value) : "&ndash;";
}

// The distinct values over the epochs, e.g. "2" or "2, 4" (a run resumed on other ranks).
std::string distinct(const Run& run, std::optional<int64_t> EpochRecord::*field) {
  std::vector<int64_t> values;
  for (const EpochRecord& epoch : run.epochs)
    if ((epoch.*field) && std::find(values.begin(), values.end(), *(epoch.*field)) == values.end())
      values.push_back(*(epoch.*field));
  if (values.empty()) return "&ndash;";
  std::string out;
  for (int64_t value : values)
    out += (out.empty() ? "" : ", ") + std::to_string(value);
  return out;
}

std::string distinct(const Run& run, std::string EpochRecord::*field) {
  std::vector<std::string> values;
  for (const EpochRecord& epoch : run.epochs)
    if (!(epoch.*field).empty() &&
        std::find(values.begin(), values.end(), epoch.*field) == values.end())
      values.push_back(epoch.*field);
  if (values.empty()) return "&ndash;";
  std::string out;
  for (const std::string& value : values)
    out += (out.empty() ? "" : ", ") + h(value);
  return out;
}

std::string epochs_text(const Run& run) {
  const int first = run.epochs.front().epoch, last = run.epochs.back().epoch;
  std::string out = std::to_string(run.epochs.size());
  if (first != 1 || last != static_cast<int>(run.epochs.size()))
    out += " (" + std::to_string(first) + "&ndash;" + std::to_string(last) + ")";
  return out;
}

std::string runs_table(const std::vector<Run>& runs) {
  std::string out =
      "<table class=\"runs\">\n<tr><th>run</th><th>metrics file</th><th>epochs</th>"
      "<th>world size</th><th>replicas</th><th>global batch</th><th>mode</th>"
      "<th>final test accuracy</th><th>best test accuracy</th><th>final test loss</th>"
      "<th>samples/s (mean)</th><th>training time</th><th>phase clock</th></tr>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const Run& run = runs[i];
    double best = kNoValue, seconds = 0.0, rate_sum = 0.0;
    int best_epoch = 0, rates = 0;
    bool have_seconds = false;
    for (const EpochRecord& epoch : run.epochs) {
      if (std::isfinite(epoch.test_accuracy) && !(epoch.test_accuracy <= best))
        best = epoch.test_accuracy, best_epoch = epoch.epoch;
      if (std::isfinite(epoch.train_seconds)) seconds += epoch.train_seconds, have_seconds = true;
      if (std::isfinite(epoch.samples_per_second)) rate_sum += epoch.samples_per_second, ++rates;
    }
    const EpochRecord& last = run.epochs.back();
    out += "<tr" + std::string(" data-run=\"") + h(run.label) + "\"><td><span class=\"swatch\" " +
           "style=\"background:" + run_color(i) + "\"></span>" + h(run.label) + "</td><td>" +
           h(run.path) + "</td><td class=\"number\">" + epochs_text(run) +
           "</td><td class=\"number\">" + distinct(run, &EpochRecord::world_size) +
           "</td><td class=\"number\">" + distinct(run, &EpochRecord::replicas) +
           "</td><td class=\"number\">" + distinct(run, &EpochRecord::global_batch) + "</td><td>" +
           distinct(run, &EpochRecord::mode) + "</td><td class=\"number\">" +
           percent(last.test_accuracy) + "</td><td class=\"number\">" + percent(best) +
           (best_epoch > 0 ? " (epoch " + std::to_string(best_epoch) + ")" : "") +
           "</td><td class=\"number\">" + decimal(last.test_loss) + "</td><td class=\"number\">" +
           (rates > 0 ? printed("%.0f", rate_sum / rates) : "&ndash;") +
           "</td><td class=\"number\">" + (have_seconds ? printed("%.2f s", seconds) : "&ndash;") +
           "</td><td>" + distinct(run, &EpochRecord::phase_clock) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

struct Quantity {
  const char* key;     // data-series
  const char* legend;  // after the run's label
  double EpochRecord::*field;
  bool dashed;
};

// A series per run and quantity that the run records at least once.
std::vector<Series> series_of(const std::vector<Run>& runs,
                              const std::vector<Quantity>& quantities) {
  std::vector<Series> out;
  for (size_t i = 0; i < runs.size(); ++i)
    for (const Quantity& quantity : quantities) {
      Series series{runs[i].label,
                    quantity.key,
                    runs[i].label + ": " + quantity.legend,
                    run_color(i),
                    quantity.dashed,
                    {},
                    {}};
      bool any = false;
      for (const EpochRecord& epoch : runs[i].epochs) {
        series.x.push_back(epoch.epoch);
        series.y.push_back(epoch.*quantity.field);
        any = any || std::isfinite(epoch.*quantity.field);
      }
      if (any) out.push_back(std::move(series));
    }
  return out;
}

std::string chart_section(const std::string& id, const std::string& heading,
                          const std::string& note, LineChart chart) {
  if (chart.series.empty()) return "";
  return "<section id=\"" + id + "\">\n<h2>" + h(heading) + "</h2>\n" +
         (note.empty() ? "" : "<p class=\"note\">" + h(note) + "</p>\n") + line_chart_svg(chart) +
         "</section>\n";
}

const char* phase_color(const std::string& phase) {
  static const std::map<std::string, const char*> kColors = {
      {"data", "#4e79a7"},     {"forward", "#f28e2b"},   {"backward", "#e15759"},
      {"exchange", "#76b7b2"}, {"optimizer", "#59a14f"}, {"other", "#bab0ac"},
      {"graph", "#edc948"}};
  const auto found = kColors.find(phase);
  return found == kColors.end() ? "#9c755f" : found->second;
}

// The phases a run spent time in, in the order its lines list them.
std::vector<std::string> phases_of(const Run& run) {
  std::vector<std::string> names;
  for (const EpochRecord& epoch : run.epochs)
    for (const auto& [name, seconds] : epoch.phase_seconds)
      if (std::isfinite(seconds) && seconds > 0 &&
          std::find(names.begin(), names.end(), name) == names.end())
        names.push_back(name);
  // Keep the first line's order where later lines add a phase.
  std::vector<std::string> ordered;
  for (const EpochRecord& epoch : run.epochs)
    for (const auto& entry : epoch.phase_seconds)
      if (std::find(names.begin(), names.end(), entry.first) != names.end() &&
          std::find(ordered.begin(), ordered.end(), entry.first) == ordered.end())
        ordered.push_back(entry.first);
  return ordered;
}

double seconds_in(const EpochRecord& epoch, const std::string& phase) {
  for (const auto& [name, seconds] : epoch.phase_seconds)
    if (name == phase) return std::isfinite(seconds) && seconds > 0 ? seconds : 0.0;
  return 0.0;
}

std::string phases_section(const std::vector<Run>& runs) {
  std::string charts, table;
  std::vector<std::string> all_phases;
  for (const Run& run : runs)
    for (const std::string& phase : phases_of(run))
      if (std::find(all_phases.begin(), all_phases.end(), phase) == all_phases.end())
        all_phases.push_back(phase);
  if (all_phases.empty()) return "";
  table = "<table class=\"phases\">\n<tr><th>run</th>";
  for (const std::string& phase : all_phases)
    table += "<th><span class=\"swatch\" style=\"background:" + std::string(phase_color(phase)) +
             "\"></span>" + h(phase) + "</th>";
  table += "</tr>\n";
  for (const Run& run : runs) {
    const std::vector<std::string> phases = phases_of(run);
    if (phases.empty()) continue;
    StackedBars bars;
    bars.title = run.label + ": where each epoch's time went (rank 0)";
    bars.x_label = "epoch";
    bars.run = run.label;
    bars.parts = phases;
    for (const std::string& phase : phases)
      bars.colors.emplace_back(phase_color(phase));
    std::vector<double> totals(all_phases.size(), 0.0);
    for (const EpochRecord& epoch : run.epochs) {
      bars.x.push_back(epoch.epoch);
      std::vector<double>& values = bars.values.emplace_back();
      for (const std::string& phase : phases)
        values.push_back(seconds_in(epoch, phase));
      for (size_t p = 0; p < all_phases.size(); ++p)
        totals[p] += seconds_in(epoch, all_phases[p]);
    }
    charts += stacked_bars_svg(bars);
    double sum = 0.0;
    for (double seconds : totals)
      sum += seconds;
    table += "<tr data-run=\"" + h(run.label) + "\"><td>" + h(run.label) + "</td>";
    for (double seconds : totals)
      table += "<td class=\"number\" title=\"" + printed("%.3f s", seconds) + "\">" +
               (sum > 0 ? printed("%.1f%%", 100.0 * seconds / sum) : "&ndash;") + "</td>";
    table += "</tr>\n";
  }
  table += "</table>\n";
  return "<section id=\"phases\">\n<h2>Where the time went</h2>\n<p class=\"note\">Rank 0's "
         "seconds per phase of each epoch (phase_seconds, on the clock the table above names), as "
         "shares of their sum; over all epochs:</p>\n" +
         table + charts + "</section>\n";
}

std::string eval_section(const EvalResult& eval) {
  std::string out =
      "<section id=\"confusion\">\n<h2>Confusion matrix</h2>\n<table class=\"eval\">\n";
  auto row = [&](const char* name, const std::string& value) {
    if (!value.empty())
      out += "<tr><th>" + std::string(name) + "</th><td>" + value + "</td></tr>\n";
  };
  row("checkpoint", h(eval.checkpoint));
  row("model", h(eval.model));
  std::string position;
  if (eval.epoch && eval.step)
    position = *eval.step == 0 ? "after epoch " + std::to_string(*eval.epoch - 1)
                               : "epoch " + std::to_string(*eval.epoch) + ", after step " +
                                     std::to_string(*eval.step);
  if (eval.global_step)
    position += (position.empty() ? "" : " ") + std::string("(global step ") +
                std::to_string(*eval.global_step) + ")";
  row("trained", position);
  row("data", h(eval.data) + (eval.data_set.empty() ? "" : " (" + h(eval.data_set) + ")"));
  std::string accuracy = percent(eval.test_accuracy);
  if (eval.test_correct && eval.test_rows)
    accuracy +=
        " (" + std::to_string(*eval.test_correct) + "/" + std::to_string(*eval.test_rows) + ")";
  row("test accuracy", accuracy);
  row("test loss", decimal(eval.test_loss));
  out +=
      "</table>\n<p class=\"note\">Rows: the test rows' labels; columns: the model's "
      "predictions. Each cell holds its count, shaded by its share of the label's rows.</p>\n";
  HeatMap map;
  map.title = "Test set: label x prediction";
  map.row_axis = "label";
  map.column_axis = "prediction";
  map.rows = eval.classes;
  map.columns = eval.classes;
  map.counts = eval.confusion;
  return out + heat_map_svg(map) + "</section>\n";
}

}  // namespace

std::string render_report(const std::vector<Run>& runs, const EvalResult* eval,
                          const std::string& generator) {
  std::string labels;
  for (const Run& run : runs)
    labels += (labels.empty() ? "" : ", ") + run.label;
  std::string out = kHead;
  out += "<title>dptrain report: " + h(labels.empty() ? std::string("evaluation") : labels) +
         "</title>\n" + kStyle + "</head>\n<body>\n<header>\n<h1>dptrain report</h1>\n";
  std::string what;
  if (!runs.empty())
    what = std::to_string(runs.size()) + (runs.size() == 1 ? " run" : " runs") +
           " from <code>dptrain train --metrics</code> files, a line per epoch";
  if (eval != nullptr)
    what += std::string(what.empty() ? "A" : "; a") +
            " checkpoint scored by <code>dptrain eval --json</code>";
  out += "<p class=\"note\">" + what + ".</p>\n";
  if (!runs.empty()) out += runs_table(runs);
  out += "</header>\n<main>\n";

  LineChart loss;
  loss.title = "Loss per epoch";
  loss.x_label = "epoch";
  loss.y_label = "cross-entropy loss";
  loss.series = series_of(runs, {{"train_loss", "train loss", &EpochRecord::train_loss, true},
                                 {"test_loss", "test loss", &EpochRecord::test_loss, false}});
  out += chart_section("loss", "Loss",
                       "Train loss (dashed): the mean over the epoch's samples as they trained. "
                       "Test loss (solid): the whole test set after the epoch.",
                       loss);

  LineChart accuracy;
  accuracy.title = "Test accuracy per epoch";
  accuracy.x_label = "epoch";
  accuracy.y_label = "test accuracy";
  accuracy.percent_y = true;
  accuracy.series =
      series_of(runs, {{"test_accuracy", "test accuracy", &EpochRecord::test_accuracy, false}});
  out += chart_section("accuracy", "Test accuracy", "", accuracy);

  LineChart lr;
  lr.title = "Learning rate per epoch";
  lr.x_label = "epoch";
  lr.y_label = "learning rate";
  lr.series = series_of(runs, {{"lr", "learning rate", &EpochRecord::lr, false}});
  out += chart_section("lr", "Learning rate", "The schedule's rate at each epoch's last step.", lr);

  LineChart speed;
  speed.title = "Training throughput per epoch";
  speed.x_label = "epoch";
  speed.y_label = "samples/s";
  speed.series = series_of(
      runs, {{"samples_per_second", "samples/s", &EpochRecord::samples_per_second, false}});
  out += chart_section("throughput", "Throughput",
                       "Training samples per second of training time (evaluation excluded), all "
                       "ranks together.",
                       speed);

  out += phases_section(runs);
  if (eval != nullptr) out += eval_section(*eval);
  out += "</main>\n<footer>Written by " + h(generator) + " (dptrain report).</footer>\n" +
         "</body>\n</html>\n";
  return out;
}

}  // namespace dptrain::report
