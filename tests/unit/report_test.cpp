// dptrain report's writer: escaping, scales and ticks, the curves' points, the heat map, and the
// files it reads (metrics lines, eval --json) and writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "dptrain/core/error.hpp"
#include "dptrain/report/html_report.hpp"
#include "dptrain/report/run_files.hpp"
#include "dptrain/report/svg.hpp"

namespace dptrain::report {
namespace {

// testing::Test has a Run() of its own.
using ReportRun = dptrain::report::Run;

constexpr const char* kNasty = "a<&\">'b";

// Each polyline's run, series and number of points, as a browser would read the attributes.
struct Curve {
  std::string run;
  std::string series;
  size_t points = 0;
};

std::string unescape(std::string text) {
  const std::pair<const char*, const char*> entities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [entity, character] : entities)
    for (size_t at = text.find(entity); at != std::string::npos; at = text.find(entity, at + 1))
      text.replace(at, std::string(entity).size(), character);
  return text;
}

std::vector<Curve> curves(const std::string& svg) {
  static const std::regex kPolyline(
      "<polyline data-run=\"([^\"]*)\" data-series=\"([^\"]*)\" points=\"([^\"]*)\"");
  std::vector<Curve> out;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), kPolyline);
       it != std::sregex_iterator(); ++it) {
    std::istringstream points((*it)[3].str());
    std::string point;
    size_t count = 0;
    while (points >> point) {
      EXPECT_NE(point.find(','), std::string::npos) << point;
      ++count;
    }
    out.push_back({unescape((*it)[1].str()), (*it)[2].str(), count});
  }
  return out;
}

size_t occurrences(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++count;
  return count;
}

TEST(ReportEscape, EscapesMarkupAndBothQuotes) {
  EXPECT_EQ(escape_xml(kNasty), "a&lt;&amp;&quot;&gt;&#39;b");
  EXPECT_EQ(escape_xml("plain 1-2_3"), "plain 1-2_3");
  EXPECT_EQ(escape_xml(""), "");
}

TEST(ReportScale, NiceStepsAreOneTwoOrFiveTimesAPowerOfTen) {
  EXPECT_DOUBLE_EQ(nice_step(10, 5), 2);
  EXPECT_DOUBLE_EQ(nice_step(1, 5), 0.2);
  EXPECT_DOUBLE_EQ(nice_step(0.003, 5), 0.0005);
  EXPECT_DOUBLE_EQ(nice_step(70000, 7), 10000);
  EXPECT_DOUBLE_EQ(nice_step(0, 5), 1);  // no span: any step
}

TEST(ReportScale, NiceDomainCoversTheValuesWithRoundTicks) {
  const LinearScale y = LinearScale::nice(0.13, 0.97, 300, 20, 5);
  EXPECT_DOUBLE_EQ(y.domain_lo(), 0.0);
  EXPECT_DOUBLE_EQ(y.domain_hi(), 1.0);
  EXPECT_DOUBLE_EQ(y.step(), 0.2);
  EXPECT_DOUBLE_EQ(y(0.0), 300);  // y runs up from the bottom
  EXPECT_DOUBLE_EQ(y(1.0), 20);
  EXPECT_DOUBLE_EQ(y(0.5), 160);
  const std::vector<double> ticks = y.ticks();
  ASSERT_EQ(ticks.size(), 6u);
  for (size_t i = 0; i < ticks.size(); ++i)
    EXPECT_NEAR(ticks[i], 0.2 * static_cast<double>(i), 1e-12);
}

TEST(ReportScale, OneValueGetsADomainAroundIt) {
  const LinearScale flat = LinearScale::nice(0.5, 0.5, 0, 100, 5);
  EXPECT_LT(flat.domain_lo(), 0.5);
  EXPECT_GT(flat.domain_hi(), 0.5);
  const LinearScale epoch = LinearScale::nice(1, 1, 0, 100, 8, /*integer=*/true);
  EXPECT_DOUBLE_EQ(epoch.domain_lo(), 0);
  EXPECT_DOUBLE_EQ(epoch.domain_hi(), 2);
  EXPECT_DOUBLE_EQ(epoch.step(), 1);
}

TEST(ReportScale, IntegerScalesStepByWholeNumbers) {
  const LinearScale epochs = LinearScale::nice(1, 3, 0, 600, 8, /*integer=*/true);
  EXPECT_DOUBLE_EQ(epochs.step(), 1);
  EXPECT_THROW(LinearScale(1, 1, 0, 1, 1), std::invalid_argument);
}

