#pragma once
/// \brief The project's random number generator: one seeded engine type everywhere so that runs
/// with a fixed seed are reproducible across samplers, models and tests.

#include <cstdint>
#include <random>

namespace sysopt {

/// \brief 64-bit Mersenne Twister; cheap to copy, explicitly seeded.
using Rng = std::mt19937_64;

/// \brief Derives an independent stream seed from a base seed and a stream index (SplitMix64), so
/// that e.g. worker k or restart k gets its own reproducible generator.
inline uint64_t DeriveSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// \brief A uniform double in [0, 1).
inline double Uniform01(Rng& rng) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng); }

/// \brief A uniform integer in [0, n) for n > 0.
inline uint64_t UniformIndex(Rng& rng, uint64_t n) {
  return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng);
}

}  // namespace sysopt
