#pragma once

// The charts of `dptrain report`, written as inline SVG text: line charts, stacked bars and a
// heat map.
//
// Why our own writer: the report must be one file that opens offline and alike in any browser,
// with nothing fetched and no script run. No JavaScript charting library is among dptrain's
// dependencies (Debian 12's packages), and one pasted into each page would be a large script to
// audit; the few shapes a training report needs are simple to draw directly, and SVG drawn here
// is plain markup that a test can read back (each curve names its run and series).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dptrain::report {

// Text safe inside an XML or HTML text node and inside a double- or single-quoted attribute:
// & < > " ' become entities.
std::string escape_xml(std::string_view text);

// A round step near span / ticks: 1, 2 or 5 times a power of ten.
double nice_step(double span, int ticks);

// A tick's label, with as many decimals as `step` needs; in thousands (k) from steps of 1,000,
// in millions (M) from steps of 100,000: 150k, 2.5M.
std::string format_tick(double value, double step);

// A linear map of [domain_lo, domain_hi] onto [range_lo, range_hi] (pixels; a y axis runs from
// the bottom, so its range_lo is the larger), with ticks `step` apart.
class LinearScale {
 public:
  LinearScale(double domain_lo, double domain_hi, double range_lo, double range_hi, double step);
  // The domain widened to the round ticks around [lo, hi] (about `ticks` of them); a single value
  // gets a domain around it. integer: steps of at least 1, for counts such as epochs.
  static LinearScale nice(double lo, double hi, double range_lo, double range_hi, int ticks,
                          bool integer = false);

  double operator()(double value) const;
  double domain_lo() const { return domain_lo_; }
  double domain_hi() const { return domain_hi_; }
  double step() const { return step_; }
  // The multiples of step() within the domain, from the lowest.
  std::vector<double> ticks() const;

 private:
  double domain_lo_, domain_hi_, range_lo_, range_hi_, step_;
};

// One curve: a run's values of one quantity, by x (epoch).
struct Series {
  std::string run;       // the run's label (attribute data-run)
  std::string quantity;  // what it shows, e.g. "test_loss" (attribute data-series)
  std::string legend;    // the legend's text
  std::string color;     // a CSS colour
  bool dashed = false;
  std::vector<double> x;
  std::vector<double> y;  // same length as x; a value that is not finite is left out
};

struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
  bool integer_x = true;   // whole-number ticks on x (epochs)
  bool percent_y = false;  // y holds fractions, labelled as percentages
  int width = 720;         // the chart with its axes; the legend adds rows below
  int height = 320;
};

// <svg> with one <polyline data-run=... data-series=... points="x,y ..."> per series, holding one
// point per finite value, a marker with its value as tooltip on each point, axes with ticks and
// labels, and a legend.
std::string line_chart_svg(const LineChart& chart);

// Bars stacked to 100%: each bar's parts as shares of its sum.
struct StackedBars {
  std::string title;
  std::string x_label;
  std::string run;                          // data-run on each bar's parts
  std::vector<std::string> parts;           // the stack's parts, from the bottom
  std::vector<std::string> colors;          // by part
  std::vector<double> x;                    // one bar per x (epoch)
  std::vector<std::vector<double>> values;  // [bar][part], >= 0; a bar summing to 0 is left out
  int width = 720;
  int height = 260;
};

// <svg> with a <rect data-run data-part data-x> per part of each bar (its seconds and share as
// tooltip), a 0-100% axis and a legend of the parts.
std::string stacked_bars_svg(const StackedBars& bars);

// Counts in a grid, shaded by their share of the row (a confusion matrix: rows labels, columns
// predictions, so the shade shows where each label's rows went).
struct HeatMap {
  std::string title;
  std::string row_axis;     // e.g. "label"
  std::string column_axis;  // e.g. "prediction"
  std::vector<std::string> rows;
  std::vector<std::string> columns;
  std::vector<std::vector<int64_t>> counts;  // [row][column]
};

// <svg> with a <rect data-row data-column data-count> and the count's <text> per cell, and the
// row and column names on both axes.
std::string heat_map_svg(const HeatMap& map);

// The colour of the index-th run: Okabe and Ito's palette, told apart with colour blindness too,
// repeated after 8.
const char* run_color(size_t index);

}  // namespace dptrain::report