TEST(ReportScale, TickLabelsCarryTheDecimalsTheStepNeeds) {
  EXPECT_EQ(format_tick(0.25, 0.05), "0.25");
  EXPECT_EQ(format_tick(2, 1), "2");
  EXPECT_EQ(format_tick(0.001, 0.0005), "0.0010");
  EXPECT_EQ(format_tick(150000, 50000), "150k");
  EXPECT_EQ(format_tick(2500000, 500000), "2.5M");
  EXPECT_EQ(format_tick(-1e-17, 0.1), "0.0");  // never "-0.0"
}

LineChart chart_of(std::vector<double> y) {
  LineChart chart;
  chart.title = "t";
  chart.x_label = "epoch";
  chart.y_label = "loss";
  Series series{kNasty, "test_loss", std::string(kNasty) + ": test loss", run_color(0), false,
                {},     std::move(y)};
  for (size_t i = 0; i < series.y.size(); ++i)
    series.x.push_back(static_cast<double>(i + 1));
  chart.series.push_back(series);
  return chart;
}

TEST(ReportLineChart, APointPerValueAndTheRunNamedEscaped) {
  const std::string svg = line_chart_svg(chart_of({0.9, 0.5, 0.3}));
  const std::vector<Curve> found = curves(svg);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].run, kNasty);
  EXPECT_EQ(found[0].series, "test_loss");
  EXPECT_EQ(found[0].points, 3u);
  EXPECT_EQ(occurrences(svg, "<circle"), 3u);  // a marker with its value per point
  EXPECT_EQ(svg.find(kNasty), std::string::npos) << "the label went in unescaped";
  EXPECT_NE(svg.find("a&lt;&amp;&quot;&gt;&#39;b: test loss"), std::string::npos);
  EXPECT_EQ(svg.find("http"), std::string::npos);  // no namespace URL or any other
}

TEST(ReportLineChart, PointsLieInsideThePlotAndFollowTheValues) {
  const LineChart chart = chart_of({0.9, 0.5, 0.3});
  const std::string svg = line_chart_svg(chart);
  static const std::regex kPoints("points=\"([^\"]*)\"");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(svg, match, kPoints));
  std::istringstream points(match[1].str());
  std::string point;
  double last_x = -1, last_y = -1;
  while (points >> point) {
    const double x = std::stod(point.substr(0, point.find(',')));
    const double y = std::stod(point.substr(point.find(',') + 1));
    EXPECT_GT(x, last_x);  // epochs left to right
    EXPECT_GT(y, last_y);  // falling loss: lower on the page means a larger y
    EXPECT_GE(x, 0);
    EXPECT_LE(x, chart.width);
    EXPECT_GE(y, 0);
    EXPECT_LE(y, chart.height);
    last_x = x, last_y = y;
  }
}

TEST(ReportLineChart, ValuesThatAreNotFiniteAreLeftOut) {
  const std::vector<Curve> found = curves(line_chart_svg(chart_of({0.9, kNoValue, 0.3})));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].points, 2u);
}

TEST(ReportLineChart, PercentAxesStopAtAHundred) {
  LineChart chart = chart_of({1.0, 1.0, 1.0});
  chart.percent_y = true;
  const std::string svg = line_chart_svg(chart);
  EXPECT_NE(svg.find(">100%<"), std::string::npos);
  EXPECT_EQ(svg.find(">110%<"), std::string::npos);
}

TEST(ReportStackedBars, ShareOfEachBarAndItsParts) {
  StackedBars bars;
  bars.title = "phases";
  bars.x_label = "epoch";
  bars.run = kNasty;
  bars.parts = {"forward", "backward"};
  bars.colors = {"#f00", "#00f"};
  bars.x = {1, 2};
  bars.values = {{1.0, 3.0}, {0.0, 0.0}};  // the second bar has no time: left out
  const std::string svg = stacked_bars_svg(bars);
  EXPECT_EQ(occurrences(svg, "<rect data-run=\"a&lt;&amp;&quot;&gt;&#39;b\""), 2u);
  EXPECT_NE(svg.find("backward: 3 s (75%)"), std::string::npos);
  EXPECT_EQ(svg.find(kNasty), std::string::npos);
}

TEST(ReportHeatMap, ACellPerCountAndTheNamesOnBothAxes) {
  HeatMap map;
  map.title = "confusion";
  map.row_axis = "label";
  map.column_axis = "prediction";
  map.rows = map.columns = {"T-shirt/top", kNasty, "Ankle boot"};
  map.counts = {{5, 1, 0}, {2, 7, 0}, {0, 0, 9}};
  const std::string svg = heat_map_svg(map);
  EXPECT_EQ(occurrences(svg, "data-count="), 9u);
  EXPECT_NE(svg.find("data-count=\"7\""), std::string::npos);
  EXPECT_EQ(occurrences(svg, ">T-shirt/top</text>"), 2u);  // a row and a column
  EXPECT_EQ(occurrences(svg, ">a&lt;&amp;&quot;&gt;&#39;b</text>"), 2u);
  EXPECT_EQ(svg.find(kNasty), std::string::npos);
  map.counts.pop_back();
  EXPECT_THROW(heat_map_svg(map), std::invalid_argument);
}

