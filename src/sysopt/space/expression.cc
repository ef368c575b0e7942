#include "sysopt/space/expression.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace sysopt {
namespace detail {

// A runtime value. Booleans are the integers 0 and 1, as in Python, so that `True + 1 == 2`.
// Strings point into the Config being evaluated or into the program's literal pool, which is
// what keeps evaluation free of allocation.
enum class Kind : uint8_t { kInt, kReal, kStr };

struct Slot {
  Kind kind;
  union {
    int64_t i;
    double d;
    const std::string* s;
  };
};

enum class Op : uint8_t {
  kPushConst,  // arg: constant index.
  kLoad,       // arg: index into names().
  kNeg,
  kPos,
  kNot,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kFloorDiv,
  kMod,
  kPow,
  kCompare,           // aux: Cmp. [a, b] -> [a cmp b].
  kCompareChain,      // aux: Cmp, arg: target. [a, b] -> [b], or [False] and jump.
  kJumpIfFalseOrPop,  // arg: target.
  kJumpIfTrueOrPop,   // arg: target.
  kMatch,             // [x, found, e] -> [x, found or x == e].
  kNoMatch,           // aux: negated. [x, found] -> [found != negated].
  kContains,          // aux: negated. [x, s] -> [x is a substring of s].
};

enum class Cmp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

struct Instr {
  Op op;
  uint8_t aux;
  int32_t arg;
};

struct CompiledExpression {
  std::string text;
  std::vector<std::string> names;
  std::vector<Instr> code;
  std::vector<uint32_t> offsets;  // Byte offset in `text` of each instruction's token.
  std::vector<Slot> constants;
  std::deque<std::string> strings;  // A deque so that Slot::s stays valid while it grows.
  int max_depth = 0;
};

}  // namespace detail

namespace {

using detail::Cmp;
using detail::CompiledExpression;
using detail::Instr;
using detail::Kind;
using detail::Op;
using detail::Slot;

// Evaluation uses a fixed stack in the caller's frame; Parse rejects programs that need more.
constexpr int kMaxStack = 128;
// Bounds the parser's recursion; each parenthesis level costs about three.
constexpr int kMaxNesting = 240;

Slot IntSlot(int64_t v) {
  Slot s;
  s.kind = Kind::kInt;
  s.i = v;
  return s;
}
Slot RealSlot(double v) {
  Slot s;
  s.kind = Kind::kReal;
  s.d = v;
  return s;
}
Slot StrSlot(const std::string* v) {
  Slot s;
  s.kind = Kind::kStr;
  s.s = v;
  return s;
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kInt:
      return "int";
    case Kind::kReal:
      return "float";
    case Kind::kStr:
      return "str";
  }
  return "?";
}

std::string_view CmpSymbol(Cmp cmp) {
  static constexpr std::string_view kSymbols[] = {"==", "!=", "<", "<=", ">", ">="};
  return kSymbols[static_cast<int>(cmp)];
}

std::string_view OpSymbol(const Instr& instr) {
  switch (instr.op) {
    case Op::kNeg:
    case Op::kSub:
      return "-";
    case Op::kPos:
    case Op::kAdd:
      return "+";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kFloorDiv:
      return "//";
    case Op::kMod:
      return "%";
    case Op::kPow:
      return "**";
    case Op::kCompare:
    case Op::kCompareChain:
      return CmpSymbol(static_cast<Cmp>(instr.aux));
    case Op::kContains:
      return instr.aux ? "not in" : "in";
    default:
      return "?";
  }
}

// Columns count characters, not bytes, so that a message points at the right place in text
// that holds UTF-8 string literals.
int Column(std::string_view text, size_t offset) {
  int column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++column;
  }
  return column;
}

// ---------------------------------------------------------------------------------------------
// Runtime semantics.

enum class FaultKind : uint8_t {
  kNone,
  kZeroDivision,
  kZeroPower,
  kComplexPower,
  kPowerOverflow,
  kOperandTypes,
  kUnaryType,
  kOrderTypes,
  kContainsTypes,
  kPermutation,
  kMissingValue,
};

struct Fault {
  FaultKind kind = FaultKind::kNone;
  int pc = -1;
  Kind lhs = Kind::kInt;
  Kind rhs = Kind::kInt;
};

bool Truthy(const Slot& v) {
  switch (v.kind) {
    case Kind::kInt:
      return v.i != 0;
    case Kind::kReal:
      return v.d != 0;  // NaN is true, as in Python.
    case Kind::kStr:
      return !v.s->empty();
  }
  return false;
}

// Python's int ** int for a non-negative exponent; nullopt when int64 overflows.
std::optional<int64_t> IntPow(int64_t base, int64_t exponent) {
  int64_t result = 1;
  uint64_t e = static_cast<uint64_t>(exponent);
  while (true) {
    if ((e & 1) && __builtin_mul_overflow(result, base, &result)) return std::nullopt;
    e >>= 1;
    if (e == 0) return result;
    // Squaring only while bits remain: an overflow here means the result overflows too.
    if (__builtin_mul_overflow(base, base, &base)) return std::nullopt;
  }
}

// Integer arithmetic; results that leave int64 become reals rather than wrapping.
FaultKind IntArith(Op op, int64_t x, int64_t y, Slot& out) {
  int64_t r;
  switch (op) {
    case Op::kAdd:
      out = __builtin_add_overflow(x, y, &r) ? RealSlot(double(x) + double(y)) : IntSlot(r);
      return FaultKind::kNone;
    case Op::kSub:
      out = __builtin_sub_overflow(x, y, &r) ? RealSlot(double(x) - double(y)) : IntSlot(r);
      return FaultKind::kNone;
    case Op::kMul:
      out = __builtin_mul_overflow(x, y, &r) ? RealSlot(double(x) * double(y)) : IntSlot(r);
      return FaultKind::kNone;
    case Op::kDiv:
      if (y == 0) return FaultKind::kZeroDivision;
      out = RealSlot(double(x) / double(y));
      return FaultKind::kNone;
    case Op::kFloorDiv: {
      if (y == 0) return FaultKind::kZeroDivision;
      if (x == std::numeric_limits<int64_t>::min() && y == -1) {
        out = RealSlot(-double(x));
        return FaultKind::kNone;
      }
      int64_t q = x / y;
      if (x % y != 0 && ((x < 0) != (y < 0))) --q;  // C truncates; Python floors.
      out = IntSlot(q);
      return FaultKind::kNone;
    }
    case Op::kMod: {
      if (y == 0) return FaultKind::kZeroDivision;
      if (y == -1) {  // INT64_MIN % -1 is undefined in C++.
        out = IntSlot(0);
        return FaultKind::kNone;
      }
      r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) r += y;  // Python's remainder has the divisor's sign.
      out = IntSlot(r);
      return FaultKind::kNone;
    }
    case Op::kPow: {
      if (y < 0) {
        if (x == 0) return FaultKind::kZeroPower;
        out = RealSlot(std::pow(double(x), double(y)));
        return FaultKind::kNone;
      }
      std::optional<int64_t> p = IntPow(x, y);
      out = p ? IntSlot(*p) : RealSlot(std::pow(double(x), double(y)));
      return FaultKind::kNone;
    }
    default:
      return FaultKind::kOperandTypes;
  }
}

