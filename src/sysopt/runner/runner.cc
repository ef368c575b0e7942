#include "sysopt/runner/runner.h"

#include <algorithm>
#include <limits>

namespace sysopt {

Expected<Aggregate> ParseAggregate(std::string_view text) {
  if (text == "median") return Aggregate::kMedian;
  if (text == "mean") return Aggregate::kMean;
  if (text == "min") return Aggregate::kMin;
  return InvalidInput("unknown aggregate '{}' (expected median, mean or min)", text);
}

std::string_view AggregateName(Aggregate aggregate) {
  switch (aggregate) {
    case Aggregate::kMedian:
      return "median";
    case Aggregate::kMean:
      return "mean";
    case Aggregate::kMin:
      return "min";
  }
  return "median";
}

std::vector<double> AggregateSamples(const std::vector<std::vector<double>>& samples,
                                     Aggregate aggregate) {
  if (samples.empty()) return {};
  const size_t objectives = samples.front().size();
  std::vector<double> out(objectives);
  std::vector<double> column(samples.size());
  for (size_t j = 0; j < objectives; ++j) {
    for (size_t i = 0; i < samples.size(); ++i) column[i] = samples[i].at(j);
    switch (aggregate) {
      case Aggregate::kMedian: {
        std::sort(column.begin(), column.end());
        const size_t n = column.size();
        out[j] = n % 2 == 1 ? column[n / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
        break;
      }
      case Aggregate::kMean: {
        double sum = 0;
        for (double v : column) sum += v;
        out[j] = sum / static_cast<double>(column.size());
        break;
      }
      case Aggregate::kMin:
        out[j] = *std::min_element(column.begin(), column.end());
        break;
    }
  }
  return out;
}

}  // namespace sysopt
