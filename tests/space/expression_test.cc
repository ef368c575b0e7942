#include "sysopt/space/expression.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "sysopt/core/rng.h"

// Counts heap allocations so that a test can show that Evaluate makes none.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// g++ cannot see that these replacements pair malloc with free.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace sysopt {
namespace {

using Params = std::vector<std::pair<std::string, Value>>;

Value I(int64_t v) { return Value(v); }
Value R(double v) { return Value(v); }
Value S(std::string v) { return Value(std::move(v)); }

// Parses `text`, binds it to `params` by name (in their order) and checks it. Evaluate must
// agree with Check where Check succeeds and be false where Check reports an error.
Expected<bool> Run(std::string_view text, const Params& params = {}) {
  Expected<Expression> parsed = Expression::Parse(text);
  if (!parsed.ok()) return parsed.error();
  Expression& expression = *parsed;
  SYSOPT_RETURN_IF_ERROR(expression.Bind([&](std::string_view name) {
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i].first == name) return static_cast<int>(i);
    }
    return -1;
  }));
  Config config;
  for (const auto& param : params) config.push_back(param.second);
  Expected<bool> checked = expression.Check(config);
  const bool evaluated = expression.Evaluate(config);
  if (checked.ok()) {
    EXPECT_EQ(evaluated, *checked) << text;
  } else {
    EXPECT_FALSE(evaluated) << text;
  }
  return checked;
}

::testing::AssertionResult Holds(std::string_view text, const Params& params = {}) {
  Expected<bool> result = Run(text, params);
  if (!result.ok()) return ::testing::AssertionFailure() << result.error().message();
  if (!*result) return ::testing::AssertionFailure() << "'" << text << "' is false";
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult DoesNotHold(std::string_view text, const Params& params = {}) {
  Expected<bool> result = Run(text, params);
  if (!result.ok()) return ::testing::AssertionFailure() << result.error().message();
  if (*result) return ::testing::AssertionFailure() << "'" << text << "' is true";
  return ::testing::AssertionSuccess();
}

// The message of a runtime error, or "" when the expression evaluates without one.
std::string RuntimeErrorOf(std::string_view text, const Params& params = {}) {
  Expected<bool> result = Run(text, params);
  return result.ok() ? "" : result.error().message();
}

// The message of a parse error, or "" when `text` parses.
std::string ParseErrorOf(std::string_view text) {
  Expected<Expression> parsed = Expression::Parse(text);
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.error().kind(), ErrorKind::kInvalidInput);
  return parsed.error().message();
}

TEST(ExpressionTest, PowerIsRightAssociativeAndBindsTighterThanUnaryMinus) {
  EXPECT_TRUE(Holds("2 ** 3 ** 2 == 512"));
  EXPECT_TRUE(Holds("(2 ** 3) ** 2 == 64"));
  EXPECT_TRUE(Holds("-2 ** 2 == -4"));
  EXPECT_TRUE(Holds("(-2) ** 2 == 4"));
  EXPECT_TRUE(Holds("-3 ** 2 + 10 == 1"));
  EXPECT_TRUE(Holds("2 ** 2 * 3 == 12"));
  EXPECT_TRUE(Holds("2 * 2 ** 3 == 16"));
  EXPECT_TRUE(Holds("2 ** -1 == 0.5"));
  EXPECT_TRUE(Holds("4 ** -1 == 0.25"));
  EXPECT_TRUE(Holds("-2 ** -2 == -0.25"));
}

TEST(ExpressionTest, IntegerDivisionFloorsAndModuloTakesTheDivisorsSign) {
  EXPECT_TRUE(Holds("7 // 2 == 3"));
  EXPECT_TRUE(Holds("-7 // 2 == -4"));
  EXPECT_TRUE(Holds("7 // -2 == -4"));
  EXPECT_TRUE(Holds("-7 // -2 == 3"));
  EXPECT_TRUE(Holds("7 % 3 == 1"));
  EXPECT_TRUE(Holds("-7 % 3 == 2"));
  EXPECT_TRUE(Holds("7 % -3 == -2"));
  EXPECT_TRUE(Holds("-7 % -3 == -1"));
  EXPECT_TRUE(Holds("-7 // 2 * 2 == -8"));
  EXPECT_TRUE(Holds("17 % 5 // 2 == 1"));
}

TEST(ExpressionTest, RealDivisionAndRealFloorAndModulo) {
  EXPECT_TRUE(Holds("7 / 2 == 3.5"));
  EXPECT_TRUE(Holds("6 / 3 == 2"));
  EXPECT_TRUE(Holds("1 / 4 == 0.25"));
  EXPECT_TRUE(Holds("7.5 // 2 == 3"));
  EXPECT_TRUE(Holds("-7.5 // 2 == -4"));
  EXPECT_TRUE(Holds("-7.5 % 2 == 0.5"));
  EXPECT_TRUE(Holds("7.5 % -2 == -0.5"));
  EXPECT_TRUE(Holds("5 % 2.5 == 0"));
  EXPECT_TRUE(Holds("0.1 + 0.2 != 0.3"));
}