// Real arithmetic as CPython's float type does it (floatobject.c: float_divmod, float_rem,
// float_pow), so that `//` and `%` agree with Python on signs and edge cases.
FaultKind RealArith(Op op, double x, double y, Slot& out) {
  switch (op) {
    case Op::kAdd:
      out = RealSlot(x + y);
      return FaultKind::kNone;
    case Op::kSub:
      out = RealSlot(x - y);
      return FaultKind::kNone;
    case Op::kMul:
      out = RealSlot(x * y);
      return FaultKind::kNone;
    case Op::kDiv:
      if (y == 0) return FaultKind::kZeroDivision;
      out = RealSlot(x / y);
      return FaultKind::kNone;
    case Op::kFloorDiv: {
      if (y == 0) return FaultKind::kZeroDivision;
      double mod = std::fmod(x, y);
      double div = (x - mod) / y;
      if (mod != 0 && ((y < 0) != (mod < 0))) div -= 1.0;
      double floordiv;
      if (div != 0) {
        floordiv = std::floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
      } else {
        floordiv = std::copysign(0.0, x / y);
      }
      out = RealSlot(floordiv);
      return FaultKind::kNone;
    }
    case Op::kMod: {
      if (y == 0) return FaultKind::kZeroDivision;
      double mod = std::fmod(x, y);
      if (mod != 0) {
        if ((y < 0) != (mod < 0)) mod += y;
      } else {
        mod = std::copysign(0.0, y);
      }
      out = RealSlot(mod);
      return FaultKind::kNone;
    }
    case Op::kPow: {
      if (x == 0 && y < 0 && std::isfinite(y)) return FaultKind::kZeroPower;
      // Python returns a complex number here; a constraint has no use for one.
      if (x < 0 && std::isfinite(x) && std::isfinite(y) && y != std::floor(y)) {
        return FaultKind::kComplexPower;
      }
      double r = std::pow(x, y);
      if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) return FaultKind::kPowerOverflow;
      out = RealSlot(r);
      return FaultKind::kNone;
    }
    default:
      return FaultKind::kOperandTypes;
  }
}

double AsReal(const Slot& v) { return v.kind == Kind::kInt ? double(v.i) : v.d; }

FaultKind Arith(Op op, const Slot& a, const Slot& b, Slot& out) {
  if (a.kind == Kind::kInt && b.kind == Kind::kInt) return IntArith(op, a.i, b.i, out);
  if (a.kind == Kind::kStr || b.kind == Kind::kStr) return FaultKind::kOperandTypes;
  return RealArith(op, AsReal(a), AsReal(b), out);
}

constexpr int kUnordered = 2;

// Three-way comparison of an integer with a real, exact as in Python (converting the integer
// to double would make 2**53 + 1 equal 2.0**53).
int CompareIntReal(int64_t i, double d) {
  if (std::isnan(d)) return kUnordered;
  if (d >= 9223372036854775808.0) return -1;
  if (d < -9223372036854775808.0) return 1;
  double t = std::trunc(d);
  int64_t ti = static_cast<int64_t>(t);
  if (i != ti) return i < ti ? -1 : 1;
  double frac = d - t;
  return frac > 0 ? -1 : (frac < 0 ? 1 : 0);
}

// Three-way comparison of numbers or of two strings; nullopt for a string against a number.
std::optional<int> ThreeWay(const Slot& a, const Slot& b) {
  if (a.kind == Kind::kInt && b.kind == Kind::kInt) return (a.i > b.i) - (a.i < b.i);
  if (a.kind == Kind::kStr || b.kind == Kind::kStr) {
    if (a.kind != b.kind) return std::nullopt;
    int r = a.s->compare(*b.s);
    return (r > 0) - (r < 0);
  }
  if (a.kind == Kind::kReal && b.kind == Kind::kReal) {
    if (a.d < b.d) return -1;
    if (a.d > b.d) return 1;
    return a.d == b.d ? 0 : kUnordered;
  }
  if (a.kind == Kind::kInt) return CompareIntReal(a.i, b.d);
  int c = CompareIntReal(b.i, a.d);
  return c == kUnordered ? c : -c;
}

bool Equal(const Slot& a, const Slot& b) {
  if (a.kind == Kind::kInt && b.kind == Kind::kInt) return a.i == b.i;
  std::optional<int> c = ThreeWay(a, b);
  return c && *c == 0;
}

bool IntCompare(Cmp cmp, int64_t a, int64_t b) {
  switch (cmp) {
    case Cmp::kEq:
      return a == b;
    case Cmp::kNe:
      return a != b;
    case Cmp::kLt:
      return a < b;
    case Cmp::kLe:
      return a <= b;
    case Cmp::kGt:
      return a > b;
    case Cmp::kGe:
      return a >= b;
  }
  return false;
}

// False when the operands cannot be ordered; `==` and `!=` never fail.
// Execute tests two integers with IntCompare before calling this.
bool Compare(Cmp cmp, const Slot& a, const Slot& b, bool& out) {
  std::optional<int> c = ThreeWay(a, b);
  if (!c) {
    if (cmp == Cmp::kEq || cmp == Cmp::kNe) {
      out = cmp == Cmp::kNe;
      return true;
    }
    return false;
  }
  if (*c == kUnordered) {
    out = cmp == Cmp::kNe;
    return true;
  }
  switch (cmp) {
    case Cmp::kEq:
      out = *c == 0;
      break;
    case Cmp::kNe:
      out = *c != 0;
      break;
    case Cmp::kLt:
      out = *c < 0;
      break;
    case Cmp::kLe:
      out = *c <= 0;
      break;
    case Cmp::kGt:
      out = *c > 0;
      break;
    case Cmp::kGe:
      out = *c >= 0;
      break;
  }
  return true;
}

bool Raise(Fault& out, const Fault& fault) {
  out = fault;
  return false;
}

