#pragma once
/// \file
/// \brief Constraint expressions over parameter names, in the Python-like syntax of the T1
/// format's `Conditions` (the restrictions of Kernel Tuner and BAT).
///
/// The language, with Python's precedence from loosest to tightest binding:
///
///   - `or`, `and`, `not` with Python truthiness (numbers are true when nonzero, strings when
///     not empty); `and`/`or` short-circuit and yield the deciding operand, as in Python.
///   - Comparisons `== != < <= > >=`, `in` and `not in`, chainable as in Python:
///     `32 <= a * b <= 1024` means `32 <= a * b and a * b <= 1024` with `a * b` evaluated once.
///     The right operand of `in` is a list `[x, y]` or tuple `(x, y)` literal, whose elements
///     are any expressions, all evaluated before the test as in Python (so `x in [x, 1 / 0]`
///     fails), or a string (substring test). `in` must end a chain.
///   - `+ -`, then `* / // %`, then unary `+ -`, then `**` (right-associative, and binding
///     tighter than a unary minus on its left: `-2 ** 2 == -4`).
///   - Operands: parameter names (`[A-Za-z_][A-Za-z0-9_]*`), integer literals (decimal, `0x`,
///     `0o`, `0b`), real literals (`1.5`, `.5`, `2e-3`), string literals in single or double
///     quotes (escapes `\\ \' \" \n \t \r`), `True` and `False` (the integers 1 and 0), and
///     parentheses.
///
/// Arithmetic follows Python: integers stay integers except under `/` (true division, giving a
/// real) and `**` with a negative exponent; `//` floors and `%` takes the sign of the divisor;
/// an integer result that would overflow int64 is computed as a real instead. Comparing an
/// integer with a real is exact. Strings compare with strings by `==`, `!=` and ordering
/// (byte-wise, which for UTF-8 is code point order); a string equals no number. Arithmetic on
/// strings, bitwise operators, calls, attributes and subscripts are not part of the language.
///
/// Division by zero, ordering a string against a number, a negative number raised to a
/// fractional power, or reading a permutation or sequence parameter are runtime errors: Evaluate
/// treats them as an unsatisfied constraint, Check reports them.
///
/// Thread safety: the const methods may be called concurrently; Bind may not run concurrently
/// with anything else on the same object. Copies share the parsed program and are independent
/// for Bind.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sysopt/core/expected.h"
#include "sysopt/core/value.h"

namespace sysopt {

namespace detail {
struct CompiledExpression;
}  // namespace detail

/// \brief The values one position of a Config may take, for reasoning about a whole box of
/// configurations at once (Expression::MaySatisfy).
struct ValueRange {
  enum class Kind : uint8_t { kAny, kNumbers, kString };
  Kind kind = Kind::kAny;
  bool integers = false;  ///< kNumbers: the values are int64 (else doubles).
  double low = 0;         ///< kNumbers: every value lies in [low, high].
  double high = 0;
  const std::string* text = nullptr;  ///< kString: the one value; must outlive the call.
};

/// \brief A parsed constraint: a boolean expression over parameter names, compiled once and
/// evaluated without allocation on numeric configurations.
///
/// Call order: Parse, then Bind (to map names to positions in a Config), then Evaluate or Check
/// any number of times. An expression that reads no names needs no Bind.
class Expression {
 public:
  /// \brief Parses `text`. Errors are kInvalidInput and name the expression and the 1-based
  /// column (in characters), e.g.
  /// "constraint 'a * * b': column 5: expected an operand, found '*'".
  static Expected<Expression> Parse(std::string_view text);

  /// \brief The source text.
  const std::string& text() const;

  /// \brief Distinct identifiers the expression reads, in order of first appearance.
  const std::vector<std::string>& names() const;

  /// \brief Resolves every identifier to an index into a Config; `resolve` returns -1 for an
  /// unknown name, which makes Bind fail with "constraint '<text>': unknown parameter 'x'" and
  /// leaves any earlier binding in place.
  Expected<void> Bind(const std::function<int(std::string_view)>& resolve);

  /// \brief Whether Evaluate and Check can run: Bind succeeded, or there is nothing to bind.
  bool bound() const { return bound_; }

  /// \brief Evaluates a bound expression on a configuration (only the bound indices are read).
  /// A runtime error (division by zero, ordering a string against a number, ...) makes the
  /// constraint unsatisfied: returns false. Also false when not bound. Allocation-free.
  bool Evaluate(const Config& config) const;

  /// \brief False only when no configuration whose values lie in `ranges` (indexed like a
  /// Config) satisfies the bound expression: interval reasoning, sound but not exact, so true
  /// may be said of a box holding no solution, never false of one holding one. Used to prune
  /// searches and to narrow ranges (`p0 + p1 < 10` bounds both to 0..9) without enumerating.
  /// False when not bound. Allocation-free.
  bool MaySatisfy(const std::vector<ValueRange>& ranges) const;

  /// \brief The converse: false only when every configuration in `ranges` satisfies the bound
  /// expression (a constraint that holds over the whole domain links no parameters). True when
  /// not bound.
  bool MayViolate(const std::vector<ValueRange>& ranges) const;

  /// \brief Like Evaluate but reports a runtime error instead of treating it as false, e.g.
  /// "constraint 'a / b > 1': column 3: division by zero". Calling it before Bind is an error.
  Expected<bool> Check(const Config& config) const;

 private:
  explicit Expression(std::shared_ptr<const detail::CompiledExpression> program);

  std::shared_ptr<const detail::CompiledExpression> program_;  // Immutable, shared by copies.
  std::vector<int> indices_;  ///< Config index of each of names(), set by Bind.
  bool bound_ = false;
};

}  // namespace sysopt