TEST(ExpressionTest, ArithmeticPrecedenceAndAssociativity) {
  EXPECT_TRUE(Holds("1 + 2 * 3 == 7"));
  EXPECT_TRUE(Holds("(1 + 2) * 3 == 9"));
  EXPECT_TRUE(Holds("10 - 4 - 3 == 3"));
  EXPECT_TRUE(Holds("100 / 10 / 5 == 2"));
  EXPECT_TRUE(Holds("2 * 3 % 4 == 2"));
  EXPECT_TRUE(Holds("2 + 3 % 4 == 5"));
  EXPECT_TRUE(Holds("2 * -3 == -6"));
  EXPECT_TRUE(Holds("10 - -2 == 12"));
  EXPECT_TRUE(Holds("- - 3 == 3"));
  EXPECT_TRUE(Holds("+-3 == -3"));
  EXPECT_TRUE(Holds("-a == -5", {{"a", I(5)}}));
  EXPECT_TRUE(Holds("-a ** 2 == -25", {{"a", I(5)}}));
}

TEST(ExpressionTest, Literals) {
  EXPECT_TRUE(Holds("1.5e3 == 1500"));
  EXPECT_TRUE(Holds("2.5E-1 == 0.25"));
  EXPECT_TRUE(Holds("1e3 == 1000"));
  EXPECT_TRUE(Holds(".5 == 0.5"));
  EXPECT_TRUE(Holds("5. == 5"));
  EXPECT_TRUE(Holds("0x1F == 31"));
  EXPECT_TRUE(Holds("0o17 == 15"));
  EXPECT_TRUE(Holds("0b101 == 5"));
  EXPECT_TRUE(Holds("True == 1"));
  EXPECT_TRUE(Holds("False == 0"));
  EXPECT_TRUE(Holds("True + True == 2"));
  EXPECT_TRUE(Holds("-True == -1"));
}

TEST(ExpressionTest, IntegersStayExactAndOverflowBecomesReal) {
  // In doubles 2**62 + 1 rounds to 2**62, so these hold only with integer arithmetic.
  EXPECT_TRUE(Holds("2 ** 62 + 1 - 2 ** 62 == 1"));
  EXPECT_TRUE(Holds("9007199254740993 != 9007199254740992"));
  // Integer against real compares exactly, as in Python.
  EXPECT_TRUE(Holds("9007199254740993 != 9007199254740992.0"));
  EXPECT_TRUE(Holds("9007199254740992 == 9007199254740992.0"));
  EXPECT_TRUE(Holds("3 * 4 == 12.0"));
  // Past int64 the result is a real; Python's unbounded integers give the same answers.
  EXPECT_TRUE(Holds("2 ** 63 > 2 ** 62"));
  EXPECT_TRUE(Holds("10 ** 20 > 10 ** 19"));
  EXPECT_TRUE(Holds("9223372036854775807 + 1 > 9223372036854775807"));
  EXPECT_TRUE(Holds("(-9223372036854775807 - 1) // -1 > 0"));
  EXPECT_TRUE(Holds("(-9223372036854775807 - 1) % -1 == 0"));
  EXPECT_TRUE(Holds("-a > 0", {{"a", I(std::numeric_limits<int64_t>::min())}}));
}

TEST(ExpressionTest, TruthinessAndOperandValuesOfAndOr) {
  EXPECT_TRUE(Holds("7"));
  EXPECT_TRUE(DoesNotHold("0"));
  EXPECT_TRUE(DoesNotHold("0.0"));
  EXPECT_TRUE(Holds("not 0.0"));
  EXPECT_TRUE(DoesNotHold("3 and 0"));
  EXPECT_TRUE(Holds("0 or 2.5"));
  EXPECT_TRUE(Holds("not ''"));
  EXPECT_TRUE(DoesNotHold("'' or 0"));
  EXPECT_TRUE(Holds("'x' and 1"));
  // `and` and `or` yield the operand that decided, not a boolean.
  EXPECT_TRUE(Holds("(0 or 5) == 5"));
  EXPECT_TRUE(Holds("(3 and 4) == 4"));
  EXPECT_TRUE(Holds("(0 and 4) == 0"));
  EXPECT_TRUE(Holds("('' or 'b') == 'b'"));
  EXPECT_TRUE(Holds("use_shared", {{"use_shared", I(1)}}));
  EXPECT_TRUE(DoesNotHold("use_shared", {{"use_shared", I(0)}}));
}

TEST(ExpressionTest, AndOrShortCircuit) {
  EXPECT_TRUE(DoesNotHold("0 and 1 / 0"));
  EXPECT_TRUE(Holds("1 or 1 / 0"));
  EXPECT_NE(RuntimeErrorOf("1 and 1 / 0"), "");
  EXPECT_TRUE(DoesNotHold("b != 0 and a / b > 1", {{"a", I(4)}, {"b", I(0)}}));
  EXPECT_TRUE(Holds("b != 0 and a / b > 1", {{"a", I(4)}, {"b", I(2)}}));
}