// Returns false on a runtime error, described in `fault`; only that path writes it, since a
// returned struct costs a store-forwarding stall on every successful evaluation.
bool Execute(const CompiledExpression& program, const std::vector<int>& indices,
             const Config& config, bool& result, Fault& fault) {
  Slot stack[kMaxStack];
  int top = -1;
  const Instr* code = program.code.data();
  const int size = static_cast<int>(program.code.size());
  for (int pc = 0; pc < size; ++pc) {
    const Instr& instr = code[pc];
    switch (instr.op) {
      case Op::kPushConst:
        stack[++top] = program.constants[instr.arg];
        break;
      case Op::kLoad: {
        const size_t index = static_cast<size_t>(indices[instr.arg]);
        if (index >= config.size()) return Raise(fault, {FaultKind::kMissingValue, pc});
        const Value& value = config[index];
        Slot& slot = stack[++top];
        if (const auto* i = std::get_if<int64_t>(&value)) {
          slot = IntSlot(*i);
        } else if (const auto* d = std::get_if<double>(&value)) {
          slot = RealSlot(*d);
        } else if (const auto* s = std::get_if<std::string>(&value)) {
          slot = StrSlot(s);
        } else {
          return Raise(fault, {FaultKind::kPermutation, pc});
        }
        break;
      }
      case Op::kNeg: {
        Slot& a = stack[top];
        if (a.kind == Kind::kInt) {
          if (a.i == std::numeric_limits<int64_t>::min()) {
            a = RealSlot(-double(a.i));
          } else {
            a.i = -a.i;
          }
        } else if (a.kind == Kind::kReal) {
          a.d = -a.d;
        } else {
          return Raise(fault, {FaultKind::kUnaryType, pc, a.kind});
        }
        break;
      }
      case Op::kPos:
        if (stack[top].kind == Kind::kStr)
          return Raise(fault, {FaultKind::kUnaryType, pc, Kind::kStr});
        break;
      case Op::kNot:
        stack[top] = IntSlot(!Truthy(stack[top]));
        break;
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv:
      case Op::kFloorDiv:
      case Op::kMod:
      case Op::kPow: {
        const Slot a = stack[top - 1];
        const Slot& b = stack[top];
        const FaultKind kind = Arith(instr.op, a, b, stack[top - 1]);
        if (kind != FaultKind::kNone) return Raise(fault, {kind, pc, a.kind, b.kind});
        --top;
        break;
      }
      case Op::kCompare: {
        bool r;
        if (stack[top - 1].kind == Kind::kInt && stack[top].kind == Kind::kInt) {
          r = IntCompare(static_cast<Cmp>(instr.aux), stack[top - 1].i, stack[top].i);
        } else if (!Compare(static_cast<Cmp>(instr.aux), stack[top - 1], stack[top], r)) {
          return Raise(fault, {FaultKind::kOrderTypes, pc, stack[top - 1].kind, stack[top].kind});
        }
        stack[--top] = IntSlot(r);
        break;
      }
      case Op::kCompareChain: {
        bool r;
        if (stack[top - 1].kind == Kind::kInt && stack[top].kind == Kind::kInt) {
          r = IntCompare(static_cast<Cmp>(instr.aux), stack[top - 1].i, stack[top].i);
        } else if (!Compare(static_cast<Cmp>(instr.aux), stack[top - 1], stack[top], r)) {
          return Raise(fault, {FaultKind::kOrderTypes, pc, stack[top - 1].kind, stack[top].kind});
        }
        // The right operand stays as the next link's left operand.
        if (r) {
          stack[top - 1] = stack[top];
          --top;
        } else {
          stack[--top] = IntSlot(0);
          pc = instr.arg - 1;
        }
        break;
      }
      case Op::kJumpIfFalseOrPop:
        if (Truthy(stack[top])) {
          --top;
        } else {
          pc = instr.arg - 1;
        }
        break;
      case Op::kJumpIfTrueOrPop:
        if (Truthy(stack[top])) {
          pc = instr.arg - 1;
        } else {
          --top;
        }
        break;
      case Op::kMatch:
        if (Equal(stack[top - 2], stack[top])) stack[top - 1] = IntSlot(1);
        --top;
        break;
      case Op::kNoMatch:
        stack[top - 1] = IntSlot(static_cast<bool>(stack[top].i) != static_cast<bool>(instr.aux));
        --top;
        break;
      case Op::kContains: {
        const Slot& a = stack[top - 1];
        const Slot& b = stack[top];
        if (a.kind != Kind::kStr || b.kind != Kind::kStr) {
          return Raise(fault, {FaultKind::kContainsTypes, pc, a.kind, b.kind});
        }
        const bool found = b.s->find(*a.s) != std::string::npos;
        stack[--top] = IntSlot(found != static_cast<bool>(instr.aux));
        break;
      }
    }
  }
  result = Truthy(stack[0]);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Reasoning over boxes of configurations: a sound over-approximation of Execute. A slot holds an
// interval of numbers, one string, or anything; a conditional jump on an undecided value explores
// both ways. A path that surely faults ends false, as Execute's would.

// Trivial, so that a stack of them costs nothing to set up; AnyValue() is the neutral one.
struct Abstract {
  enum class Tag : uint8_t { kAny, kNum, kStr };
  Tag tag;
  bool is_int;  // kNum: the concrete values are int64.
  double lo;
  double hi;
  const std::string* s;
};

// Up to 2^53 a double holds every integer, so interval bounds are exact there. Beyond, a bound
// computed in doubles may be rounded while Execute computes in int64 exactly: such bounds are
// widened by one unit in the last place (rounding is off by at most half of one).
constexpr double kExactLimit = 9007199254740992.0;
// Beyond this, int64 arithmetic may overflow into reals: ranges there are not taken as integers.
constexpr double kIntLimit = 4611686018427387904.0;  // 2^62
// Instructions one MaySatisfy may interpret, over all its paths; beyond it says "may".
constexpr int kAbstractBudget = 4096;

Abstract AnyValue() { return {Abstract::Tag::kAny, false, 0, 0, nullptr}; }

Abstract Numbers(double lo, double hi, bool is_int) {
  // Infinities are given up on: they turn into NaN (inf - inf, inf % 2), which no interval holds.
  if (!(lo <= hi) || std::isinf(lo) || std::isinf(hi)) return AnyValue();  // NaN too.
  if (lo < -kExactLimit || lo > kExactLimit) {
    lo = std::nextafter(lo, -std::numeric_limits<double>::infinity());
  }
  if (hi < -kExactLimit || hi > kExactLimit) {
    hi = std::nextafter(hi, std::numeric_limits<double>::infinity());
  }
  if (lo < -kIntLimit || hi > kIntLimit) is_int = false;
  Abstract a = AnyValue();
  a.tag = Abstract::Tag::kNum;
  a.is_int = is_int;
  a.lo = lo;
  a.hi = hi;
  return a;
}

Abstract Truth(bool may_false, bool may_true) {
  return Numbers(may_false ? 0 : 1, may_true ? 1 : 0, true);
}

Abstract FromSlot(const Slot& slot) {
  switch (slot.kind) {
    case Kind::kInt:
      return Numbers(static_cast<double>(slot.i), static_cast<double>(slot.i), true);
    case Kind::kReal:
      return Numbers(slot.d, slot.d, false);
    case Kind::kStr: {
      Abstract a = AnyValue();
      a.tag = Abstract::Tag::kStr;
      a.s = slot.s;
      return a;
    }
  }
  return AnyValue();
}

bool IsPoint(const Abstract& a) {
  return a.tag == Abstract::Tag::kStr || (a.tag == Abstract::Tag::kNum && a.lo == a.hi);
}

Slot ToSlot(const Abstract& a) {
  if (a.tag == Abstract::Tag::kStr) return StrSlot(a.s);
  return a.is_int ? IntSlot(static_cast<int64_t>(a.lo)) : RealSlot(a.lo);
}

// Whether the value may be truthy, may be falsy.
void Truthiness(const Abstract& a, bool& may_true, bool& may_false) {
  switch (a.tag) {
    case Abstract::Tag::kAny:
      may_true = may_false = true;
      return;
    case Abstract::Tag::kStr:
      may_true = !a.s->empty();
      may_false = a.s->empty();
      return;
    case Abstract::Tag::kNum:
      may_false = a.lo <= 0 && a.hi >= 0;
      may_true = !(a.lo == 0 && a.hi == 0);
      return;
  }
}

// The comparison of two values: whether it may be true, may be false; false from the function
// when it surely faults (ordering a string against a number).
bool AbstractCompare(Cmp cmp, const Abstract& a, const Abstract& b, bool& may_true,
                     bool& may_false, bool& may_fault) {
  using Tag = Abstract::Tag;
  may_true = may_false = true;
  if (IsPoint(a) && IsPoint(b)) {
    const Slot x = ToSlot(a), y = ToSlot(b);
    bool r = false;
    if (!Compare(cmp, x, y, r)) return false;
    may_true = r;
    may_false = !r;
    return true;
  }
  if (a.tag == Tag::kNum && b.tag == Tag::kNum) {
    // Bounds are exact (kExactLimit), so these tests are too.
    bool lt_sure = a.hi < b.lo, ge_sure = a.lo >= b.hi;
    bool le_sure = a.hi <= b.lo, gt_sure = a.lo > b.hi;
    switch (cmp) {
      case Cmp::kLt:
        may_true = !ge_sure;
        may_false = !lt_sure;
        break;
      case Cmp::kLe:
        may_true = !gt_sure;
        may_false = !le_sure;
        break;
      case Cmp::kGt:
        may_true = !le_sure;
        may_false = !gt_sure;
        break;
      case Cmp::kGe:
        may_true = !lt_sure;
        may_false = !ge_sure;
        break;
      case Cmp::kEq:
        may_true = !(lt_sure || gt_sure);
        break;
      case Cmp::kNe:
        may_false = !(lt_sure || gt_sure);
        break;
    }
    return true;
  }
  // A string equals no number; ordering them faults.
  if ((a.tag == Tag::kStr && b.tag == Tag::kNum) || (a.tag == Tag::kNum && b.tag == Tag::kStr)) {
    if (cmp == Cmp::kEq || cmp == Cmp::kNe) {
      may_true = cmp == Cmp::kNe;
      may_false = cmp == Cmp::kEq;
      return true;
    }
    return false;
  }
  // Anything against anything: ordering a string against a number faults.
  if (cmp != Cmp::kEq && cmp != Cmp::kNe) may_fault = true;
  return true;
}

// A binary arithmetic operation; false when it surely faults, `may_fault` set when it may.
bool AbstractArith(Op op, const Abstract& a, const Abstract& b, Abstract& out, bool& may_fault) {
  using Tag = Abstract::Tag;
  if (IsPoint(a) && IsPoint(b)) {
    Slot r;
    if (Arith(op, ToSlot(a), ToSlot(b), r) != FaultKind::kNone) return false;
    out = FromSlot(r);
    return true;
  }
  if (a.tag == Tag::kStr || b.tag == Tag::kStr) {
    // Arithmetic on a string always faults.
    if (a.tag != Tag::kAny && b.tag != Tag::kAny) return false;
    out = AnyValue();
    may_fault = true;
    return true;
  }
  out = AnyValue();
  if (a.tag != Tag::kNum || b.tag != Tag::kNum) {
    may_fault = true;
    return true;
  }
  // Only '+', '-' and '*' of two number intervals never fault; each case below that leaves
  // `out` unconstrained (a divisor that may be 0, '**') may.
  may_fault = op != Op::kAdd && op != Op::kSub && op != Op::kMul;
  const bool ints = a.is_int && b.is_int;
  // Rounding to nearest is monotone, so the corners bound every result computed in doubles.
  auto corners = [&](auto f) {
    const double c[4] = {f(a.lo, b.lo), f(a.lo, b.hi), f(a.hi, b.lo), f(a.hi, b.hi)};
    for (double x : c) {
      if (std::isnan(x)) return std::pair{x, x};  // 0 * inf: Numbers gives up.
    }
    return std::pair{*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
  };
  const bool nonzero_divisor = b.lo > 0 || b.hi < 0;
  switch (op) {
    case Op::kAdd:
      out = Numbers(a.lo + b.lo, a.hi + b.hi, ints);
      break;
    case Op::kSub:
      out = Numbers(a.lo - b.hi, a.hi - b.lo, ints);
      break;
    case Op::kMul: {
      const auto [lo, hi] = corners([](double x, double y) { return x * y; });
      out = Numbers(lo, hi, ints);
      break;
    }
    case Op::kDiv:
      if (nonzero_divisor) {
        const auto [lo, hi] = corners([](double x, double y) { return x / y; });
        out = Numbers(lo, hi, false);
      }
      break;
    case Op::kFloorDiv:
      if (nonzero_divisor) {
        // One either side: the rounded quotient may cross an integer the exact one does not.
        const auto [lo, hi] = corners([](double x, double y) { return x / y; });
        out = Numbers(std::floor(lo) - 1, std::floor(hi) + 1, ints);
      }
      break;
    case Op::kMod:
      if (b.lo > 0) {
        if (a.lo >= 0 && a.hi < b.lo) {
          out = Numbers(a.lo, a.hi, ints);
        } else {
          // A real remainder may round up to the divisor itself (-1e-20 % 1.0 == 1.0).
          out = Numbers(0, ints ? b.hi - 1 : b.hi, ints);
        }
      } else if (b.hi < 0) {
        out = Numbers(ints ? b.lo + 1 : b.lo, 0, ints);
      }
      break;
    default:
      break;  // '**' only on single values.
  }
  return true;
}

// Forks nest at most this deep (each holds a stack of slots); deeper, the answer is "may".
constexpr int kMaxForkDepth = 32;

constexpr uint8_t kMayBeTrue = 1;
constexpr uint8_t kMayBeFalse = 2;  // A fault counts as false, as in Evaluate.

// How the paths from `pc`, with the given stack, may end: kMayBeTrue, kMayBeFalse or both.
uint8_t ExecuteAbstract(const CompiledExpression& program, const std::vector<int>& indices,
                     const std::vector<ValueRange>& ranges, int pc, const Abstract* initial,
                     int top, int& budget, int forks = 0) {
  using Tag = Abstract::Tag;
  if (forks > kMaxForkDepth) return kMayBeTrue | kMayBeFalse;
  Abstract stack[kMaxStack];
  if (top >= 0) std::copy(initial, initial + (top + 1), stack);
  const int size = static_cast<int>(program.code.size());
  bool may_true = false, may_false = false;
  bool may_fault = false;  // Some step on this path may fault, which ends it false.
  uint8_t ends = 0;        // How the forked-off paths may end.
  for (; pc < size; ++pc) {
    if (--budget < 0) return kMayBeTrue | kMayBeFalse;
    const Instr& instr = program.code[pc];
    switch (instr.op) {
      case Op::kPushConst:
        stack[++top] = FromSlot(program.constants[instr.arg]);
        break;
      case Op::kLoad: {
        const size_t index = static_cast<size_t>(indices[instr.arg]);
        if (index >= ranges.size()) return ends | kMayBeFalse;
        const ValueRange& r = ranges[index];
        if (r.kind == ValueRange::Kind::kAny) may_fault = true;  // A permutation faults.
        Abstract& slot = stack[++top];
        if (r.kind == ValueRange::Kind::kNumbers) {
          slot = Numbers(r.low, r.high, r.integers);
        } else if (r.kind == ValueRange::Kind::kString && r.text != nullptr) {
          slot = FromSlot(StrSlot(r.text));
        } else {
          slot = AnyValue();
        }
        break;
      }
      case Op::kNeg:
      case Op::kPos: {
        Abstract& a = stack[top];
        if (a.tag == Tag::kStr) return ends | kMayBeFalse;
        if (a.tag == Tag::kAny) may_fault = true;
        if (a.tag == Tag::kNum && instr.op == Op::kNeg) a = Numbers(-a.hi, -a.lo, a.is_int);
        break;
      }
      case Op::kNot:
        Truthiness(stack[top], may_true, may_false);
        stack[top] = Truth(may_true, may_false);
        break;
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv:
      case Op::kFloorDiv:
      case Op::kMod:
      case Op::kPow: {
        Abstract out = AnyValue();
        if (!AbstractArith(instr.op, stack[top - 1], stack[top], out, may_fault)) {
          return ends | kMayBeFalse;
        }
        stack[--top] = out;
        break;
      }
      case Op::kCompare:
        if (!AbstractCompare(static_cast<Cmp>(instr.aux), stack[top - 1], stack[top], may_true,
                             may_false, may_fault)) {
          return ends | kMayBeFalse;
        }
        stack[--top] = Truth(may_false, may_true);
        break;
      case Op::kCompareChain: {
        if (!AbstractCompare(static_cast<Cmp>(instr.aux), stack[top - 1], stack[top], may_true,
                             may_false, may_fault)) {
          return ends | kMayBeFalse;
        }
        if (may_true && may_false) {
          // The failing way: [False] at the target.
          Abstract saved = stack[top - 1];
          stack[top - 1] = Truth(true, false);
          ends |= ExecuteAbstract(program, indices, ranges, instr.arg, stack, top - 1, budget,
                                  forks + 1);
          if (ends == (kMayBeTrue | kMayBeFalse)) return ends;
          stack[top - 1] = saved;
        }
        if (may_true) {
          stack[top - 1] = stack[top];
          --top;
        } else {
          stack[--top] = Truth(true, false);
          pc = instr.arg - 1;
        }
        break;
      }
      case Op::kJumpIfFalseOrPop:
      case Op::kJumpIfTrueOrPop: {
        const bool jump_if_true = instr.op == Op::kJumpIfTrueOrPop;
        Truthiness(stack[top], may_true, may_false);
        const bool may_jump = jump_if_true ? may_true : may_false;
        const bool may_pop = jump_if_true ? may_false : may_true;
        if (may_jump && may_pop) {
          ends |= ExecuteAbstract(program, indices, ranges, instr.arg, stack, top, budget, forks + 1);
          if (ends == (kMayBeTrue | kMayBeFalse)) return ends;
        }
        if (may_pop) {
          --top;
        } else {
          pc = instr.arg - 1;
        }
        break;
      }
      case Op::kMatch: {
        if (!AbstractCompare(Cmp::kEq, stack[top - 2], stack[top], may_true, may_false,
                             may_fault)) {
          return ends | kMayBeFalse;
        }
        bool found_true = false, found_false = false;
        Truthiness(stack[top - 1], found_true, found_false);
        stack[top - 1] = Truth(found_false && may_false, found_true || may_true);
        --top;
        break;
      }
      case Op::kNoMatch: {
        bool found_true = false, found_false = false;
        Truthiness(stack[top], found_true, found_false);
        stack[top - 1] =
            instr.aux ? Truth(found_true, found_false) : Truth(found_false, found_true);
        --top;
        break;
      }
      case Op::kContains: {
        const Abstract& a = stack[top - 1];
        const Abstract& b = stack[top];
        if ((a.tag == Tag::kNum) || (b.tag == Tag::kNum)) return ends | kMayBeFalse;
        if (a.tag == Tag::kStr && b.tag == Tag::kStr) {
          const bool found = b.s->find(*a.s) != std::string::npos;
          stack[--top] =
              Truth(found == static_cast<bool>(instr.aux), found != static_cast<bool>(instr.aux));
        } else {
          may_fault = true;
          stack[--top] = Truth(true, true);
        }
        break;
      }
    }
  }
  Truthiness(stack[0], may_true, may_false);
  return ends | (may_true ? kMayBeTrue : 0) | (may_false || may_fault ? kMayBeFalse : 0);
}

// ---------------------------------------------------------------------------------------------
// Lexer.

enum class Tok : uint8_t {
  kEnd,
  kInt,
  kReal,
  kString,
  kName,
  kTrue,
  kFalse,
  kAnd,
  kOr,
  kNot,
  kIn,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kSlashSlash,
  kPercent,
  kStarStar,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t begin = 0;
  size_t end = 0;
  int64_t int_value = 0;
  double real_value = 0;
  std::string string_value;  // kString: the decoded literal; kName: the identifier.
};

Error SyntaxError(std::string_view text, size_t offset, std::string_view message) {
  return InvalidInput("constraint '{}': column {}: {}", text, Column(text, offset), message);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

int DigitValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

// Reads a number starting at text[begin] into `tok`; returns the offset after it.
Expected<size_t> LexNumber(std::string_view text, size_t begin, Token& tok) {
  const size_t n = text.size();
  size_t j = begin;
  bool real = false;
  int base = 10;
  size_t digits_begin = begin;
  auto invalid = [&](size_t end) {
    while (end < n && (IsIdentChar(text[end]) || text[end] == '.')) ++end;
    return SyntaxError(text, begin,
                       fmt::format("invalid number literal '{}'", text.substr(begin, end - begin)));
  };
  if (text[j] == '0' && j + 1 < n &&
      std::string_view("xXoObB").find(text[j + 1]) != std::string_view::npos) {
    const char prefix = static_cast<char>(text[j + 1] | 0x20);
    base = prefix == 'x' ? 16 : (prefix == 'o' ? 8 : 2);
    j += 2;
    digits_begin = j;
    while (j < n && DigitValue(text[j]) < base) ++j;
    if (j == digits_begin) return invalid(j);
  } else {
    while (j < n && IsDigit(text[j])) ++j;
    if (j < n && text[j] == '.') {
      real = true;
      ++j;
      while (j < n && IsDigit(text[j])) ++j;
    }
    if (j < n && (text[j] == 'e' || text[j] == 'E')) {
      size_t k = j + 1;
      if (k < n && (text[k] == '+' || text[k] == '-')) ++k;
      if (k >= n || !IsDigit(text[k])) return invalid(k);
      real = true;
      j = k;
      while (j < n && IsDigit(text[j])) ++j;
    }
  }
  if (j < n && (IsIdentChar(text[j]) || text[j] == '.')) return invalid(j);
  const std::string_view digits = text.substr(digits_begin, j - digits_begin);
  if (real) {
    tok.kind = Tok::kReal;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), tok.real_value);
    // from_chars leaves the value alone on overflow and underflow; strtod saturates to inf or
    // rounds to zero, which is what Python does for such literals.
    if (ec == std::errc::result_out_of_range) {
      tok.real_value = std::strtod(std::string(digits).c_str(), nullptr);
    }
    return j;
  }
  if (base == 10 && digits.size() > 1 && digits[0] == '0' &&
      digits.find_first_not_of('0') != std::string_view::npos) {
    return SyntaxError(
        text, begin,
        fmt::format("invalid number literal '{}' (leading zeros are not allowed)", digits));
  }
  tok.kind = Tok::kInt;
  auto [ptr, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), tok.int_value, base);
  if (ec == std::errc::result_out_of_range) {
    // Python's integers are unbounded; the nearest real keeps comparisons meaningful.
    tok.kind = Tok::kReal;
    if (base == 10) {
      std::from_chars(digits.data(), digits.data() + digits.size(), tok.real_value);
    } else {
      tok.real_value = 0;
      for (char c : digits) tok.real_value = tok.real_value * base + DigitValue(c);
    }
  }
  return j;
}

