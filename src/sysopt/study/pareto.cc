#include "sysopt/study/pareto.h"

#include <algorithm>
#include <limits>

namespace sysopt {

bool Dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<bool>& minimize) {
  bool strictly = false;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = minimize[i] ? a[i] : -a[i];
    const double y = minimize[i] ? b[i] : -b[i];
    if (x > y) return false;
    if (x < y) strictly = true;
  }
  return strictly;
}

namespace {

double HypervolumeSorted(std::vector<std::vector<double>>& points, const std::vector<double>& ref,
                         size_t dims) {
  if (points.empty()) return 0;
  if (dims == 1) {
    double best = ref[0];
    for (const auto& p : points) best = std::min(best, p[0]);
    return ref[0] - best;
  }
  if (dims == 2) {
    // Sweep in increasing first objective: each point that lowers the running minimum of the
    // second adds the slab between the two, reaching to the reference (O(n log n)).
    std::sort(points.begin(), points.end());
    double area = 0, floor = ref[1];
    for (const auto& p : points) {
      if (p[1] < floor) {
        area += (ref[0] - p[0]) * (floor - p[1]);
        floor = p[1];
      }
    }
    return area;
  }
  const size_t last = dims - 1;
  std::sort(points.begin(), points.end(),
            [last](const auto& a, const auto& b) { return a[last] < b[last]; });
  // Sweep the last objective upwards: between consecutive values the slice holds every point
  // seen so far, whose (d-1)-dimensional volume is the slice's cross-section.
  double volume = 0;
  std::vector<std::vector<double>> active;
  for (size_t i = 0; i < points.size(); ++i) {
    active.push_back(points[i]);
    const double upper = i + 1 < points.size() ? points[i + 1][last] : ref[last];
    const double thickness = upper - points[i][last];
    if (thickness <= 0) continue;
    auto slice = active;
    volume += thickness * HypervolumeSorted(slice, ref, last);
  }
  return volume;
}

}  // namespace

double Hypervolume(std::vector<std::vector<double>> points, const std::vector<double>& reference) {
  const size_t dims = reference.size();
  std::erase_if(points, [&](const std::vector<double>& p) {
    if (p.size() < dims) return true;
    for (size_t k = 0; k < dims; ++k) {
      if (!(p[k] < reference[k])) return true;
    }
    return false;
  });
  return HypervolumeSorted(points, reference, dims);
}

std::vector<double> NadirReference(const std::vector<std::vector<double>>& points) {
  if (points.empty()) return {};
  const size_t dims = points.front().size();
  std::vector<double> lo(dims, std::numeric_limits<double>::infinity()), hi(dims, -lo[0]);
  for (const auto& p : points) {
    for (size_t k = 0; k < dims; ++k) {
      lo[k] = std::min(lo[k], p[k]);
      hi[k] = std::max(hi[k], p[k]);
    }
  }
  std::vector<double> ref(dims);
  for (size_t k = 0; k < dims; ++k) {
    const double range = hi[k] - lo[k];
    ref[k] = hi[k] + (range > 0 ? 0.1 * range : 1.0);
  }
  return ref;
}

}  // namespace sysopt