TEST(ExpressionTest, NotAndOrPrecedence) {
  // not binds looser than ==: (not (a == 1)) or b.
  EXPECT_TRUE(DoesNotHold("not a == 1 or b", {{"a", I(1)}, {"b", I(0)}}));
  EXPECT_TRUE(Holds("not a == 1 or b", {{"a", I(2)}, {"b", I(0)}}));
  EXPECT_TRUE(Holds("not a == 1 or b", {{"a", I(1)}, {"b", I(1)}}));
  EXPECT_TRUE(Holds("not 1 == 2"));
  // and binds tighter than or.
  EXPECT_TRUE(Holds("True or True and False"));
  EXPECT_TRUE(Holds("False and True or True"));
  EXPECT_TRUE(DoesNotHold("not True and False"));
  EXPECT_TRUE(Holds("not (True and False)"));
  EXPECT_TRUE(Holds("not not 1"));
  const std::string mixed = "a == 1 or b == 2 and c == 3";
  EXPECT_TRUE(Holds(mixed, {{"a", I(1)}, {"b", I(0)}, {"c", I(0)}}));
  EXPECT_TRUE(DoesNotHold(mixed, {{"a", I(0)}, {"b", I(2)}, {"c", I(0)}}));
  EXPECT_TRUE(Holds(mixed, {{"a", I(0)}, {"b", I(2)}, {"c", I(3)}}));
}

TEST(ExpressionTest, ChainedComparisons) {
  EXPECT_TRUE(Holds("1 < 2 < 3"));
  EXPECT_TRUE(DoesNotHold("1 < 3 < 2"));
  EXPECT_TRUE(Holds("3 > 2 > 1 > 0"));
  EXPECT_TRUE(DoesNotHold("1 < 2 < 3 < 3"));
  EXPECT_TRUE(Holds("1 < 2 > 0"));
  EXPECT_TRUE(Holds("1 == 1 == 1"));
  EXPECT_TRUE(Holds("1 < 1.5 <= 2"));
  // A chain is not left-associative: 1 < 2 == True means 1 < 2 and 2 == True.
  EXPECT_TRUE(DoesNotHold("1 < 2 == True"));
  EXPECT_TRUE(Holds("(1 < 2) == True"));
  // A failed link stops the chain before later operands are evaluated.
  EXPECT_TRUE(DoesNotHold("2 < 1 < 1 / 0"));
  EXPECT_NE(RuntimeErrorOf("0 < 1 < 1 / 0"), "");
  const std::string chain = "1 <= a < b <= 64";
  EXPECT_TRUE(Holds(chain, {{"a", I(1)}, {"b", I(64)}}));
  EXPECT_TRUE(DoesNotHold(chain, {{"a", I(0)}, {"b", I(5)}}));
  EXPECT_TRUE(DoesNotHold(chain, {{"a", I(5)}, {"b", I(5)}}));
  EXPECT_TRUE(DoesNotHold(chain, {{"a", I(5)}, {"b", I(65)}}));
  EXPECT_TRUE(Holds("a != b != a", {{"a", I(1)}, {"b", I(2)}}));
}

TEST(ExpressionTest, InAndNotInLists) {
  EXPECT_TRUE(Holds("a in [1, 2, 4]", {{"a", I(2)}}));
  EXPECT_TRUE(DoesNotHold("a in [1, 2, 4]", {{"a", I(3)}}));
  EXPECT_TRUE(Holds("a not in [1, 2]", {{"a", I(3)}}));
  EXPECT_TRUE(DoesNotHold("a not in [1, 2]", {{"a", I(1)}}));
  EXPECT_TRUE(Holds("s in ['row', 'col']", {{"s", S("col")}}));
  EXPECT_TRUE(DoesNotHold("s in ['row', 'col']", {{"s", S("diag")}}));
  EXPECT_TRUE(Holds("s not in [\"row\"]", {{"s", S("col")}}));
  EXPECT_TRUE(DoesNotHold("a in []", {{"a", I(1)}}));
  EXPECT_TRUE(Holds("a not in []", {{"a", I(1)}}));
  EXPECT_TRUE(Holds("a in [1, 'x']", {{"a", I(1)}}));
  EXPECT_TRUE(Holds("s in [1, 'x']", {{"s", S("x")}}));
  EXPECT_TRUE(Holds("2.0 in [1, 2]"));
  EXPECT_TRUE(Holds("a in [-1, 0]", {{"a", I(-1)}}));
  EXPECT_TRUE(Holds("a in [1, 2,]", {{"a", I(2)}}));
  EXPECT_TRUE(Holds("a in [b, b * 2]", {{"a", I(6)}, {"b", I(3)}}));
  // Arithmetic binds tighter than in, and not looser.
  EXPECT_TRUE(Holds("a + 1 in [2, 3]", {{"a", I(2)}}));
  EXPECT_TRUE(DoesNotHold("a + 1 in [2, 3]", {{"a", I(3)}}));
  EXPECT_TRUE(DoesNotHold("not a in [1, 2]", {{"a", I(1)}}));
  EXPECT_TRUE(Holds("not a in [1, 2]", {{"a", I(3)}}));
  // As the last link of a chain: 0 < a and a in [1, 2].
  EXPECT_TRUE(Holds("0 < a in [1, 2]", {{"a", I(2)}}));
  EXPECT_TRUE(DoesNotHold("0 < a in [1, 2]", {{"a", I(3)}}));
  EXPECT_TRUE(DoesNotHold("0 < a in [-1, 2]", {{"a", I(-1)}}));
}