// Reads a quoted string starting at text[begin]; returns the offset after the closing quote.
Expected<size_t> LexString(std::string_view text, size_t begin, Token& tok) {
  const char quote = text[begin];
  const size_t n = text.size();
  size_t j = begin + 1;
  tok.kind = Tok::kString;
  while (true) {
    if (j >= n || text[j] == '\n') return SyntaxError(text, begin, "unterminated string literal");
    const char c = text[j];
    if (c == quote) return j + 1;
    if (c == '\\' && j + 1 < n) {
      const char e = text[j + 1];
      switch (e) {
        case '\\':
        case '\'':
        case '"':
          tok.string_value += e;
          break;
        case 'n':
          tok.string_value += '\n';
          break;
        case 't':
          tok.string_value += '\t';
          break;
        case 'r':
          tok.string_value += '\r';
          break;
        case '\n':  // A line continuation.
          break;
        default:  // Python keeps unknown escapes as written.
          tok.string_value += '\\';
          tok.string_value += e;
      }
      j += 2;
      continue;
    }
    tok.string_value += c;
    ++j;
  }
}

Tok KeywordOrName(std::string_view word) {
  if (word == "and") return Tok::kAnd;
  if (word == "or") return Tok::kOr;
  if (word == "not") return Tok::kNot;
  if (word == "in") return Tok::kIn;
  if (word == "True") return Tok::kTrue;
  if (word == "False") return Tok::kFalse;
  return Tok::kName;
}

