#pragma once
/// \brief Pareto dominance and hypervolume for studies with several objectives.

#include <vector>

namespace sysopt {

/// \brief True when objective values `a` Pareto-dominate `b` (no worse in every objective, better
/// in one), with `minimize[i]` giving each objective's direction.
bool Dominates(const std::vector<double>& a, const std::vector<double>& b,
               const std::vector<bool>& minimize);

/// \brief The volume dominated by `points` (all objectives minimised) and bounded by `reference`;
/// points not strictly better than the reference in every objective add nothing. Exact, by
/// slicing along the last objective (O(n^(d-1) log n)): meant for fronts of up to a few hundred
/// points and a handful of objectives.
double Hypervolume(std::vector<std::vector<double>> points, const std::vector<double>& reference);

/// \brief A reference point for reporting: per objective, the worst value among `points` plus a
/// tenth of their range (so that the extreme points of a front still count).
std::vector<double> NadirReference(const std::vector<std::vector<double>>& points);

}  // namespace sysopt
