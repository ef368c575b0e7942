#pragma once
/// \file
/// \brief A small writer of HTML text and inline SVG plots: escaping, number formatting, axis
/// scales with readable ticks, and a plot frame (title, labelled axes, legend) to draw into.
/// Every piece of text from outside the code (names, values, failure reasons) goes through
/// Escape; attribute strings passed to the drawing calls are the code's own.
///
/// Thread safety: values only; a Plot is used by one thread.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sysopt::html {

/// \brief `text` with &, <, >, " and ' replaced by entities: safe as element text and inside
/// a quoted attribute value.
std::string Escape(std::string_view text);

/// \brief A number for people: up to 4 significant digits, no trailing zeros ("0.0123", "12.5",
/// "1.5e+06"); "nan", "inf" and "-inf" for those.
std::string FormatNumber(double value);

/// \brief A byte count as "512 B", "1.5 KiB", "12 MiB", "3.2 GiB".
std::string FormatBytes(double bytes);

/// \brief Evenly spaced round tick values (steps of 1, 2 or 5 times a power of ten) covering
/// [lo, hi], about `target` of them; on a log scale, powers of ten (with 2 and 5 between them
/// when the range spans few decades). lo < hi, and lo > 0 on a log scale.
std::vector<double> Ticks(double lo, double hi, int target, bool log);

/// \brief Maps a data interval onto pixels, linearly or logarithmically.
struct Scale {
  double lo = 0, hi = 1;      ///< Data range (lo < hi; lo > 0 when log).
  double from = 0, to = 100;  ///< Pixel range (to < from for a y axis).
  bool log = false;
  double operator()(double v) const;
};

/// \brief A data range padded by `pad` of its width on each side (or widened around a single
/// value); kept positive on a log scale.
std::pair<double, double> PaddedRange(double lo, double hi, bool log, double pad = 0.05);

/// \brief What a plot frame shows.
struct PlotOptions {
  int width = 720;
  int height = 380;
  std::string title;    ///< Escaped on output.
  std::string x_label;  ///< Axis labels with units, e.g. "trial number", "memory (MiB)".
  std::string y_label;
  bool x_log = false;
  bool y_log = false;
  std::string css_class;  ///< Class of the <svg> element, e.g. "plot history".
  int right_margin = 24;  ///< Room for a legend beside the plot.
};

/// \brief One legend entry: a swatch of `color` drawn as a dot or a line, then `label`.
struct LegendEntry {
  LegendEntry(std::string color_, std::string label_, bool line_ = false, std::string dash_ = "")
      : color(std::move(color_)), label(std::move(label_)), line(line_), dash(std::move(dash_)) {}
  std::string color;
  std::string label;
  bool line = false;
  std::string dash;  ///< stroke-dasharray for a line swatch, empty for solid.
};

/// \brief An SVG plot: call Frame once the scales are set, draw with the helpers, then Finish.
class Plot {
 public:
  explicit Plot(PlotOptions options);

  int left() const { return left_; }
  int right() const { return options_.width - options_.right_margin; }
  int top() const { return top_; }
  int bottom() const { return options_.height - bottom_margin_; }

  /// \brief Sets the data ranges (as PaddedRange gives them) of the axes.
  void SetX(double lo, double hi);
  void SetY(double lo, double hi);
  const Scale& x() const { return x_; }
  const Scale& y() const { return y_; }

  /// \brief Draws title, grid, ticks and axis labels. `x_tick_label`, when given, labels each x
  /// tick instead of FormatNumber (e.g. percentages or byte sizes); the same for y.
  void Frame(std::string (*x_tick_label)(double) = nullptr,
             std::string (*y_tick_label)(double) = nullptr);

  /// \brief Raw SVG text appended as is: only for markup the code builds itself.
  void Raw(std::string_view svg) { svg_ += svg; }

  /// \brief A circle at data coordinates with a tooltip (`title`, escaped); `attrs` are extra
  /// attributes such as `class="trial" fill="#1f77b4"`.
  void Circle(double x, double y, double r, std::string_view attrs, std::string_view title);

  /// \brief A polyline through data points.
  void Polyline(const std::vector<std::pair<double, double>>& points, std::string_view attrs);

  /// \brief Text at pixel coordinates (escaped).
  void Text(double px, double py, std::string_view text, std::string_view attrs);

  /// \brief A legend at the top right inside the plot (or in the right margin when it is wide),
  /// moved `dx`, `dy` pixels.
  void Legend(const std::vector<LegendEntry>& entries, int dx = 0, int dy = 0);

  /// \brief The finished <svg> element.
  std::string Finish();

 private:
  PlotOptions options_;
  int left_ = 72, top_ = 36, bottom_margin_ = 48;
  Scale x_, y_;
  std::string svg_;
};

/// \brief A colour of a fixed palette (Tableau 10), cycling.
const char* Color(size_t index);

}  // namespace sysopt::html