Expected<std::vector<Token>> Lex(std::string_view text) {
  std::vector<Token> tokens;
  const size_t n = text.size();
  size_t i = 0;
  while (true) {
    while (i < n && IsSpace(text[i])) ++i;
    Token tok;
    tok.begin = i;
    if (i == n) {
      tok.end = n;
      tokens.push_back(std::move(tok));
      return tokens;
    }
    const char c = text[i];
    const char next = i + 1 < n ? text[i + 1] : '\0';
    size_t end = i + 1;
    if (IsIdentStart(c)) {
      while (end < n && IsIdentChar(text[end])) ++end;
      tok.string_value = std::string(text.substr(i, end - i));
      tok.kind = KeywordOrName(tok.string_value);
    } else if (IsDigit(c) || (c == '.' && IsDigit(next))) {
      Expected<size_t> e = LexNumber(text, i, tok);
      if (!e.ok()) return e.error();
      end = *e;
    } else if (c == '\'' || c == '"') {
      Expected<size_t> e = LexString(text, i, tok);
      if (!e.ok()) return e.error();
      end = *e;
    } else {
      auto two = [&](char second, Tok pair, Tok single) {
        if (next == second) {
          end = i + 2;
          return pair;
        }
        return single;
      };
      switch (c) {
        case '(':
          tok.kind = Tok::kLParen;
          break;
        case ')':
          tok.kind = Tok::kRParen;
          break;
        case '[':
          tok.kind = Tok::kLBracket;
          break;
        case ']':
          tok.kind = Tok::kRBracket;
          break;
        case ',':
          tok.kind = Tok::kComma;
          break;
        case '+':
          tok.kind = Tok::kPlus;
          break;
        case '-':
          tok.kind = Tok::kMinus;
          break;
        case '%':
          tok.kind = Tok::kPercent;
          break;
        case '*':
          tok.kind = two('*', Tok::kStarStar, Tok::kStar);
          break;
        case '/':
          tok.kind = two('/', Tok::kSlashSlash, Tok::kSlash);
          break;
        case '<':
          tok.kind = two('=', Tok::kLe, Tok::kLt);
          break;
        case '>':
          tok.kind = two('=', Tok::kGe, Tok::kGt);
          break;
        case '=':
          if (next != '=') return SyntaxError(text, i, "unexpected '='; did you mean '=='?");
          tok.kind = Tok::kEq;
          end = i + 2;
          break;
        case '!':
          if (next != '=') return SyntaxError(text, i, "unexpected '!'; did you mean 'not'?");
          tok.kind = Tok::kNe;
          end = i + 2;
          break;
        case '&':
          return SyntaxError(text, i,
                             "unexpected '&'; use 'and' (bitwise operators are not "
                             "supported)");
        case '|':
          return SyntaxError(text, i,
                             "unexpected '|'; use 'or' (bitwise operators are not "
                             "supported)");
        default: {
          // Quote a whole UTF-8 sequence, not its first byte.
          size_t stop = i + 1;
          while (stop < n && (static_cast<unsigned char>(text[stop]) & 0xC0) == 0x80) ++stop;
          return SyntaxError(text, i,
                             fmt::format("unexpected character '{}'", text.substr(i, stop - i)));
        }
      }
    }
    tok.end = end;
    tokens.push_back(std::move(tok));
    i = end;
  }
}