TEST(ExpressionTest, InEvaluatesEveryElementAsPythonDoes) {
  // Python builds the list before testing membership: a failing element fails even after a match.
  EXPECT_EQ(RuntimeErrorOf("a in [a, 1 / 0]", {{"a", I(1)}}),
            "constraint 'a in [a, 1 / 0]': column 12: division by zero in '/'");
  EXPECT_NE(RuntimeErrorOf("a not in (1, a // 0)", {{"a", I(1)}}), "");
  EXPECT_NE(RuntimeErrorOf("a in [1, -s]", {{"a", I(1)}, {"s", S("x")}}), "");
  // Many elements need no more stack than a few.
  std::string many = "a in [";
  for (int i = 0; i < 500; ++i) many += std::to_string(i) + ", ";
  many += "500]";
  EXPECT_TRUE(Holds(many, {{"a", I(499)}}));
  EXPECT_TRUE(DoesNotHold(many, {{"a", I(501)}}));
  EXPECT_TRUE(Holds("a in [1, 2] and a not in [3]", {{"a", I(2)}}));
}

TEST(ExpressionTest, InTuplesAndSubstrings) {
  EXPECT_TRUE(Holds("a in (1, 2)", {{"a", I(2)}}));
  EXPECT_TRUE(Holds("a in (1,)", {{"a", I(1)}}));
  EXPECT_TRUE(DoesNotHold("a in ()", {{"a", I(1)}}));
  EXPECT_TRUE(Holds("a in ((1), 2)", {{"a", I(1)}}));
  EXPECT_TRUE(Holds("'ab' in s", {{"s", S("xabc")}}));
  EXPECT_TRUE(DoesNotHold("'ab' not in s", {{"s", S("xabc")}}));
  EXPECT_TRUE(Holds("'ab' in (s)", {{"s", S("xabc")}}));
  EXPECT_NE(RuntimeErrorOf("a in b", {{"a", I(1)}, {"b", I(2)}}), "");
}

TEST(ExpressionTest, Strings) {
  EXPECT_TRUE(Holds("s == 'row'", {{"s", S("row")}}));
  EXPECT_TRUE(Holds("s == \"row\"", {{"s", S("row")}}));
  EXPECT_TRUE(Holds("s != 'row'", {{"s", S("col")}}));
  EXPECT_TRUE(Holds("'abc' < 'abd'"));
  EXPECT_TRUE(Holds("'b' > 'abc'"));
  EXPECT_TRUE(Holds("'a' <= 'a'"));
  EXPECT_TRUE(Holds("'' < 'a'"));
  EXPECT_TRUE(Holds("s == 'it\\'s'", {{"s", S("it's")}}));
  EXPECT_TRUE(Holds("s == \"a\\tb\"", {{"s", S("a\tb")}}));
  EXPECT_TRUE(Holds("s == 'é'", {{"s", S("é")}}));
  // A string equals no number; ordering them is an error.
  EXPECT_TRUE(DoesNotHold("s == 1", {{"s", S("1")}}));
  EXPECT_TRUE(Holds("s != 1", {{"s", S("1")}}));
  EXPECT_TRUE(DoesNotHold("'1' == 1"));
  EXPECT_EQ(RuntimeErrorOf("s < 1", {{"s", S("a")}}),
            "constraint 's < 1': column 3: '<' is not supported between 'str' and 'int'");
}

