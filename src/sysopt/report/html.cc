#include "sysopt/report/html.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace sysopt::html {

std::string Escape(std::string_view text) {
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

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return "0";
  return fmt::format("{:.4g}", value);
}

std::string FormatBytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  double v = bytes;
  while (std::abs(v) >= 1024 && unit < 6) {
    v /= 1024;
    ++unit;
  }
  return fmt::format("{} {}", FormatNumber(std::round(v * 100) / 100), kUnits[unit]);
}

std::vector<double> Ticks(double lo, double hi, int target, bool log) {
  std::vector<double> ticks;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  if (log) {
    const int first = static_cast<int>(std::floor(std::log10(lo)));
    const int last = static_cast<int>(std::ceil(std::log10(hi)));
    const bool fine = last - first <= 2;
    const int stride = std::max(1, (last - first) / std::max(target, 1));
    for (int e = first; e <= last; e += stride) {
      for (double m : fine ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
        const double v = m * std::pow(10.0, e);
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push_back(v);
      }
    }
    if (ticks.size() < 2) {
      ticks = {lo, hi};  // A narrow range within one decade: its ends.
    }
    return ticks;
  }
  const double raw = (hi - lo) / std::max(target, 1);
  const int e = static_cast<int>(std::floor(std::log10(raw)));
  const double magnitude = std::pow(10.0, e);
  double m = 1;
  for (double candidate : {1.0, 2.0, 5.0, 10.0}) {
    m = candidate;
    if (m * magnitude >= raw) break;
  }
  const double step = m * magnitude;
  // Tick k is k * m * 10^e, computed as one rounding (k * m / 10^-e for small steps) so that
  // 0.3 is 0.3 and not 0.1 + 0.1 + 0.1.
  auto tick = [&](double k) { return e < 0 ? k * m / std::pow(10.0, -e) : k * step; };
  for (double k = std::ceil(lo / step - 1e-9); tick(k) <= hi + step * 1e-9; ++k) {
    ticks.push_back(k == 0 ? 0.0 : tick(k));
  }
  return ticks;
}

double Scale::operator()(double v) const {
  double t;
  if (log) {
    t = (std::log(std::max(v, 1e-300)) - std::log(lo)) / (std::log(hi) - std::log(lo));
  } else {
    t = (v - lo) / (hi - lo);
  }
  return from + t * (to - from);
}

std::pair<double, double> PaddedRange(double lo, double hi, bool log, double pad) {
  if (log) {
    lo = std::max(lo, 1e-300);
    hi = std::max(hi, lo);
    if (hi <= lo) return {lo / 2, lo * 2};
    const double f = std::pow(hi / lo, pad);
    return {lo / f, hi * f};
  }
  if (!(hi > lo)) {
    const double w = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    return {lo - w, lo + w};
  }
  const double w = (hi - lo) * pad;
  return {lo - w, hi + w};
}

const char* Color(size_t index) {
  static const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
                                   "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"};
  return kPalette[index % 10];
}

Plot::Plot(PlotOptions options) : options_(std::move(options)) {
  if (options_.title.empty()) top_ = 16;
  svg_ = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{}\" width=\"{}\" height=\"{}\" "
      "viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">\n",
      Escape(options_.css_class), options_.width, options_.height, options_.width,
      options_.height, Escape(options_.title));
  SetX(0, 1);
  SetY(0, 1);
}

void Plot::SetX(double lo, double hi) { x_ = {lo, hi, double(left()), double(right()), options_.x_log}; }

void Plot::SetY(double lo, double hi) {
  y_ = {lo, hi, double(bottom()), double(top()), options_.y_log};
}