// ---------------------------------------------------------------------------------------------
// Parser: recursive descent over Python's grammar, emitting postfix code as it goes.

std::optional<Cmp> ComparisonOf(Tok kind) {
  switch (kind) {
    case Tok::kEq:
      return Cmp::kEq;
    case Tok::kNe:
      return Cmp::kNe;
    case Tok::kLt:
      return Cmp::kLt;
    case Tok::kLe:
      return Cmp::kLe;
    case Tok::kGt:
      return Cmp::kGt;
    case Tok::kGe:
      return Cmp::kGe;
    default:
      return std::nullopt;
  }
}

class Compiler {
 public:
  Compiler(std::string_view text, std::vector<Token> tokens, CompiledExpression& program)
      : text_(text), tokens_(std::move(tokens)), program_(program) {}

  Expected<void> Run() {
    SYSOPT_RETURN_IF_ERROR(ParseOr());
    const Token& tok = Peek();
    if (tok.kind == Tok::kRParen) return Fail(tok, "unmatched ')'");
    if (tok.kind == Tok::kRBracket) return Fail(tok, "unmatched ']'");
    if (tok.kind != Tok::kEnd) {
      return Fail(tok, fmt::format("expected an operator or the end of the expression, found {}",
                                   Describe(tok)));
    }
    if (max_depth_ > kMaxStack) return Fail(tokens_.front(), "expression is too complex");
    program_.max_depth = max_depth_;
    return Ok();
  }

 private:
  // Counts recursion so that hostile input fails cleanly instead of overflowing the stack.
  class NestingGuard {
   public:
    explicit NestingGuard(int& nesting) : nesting_(nesting) { ++nesting_; }
    ~NestingGuard() { --nesting_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;

   private:
    int& nesting_;
  };

  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() {
    const Token& tok = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return tok;
  }

  std::string Describe(const Token& tok) const {
    if (tok.kind == Tok::kEnd) return "end of expression";
    const std::string_view source = text_.substr(tok.begin, tok.end - tok.begin);
    if (tok.kind == Tok::kString) return std::string(source);
    return fmt::format("'{}'", source);
  }

  Error Fail(const Token& tok, std::string_view message) const {
    return SyntaxError(text_, tok.begin, message);
  }

  Expected<void> CheckNesting() const {
    if (nesting_ > kMaxNesting) return Fail(Peek(), "expression is nested too deeply");
    return Ok();
  }

  static int StackEffect(Op op) {
    switch (op) {
      case Op::kPushConst:
      case Op::kLoad:
        return 1;
      case Op::kNeg:
      case Op::kPos:
      case Op::kNot:
        return 0;
      default:
        return -1;  // Binary operators; jumps and matches on their fall-through path.
    }
  }

