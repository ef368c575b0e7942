#include "sysopt/report/html.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "sysopt/report/html_report.h"
#include "sysopt/space/spec.h"
#include "sysopt/storage/storage.h"
#include "sysopt/study/study.h"

namespace sysopt {
namespace {

using nlohmann::json;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(HtmlTest, EscapeReplacesEveryMarkupCharacter) {
  EXPECT_EQ(html::Escape("a < b && c > \"d\" 'e'"),
            "a &lt; b &amp;&amp; c &gt; &quot;d&quot; &#39;e&#39;");
  EXPECT_EQ(html::Escape("</script><script>alert(1)</script>"),
            "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(html::Escape("&amp;"), "&amp;amp;");  // Not taken for an entity already escaped.
  EXPECT_EQ(html::Escape("plain text, é ü 日本"), "plain text, é ü 日本");
  EXPECT_EQ(html::Escape(""), "");
}

TEST(HtmlTest, NumbersAndBytesForPeople) {
  EXPECT_EQ(html::FormatNumber(0.012345), "0.01235");
  EXPECT_EQ(html::FormatNumber(12.5), "12.5");
  EXPECT_EQ(html::FormatNumber(1500000), "1.5e+06");
  EXPECT_EQ(html::FormatNumber(0), "0");
  EXPECT_EQ(html::FormatNumber(NAN), "nan");
  EXPECT_EQ(html::FormatBytes(512), "512 B");
  EXPECT_EQ(html::FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(html::FormatBytes(3.0 * 1024 * 1024 * 1024), "3 GiB");
}

TEST(HtmlTest, TicksAreRoundAndCoverTheRange) {
  EXPECT_EQ(html::Ticks(0, 10, 5, false), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  // Steps of 0.1, each tick one rounding away from its decimal (0.3, not 0.1 + 0.1 + 0.1).
  EXPECT_EQ(html::Ticks(0.13, 0.61, 5, false), (std::vector<double>{0.2, 0.3, 0.4, 0.5, 0.6}));
  EXPECT_EQ(html::Ticks(0.13, 0.61, 4, false), (std::vector<double>{0.2, 0.4, 0.6}));
  EXPECT_EQ(html::Ticks(1, 1000, 4, true), (std::vector<double>{1, 10, 100, 1000}));
  EXPECT_EQ(html::Ticks(1, 30, 4, true), (std::vector<double>{1, 2, 5, 10, 20}));
}

TEST(HtmlTest, ScalesMapDataOntoPixels) {
  const html::Scale linear{0, 10, 100, 200, false};
  EXPECT_DOUBLE_EQ(linear(5), 150);
  const html::Scale down{1, 100, 300, 100, true};  // A y axis: up the page for larger values.
  EXPECT_DOUBLE_EQ(down(10), 200);
}

// A study whose every name and text comes from a hostile user: nothing of it may reach the page
// as markup.
TEST(HtmlReportTest, StudyTextIsEscapedEverywhere) {
  const std::string evil = "<img src=x onerror=alert(1)>";
  auto spec = ParseSpec(json{{"name", "s"},
                             {"parameters",
                              {{{"name", "x<b>"}, {"type", "integer"}, {"low", 0}, {"high", 9}},
                               {{"name", "mode"},
                                {"type", "categorical"},
                                {"values", {"</script><script>alert(2)</script>", "plain"}}}}},
                             {"objectives", {{{"name", "t&\"'"}, {"goal", "minimize"}}}}},
                        "test");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  auto storage = MakeMemoryStorage();
  ResumeInfo info;
  auto study = Study::Open(*storage, evil, *spec, json{{"name", "random"}}, &info);
  ASSERT_TRUE(study.ok()) << study.error().message();
  for (int i = 0; i < 12; ++i) {
    const Config config = {int64_t{i % 10}, std::string(i % 2 ? "plain" : "</script><script>alert(2)</script>")};
    auto trial = (*study)->Start(config, "w");
    ASSERT_TRUE(trial.ok());
    TrialOutcome outcome;
    if (i == 5) {
      outcome.state = TrialState::kFailed;
      outcome.failure_reason = "exit 1: <script>alert(3)</script>";
    } else {
      outcome.values = {1.0 + (i % 10) * 0.5 + (i % 2)};
    }
    ASSERT_TRUE((*study)->Finish(*trial, outcome).ok());
  }
  ReportInputs inputs;
  inputs.title = "T <" + evil;
  inputs.studies = {study->get()};
  const std::string page = RenderReport(inputs);
  // The page's own script is the only one, and no tag from the user's text survives.
  EXPECT_EQ(Count(page, "<script>"), 1u);
  EXPECT_EQ(Count(page, "<img"), 0u);
  EXPECT_EQ(Count(page, "x<b>"), 0u);
  EXPECT_NE(page.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_NE(page.find("exit 1: &lt;script&gt;alert(3)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("t&amp;&quot;&#39;"), std::string::npos);
  EXPECT_NE(page.find("x&lt;b&gt;"), std::string::npos);
  // Every finished trial is one point, the failed one marked as failed.
  EXPECT_EQ(Count(page, "class=\"trial complete\""), 11u);
  EXPECT_EQ(Count(page, "class=\"trial failed\""), 1u);
  // Nothing is fetched: no external source or link.
  EXPECT_EQ(Count(page, "src=\""), 0u);
  EXPECT_EQ(Count(page, "href="), 0u);
}

TEST(HtmlReportTest, SweepJsonIsReadAndBadFieldsAreNamed) {
  const json sweep = {
      {"graph", "g"},
      {"sweep",
       {{{"fraction", 0.8},
         {"budget_bytes", 800},
         {"keep_all_cost", 10.0},
         {"lower_bound", 11.0},
         {"best", "a"},
         {"plans",
          {{{"solver", "a"}, {"feasible", true}, {"overhead", 0.2}},
           {{"solver", "b"}, {"feasible", false}}}}},
        {{"fraction", 0.4},
         {"budget_bytes", 400},
         {"keep_all_cost", 10.0},
         {"lower_bound", 13.0},
         {"best", "b"},
         {"plans",
          {{{"solver", "a"}, {"feasible", false}},
           {{"solver", "b"}, {"feasible", true}, {"overhead", 0.5}}}}}}}};
  auto d = SweepFromJson(sweep, "sweep.json");
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(d->fractions, (std::vector<double>{0.4, 0.8}));  // Sorted by budget.
  EXPECT_EQ(d->solvers, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(std::isnan(d->overhead[0][0]));
  EXPECT_DOUBLE_EQ(d->overhead[0][1], 0.2);
  EXPECT_DOUBLE_EQ(d->overhead[1][0], 0.5);
  EXPECT_TRUE(std::isnan(d->overhead[1][1]));
  EXPECT_NEAR(d->bound_overhead[0], 0.3, 1e-12);
  EXPECT_NEAR(d->bound_overhead[1], 0.1, 1e-12);

  json broken = sweep;
  broken["sweep"][1]["keep_all_cost"] = "ten";
  auto bad = SweepFromJson(broken, "sweep.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("sweep.json: sweep[1].keep_all_cost: not a number: \"ten\""),
            std::string::npos)
      << bad.error().message();
  EXPECT_FALSE(SweepFromJson(json{{"graph", "g"}}, "x.json").ok());
}

}  // namespace
}  // namespace sysopt