void Plot::Frame(std::string (*x_tick_label)(double), std::string (*y_tick_label)(double)) {
  if (!options_.title.empty()) {
    svg_ += fmt::format("<text class=\"title\" x=\"{}\" y=\"20\">{}</text>\n", left(),
                        Escape(options_.title));
  }
  svg_ += fmt::format(
      "<rect class=\"area\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fafafa\" "
      "stroke=\"#999\"/>\n",
      left(), top(), right() - left(), bottom() - top());
  for (double v : Ticks(x_.lo, x_.hi, std::max(2, (right() - left()) / 90), x_.log)) {
    const double px = x_(v);
    if (px < left() - 0.5 || px > right() + 0.5) continue;
    svg_ += fmt::format(
        "<line class=\"grid\" x1=\"{:.1f}\" y1=\"{}\" x2=\"{:.1f}\" y2=\"{}\" stroke=\"#e4e4e4\"/>"
        "<text class=\"tick\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
        px, top(), px, bottom(), px, bottom() + 15,
        Escape(x_tick_label ? x_tick_label(v) : FormatNumber(v)));
  }
  for (double v : Ticks(y_.lo, y_.hi, std::max(2, (bottom() - top()) / 50), y_.log)) {
    const double py = y_(v);
    if (py < top() - 0.5 || py > bottom() + 0.5) continue;
    svg_ += fmt::format(
        "<line class=\"grid\" x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#e4e4e4\"/>"
        "<text class=\"tick\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
        left(), py, right(), py, left() - 6, py + 4,
        Escape(y_tick_label ? y_tick_label(v) : FormatNumber(v)));
  }
  svg_ += fmt::format(
      "<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
      (left() + right()) / 2, options_.height - 10, Escape(options_.x_label));
  const int cy = (top() + bottom()) / 2;
  svg_ += fmt::format(
      "<text class=\"axis-label\" x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" "
      "text-anchor=\"middle\">{}</text>\n",
      cy, cy, Escape(options_.y_label));
}

void Plot::Circle(double x, double y, double r, std::string_view attrs, std::string_view title) {
  svg_ += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" {}>", x_(x), y_(y), r, attrs);
  if (!title.empty()) svg_ += fmt::format("<title>{}</title>", Escape(title));
  svg_ += "</circle>\n";
}

void Plot::Polyline(const std::vector<std::pair<double, double>>& points, std::string_view attrs) {
  if (points.empty()) return;
  std::string text;
  for (const auto& [x, y] : points) text += fmt::format("{:.1f},{:.1f} ", x_(x), y_(y));
  text.pop_back();
  svg_ += fmt::format("<polyline fill=\"none\" points=\"{}\" {}/>\n", text, attrs);
}

void Plot::Text(double px, double py, std::string_view text, std::string_view attrs) {
  svg_ += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" {}>{}</text>\n", px, py, attrs,
                      Escape(text));
}

void Plot::Legend(const std::vector<LegendEntry>& entries, int dx, int dy) {
  if (entries.empty()) return;
  size_t longest = 0;
  for (const auto& e : entries) longest = std::max(longest, e.label.size());
  const int width = 34 + static_cast<int>(std::min<size_t>(longest, 40) * 7);
  const bool outside = options_.right_margin >= width;
  const int x0 = (outside ? right() + 8 : right() - width - 6) + dx;
  const int y0 = top() + 6 + dy;
  svg_ += "<g class=\"legend\">";
  if (!outside) {
    svg_ += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"white\" fill-opacity=\"0.85\" "
        "stroke=\"#ccc\"/>",
        x0, y0, width, 18 * entries.size() + 6);
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    const int cy = y0 + 14 + 18 * static_cast<int>(i);
    if (e.line) {
      svg_ += fmt::format(
          "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"{}/>",
          x0 + 6, cy - 4, x0 + 24, cy - 4, e.color,
          e.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", e.dash));
    } else {
      svg_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>",
                          x0 + 10, cy - 9, e.color);
    }
    svg_ += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>", x0 + 30, cy,
                        Escape(e.label.size() > 40 ? e.label.substr(0, 39) + "…" : e.label));
  }
  svg_ += "</g>\n";
}

std::string Plot::Finish() { return svg_ + "</svg>\n"; }

}  // namespace sysopt::html