  int Emit(Op op, size_t offset, uint8_t aux = 0, int32_t arg = 0) {
    program_.code.push_back({op, aux, arg});
    program_.offsets.push_back(static_cast<uint32_t>(offset));
    depth_ += StackEffect(op);
    max_depth_ = std::max(max_depth_, depth_);
    return static_cast<int>(program_.code.size()) - 1;
  }

  void EmitConst(Slot value, size_t offset) {
    program_.constants.push_back(value);
    Emit(Op::kPushConst, offset, 0, static_cast<int32_t>(program_.constants.size() - 1));
  }

  void PatchToHere(const std::vector<int>& jumps) {
    for (int j : jumps) program_.code[j].arg = static_cast<int32_t>(program_.code.size());
  }

  bool AtComparison() const {
    return ComparisonOf(Peek().kind) || Peek().kind == Tok::kIn || Peek().kind == Tok::kNot;
  }

  Expected<void> ParseOr() {
    NestingGuard guard(nesting_);
    SYSOPT_RETURN_IF_ERROR(CheckNesting());
    SYSOPT_RETURN_IF_ERROR(ParseAnd());
    std::vector<int> jumps;
    while (Peek().kind == Tok::kOr) {
      jumps.push_back(Emit(Op::kJumpIfTrueOrPop, Next().begin));
      SYSOPT_RETURN_IF_ERROR(ParseAnd());
    }
    PatchToHere(jumps);
    return Ok();
  }

  Expected<void> ParseAnd() {
    SYSOPT_RETURN_IF_ERROR(ParseNot());
    std::vector<int> jumps;
    while (Peek().kind == Tok::kAnd) {
      jumps.push_back(Emit(Op::kJumpIfFalseOrPop, Next().begin));
      SYSOPT_RETURN_IF_ERROR(ParseNot());
    }
    PatchToHere(jumps);
    return Ok();
  }

  Expected<void> ParseNot() {
    NestingGuard guard(nesting_);
    SYSOPT_RETURN_IF_ERROR(CheckNesting());
    if (Peek().kind != Tok::kNot) return ParseComparison();
    const size_t offset = Next().begin;
    SYSOPT_RETURN_IF_ERROR(ParseNot());
    Emit(Op::kNot, offset);
    return Ok();
  }

  Expected<void> ParseComparison() {
    SYSOPT_RETURN_IF_ERROR(ParseSum());
    std::vector<int> chain_jumps;
    while (AtComparison()) {
      const Token& op = Next();
      const size_t offset = op.begin;
      const std::optional<Cmp> cmp = ComparisonOf(op.kind);
      if (!cmp) {
        const bool negated = op.kind == Tok::kNot;
        if (negated) {
          if (Peek().kind != Tok::kIn) {
            return Fail(Peek(),
                        fmt::format("expected 'in' after 'not', found {}", Describe(Peek())));
          }
          Next();
        }
        SYSOPT_RETURN_IF_ERROR(ParseInOperand(negated, offset));
        if (AtComparison()) {
          return Fail(Peek(), "a comparison cannot follow 'in' in a chain; add parentheses");
        }
        break;
      }
      SYSOPT_RETURN_IF_ERROR(ParseSum());
      // A further link makes this one a test that keeps its right operand for the next.
      if (AtComparison()) {
        chain_jumps.push_back(Emit(Op::kCompareChain, offset, static_cast<uint8_t>(*cmp)));
      } else {
        Emit(Op::kCompare, offset, static_cast<uint8_t>(*cmp));
      }
    }
    PatchToHere(chain_jumps);
    return Ok();
  }

  // Whether the '(' at the cursor opens a tuple (empty, or with a comma at its own level)
  // rather than a parenthesised operand.
  bool TupleAhead() const {
    int level = 0;
    for (size_t j = pos_; j < tokens_.size(); ++j) {
      switch (tokens_[j].kind) {
        case Tok::kLParen:
        case Tok::kLBracket:
          ++level;
          break;
        case Tok::kRParen:
        case Tok::kRBracket:
          if (--level == 0) return j == pos_ + 1;
          break;
        case Tok::kComma:
          if (level == 1) return true;
          break;
        case Tok::kEnd:
          return false;
        default:
          break;
      }
    }
    return false;
  }

  Expected<void> ParseInOperand(bool negated, size_t offset) {
    if (Peek().kind == Tok::kLBracket) return ParseSequence(Tok::kRBracket, negated, offset);
    if (Peek().kind == Tok::kLParen && TupleAhead()) {
      return ParseSequence(Tok::kRParen, negated, offset);
    }
    SYSOPT_RETURN_IF_ERROR(ParseSum());
    Emit(Op::kContains, offset, negated);
    return Ok();
  }

  // The elements of a list or tuple after `in`, each compared with `==`. As in Python, where the
  // list is built before the test, every element is evaluated (and may fail) even after a match.
  Expected<void> ParseSequence(Tok close, bool negated, size_t offset) {
    const Token& open = Next();
    const size_t open_offset = open.begin;
    EmitConst(IntSlot(0), offset);  // Whether an element matched so far.
    while (Peek().kind != close) {
      SYSOPT_RETURN_IF_ERROR(ParseOr());
      Emit(Op::kMatch, offset);
      if (Peek().kind != Tok::kComma) break;
      Next();
    }
    if (Peek().kind != close) {
      return Fail(Peek(), fmt::format("expected ',' or '{}' to close '{}' at column {}, found {}",
                                      close == Tok::kRBracket ? ']' : ')',
                                      close == Tok::kRBracket ? '[' : '(',
                                      Column(text_, open_offset), Describe(Peek())));
    }
    Next();
    Emit(Op::kNoMatch, offset, negated);
    return Ok();
  }

  Expected<void> ParseSum() {
    SYSOPT_RETURN_IF_ERROR(ParseTerm());
    while (Peek().kind == Tok::kPlus || Peek().kind == Tok::kMinus) {
      const Token& op = Next();
      const Op code = op.kind == Tok::kPlus ? Op::kAdd : Op::kSub;
      const size_t offset = op.begin;
      SYSOPT_RETURN_IF_ERROR(ParseTerm());
      Emit(code, offset);
    }
    return Ok();
  }

  Expected<void> ParseTerm() {
    SYSOPT_RETURN_IF_ERROR(ParseFactor());
    while (true) {
      Op code;
      switch (Peek().kind) {
        case Tok::kStar:
          code = Op::kMul;
          break;
        case Tok::kSlash:
          code = Op::kDiv;
          break;
        case Tok::kSlashSlash:
          code = Op::kFloorDiv;
          break;
        case Tok::kPercent:
          code = Op::kMod;
          break;
        default:
          return Ok();
      }
      const size_t offset = Next().begin;
      SYSOPT_RETURN_IF_ERROR(ParseFactor());
      Emit(code, offset);
    }
  }