TEST(ExpressionTest, KernelTunerStyleRestrictions) {
  const std::string threads = "block_size_x*block_size_y>=32";
  EXPECT_TRUE(Holds(threads, {{"block_size_x", I(8)}, {"block_size_y", I(4)}}));
  EXPECT_TRUE(DoesNotHold(threads, {{"block_size_x", I(4)}, {"block_size_y", I(4)}}));

  const std::string tiles = "tile_size_x*tile_size_y<=16 or use_shared==0";
  EXPECT_TRUE(Holds(tiles, {{"tile_size_x", I(4)}, {"tile_size_y", I(4)}, {"use_shared", I(1)}}));
  EXPECT_TRUE(
      DoesNotHold(tiles, {{"tile_size_x", I(8)}, {"tile_size_y", I(4)}, {"use_shared", I(1)}}));
  EXPECT_TRUE(Holds(tiles, {{"tile_size_x", I(8)}, {"tile_size_y", I(4)}, {"use_shared", I(0)}}));

  const std::string range = "32 <= block_size_x * block_size_y <= 1024";
  EXPECT_TRUE(Holds(range, {{"block_size_x", I(32)}, {"block_size_y", I(32)}}));
  EXPECT_TRUE(DoesNotHold(range, {{"block_size_x", I(64)}, {"block_size_y", I(32)}}));
  EXPECT_TRUE(DoesNotHold(range, {{"block_size_x", I(4)}, {"block_size_y", I(4)}}));

  // CLBlast GEMM (BAT): `/` gives a real, so the remainder is a real too.
  const std::string gemm = "KWG % ((MDIMC * NDIMC) / MDIMA) == 0";
  EXPECT_TRUE(Holds(gemm, {{"KWG", I(32)}, {"MDIMC", I(16)}, {"NDIMC", I(16)}, {"MDIMA", I(8)}}));
  EXPECT_TRUE(
      DoesNotHold(gemm, {{"KWG", I(16)}, {"MDIMC", I(16)}, {"NDIMC", I(16)}, {"MDIMA", I(8)}}));
  const std::string vector_width = "MWG % (MDIMC * VWM) == 0";
  EXPECT_TRUE(Holds(vector_width, {{"MWG", I(64)}, {"MDIMC", I(16)}, {"VWM", I(2)}}));
  EXPECT_TRUE(DoesNotHold(vector_width, {{"MWG", I(64)}, {"MDIMC", I(16)}, {"VWM", I(8)}}));

  EXPECT_TRUE(Holds("layout == 'row' or block_size_x >= 64",
                    {{"layout", S("col")}, {"block_size_x", I(64)}}));
  EXPECT_TRUE(Holds("work_per_thread * 0.5 >= 1", {{"work_per_thread", R(2.0)}}));
}

TEST(ExpressionTest, ParseErrorsNameTheExpressionAndColumn) {
  EXPECT_EQ(ParseErrorOf("a * * b"),
            "constraint 'a * * b': column 5: expected an operand, found '*'");
  EXPECT_EQ(ParseErrorOf(""),
            "constraint '': column 1: expected an operand, found end of expression");
  EXPECT_EQ(ParseErrorOf("   "),
            "constraint '   ': column 4: expected an operand, found end of expression");
  EXPECT_EQ(ParseErrorOf("(a + 1"),
            "constraint '(a + 1': column 7: expected ')' to close '(' at column 1, found end of "
            "expression");
  EXPECT_EQ(ParseErrorOf("((a) == 1"),
            "constraint '((a) == 1': column 10: expected ')' to close '(' at column 1, found end "
            "of expression");
  EXPECT_EQ(ParseErrorOf("a + 1)"), "constraint 'a + 1)': column 6: unmatched ')'");
  EXPECT_EQ(ParseErrorOf("a +"),
            "constraint 'a +': column 4: expected an operand, found end of expression");
  EXPECT_EQ(ParseErrorOf("a and"),
            "constraint 'a and': column 6: expected an operand, found end of expression");
  EXPECT_EQ(ParseErrorOf("a $ 1"), "constraint 'a $ 1': column 3: unexpected character '$'");
  EXPECT_EQ(ParseErrorOf("s == 'abc"),
            "constraint 's == 'abc': column 6: unterminated string literal");
  EXPECT_EQ(ParseErrorOf("s == \"abc"),
            "constraint 's == \"abc': column 6: unterminated string literal");
  EXPECT_EQ(ParseErrorOf("1 2"),
            "constraint '1 2': column 3: expected an operator or the end of the expression, "
            "found '2'");
  EXPECT_EQ(ParseErrorOf("a in [1, 2"),
            "constraint 'a in [1, 2': column 11: expected ',' or ']' to close '[' at column 6, "
            "found end of expression");
  EXPECT_EQ(ParseErrorOf("a not b"),
            "constraint 'a not b': column 7: expected 'in' after 'not', found 'b'");
  EXPECT_EQ(ParseErrorOf("a == 'x' 'y'"),
            "constraint 'a == 'x' 'y'': column 10: expected an operator or the end of the "
            "expression, found 'y'");
}

TEST(ExpressionTest, ParseErrorsExplainCommonMistakes) {
  EXPECT_NE(ParseErrorOf("a = 1").find("column 3: unexpected '='; did you mean '=='?"),
            std::string::npos);
  EXPECT_NE(ParseErrorOf("a && b").find("column 3: unexpected '&'; use 'and'"), std::string::npos);
  EXPECT_NE(ParseErrorOf("a || b").find("column 3: unexpected '|'; use 'or'"), std::string::npos);
  EXPECT_NE(ParseErrorOf("!a").find("column 1: unexpected '!'; did you mean 'not'?"),
            std::string::npos);
  EXPECT_NE(ParseErrorOf("[1, 2]").find("column 1: a list can only follow 'in' or 'not in'"),
            std::string::npos);
  EXPECT_NE(ParseErrorOf("2a > 1").find("column 1: invalid number literal '2a'"),
            std::string::npos);
  EXPECT_NE(ParseErrorOf("a > 1e").find("column 5: invalid number literal '1e'"),
            std::string::npos);
  EXPECT_NE(ParseErrorOf("012 == 12").find("column 1: invalid number literal '012' (leading"),
            std::string::npos);
  EXPECT_NE(ParseErrorOf("a in [1] == 1").find("column 10: a comparison cannot follow 'in'"),
            std::string::npos);
}

