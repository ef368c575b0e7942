// Classic test functions of the global optimisation literature, as formulated in
//   S. Surjanovic and D. Bingham, "Virtual Library of Simulation Experiments: Test Functions
//   and Datasets", Simon Fraser University (https://www.sfu.ca/~ssurjano/), and
//   M. Jamil and X.-S. Yang, "A literature survey of benchmark functions for global
//   optimisation problems", Int. J. Math. Modelling and Numerical Optimisation 4(2), 2013;
// with the original sources named at each function.

#include <array>
#include <cmath>

#include "sysopt/problems/builtin.h"

namespace sysopt::problems_detail {

using nlohmann::json;

// Branin–Hoo (F. H. Branin, "Widely convergent method for finding multiple solutions of
// simultaneous nonlinear equations", IBM J. Res. Dev. 16(5), 1972), in the form used as a
// standard test function by L. C. W. Dixon and G. P. Szegő, "The global optimisation problem:
// an introduction", in Towards Global Optimisation 2, North-Holland, 1978:
//   f(x1, x2) = a (x2 - b x1^2 + c x1 - r)^2 + s (1 - t) cos(x1) + s,
//   a = 1, b = 5.1 / (4 pi^2), c = 5 / pi, r = 6, s = 10, t = 1 / (8 pi),
// on x1 in [-5, 10], x2 in [0, 15]. Three global minima, f = 0.397887 at (-pi, 12.275),
// (pi, 2.275) and (9.42478, 2.475).
Expected<Problem> MakeBranin() {
  json spec = {
      {"name", "branin"},
      {"parameters",
       {{{"name", "x1"}, {"type", "real"}, {"low", -5.0}, {"high", 10.0}},
        {{"name", "x2"}, {"type", "real"}, {"low", 0.0}, {"high", 15.0}}}},
      {"objectives", {{{"name", "value"}, {"goal", "minimize"}}}},
  };
  auto problem = Assemble(
      "branin", "Branin-Hoo on [-5,10]x[0,15] (Dixon & Szego 1978); 3 global minima, f* = 0.397887",
      spec, [](const Config& c) -> Expected<std::vector<double>> {
        const double x1 = Num(c, 0), x2 = Num(c, 1);
        const double b = 5.1 / (4 * kPi * kPi), cc = 5 / kPi, t = 1 / (8 * kPi);
        const double u = x2 - b * x1 * x1 + cc * x1 - 6;
        return std::vector<double>{u * u + 10 * (1 - t) * std::cos(x1) + 10};
      });
  if (!problem.ok()) return problem;
  problem->optimum = 0.397887;
  problem->optimum_config = Config{Value(kPi), Value(2.275)};
  return problem;
}

// Hartmann 6-dimensional (J. K. Hartman, "Some experiments in global optimization", Naval
// Research Logistics Quarterly 20(3), 1973; constants as in Dixon & Szegő 1978):
//   f(x) = -sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2), x in [0, 1]^6,
// global minimum f = -3.32237 at (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573).
Expected<Problem> MakeHartmann6() {
  json params = json::array();
  for (int j = 1; j <= 6; ++j) {
    params.push_back(
        {{"name", "x" + std::to_string(j)}, {"type", "real"}, {"low", 0.0}, {"high", 1.0}});
  }
  json spec = {{"name", "hartmann6"},
               {"parameters", params},
               {"objectives", {{{"name", "value"}, {"goal", "minimize"}}}}};
  auto problem = Assemble(
      "hartmann6", "Hartmann 6-D on [0,1]^6 (Hartman 1973; Dixon & Szego 1978), f* = -3.32237",
      spec, [](const Config& c) -> Expected<std::vector<double>> {
        static constexpr std::array<double, 4> kAlpha = {1.0, 1.2, 3.0, 3.2};
        static constexpr double kA[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                            {0.05, 10, 17, 0.1, 8, 14},
                                            {3, 3.5, 1.7, 10, 17, 8},
                                            {17, 8, 0.05, 10, 0.1, 14}};
        static constexpr double kP[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                            {2329, 4135, 8307, 3736, 1004, 9991},
                                            {2348, 1451, 3522, 2883, 3047, 6650},
                                            {4047, 8828, 8732, 5743, 1091, 381}};
        double f = 0;
        for (int i = 0; i < 4; ++i) {
          double inner = 0;
          for (int j = 0; j < 6; ++j) {
            const double d = Num(c, j) - kP[i][j] * 1e-4;
            inner += kA[i][j] * d * d;
          }
          f -= kAlpha[i] * std::exp(-inner);
        }
        return std::vector<double>{f};
      });
  if (!problem.ok()) return problem;
  problem->optimum = -3.32237;
  problem->optimum_config = Config{Value(0.20169),  Value(0.150011), Value(0.476874),
                                   Value(0.275332), Value(0.311652), Value(0.6573)};
  return problem;
}

// Rosenbrock's valley (H. H. Rosenbrock, "An automatic method for finding the greatest or least
// value of a function", The Computer Journal 3(3), 1960), in its usual n-dimensional form
//   f(x) = sum_{i=1}^{n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2,
// here with n = 4 on the integers -5..10 (16^4 = 65536 configurations); f = 0 at (1, 1, 1, 1).
Expected<Problem> MakeRosenbrockInt() {
  json params = json::array();
  for (int j = 1; j <= 4; ++j) {
    params.push_back(
        {{"name", "x" + std::to_string(j)}, {"type", "integer"}, {"low", -5}, {"high", 10}});
  }
  json spec = {{"name", "rosenbrock_int"},
               {"parameters", params},
               {"objectives", {{{"name", "value"}, {"goal", "minimize"}}}}};
  auto problem = Assemble("rosenbrock_int",
                          "Rosenbrock (1960) in 4-D on the integers -5..10; f* = 0 at (1,1,1,1)",
                          spec, [](const Config& c) -> Expected<std::vector<double>> {
                            double f = 0;
                            for (int i = 0; i < 3; ++i) {
                              const double x = Num(c, i), next = Num(c, i + 1);
                              f += 100 * (next - x * x) * (next - x * x) + (1 - x) * (1 - x);
                            }
                            return std::vector<double>{f};
                          });
  if (!problem.ok()) return problem;
  problem->optimum = 0.0;
  problem->optimum_config =
      Config{Value(int64_t{1}), Value(int64_t{1}), Value(int64_t{1}), Value(int64_t{1})};
  return problem;
}

namespace {

// Ackley's function in 2-D (D. H. Ackley, "A Connectionist Machine for Genetic Hillclimbing",
// Kluwer, 1987), with a = 20, b = 0.2, c = 2 pi; A(0) = 0 is its global minimum and A > 0
// elsewhere.
double Ackley2(double z1, double z2) {
  const double r = std::sqrt(0.5 * (z1 * z1 + z2 * z2));
  const double cos_mean = 0.5 * (std::cos(2 * kPi * z1) + std::cos(2 * kPi * z2));
  return -20 * std::exp(-0.2 * r) - std::exp(cos_mean) + 20 + std::exp(1.0);
}

struct AckleyVariant {
  const char* name;
  double shift1, shift2;  // where the variant's valley lies
  double scale;           // z = scale * (x - shift): a narrower valley for scale > 1
  double offset;          // the variant's floor
  int best_level;         // the ordinal level it prefers
};

constexpr std::array<AckleyVariant, 3> kAckleyVariants = {{
    {"base", 0.0, 0.0, 1.0, 0.6, 2},
    {"shifted", 1.5, -2.0, 1.0, 0.0, 8},
    {"scaled", -1.0, 2.5, 2.0, 0.3, 1},
}};

}  // namespace

// A mixed-variable variant of Ackley's function (built here for this library; the continuous
// part is Ackley 1987 as above):
//   f(x1, x2, variant, level) = A(s_v (x - c_v)) + o_v + 0.25 (log2 level - log2 l_v)^2
// with x in [-5, 5]^2, variant in {base, shifted, scaled} choosing the shift c_v, the input
// scale s_v, the floor o_v and the preferred level l_v:
//   base:    c = (0, 0),     s = 1, o = 0.6, l = 2
//   shifted: c = (1.5, -2),  s = 1, o = 0,   l = 8
//   scaled:  c = (-1, 2.5),  s = 2, o = 0.3, l = 1
// and level an ordinal in {1, 2, 4, 8, 16}. Every term is >= 0 and each variant reaches its
// floor o_v exactly at x = c_v, level = l_v, so the global minimum is min_v o_v = 0, attained
// only at (1.5, -2, shifted, 8).
Expected<Problem> MakeAckleyMixed() {
  json spec = {
      {"name", "ackley_mixed"},
      {"parameters",
       {{{"name", "x1"}, {"type", "real"}, {"low", -5.0}, {"high", 5.0}},
        {{"name", "x2"}, {"type", "real"}, {"low", -5.0}, {"high", 5.0}},
        {{"name", "variant"}, {"type", "categorical"}, {"values", {"base", "shifted", "scaled"}}},
        {{"name", "level"}, {"type", "ordinal"}, {"values", {1, 2, 4, 8, 16}}}}},
      {"objectives", {{{"name", "value"}, {"goal", "minimize"}}}},
  };
  auto problem = Assemble(
      "ackley_mixed",
      "Ackley (1987) on [-5,5]^2 plus a categorical shift/scale variant and an ordinal level; "
      "f* = 0 at (1.5, -2, shifted, 8)",
      spec, [](const Config& c) -> Expected<std::vector<double>> {
        const std::string& variant = Str(c, 2);
        const AckleyVariant* v = &kAckleyVariants[0];
        for (const auto& candidate : kAckleyVariants) {
          if (variant == candidate.name) v = &candidate;
        }
        const double z1 = v->scale * (Num(c, 0) - v->shift1);
        const double z2 = v->scale * (Num(c, 1) - v->shift2);
        const double dl = std::log2(Num(c, 3)) - std::log2(static_cast<double>(v->best_level));
        return std::vector<double>{Ackley2(z1, z2) + v->offset + 0.25 * dl * dl};
      });
  if (!problem.ok()) return problem;
  problem->optimum = 0.0;
  problem->optimum_config =
      Config{Value(1.5), Value(-2.0), Value(std::string("shifted")), Value(int64_t{8})};
  return problem;
}

// A plain mixed space of eight parameters, the shape of many real tuning problems (built here
// for this library): four reals in [0, 2], two integers, two categoricals, and a sum of squared
// distances plus categorical penalties,
//   f = sum_i (x_i - t_i)^2 + ((n1 - 3) / 4)^2 + ((n2 - 12) / 8)^2 + p1(c1) + p2(c2)
// with t = (0.3, 1.1, 1.7, 0.6), n1 in 0..15, n2 in 0..31, p1 = {a: 0.5, b: 0, c: 0.25, d: 1},
// p2 = {x: 0.3, y: 0.6, z: 0}. Every term is >= 0; f* = 0 at (0.3, 1.1, 1.7, 0.6, 3, 12, b, z),
// inside the box, so a model that drifts to its corners cannot get near it.
Expected<Problem> MakeMixed8() {
  json params = json::array();
  for (int j = 1; j <= 4; ++j) {
    params.push_back(
        {{"name", "x" + std::to_string(j)}, {"type", "real"}, {"low", 0.0}, {"high", 2.0}});
  }
  params.push_back({{"name", "n1"}, {"type", "integer"}, {"low", 0}, {"high", 15}});
  params.push_back({{"name", "n2"}, {"type", "integer"}, {"low", 0}, {"high", 31}});
  params.push_back({{"name", "c1"}, {"type", "categorical"}, {"values", {"a", "b", "c", "d"}}});
  params.push_back({{"name", "c2"}, {"type", "categorical"}, {"values", {"x", "y", "z"}}});
  json spec = {{"name", "mixed8"},
               {"parameters", params},
               {"objectives", {{{"name", "value"}, {"goal", "minimize"}}}}};
  auto problem = Assemble(
      "mixed8",
      "4 reals, 2 integers, 2 categoricals: squared distances plus penalties; f* = 0 inside the "
      "box",
      spec, [](const Config& c) -> Expected<std::vector<double>> {
        constexpr std::array<double, 4> kTarget = {0.3, 1.1, 1.7, 0.6};
        double f = 0;
        for (size_t i = 0; i < 4; ++i) f += (Num(c, i) - kTarget[i]) * (Num(c, i) - kTarget[i]);
        const double d1 = (Num(c, 4) - 3) / 4, d2 = (Num(c, 5) - 12) / 8;
        f += d1 * d1 + d2 * d2;
        const std::string& c1 = Str(c, 6);
        f += c1 == "a" ? 0.5 : c1 == "b" ? 0.0 : c1 == "c" ? 0.25 : 1.0;
        const std::string& c2 = Str(c, 7);
        f += c2 == "x" ? 0.3 : c2 == "y" ? 0.6 : 0.0;
        return std::vector<double>{f};
      });
  if (!problem.ok()) return problem;
  problem->optimum = 0.0;
  problem->optimum_config =
      Config{Value(0.3),          Value(1.1),           Value(1.7),
             Value(0.6),          Value(int64_t{3}),    Value(int64_t{12}),
             Value(std::string("b")), Value(std::string("z"))};
  return problem;
}

// ZDT1 (E. Zitzler, K. Deb and L. Thiele, "Comparison of Multiobjective Evolutionary
// Algorithms: Empirical Results", Evolutionary Computation 8(2), 2000) with n = 4 variables on
// [0, 1]:
//   f1 = x1,  g = 1 + 9 / (n - 1) * sum_{i>=2} x_i,  f2 = g (1 - sqrt(f1 / g)).
// The Pareto front is f2 = 1 - sqrt(f1), f1 in [0, 1] (x2 = x3 = x4 = 0). With the reference
// point (11, 11) commonly used for ZDT problems the front dominates an area of
// integral_0^1 (10 + sqrt(f1)) df1 + 10 * 11 = 120 + 2/3.
Expected<Problem> MakeTwoObjective() {
  json params = json::array();
  for (int j = 1; j <= 4; ++j) {
    params.push_back(
        {{"name", "x" + std::to_string(j)}, {"type", "real"}, {"low", 0.0}, {"high", 1.0}});
  }
  json spec = {{"name", "two_objective"},
               {"parameters", params},
               {"objectives",
                {{{"name", "f1"}, {"goal", "minimize"}}, {{"name", "f2"}, {"goal", "minimize"}}}}};
  auto problem = Assemble(
      "two_objective",
      "ZDT1 (Zitzler, Deb & Thiele 2000) with 4 variables; hypervolume* = 120.6667 for reference "
      "(11, 11)",
      spec, [](const Config& c) -> Expected<std::vector<double>> {
        const double f1 = Num(c, 0);
        const double g = 1 + 9.0 / 3.0 * (Num(c, 1) + Num(c, 2) + Num(c, 3));
        return std::vector<double>{f1, g * (1 - std::sqrt(f1 / g))};
      });
  if (!problem.ok()) return problem;
  problem->reference_point = {11.0, 11.0};
  problem->max_hypervolume = 120.0 + 2.0 / 3.0;
  return problem;
}

}  // namespace sysopt::problems_detail