std::string metrics_line(int epoch, double accuracy) {
  return "{\"epoch\":" + std::to_string(epoch) +
         ",\"train_loss\":0.5,\"test_loss\":0.4,\"test_accuracy\":" + std::to_string(accuracy) +
         ",\"lr\":0.001,\"samples_per_second\":1000,\"world_size\":2,\"replicas\":2,"
         "\"global_batch\":64,\"phase_clock\":\"host\",\"phase_seconds\":{\"other\":0.1,"
         "\"backward\":0.3,\"data\":0.05,\"forward\":0.2,\"exchange\":0.1,\"graph\":0.0,"
         "\"optimizer\":0.05,\"future\":0.01},\"allreduce\":{\"sharded\":true}}\n";
}

TEST(ReportMetrics, ReadsEveryLineAndKeepsThePhasesInStepOrder) {
  const std::vector<EpochRecord> epochs =
      parse_metrics(metrics_line(1, 0.9) + "\n" + metrics_line(2, 0.95), "m.jsonl");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[1].epoch, 2);
  EXPECT_DOUBLE_EQ(epochs[1].test_accuracy, 0.95);
  EXPECT_EQ(epochs[0].world_size, 2);
  EXPECT_EQ(epochs[0].global_batch, 64);
  EXPECT_EQ(epochs[0].mode, "allreduce, sharded optimizer");
  std::vector<std::string> names;
  for (const auto& [name, seconds] : epochs[0].phase_seconds)
    names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"data", "forward", "backward", "exchange", "optimizer",
                                             "other", "graph", "future"}));
}

TEST(ReportMetrics, NullIsNoValueAndAbsentKeysToo) {
  const std::vector<EpochRecord> epochs =
      parse_metrics("{\"epoch\":1,\"train_loss\":null}\n", "m.jsonl");
  EXPECT_TRUE(std::isnan(epochs[0].train_loss));
  EXPECT_TRUE(std::isnan(epochs[0].lr));
  EXPECT_FALSE(epochs[0].world_size);
}

void expect_refused(const std::string& text, const std::string& message) {
  try {
    parse_metrics(text, "m.jsonl");
    ADD_FAILURE() << "accepted: " << text;
  } catch (const InputError& error) {
    EXPECT_EQ(std::string(error.what()), message);
  }
}

TEST(ReportMetrics, RefusesWhatIsNotAMetricsFileNamingTheLine) {
  expect_refused(metrics_line(1, 0.9) + "not json\n",
                 "metrics file 'm.jsonl', line 2: is not JSON");
  expect_refused("{\"test_loss\":1}\n", "metrics file 'm.jsonl', line 1: has no \"epoch\"");
  expect_refused("[1,2]\n", "metrics file 'm.jsonl', line 1: is not a JSON object");
  expect_refused("{\"epoch\":0}\n",
                 "metrics file 'm.jsonl', line 1: \"epoch\" must be a whole number from 1");
  expect_refused("{\"epoch\":1,\"test_loss\":\"low\"}\n",
                 "metrics file 'm.jsonl', line 1: \"test_loss\" must be a number");
  expect_refused(metrics_line(2, 0.9) + metrics_line(2, 0.9),
                 "metrics file 'm.jsonl', line 2: epoch 2 follows epoch 2; epochs must rise");
  expect_refused("\n\n", "metrics file 'm.jsonl' holds no epoch");
}

EvalResult an_eval() {
  EvalResult r;
  r.model = "mlp 784-64-10";
  r.checkpoint = "ckpt-0000000192.h5";
  r.data = "good.h5";
  r.data_set = "fashion-mnist";
  r.epoch = 4, r.step = 0, r.global_step = 192, r.epochs_completed = 3;
  r.test_loss = 0.25, r.test_accuracy = 0.75, r.test_correct = 3, r.test_rows = 4;
  r.classes = {"T-shirt/top", kNasty};
  r.confusion = {{2, 1}, {0, 1}};
  return r;
}

TEST(ReportEval, WhatEvalWritesReadsBack) {
  const EvalResult written = an_eval();
  const EvalResult read = parse_eval_result(eval_result_json(written), "e.json");
  EXPECT_EQ(read.model, written.model);
  EXPECT_EQ(read.checkpoint, written.checkpoint);
  EXPECT_EQ(read.data_set, written.data_set);
  EXPECT_EQ(read.classes, written.classes);
  EXPECT_EQ(read.confusion, written.confusion);
  EXPECT_EQ(read.global_step, 192);
  EXPECT_EQ(read.epochs_completed, 3);
  EXPECT_DOUBLE_EQ(read.test_accuracy, 0.75);
  EXPECT_EQ(read.test_correct, 3);
}