TEST(ExpressionTest, ParseErrorColumnsCountCharactersNotBytes) {
  EXPECT_EQ(ParseErrorOf("s == 'é' $"),
            "constraint 's == 'é' $': column 10: unexpected character '$'");
  EXPECT_EQ(ParseErrorOf("a ≤ b"), "constraint 'a ≤ b': column 3: unexpected character '≤'");
}

TEST(ExpressionTest, DeepNestingIsRejectedCleanly) {
  const std::string deep = std::string(1000, '(') + "1" + std::string(1000, ')');
  EXPECT_NE(ParseErrorOf(deep).find("nested too deeply"), std::string::npos);
  const std::string moderate = std::string(50, '(') + "1" + std::string(50, ')') + " == 1";
  EXPECT_TRUE(Holds(moderate));
  EXPECT_NE(ParseErrorOf(std::string(1000, '-') + "1").find("nested too deeply"),
            std::string::npos);
}

TEST(ExpressionTest, NamesInOrderOfFirstAppearanceWithoutKeywords) {
  Expected<Expression> e = Expression::Parse("b * a + b > c and a in [d]");
  ASSERT_TRUE(e.ok()) << e.error().message();
  EXPECT_EQ(e->names(), (std::vector<std::string>{"b", "a", "c", "d"}));
  EXPECT_EQ(e->text(), "b * a + b > c and a in [d]");
  Expected<Expression> k = Expression::Parse("a in [1] and not True or False");
  ASSERT_TRUE(k.ok()) << k.error().message();
  EXPECT_EQ(k->names(), (std::vector<std::string>{"a"}));
}

TEST(ExpressionTest, BindResolvesNamesToConfigIndices) {
  Expected<Expression> e = Expression::Parse("a - b == 7");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->bound());
  ASSERT_TRUE(e->Bind([](std::string_view name) { return name == "a" ? 1 : 0; }).ok());
  EXPECT_TRUE(e->bound());
  EXPECT_TRUE(e->Evaluate(Config{I(3), I(10)}));
  EXPECT_FALSE(e->Evaluate(Config{I(10), I(3)}));
}

TEST(ExpressionTest, BindFailsOnUnknownNameAndKeepsEarlierBinding) {
  Expected<Expression> e = Expression::Parse("a + b > 0");
  ASSERT_TRUE(e.ok());
  Expected<void> failed = e->Bind([](std::string_view name) { return name == "a" ? 0 : -1; });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(failed.error().message(), "constraint 'a + b > 0': unknown parameter 'b'");
  EXPECT_FALSE(e->bound());

  ASSERT_TRUE(e->Bind([](std::string_view name) { return name == "a" ? 0 : 1; }).ok());
  EXPECT_FALSE(e->Bind([](std::string_view) { return -1; }).ok());
  EXPECT_TRUE(e->Evaluate(Config{I(1), I(0)}));
}

TEST(ExpressionTest, UnboundExpressionIsFalseAndCheckSaysWhy) {
  Expected<Expression> e = Expression::Parse("a > 0");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->Evaluate(Config{I(1)}));
  EXPECT_FALSE(e->Check(Config{I(1)}).ok());
  // An expression that reads no parameters needs no Bind.
  Expected<Expression> constant = Expression::Parse("1 < 2");
  ASSERT_TRUE(constant.ok());
  EXPECT_TRUE(constant->bound());
  EXPECT_TRUE(constant->Evaluate(Config{}));
}

TEST(ExpressionTest, RuntimeErrorsMakeTheConstraintFalse) {
  const Params zero = {{"a", I(4)}, {"b", I(0)}};
  EXPECT_EQ(RuntimeErrorOf("a / b > 0", zero),
            "constraint 'a / b > 0': column 3: division by zero in '/'");
  EXPECT_EQ(RuntimeErrorOf("a // b == 0", zero),
            "constraint 'a // b == 0': column 3: division by zero in '//'");
  EXPECT_EQ(RuntimeErrorOf("a % b == 0", zero),
            "constraint 'a % b == 0': column 3: division by zero in '%'");
  EXPECT_NE(RuntimeErrorOf("a % b == 0", {{"a", R(4.0)}, {"b", R(0.0)}}), "");
  EXPECT_NE(RuntimeErrorOf("not (a / b)", zero), "");
  EXPECT_NE(RuntimeErrorOf("0 ** -1 > 0").find("0 cannot be raised to a negative power"),
            std::string::npos);
  EXPECT_NE(RuntimeErrorOf("0.0 ** -1 > 0"), "");
  EXPECT_NE(RuntimeErrorOf("(-8.0) ** 0.5 > 0").find("fractional power"), std::string::npos);
  EXPECT_TRUE(Holds("(-8) ** 2 == 64"));
  EXPECT_TRUE(Holds("(-8.0) ** 2.0 == 64"));
  EXPECT_NE(RuntimeErrorOf("10.0 ** 400 > 1").find("too large"), std::string::npos);
  EXPECT_EQ(RuntimeErrorOf("-s == 1", {{"s", S("x")}}),
            "constraint '-s == 1': column 1: bad operand type for unary '-': 'str'");
  EXPECT_EQ(RuntimeErrorOf("s + 1 == 1", {{"s", S("x")}}),
            "constraint 's + 1 == 1': column 3: unsupported operand types for '+': 'str' and "
            "'int'");
}

