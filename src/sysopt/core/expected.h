#pragma once
/// \file
/// \brief Expected<T> and Error: the return type of every operation that can fail for reasons a
/// user can fix (bad input, I/O, a failing command). Exceptions are kept for broken invariants.

#include <fmt/format.h>

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace sysopt {

/// \brief What kind of failure an Error describes; the CLI maps it to an exit code.
enum class ErrorKind {
  kInvalidInput,  ///< The user's input (spec, flag, file content) is wrong: exit code 2.
  kIo,            ///< Reading or writing a file or database failed: exit code 1.
  kRuntime,       ///< Anything else that went wrong while running: exit code 1.
  kNotFound,      ///< A named thing (study, trial) does not exist: exit code 2.
};

/// \brief A failure with a message that names the file, field and value involved.
class Error {
 public:
  Error(ErrorKind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }

  /// \brief Returns a copy whose message is prefixed with `context: `.
  Error WithContext(std::string_view context) const {
    return Error(kind_, fmt::format("{}: {}", context, message_));
  }

 private:
  ErrorKind kind_;
  std::string message_;
};

/// \brief Shorthand constructors for the common kinds, taking fmt-style arguments.
template <typename... Args>
Error InvalidInput(fmt::format_string<Args...> f, Args&&... args) {
  return Error(ErrorKind::kInvalidInput, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Error IoError(fmt::format_string<Args...> f, Args&&... args) {
  return Error(ErrorKind::kIo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Error RuntimeError(fmt::format_string<Args...> f, Args&&... args) {
  return Error(ErrorKind::kRuntime, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Error NotFound(fmt::format_string<Args...> f, Args&&... args) {
  return Error(ErrorKind::kNotFound, fmt::format(f, std::forward<Args>(args)...));
}

/// \brief Either a value of type T or an Error. Accessing the wrong alternative is a broken
/// invariant and asserts.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT implicit
  Expected(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

/// \brief Expected<void>: success carries nothing.
template <>
class [[nodiscard]] Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT implicit

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_{ErrorKind::kRuntime, ""};
  bool ok_ = true;
};

/// \brief Success value for Expected<void>.
inline Expected<void> Ok() { return {}; }

}  // namespace sysopt

/// Evaluates `expr` (an Expected<void>) and returns its error from the enclosing function.
#define SYSOPT_RETURN_IF_ERROR(expr)                         \
  do {                                                       \
    auto sysopt_status_ = (expr);                            \
    if (!sysopt_status_.ok()) return sysopt_status_.error(); \
  } while (0)
