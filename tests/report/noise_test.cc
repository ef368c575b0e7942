#include "sysopt/report/noise.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "sysopt/storage/storage.h"

namespace sysopt {
namespace {

TEST(NoiseTest, SummaryHasTheStudentTInterval) {
  const SampleSummary s = Summarize({1, 2, 3});
  EXPECT_EQ(s.n, 3);
  EXPECT_DOUBLE_EQ(s.mean, 2);
  // sd 1, t(0.975, 2) = 4.303: half-width 4.303 / sqrt(3).
  EXPECT_NEAR(s.half_width, 4.303 / std::sqrt(3.0), 1e-9);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 3);
  EXPECT_EQ(Summarize({5}).half_width, 0);
  EXPECT_EQ(Summarize({}).n, 0);
  EXPECT_DOUBLE_EQ(StudentT975(1), 12.706);
  EXPECT_DOUBLE_EQ(StudentT975(1000), 1.96);
  for (int df = 1; df < 200; ++df) EXPECT_GE(StudentT975(df), StudentT975(df + 1)) << df;
}

TEST(NoiseTest, VerdictsOfClearAndOverlappingDifferences) {
  // The interval example of a noisy compile-flags run: the intervals overlap.
  const Comparison noisy = Compare({1.75, 3.26, 2.4}, {1.86, 2.31, 2.0}, /*minimize=*/true);
  EXPECT_EQ(noisy.verdict, Verdict::kWithinNoise);
  ASSERT_TRUE(noisy.ratio.has_value());

  const Comparison clear = Compare({1.0, 1.01, 0.99}, {2.0, 2.02, 1.98}, true);
  EXPECT_EQ(clear.verdict, Verdict::kBetter);
  EXPECT_NEAR(*clear.ratio, 2.0, 1e-9);
  EXPECT_EQ(Compare({1.0, 1.01, 0.99}, {2.0, 2.02, 1.98}, /*minimize=*/false).verdict,
            Verdict::kWorse);
  EXPECT_EQ(Compare({3.0, 3.01, 2.99}, {2.0, 2.02, 1.98}, false).verdict, Verdict::kBetter);
  EXPECT_EQ(Compare({1.0}, {2.0, 2.1}, true).verdict, Verdict::kUnknown);
  EXPECT_EQ(VerdictName(Verdict::kWithinNoise), "within noise");
}

TEST(NoiseTest, PureNoiseIsRarelyCalledAnImprovement) {
  // Two configurations drawn from one distribution: the verdict must almost never be "better".
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> noise(0.7, 0.25);
  int claimed = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<double> a(5), b(5);
    for (auto& v : a) v = noise(rng);
    for (auto& v : b) v = noise(rng);
    claimed += Compare(a, b, true).verdict == Verdict::kBetter;
  }
  EXPECT_LE(claimed, 4);  // non-overlapping 95% intervals: well under 1% for equal noise
}

TEST(NoiseTest, SpreadWarningForWideSamples) {
  EXPECT_FALSE(SpreadWarning({2.0, 2.1, 2.2}).has_value());
  ASSERT_TRUE(SpreadWarning({2.0, 5.6, 2.5}).has_value());
  EXPECT_EQ(*SpreadWarning({2.0, 5.6, 2.5}), "samples range 2 .. 5.6");
  EXPECT_FALSE(SpreadWarning({3.0}).has_value());
  EXPECT_FALSE(SpreadWarning({-1.0, 2.0}).has_value());
}

}  // namespace
}  // namespace sysopt