TEST(ExpressionTest, NanComparesUnordered) {
  const Params nan = {{"x", R(std::numeric_limits<double>::quiet_NaN())}};
  EXPECT_TRUE(Holds("x != x", nan));
  EXPECT_TRUE(DoesNotHold("x == x", nan));
  EXPECT_TRUE(DoesNotHold("x < 1", nan));
  EXPECT_TRUE(DoesNotHold("x >= 1", nan));
  EXPECT_TRUE(Holds("x", nan));  // NaN is truthy in Python.
}

TEST(ExpressionTest, PermutationParameterIsARuntimeError) {
  Expected<Expression> e = Expression::Parse("p == 1 or True");
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Bind([](std::string_view) { return 0; }).ok());
  const Config config{Value(Permutation{{1, 0, 2}})};
  EXPECT_FALSE(e->Evaluate(config));
  Expected<bool> checked = e->Check(config);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().message(),
            "constraint 'p == 1 or True': column 1: parameter 'p' is a permutation, which "
            "constraints cannot read");
}

TEST(ExpressionTest, ShortConfigIsARuntimeError) {
  Expected<Expression> e = Expression::Parse("a > 0");
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Bind([](std::string_view) { return 3; }).ok());
  EXPECT_FALSE(e->Evaluate(Config{I(1)}));
  Expected<bool> checked = e->Check(Config{I(1)});
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message().find("bound to index 3"), std::string::npos);
}

TEST(ExpressionTest, CopiesShareTheProgramAndBindIndependently) {
  Expected<Expression> parsed = Expression::Parse("x - y == 1 and s == 'k'");
  ASSERT_TRUE(parsed.ok());
  Expression first = *parsed;
  Expression second = first;
  ASSERT_TRUE(first.Bind([](std::string_view n) { return n == "x" ? 0 : n == "y" ? 1 : 2; }).ok());
  ASSERT_TRUE(second.Bind([](std::string_view n) { return n == "x" ? 1 : n == "y" ? 0 : 2; }).ok());
  const Config config{I(5), I(4), S("k")};
  std::vector<Expression> stored;
  stored.push_back(first);
  stored.push_back(std::move(second));
  parsed = Expression::Parse("0");  // The original going away leaves the copies intact.
  EXPECT_TRUE(stored[0].Evaluate(config));
  EXPECT_FALSE(stored[1].Evaluate(config));
  EXPECT_EQ(stored[1].text(), "x - y == 1 and s == 'k'");
}