  Expected<void> ParseFactor() {
    NestingGuard guard(nesting_);
    SYSOPT_RETURN_IF_ERROR(CheckNesting());
    if (Peek().kind != Tok::kPlus && Peek().kind != Tok::kMinus) return ParsePower();
    const Token& op = Next();
    const bool minus = op.kind == Tok::kMinus;
    const size_t offset = op.begin;
    const size_t before = program_.code.size();
    SYSOPT_RETURN_IF_ERROR(ParseFactor());
    // Folding a sign into a numeric literal keeps lists like [-1, 0, 1] to one push each.
    if (program_.code.size() == before + 1 && program_.code.back().op == Op::kPushConst) {
      Slot& value = program_.constants[program_.code.back().arg];
      if (value.kind != Kind::kStr) {
        if (minus && value.kind == Kind::kReal) {
          value.d = -value.d;
        } else if (minus && value.i == std::numeric_limits<int64_t>::min()) {
          value = RealSlot(-double(value.i));
        } else if (minus) {
          value.i = -value.i;
        }
        return Ok();
      }
    }
    Emit(minus ? Op::kNeg : Op::kPos, offset);
    return Ok();
  }

  Expected<void> ParsePower() {
    SYSOPT_RETURN_IF_ERROR(ParsePrimary());
    if (Peek().kind != Tok::kStarStar) return Ok();
    const size_t offset = Next().begin;
    // The exponent is a factor, so `2 ** -1` parses and `2 ** 3 ** 2` groups to the right.
    SYSOPT_RETURN_IF_ERROR(ParseFactor());
    Emit(Op::kPow, offset);
    return Ok();
  }

  Expected<void> ParsePrimary() {
    const Token& tok = Peek();
    switch (tok.kind) {
      case Tok::kInt:
        EmitConst(IntSlot(tok.int_value), tok.begin);
        break;
      case Tok::kReal:
        EmitConst(RealSlot(tok.real_value), tok.begin);
        break;
      case Tok::kTrue:
      case Tok::kFalse:
        EmitConst(IntSlot(tok.kind == Tok::kTrue), tok.begin);
        break;
      case Tok::kString:
        program_.strings.push_back(tok.string_value);
        EmitConst(StrSlot(&program_.strings.back()), tok.begin);
        break;
      case Tok::kName: {
        auto& names = program_.names;
        size_t index = std::find(names.begin(), names.end(), tok.string_value) - names.begin();
        if (index == names.size()) names.push_back(tok.string_value);
        Emit(Op::kLoad, tok.begin, 0, static_cast<int32_t>(index));
        break;
      }
      case Tok::kLParen: {
        const size_t open_offset = Next().begin;
        SYSOPT_RETURN_IF_ERROR(ParseOr());
        if (Peek().kind != Tok::kRParen) {
          return Fail(Peek(), fmt::format("expected ')' to close '(' at column {}, found {}",
                                          Column(text_, open_offset), Describe(Peek())));
        }
        break;
      }
      case Tok::kLBracket:
        return Fail(tok, "a list can only follow 'in' or 'not in'");
      default:
        return Fail(tok, fmt::format("expected an operand, found {}", Describe(tok)));
    }
    Next();
    return Ok();
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  CompiledExpression& program_;
  size_t pos_ = 0;
  int nesting_ = 0;
  int depth_ = 0;
  int max_depth_ = 0;
};

}  // namespace

Expression::Expression(std::shared_ptr<const detail::CompiledExpression> program)
    : program_(std::move(program)), bound_(program_->names.empty()) {}

Expected<Expression> Expression::Parse(std::string_view text) {
  auto program = std::make_shared<CompiledExpression>();
  program->text = std::string(text);
  // The compiler and its tokens refer to the program's own copy of the text.
  Expected<std::vector<Token>> tokens = Lex(program->text);
  if (!tokens.ok()) return tokens.error();
  Compiler compiler(program->text, std::move(*tokens), *program);
  SYSOPT_RETURN_IF_ERROR(compiler.Run());
  return Expression(std::move(program));
}

const std::string& Expression::text() const { return program_->text; }

const std::vector<std::string>& Expression::names() const { return program_->names; }

Expected<void> Expression::Bind(const std::function<int(std::string_view)>& resolve) {
  std::vector<int> indices;
  indices.reserve(program_->names.size());
  for (const std::string& name : program_->names) {
    const int index = resolve(name);
    if (index < 0) {
      return InvalidInput("constraint '{}': unknown parameter '{}'", program_->text, name);
    }
    indices.push_back(index);
  }
  indices_ = std::move(indices);
  bound_ = true;
  return Ok();
}

bool Expression::Evaluate(const Config& config) const {
  if (!bound_) return false;
  bool result = false;
  Fault fault;
  return Execute(*program_, indices_, config, result, fault) && result;
}

bool Expression::MaySatisfy(const std::vector<ValueRange>& ranges) const {
  if (!bound_) return false;
  int budget = kAbstractBudget;
  return ExecuteAbstract(*program_, indices_, ranges, 0, nullptr, -1, budget) & kMayBeTrue;
}

bool Expression::MayViolate(const std::vector<ValueRange>& ranges) const {
  if (!bound_) return true;
  int budget = kAbstractBudget;
  return ExecuteAbstract(*program_, indices_, ranges, 0, nullptr, -1, budget) & kMayBeFalse;
}

Expected<bool> Expression::Check(const Config& config) const {
  const CompiledExpression& p = *program_;
  if (!bound_) {
    return RuntimeError("constraint '{}': evaluated before Bind resolved its parameters", p.text);
  }
  bool result = false;
  Fault fault;
  if (Execute(p, indices_, config, result, fault)) return result;

  const Instr& instr = p.code[fault.pc];
  const std::string_view op = OpSymbol(instr);
  std::string message;
  switch (fault.kind) {
    case FaultKind::kNone:
      break;
    case FaultKind::kZeroDivision:
      message = fmt::format("division by zero in '{}'", op);
      break;
    case FaultKind::kZeroPower:
      message = "0 cannot be raised to a negative power";
      break;
    case FaultKind::kComplexPower:
      message = "a negative number raised to a fractional power is not a real number";
      break;
    case FaultKind::kPowerOverflow:
      message = "result of '**' is too large";
      break;
    case FaultKind::kOperandTypes:
      message = fmt::format("unsupported operand types for '{}': '{}' and '{}'", op,
                            KindName(fault.lhs), KindName(fault.rhs));
      break;
    case FaultKind::kUnaryType:
      message = fmt::format("bad operand type for unary '{}': '{}'", op, KindName(fault.lhs));
      break;
    case FaultKind::kOrderTypes:
      message = fmt::format("'{}' is not supported between '{}' and '{}'", op, KindName(fault.lhs),
                            KindName(fault.rhs));
      break;
    case FaultKind::kContainsTypes:
      message = fmt::format("'{}' needs a list, or a string on both sides; found '{}' {} '{}'", op,
                            KindName(fault.lhs), op, KindName(fault.rhs));
      break;
    case FaultKind::kPermutation: {
      const size_t index = static_cast<size_t>(indices_[instr.arg]);
      const bool sequence =
          index < config.size() && std::holds_alternative<Sequence>(config[index]);
      message = fmt::format("parameter '{}' is a {}, which constraints cannot read",
                            p.names[instr.arg], sequence ? "sequence" : "permutation");
      break;
    }
    case FaultKind::kMissingValue:
      message = fmt::format(
          "parameter '{}' is bound to index {}, but the configuration has {} "
          "values",
          p.names[instr.arg], indices_[instr.arg], config.size());
      break;
  }
  return InvalidInput("constraint '{}': column {}: {}", p.text, Column(p.text, p.offsets[fault.pc]),
                      message);
}

}  // namespace sysopt
