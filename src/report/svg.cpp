#include "dptrain/report/svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace dptrain::report {
namespace {

constexpr double kCharWidth = 6.6;  // about the width of a 12px sans-serif character
constexpr int kLegendRow = 18;

// A pixel coordinate: a tenth of a pixel is finer than any screen shows.
std::string px(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::string attribute(const char* name, std::string_view value) {
  return std::string(" ") + name + "=\"" + escape_xml(value) + "\"";
}

std::string text_element(double x, double y, std::string_view text, const char* extra = "") {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\"" + extra + ">" + escape_xml(text) +
         "</text>\n";
}

double text_width(std::string_view text) {
  return kCharWidth * static_cast<double>(text.size());
}

std::string svg_open(int width, int height, std::string_view title) {
  // No xmlns: the page is HTML, whose parser puts <svg> in the SVG namespace by itself, and the
  // page then holds no URL at all (the browser test checks that).
  return "<svg class=\"chart\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " +
         std::to_string(height) + "\" role=\"img\"" + attribute("aria-label", title) +
         " font-family=\"sans-serif\" font-size=\"12\">\n<title>" + escape_xml(title) +
         "</title>\n";
}

struct Margins {
  double left = 72, right = 24, top = 34, bottom = 46;
};

// The frame, grid, ticks and axis labels of a plot area.
std::string axes(const LinearScale& x, const LinearScale& y, const Margins& m, int width,
                 int height, std::string_view x_label, std::string_view y_label, bool percent_y,
                 bool x_ticks = true) {
  std::string out = "<g class=\"axes\" stroke=\"#d0d0d0\" stroke-width=\"1\">\n";
  const double left = m.left, right = width - m.right, top = m.top, bottom = height - m.bottom;
  for (double tick : y.ticks())
    out += "<line x1=\"" + px(left) + "\" x2=\"" + px(right) + "\" y1=\"" + px(y(tick)) +
           "\" y2=\"" + px(y(tick)) + "\"/>\n";
  out += "<rect x=\"" + px(left) + "\" y=\"" + px(top) + "\" width=\"" + px(right - left) +
         "\" height=\"" + px(bottom - top) + "\" fill=\"none\" stroke=\"#808080\"/>\n</g>\n";
  out += "<g class=\"ticks\" fill=\"#333\">\n";
  for (double tick : y.ticks()) {
    const std::string label =
        percent_y ? format_tick(100.0 * tick, 100.0 * y.step()) + "%" : format_tick(tick, y.step());
    out += text_element(left - 6, y(tick) + 4, label, " text-anchor=\"end\"");
  }
  if (x_ticks)
    for (double tick : x.ticks())
      out += text_element(x(tick), bottom + 16, format_tick(tick, x.step()),
                          " text-anchor=\"middle\"");
  out += "</g>\n";
  out += text_element((left + right) / 2, height - 10, x_label,
                      " class=\"axis-label\" text-anchor=\"middle\"");
  const double mid = (top + bottom) / 2;
  out += "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate(16," + px(mid) +
         ") rotate(-90)\">" + escape_xml(y_label) + "</text>\n";
  return out;
}

// Legend entries in rows, each a sample of its line (or a swatch) and its text, wrapped at width.
struct LegendEntry {
  std::string text;
  std::string color;
  bool dashed = false;
  bool swatch = false;
};

struct LegendLayout {
  std::vector<std::pair<double, int>> places;  // x and row of each entry
  int rows = 0;
};

LegendLayout lay_out_legend(const std::vector<LegendEntry>& entries, double left, double right) {
  LegendLayout layout;
  double x = left;
  int row = 0;
  for (const LegendEntry& entry : entries) {
    const double width = 30 + text_width(entry.text) + 18;
    if (x > left && x + width > right) {
      x = left;
      ++row;
    }
    layout.places.emplace_back(x, row);
    x += width;
  }
  layout.rows = entries.empty() ? 0 : row + 1;
  return layout;
}

std::string legend(const std::vector<LegendEntry>& entries, const LegendLayout& layout,
                   double top) {
  std::string out = "<g class=\"legend\">\n";
  for (size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& entry = entries[i];
    const double x = layout.places[i].first;
    const double y = top + kLegendRow * layout.places[i].second + kLegendRow / 2.0;
    if (entry.swatch)
      out += "<rect x=\"" + px(x + 6) + "\" y=\"" + px(y - 6) + "\" width=\"14\" height=\"12\"" +
             attribute("fill", entry.color) + "/>\n";
    else
      out += "<line x1=\"" + px(x) + "\" x2=\"" + px(x + 24) + "\" y1=\"" + px(y) + "\" y2=\"" +
             px(y) + "\"" + attribute("stroke", entry.color) + " stroke-width=\"2\"" +
             (entry.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
    out += text_element(x + 30, y + 4, entry.text);
  }
  return out + "</g>\n";
}

bool finite(double value) {
  return std::isfinite(value);
}

}  // namespace

std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

double nice_step(double span, int ticks) {
  if (!(span > 0) || !finite(span) || ticks < 1) return 1.0;
  const double raw = span / ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normal = raw / magnitude;
  const double factor = normal < 1.5 ? 1 : normal < 3 ? 2 : normal < 7 ? 5 : 10;
  return factor * magnitude;
}

std::string format_tick(double value, double step) {
  if (std::fabs(value) < std::fabs(step) * 1e-6) value = 0.0;  // never "-0"
  const char* suffix = "";
  if (std::fabs(step) >= 1e5) {
    value /= 1e6, step /= 1e6, suffix = "M";
  } else if (std::fabs(step) >= 1e3) {
    value /= 1e3, step /= 1e3, suffix = "k";
  }
  const int decimals =
      step >= 1 ? 0 : std::min(12, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  char text[48];
  std::snprintf(text, sizeof text, "%.*f%s", decimals, value, suffix);
  return text;
}

LinearScale::LinearScale(double domain_lo, double domain_hi, double range_lo, double range_hi,
                         double step)
    : domain_lo_(domain_lo),
      domain_hi_(domain_hi),
      range_lo_(range_lo),
      range_hi_(range_hi),
      step_(step) {
  if (!(domain_hi > domain_lo) || !(step > 0))
    throw std::invalid_argument("LinearScale: an empty domain or a step that is not positive");
}

LinearScale LinearScale::nice(double lo, double hi, double range_lo, double range_hi, int ticks,
                              bool integer) {
  if (!finite(lo) || !finite(hi)) lo = 0.0, hi = 1.0;
  if (hi < lo) std::swap(lo, hi);
  // One value, or values closer than a double resolves at their magnitude (whose ticks would
  // all be one number): a domain around it.
  if (hi - lo <= std::max(std::fabs(lo), std::fabs(hi)) * 1e-12) {
    const double pad = integer ? 1.0 : (lo == 0.0 ? 1.0 : std::fabs(lo) * 0.1);
    lo -= pad, hi += pad;
  }
  double step = nice_step(hi - lo, ticks);
  if (integer) step = std::max(1.0, std::round(step));
  return LinearScale(std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step,
                     range_lo, range_hi, step);
}

double LinearScale::operator()(double value) const {
  return range_lo_ + (value - domain_lo_) / (domain_hi_ - domain_lo_) * (range_hi_ - range_lo_);
}

std::vector<double> LinearScale::ticks() const {
  std::vector<double> out;
  // At most kMaxTicks, counted apart: beyond 2^53, i + 1 is i, and a domain of a few steps at
  // such a magnitude (a metrics file's 1e17 and 1e17 + 16) pushed ticks until memory ran out.
  constexpr int kMaxTicks = 1000;
  const double first = std::ceil(domain_lo_ / step_ - 1e-9);
  for (int k = 0; k < kMaxTicks; ++k) {
    const double i = first + k;
    if (!(i * step_ <= domain_hi_ + step_ * 1e-9)) break;
    out.push_back(i * step_);
  }
  return out;
}

std::string line_chart_svg(const LineChart& chart) {
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo;
  double y_lo = x_lo, y_hi = -x_lo;
  std::vector<LegendEntry> entries;
  for (const Series& series : chart.series) {
    if (series.x.size() != series.y.size())
      throw std::invalid_argument("line_chart_svg: series '" + series.quantity +
                                  "' has x and y of different lengths");
    for (size_t i = 0; i < series.x.size(); ++i) {
      if (!finite(series.x[i]) || !finite(series.y[i])) continue;
      x_lo = std::min(x_lo, series.x[i]), x_hi = std::max(x_hi, series.x[i]);
      y_lo = std::min(y_lo, series.y[i]), y_hi = std::max(y_hi, series.y[i]);
    }
    entries.push_back({series.legend, series.color, series.dashed, false});
  }
  Margins m;
  const LegendLayout layout = lay_out_legend(entries, m.left, chart.width - m.right);
  const int height = chart.height + (layout.rows > 0 ? kLegendRow * layout.rows + 8 : 0);

  // Epochs from their first to their last; values to round ticks around them.
  const double plot_bottom = chart.height - m.bottom;
  // (A little room at both ends keeps the first and last markers inside the frame.)
  const double x_step = chart.integer_x ? std::max(1.0, std::round(nice_step(x_hi - x_lo, 8)))
                                        : nice_step(x_hi - x_lo, 8);
  const double x_pad = 0.03 * (x_hi - x_lo);
  const LinearScale x =
      x_lo < x_hi
          ? LinearScale(x_lo - x_pad, x_hi + x_pad, m.left, chart.width - m.right, x_step)
          : LinearScale::nice(x_lo, x_hi, m.left, chart.width - m.right, 8, chart.integer_x);
  LinearScale y = LinearScale::nice(y_lo, y_hi, plot_bottom, m.top, 5);
  // Fractions stay within 0% and 100%, where the values do.
  if (chart.percent_y && y_lo >= 0 && y_hi <= 1)
    y = LinearScale(std::max(0.0, y.domain_lo()), std::min(1.0, y.domain_hi()), plot_bottom, m.top,
                    y.step());

  std::string out = svg_open(chart.width, height, chart.title);
  out += text_element(m.left, 20, chart.title, " class=\"chart-title\" font-weight=\"bold\"");
  out += axes(x, y, m, chart.width, chart.height, chart.x_label, chart.y_label, chart.percent_y);
  for (const Series& series : chart.series) {
    std::string points, markers;
    for (size_t i = 0; i < series.x.size(); ++i) {
      if (!finite(series.x[i]) || !finite(series.y[i])) continue;
      const std::string at = px(x(series.x[i])) + "," + px(y(series.y[i]));
      points += (points.empty() ? "" : " ") + at;
      const std::string value =
          chart.percent_y ? number(100.0 * series.y[i]) + "%" : number(series.y[i]);
      markers += "<circle cx=\"" + px(x(series.x[i])) + "\" cy=\"" + px(y(series.y[i])) +
                 "\" r=\"3\"><title>" +
                 escape_xml(series.legend + ", " + chart.x_label + " " + number(series.x[i]) +
                            ": " + value) +
                 "</title></circle>\n";
    }
    out += "<polyline" + attribute("data-run", series.run) +
           attribute("data-series", series.quantity) + attribute("points", points) +
           " fill=\"none\"" + attribute("stroke", series.color) + " stroke-width=\"2\"" +
           (series.dashed ? " stroke-dasharray=\"6 4\"" : "") + "/>\n";
    out += "<g class=\"markers\"" + attribute("fill", series.color) + ">\n" + markers + "</g>\n";
  }
  out += legend(entries, layout, chart.height);
  return out + "</svg>\n";
}

std::string stacked_bars_svg(const StackedBars& bars) {
  if (bars.values.size() != bars.x.size() || bars.colors.size() != bars.parts.size())
    throw std::invalid_argument("stacked_bars_svg: values, x, parts and colors do not match");
  std::vector<LegendEntry> entries;
  for (size_t p = 0; p < bars.parts.size(); ++p)
    entries.push_back({bars.parts[p], bars.colors[p], false, true});
  Margins m;
  const LegendLayout layout = lay_out_legend(entries, m.left, bars.width - m.right);
  const int height = bars.height + kLegendRow * layout.rows + 8;
  const double left = m.left, right = bars.width - m.right;
  const double bottom = bars.height - m.bottom;

  // One slot per bar, in order; the x axis names each bar's x.
  const size_t n = std::max<size_t>(bars.x.size(), 1);
  const double slot = (right - left) / static_cast<double>(n);
  const LinearScale x(0, 1, left, right, 1);
  const LinearScale y(0, 1, bottom, m.top, 0.25);
  std::string out = svg_open(bars.width, height, bars.title);
  out += text_element(m.left, 20, bars.title, " class=\"chart-title\" font-weight=\"bold\"");
  out += axes(x, y, m, bars.width, bars.height, bars.x_label, "share of the time", true, false);
  // Label every bar while they fit, else about 12 of them.
  const size_t label_every = std::max<size_t>(1, (n + 11) / 12);
  for (size_t b = 0; b < bars.x.size(); ++b) {
    const double center = left + slot * (static_cast<double>(b) + 0.5);
    if (b % label_every == 0)
      out += text_element(center, bottom + 16, number(bars.x[b]),
                          " text-anchor=\"middle\" fill=\"#333\"");
    if (bars.values[b].size() != bars.parts.size())
      throw std::invalid_argument("stacked_bars_svg: a bar with another number of parts");
    double total = 0.0;
    for (double value : bars.values[b])
      total += finite(value) && value > 0 ? value : 0.0;
    if (!(total > 0)) continue;
    const double bar_width = std::max(1.0, slot * 0.7);
    double below = 0.0;
    for (size_t p = 0; p < bars.parts.size(); ++p) {
      const double value =
          finite(bars.values[b][p]) && bars.values[b][p] > 0 ? bars.values[b][p] : 0.0;
      if (value == 0.0) continue;
      const double share = value / total;
      const double y_top = y(below + share), y_bottom = y(below);
      below += share;
      out += "<rect" + attribute("data-run", bars.run) + attribute("data-part", bars.parts[p]) +
             attribute("data-x", number(bars.x[b])) + " x=\"" + px(center - bar_width / 2) +
             "\" y=\"" + px(y_top) + "\" width=\"" + px(bar_width) + "\" height=\"" +
             px(y_bottom - y_top) + "\"" + attribute("fill", bars.colors[p]) + "><title>" +
             escape_xml(bars.x_label + " " + number(bars.x[b]) + ", " + bars.parts[p] + ": " +
                        number(value) + " s (" + number(100.0 * share) + "%)") +
             "</title></rect>\n";
    }
  }
  out += legend(entries, layout, bars.height);
  return out + "</svg>\n";
}

std::string heat_map_svg(const HeatMap& map) {
  const size_t rows = map.rows.size(), columns = map.columns.size();
  if (map.counts.size() != rows)
    throw std::invalid_argument("heat_map_svg: counts and row names do not match");
  for (const std::vector<int64_t>& row : map.counts)
    if (row.size() != columns)
      throw std::invalid_argument("heat_map_svg: a row of counts and the columns do not match");
  double longest_row = 0, longest_column = 0;
  for (const std::string& name : map.rows)
    longest_row = std::max(longest_row, text_width(name));
  for (const std::string& name : map.columns)
    longest_column = std::max(longest_column, text_width(name));
  const double cell = std::clamp(480.0 / static_cast<double>(std::max(rows, columns)), 16.0, 44.0);
  const double left = 40 + longest_row + 8, top = 34;
  // Column names slant down to the left (40 degrees), so long ones fit under narrow cells.
  const double slant = 0.7071;
  const double bottom_margin = 14 + longest_column * slant + 34;
  const double grid_w = cell * static_cast<double>(columns),
               grid_h = cell * static_cast<double>(rows);
  const int width = static_cast<int>(std::ceil(std::max(left + grid_w + 24, 360.0)));
  const int height = static_cast<int>(std::ceil(top + grid_h + bottom_margin));

  std::string out = svg_open(width, height, map.title);
  out += text_element(left, 20, map.title, " class=\"chart-title\" font-weight=\"bold\"");
  for (size_t r = 0; r < rows; ++r) {
    int64_t row_total = 0;
    for (int64_t count : map.counts[r])
      row_total += std::max<int64_t>(count, 0);
    for (size_t c = 0; c < columns; ++c) {
      const int64_t count = map.counts[r][c];
      const double share = row_total > 0 ? static_cast<double>(std::max<int64_t>(count, 0)) /
                                               static_cast<double>(row_total)
                                         : 0.0;
      // From near white (#f7fbff) to dark blue (#08306b), by the share of the row.
      const std::array<double, 3> light{247, 251, 255}, dark{8, 48, 107};
      char fill[8];
      std::snprintf(fill, sizeof fill, "#%02x%02x%02x",
                    static_cast<int>(std::lround(light[0] + share * (dark[0] - light[0]))),
                    static_cast<int>(std::lround(light[1] + share * (dark[1] - light[1]))),
                    static_cast<int>(std::lround(light[2] + share * (dark[2] - light[2]))));
      const double x = left + cell * static_cast<double>(c);
      const double y = top + cell * static_cast<double>(r);
      out += "<rect" + attribute("data-row", map.rows[r]) +
             attribute("data-column", map.columns[c]) +
             attribute("data-count", std::to_string(count)) + " x=\"" + px(x) + "\" y=\"" + px(y) +
             "\" width=\"" + px(cell) + "\" height=\"" + px(cell) + "\" stroke=\"#ffffff\"" +
             attribute("fill", fill) + "><title>" +
             escape_xml(map.row_axis + " " + map.rows[r] + ", " + map.column_axis + " " +
                        map.columns[c] + ": " + std::to_string(count) + " (" +
                        number(100.0 * share) + "% of the " + map.row_axis + ")") +
             "</title></rect>\n";
      if (cell >= 22)
        out +=
            text_element(x + cell / 2, y + cell / 2 + 4, std::to_string(count),
                         share > 0.5 ? " text-anchor=\"middle\" font-size=\"11\" fill=\"#ffffff\""
                                     : " text-anchor=\"middle\" font-size=\"11\" fill=\"#222\"");
    }
  }
  out += "<g class=\"names\" fill=\"#333\">\n";
  for (size_t r = 0; r < rows; ++r)
    out += text_element(left - 6, top + cell * (static_cast<double>(r) + 0.5) + 4, map.rows[r],
                        " text-anchor=\"end\"");
  for (size_t c = 0; c < columns; ++c) {
    const double x = left + cell * (static_cast<double>(c) + 0.5), y = top + grid_h + 14;
    out += "<text text-anchor=\"end\" transform=\"translate(" + px(x + 4) + "," + px(y) +
           ") rotate(-40)\">" + escape_xml(map.columns[c]) + "</text>\n";
  }
  out += "</g>\n";
  out += text_element(left + grid_w / 2, height - 10, map.column_axis,
                      " class=\"axis-label\" text-anchor=\"middle\"");
  out += "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"translate(16," +
         px(top + grid_h / 2) + ") rotate(-90)\">" + escape_xml(map.row_axis) + "</text>\n";
  return out + "</svg>\n";
}

const char* run_color(size_t index) {
  static constexpr std::array<const char*, 8> kColors = {
      "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442"};
  return kColors[index % kColors.size()];
}

}  // namespace dptrain::report