// MaySatisfy must never refute a box that holds a solution: checked against every point of
// random small boxes, for expressions covering each operator.
TEST(ExpressionTest, MaySatisfyNeverRefutesABoxWithASolution) {
  const std::vector<std::string> texts = {"a + b < 3",
                                          "a - b >= 2",
                                          "a * b <= -4",
                                          "a * b == 6",
                                          "a / b > 1.5",
                                          "a // b == -2",
                                          "a % b == 1",
                                          "a % 3 == 2",
                                          "a ** 2 < 10",
                                          "-a > b",
                                          "not a",
                                          "a and b > 2",
                                          "a or b == 5",
                                          "0 < a <= b < 4",
                                          "a in [1, b, 5]",
                                          "a not in [b * 2, 3]",
                                          "a + b in (0, 7)",
                                          "(a > 2) + (b > 2) == 1",
                                          "a < b and b < 0 or a == 5",
                                          "a // 2 * 2 == a",
                                          "a * a + b * b <= 9",
                                          "a != b",
                                          "a + 0.5 > b",
                                          "s == 'x' and a > 1",
                                          "s < 'y' or b == a",
                                          "'x' in s",
                                          "s != 1 and a > b",
                                          "a * 1.5 <= b + 0.25",
                                          "1e400 * -a % 2 > b",
                                          "1e400 - a * 1e400 < b",
                                          "s % (a ** 2) == 0 or b != 0"};
  const std::vector<std::string> strings = {"", "x", "yz"};
  Rng rng(77);
  int refuted = 0, proved = 0;
  for (const std::string& text : texts) {
    auto e = Expression::Parse(text);
    ASSERT_TRUE(e.ok()) << e.error().message();
    ASSERT_TRUE(e->Bind([](std::string_view n) { return n == "a" ? 0 : n == "b" ? 1 : 2; }).ok());
    for (int trial = 0; trial < 300; ++trial) {
      std::vector<ValueRange> box(3);
      int64_t lo[2], hi[2];
      for (int k = 0; k < 2; ++k) {
        lo[k] = static_cast<int64_t>(UniformIndex(rng, 15)) - 7;
        hi[k] = lo[k] + static_cast<int64_t>(UniformIndex(rng, 5));
        box[k].kind = ValueRange::Kind::kNumbers;
        box[k].integers = true;
        box[k].low = static_cast<double>(lo[k]);
        box[k].high = static_cast<double>(hi[k]);
      }
      const size_t si = UniformIndex(rng, strings.size() + 1);
      if (si < strings.size()) {
        box[2].kind = ValueRange::Kind::kString;
        box[2].text = &strings[si];
      }
      // The converse claim: a box said to hold no violation holds none.
      if (!e->MayViolate(box)) {
        ++proved;
        for (int64_t a = lo[0]; a <= hi[0]; ++a) {
          for (int64_t b = lo[1]; b <= hi[1]; ++b) {
            for (size_t k = 0; k < strings.size(); ++k) {
              if (si < strings.size() && k != si) continue;
              ASSERT_TRUE(e->Evaluate({Value(a), Value(b), Value(strings[k])}))
                  << text << " proved over a in [" << lo[0] << ", " << hi[0] << "], b in ["
                  << lo[1] << ", " << hi[1] << "] but fails at a=" << a << " b=" << b;
            }
          }
        }
      }
      if (e->MaySatisfy(box)) continue;
      ++refuted;
      for (int64_t a = lo[0]; a <= hi[0]; ++a) {
        for (int64_t b = lo[1]; b <= hi[1]; ++b) {
          for (size_t k = 0; k < strings.size(); ++k) {
            if (si < strings.size() && k != si) continue;
            const Config config = {Value(a), Value(b), Value(strings[k])};
            ASSERT_FALSE(e->Evaluate(config))
                << text << " refuted over a in [" << lo[0] << ", " << hi[0] << "], b in [" << lo[1]
                << ", " << hi[1] << "] but holds at a=" << a << " b=" << b << " s='" << strings[k]
                << "'";
          }
        }
      }
    }
  }
  // The reasoning is not vacuous: many boxes are refuted, many proved.
  EXPECT_GT(refuted, 1000);
  EXPECT_GT(proved, 1000);
}

TEST(ExpressionTest, MaySatisfyBoundsLinearConstraints) {
  auto e = Expression::Parse("p0 + p1 < 10");
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->Bind([](std::string_view n) { return n == "p0" ? 0 : 1; }).ok());
  auto box = [](double lo0, double hi0, double lo1, double hi1) {
    std::vector<ValueRange> b(2);
    b[0] = {ValueRange::Kind::kNumbers, true, lo0, hi0, nullptr};
    b[1] = {ValueRange::Kind::kNumbers, true, lo1, hi1, nullptr};
    return b;
  };
  EXPECT_TRUE(e->MaySatisfy(box(0, 2e7, 0, 2e7)));
  EXPECT_FALSE(e->MaySatisfy(box(10, 2e7, 0, 2e7)));
  EXPECT_TRUE(e->MaySatisfy(box(9, 2e7, 0, 2e7)));
  EXPECT_FALSE(e->MaySatisfy(box(5, 5, 5, 9)));
  // Unbound, or beyond exact doubles: no claim is refuted wrongly.
  auto wide = Expression::Parse("p0 + p1 < 10");
  EXPECT_FALSE(wide->MaySatisfy(box(0, 1, 0, 1)));
  EXPECT_TRUE(e->MaySatisfy(box(-1e300, 1e300, 0, 1)));
}

TEST(ExpressionTest, EvaluateDoesNotAllocate) {
  Expected<Expression> e = Expression::Parse(
      "32 <= bx * by <= 1024 and mode in ['a', 'b'] and (bx % 3 == 0 or f / 2 > 0.25) and "
      "mode != 'zz' and 2 ** by >= 16 and -bx // 7 < 0");
  ASSERT_TRUE(e.ok()) << e.error().message();
  const std::vector<std::string> order = {"bx", "by", "mode", "f"};
  ASSERT_TRUE(e->Bind([&](std::string_view name) {
                 for (size_t i = 0; i < order.size(); ++i) {
                   if (order[i] == name) return static_cast<int>(i);
                 }
                 return -1;
               }).ok());
  const Config yes{I(8), I(4), S("b"), R(1.0)};
  const Config no{I(8), I(4), S("c"), R(1.0)};
  const Config error{I(8), I(4), S("a"), S("text")};
  int trues = 0;
  const long before = g_allocations.load();
  for (int i = 0; i < 1000; ++i) {
    trues += e->Evaluate(yes);
    trues += e->Evaluate(no);
    trues += e->Evaluate(error);
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_EQ(trues, 1000);
}

}  // namespace
}  // namespace sysopt
