#pragma once
/// \file
/// \brief One clock for a whole planner command: a point in time that every solver of the
/// command shares, handed down so that each solver (and each phase inside it) takes its share
/// of what is left instead of a fixed number of seconds of its own.
/// Thread safety: a value type; reading the clock is safe from any thread.

#include <algorithm>
#include <chrono>
#include <limits>

namespace sysopt::remat {

/// \brief A wall-clock deadline (steady clock).
class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  /// \brief A deadline that never comes.
  Deadline() : at_(Clock::time_point::max()) {}
  explicit Deadline(Clock::time_point at) : at_(at) {}

  /// \brief `seconds` from now; a non-positive or non-finite value gives a deadline already
  /// past (non-finite positive values never expire).
  static Deadline In(double seconds) {
    if (!(seconds > 0)) return Deadline(Clock::now());
    if (seconds > 1e9) return Deadline();
    return Deadline(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(seconds)));
  }

  /// \brief Whether the deadline never comes.
  bool Unlimited() const { return at_ == Clock::time_point::max(); }

  /// \brief Seconds left, at least 0 (a very large number when unlimited).
  double Remaining() const {
    if (Unlimited()) return std::numeric_limits<double>::max();
    return std::max(0.0, std::chrono::duration<double>(at_ - Clock::now()).count());
  }

  /// \brief Whether the deadline has passed.
  bool Expired() const { return !Unlimited() && Clock::now() >= at_; }

  /// \brief The earlier deadline of `fraction` of the time left from now, and this one.
  Deadline Share(double fraction) const {
    if (Unlimited()) return *this;
    fraction = std::clamp(fraction, 0.0, 1.0);
    return Deadline::In(fraction * Remaining()).EarlierOf(*this);
  }

  /// \brief This deadline moved `seconds` earlier (not before now).
  Deadline Sooner(double seconds) const {
    if (Unlimited()) return *this;
    return Deadline::In(Remaining() - seconds);
  }

  /// \brief The earlier of the two.
  Deadline EarlierOf(const Deadline& other) const { return at_ <= other.at_ ? *this : other; }

  Clock::time_point at() const { return at_; }

 private:
  Clock::time_point at_;
};

}  // namespace sysopt::remat