TEST(ReportEval, RefusesAFileOfTheWrongShape) {
  const std::string rows = "\"confusion\" must be 2 rows (labels) of 2 counts (predictions)";
  const std::pair<const char*, std::string> cases[] = {
      {"nothing like it", "is not JSON"},
      {"{\"confusion\":[[1]]}", "\"classes\" must be a list of the class names"},
      {"{\"classes\":[\"a\",\"b\"],\"confusion\":[[1,2]]}", rows},
      {"{\"classes\":[\"a\",\"b\"],\"confusion\":[[1,2],[3]]}", rows},
      {"{\"classes\":[\"a\",\"b\"],\"confusion\":[[1,2],[3,-4]]}", rows},
      {"{\"classes\":[\"a\",\"b\"],\"confusion\":[[1,2],[3,4]],\"test_rows\":\"ten\"}",
       "\"test_rows\" must be a whole number from 0"},
  };
  for (const auto& [text, message] : cases) {
    try {
      parse_eval_result(text, "e.json");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find("eval file 'e.json': " + message), std::string::npos)
          << error.what();
    }
  }
}

ReportRun a_run(const std::string& label, int epochs) {
  std::string text;
  for (int e = 1; e <= epochs; ++e)
    text += metrics_line(e, 0.8 + 0.05 * e);
  return {label, label + ".jsonl", parse_metrics(text, label + ".jsonl")};
}

TEST(ReportPage, EveryRunAndSeriesHasAPointPerEpoch) {
  const std::vector<ReportRun> runs = {a_run(kNasty, 3), a_run("two", 5)};
  const EvalResult eval = an_eval();
  const std::string page = render_report(runs, &eval, "dptrain test");
  std::map<std::pair<std::string, std::string>, size_t> points;
  for (const Curve& curve : curves(page))
    points[{curve.run, curve.series}] = curve.points;
  for (const ReportRun& run : runs)
    for (const char* series :
         {"train_loss", "test_loss", "test_accuracy", "lr", "samples_per_second"})
      EXPECT_EQ(points[std::make_pair(run.label, std::string(series))], run.epochs.size())
          << run.label << " " << series;
  EXPECT_EQ(points.size(), 10u);
  EXPECT_EQ(occurrences(page, "data-count="), 4u);  // the 2 x 2 confusion matrix
}

TEST(ReportPage, IsSelfContainedAndEscapesWhatItQuotes) {
  const std::vector<ReportRun> runs = {a_run(kNasty, 2)};
  const EvalResult eval = an_eval();
  const std::string page = render_report(runs, &eval, "dptrain test");
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("Content-Security-Policy\" content=\"default-src 'none'"), std::string::npos);
  EXPECT_EQ(page.find(kNasty), std::string::npos) << "a label went in unescaped";
  for (const char* outside : {"http:", "https:", "<script", "<link", "<img", "@import", "url("})
    EXPECT_EQ(page.find(outside), std::string::npos) << outside;
  EXPECT_NE(page.find("</html>"), std::string::npos);
}

TEST(ReportPage, RunsWithoutLearningRatesHaveNoSuchChart) {
  ReportRun run{"old", "old.jsonl",
                parse_metrics("{\"epoch\":1,\"test_loss\":0.5}\n", "old.jsonl")};
  const std::string page = render_report({run}, nullptr, "dptrain test");
  EXPECT_EQ(page.find("id=\"lr\""), std::string::npos);
  EXPECT_EQ(page.find("id=\"confusion\""), std::string::npos);
  EXPECT_NE(page.find("data-series=\"test_loss\""), std::string::npos);
}

TEST(ReportFiles, NothingAUserWroteIsReplacedUnlessAsked) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("dptrain_report_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "report.html").string();
  EXPECT_NO_THROW(check_new_file("report file", path, false));
  write_file_atomically("report file", path, "first");
  EXPECT_THROW(check_new_file("report file", path, false), InputError);
  EXPECT_NO_THROW(check_new_file("report file", path, true));
  write_file_atomically("report file", path, "second");
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "second");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_THROW(check_new_file("report file", (dir / "no" / "r.html").string(), false), InputError);
  EXPECT_THROW(check_new_file("report file", dir.string(), true), InputError);  // a directory
  EXPECT_THROW(read_metrics_file((dir / "absent.jsonl").string()), InputError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dptrain::report
