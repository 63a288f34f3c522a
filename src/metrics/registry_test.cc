#include "metrics/registry.h"

#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace coffer::metrics {
namespace {

TEST(MetricNamesTest, MetricNames) {
  EXPECT_TRUE(IsValidMetricName("coffer_requests_total"));
  EXPECT_TRUE(IsValidMetricName("_x"));
  EXPECT_TRUE(IsValidMetricName("job:rate5m"));
  EXPECT_TRUE(IsValidMetricName("a1"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("1a"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_FALSE(IsValidMetricName("a b"));
  EXPECT_FALSE(IsValidMetricName("a\xc3\xa9"));
}

TEST(MetricNamesTest, LabelNames) {
  EXPECT_TRUE(IsValidLabelName("secret_name"));
  EXPECT_TRUE(IsValidLabelName("_a"));
  EXPECT_TRUE(IsValidLabelName("le"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("9a"));
  EXPECT_FALSE(IsValidLabelName("a-b"));
}

TEST(EscapeTest, LabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain/name_1+=.@-"), "plain/name_1+=.@-");
  EXPECT_EQ(EscapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeLabelValue("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(EscapeLabelValue("two\nlines"), "two\\nlines");
  EXPECT_EQ(EscapeLabelValue("tab\tstays"), "tab\tstays");
  EXPECT_EQ(EscapeLabelValue("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
}

TEST(EscapeTest, InvalidUtf8BecomesReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(EscapeLabelValue("a\xff"
                             "b"),
            "a" + fffd + "b");
  EXPECT_EQ(EscapeLabelValue("\xc3"), fffd);                                   // truncated
  EXPECT_EQ(EscapeLabelValue("\xc0\xaf"), fffd + fffd);                        // overlong
  EXPECT_EQ(EscapeLabelValue("\xed\xa0\x80"), fffd + fffd + fffd);             // surrogate
  EXPECT_EQ(EscapeLabelValue("\xf4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // > U+10FFFF
}

TEST(FormatValueTest, Values) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(-0.0), "0");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(1712345678), "1712345678");
  EXPECT_EQ(FormatValue(1712345678.25), "1712345678.25");
  EXPECT_EQ(FormatValue(0.0001), "0.0001");
  EXPECT_EQ(FormatValue(0.00025), "0.00025");
  EXPECT_EQ(FormatValue(2.5), "2.5");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(1e20), "100000000000000000000");
  EXPECT_EQ(FormatValue(1.5e21), "1.5e+21");
  EXPECT_EQ(FormatValue(0.00001), "1e-05");
  EXPECT_EQ(FormatValue(0.000123), "0.000123");
  EXPECT_EQ(FormatValue(123456.789), "123456.789");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(RegistryTest, EmptyRegistryRendersNothing) {
  Registry registry;
  EXPECT_EQ(registry.Render(), "");
  registry.AddCounterFamily("unused_total", "No series yet.", {"a"});
  EXPECT_EQ(registry.Render(), "");
}

TEST(RegistryTest, CounterAndGaugeGolden) {
  Registry registry;
  Counter& plain = registry.AddCounter("app_events_total", "Events.\nSecond line with \\.");
  auto& by_action =
      registry.AddCounterFamily("app_requests_total", "Requests.", {"action", "outcome"});
  Gauge& temp = registry.AddGauge("app_temperature", "Temperature.");
  plain.Inc();
  plain.Inc(4);
  by_action.WithLabels("Get", "success").Inc(3);
  by_action.WithLabels("Create", "client_error").Inc();
  by_action.WithLabels("Get", "success").Inc();  // same series as before
  temp.Set(21.5);
  temp.Inc();
  temp.Dec(0.25);

  EXPECT_EQ(registry.Render(),
            "# HELP app_events_total Events.\\nSecond line with \\\\.\n"
            "# TYPE app_events_total counter\n"
            "app_events_total 5\n"
            "# HELP app_requests_total Requests.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{action=\"Create\",outcome=\"client_error\"} 1\n"
            "app_requests_total{action=\"Get\",outcome=\"success\"} 4\n"
            "# HELP app_temperature Temperature.\n"
            "# TYPE app_temperature gauge\n"
            "app_temperature 22.25\n");
}

TEST(RegistryTest, LabelValuesAreEscaped) {
  Registry registry;
  auto& fam = registry.AddGaugeFamily("app_secret_info", "Per secret.", {"secret_name"});
  fam.WithLabels("back\\slash").Set(1);
  fam.WithLabels("quo\"te").Set(2);
  fam.WithLabels("new\nline").Set(3);
  EXPECT_EQ(registry.Render(),
            "# HELP app_secret_info Per secret.\n"
            "# TYPE app_secret_info gauge\n"
            "app_secret_info{secret_name=\"back\\\\slash\"} 1\n"
            "app_secret_info{secret_name=\"new\\nline\"} 3\n"
            "app_secret_info{secret_name=\"quo\\\"te\"} 2\n");
}

TEST(RegistryTest, HistogramGolden) {
  Registry registry;
  // Binary fractions, so that the sum is exact whatever the order of the adds.
  auto& fam =
      registry.AddHistogramFamily("app_latency_seconds", "Latency.", {"action"}, {0.125, 0.5, 1});
  Histogram& get = fam.WithLabels("Get");
  get.Observe(0.0625);
  get.Observe(0.125);  // le is inclusive
  get.Observe(0.375);
  get.Observe(7);  // only +Inf
  fam.WithLabels("Put").Observe(1);
  EXPECT_EQ(registry.Render(),
            "# HELP app_latency_seconds Latency.\n"
            "# TYPE app_latency_seconds histogram\n"
            "app_latency_seconds_bucket{action=\"Get\",le=\"0.125\"} 2\n"
            "app_latency_seconds_bucket{action=\"Get\",le=\"0.5\"} 3\n"
            "app_latency_seconds_bucket{action=\"Get\",le=\"1\"} 3\n"
            "app_latency_seconds_bucket{action=\"Get\",le=\"+Inf\"} 4\n"
            "app_latency_seconds_sum{action=\"Get\"} 7.5625\n"
            "app_latency_seconds_count{action=\"Get\"} 4\n"
            "app_latency_seconds_bucket{action=\"Put\",le=\"0.125\"} 0\n"
            "app_latency_seconds_bucket{action=\"Put\",le=\"0.5\"} 0\n"
            "app_latency_seconds_bucket{action=\"Put\",le=\"1\"} 1\n"
            "app_latency_seconds_bucket{action=\"Put\",le=\"+Inf\"} 1\n"
            "app_latency_seconds_sum{action=\"Put\"} 1\n"
            "app_latency_seconds_count{action=\"Put\"} 1\n");
}

TEST(RegistryTest, UnlabelledHistogramWithDefaultBuckets) {
  Registry registry;
  Histogram& h = registry.AddHistogram("app_op_seconds", "Op.");
  h.Observe(0.00005);
  h.Observe(0.003);
  h.Observe(std::numeric_limits<double>::quiet_NaN());  // counted in +Inf only
  const std::string text = registry.Render();
  EXPECT_NE(text.find("app_op_seconds_bucket{le=\"0.0001\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("app_op_seconds_bucket{le=\"0.0025\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("app_op_seconds_bucket{le=\"0.005\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("app_op_seconds_bucket{le=\"10\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("app_op_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("app_op_seconds_count 3\n"), std::string::npos) << text;
  // 16 bounds plus +Inf.
  std::size_t buckets = 0;
  for (std::size_t pos = 0; (pos = text.find("_bucket{", pos)) != std::string::npos; ++pos) {
    ++buckets;
  }
  EXPECT_EQ(buckets, 17u);
  EXPECT_EQ(DefaultLatencyBuckets().front(), 0.0001);
  EXPECT_EQ(DefaultLatencyBuckets().back(), 10);
}

TEST(RegistryTest, WithLabelsReturnsStableReferences) {
  Registry registry;
  auto& fam = registry.AddCounterFamily("app_x_total", "X.", {"k"});
  Counter* first = &fam.WithLabels("a");
  for (int i = 0; i < 1000; ++i) fam.WithLabels("v" + std::to_string(i)).Inc();
  EXPECT_EQ(first, &fam.WithLabels(std::string("a")));
  EXPECT_EQ(fam.size(), 1001u);
  EXPECT_EQ(fam.Find({"a"}), first);
  EXPECT_EQ(fam.Find({"missing"}), nullptr);
}

TEST(RegistryTest, RemoveDropsOneSeriesAndAnEmptyFamily) {
  Registry registry;
  auto& family = registry.AddGaugeFamily("x_condition", "Condition.", {"name", "status"});
  family.WithLabels("a", "True").Set(1);
  family.WithLabels("b", "True").Set(1);
  EXPECT_TRUE(family.Remove({"a", "True"}));
  EXPECT_FALSE(family.Remove({"a", "True"}));
  EXPECT_EQ(family.Find({"a", "True"}), nullptr);
  EXPECT_EQ(registry.Render(),
            "# HELP x_condition Condition.\n# TYPE x_condition gauge\n"
            "x_condition{name=\"b\",status=\"True\"} 1\n");
  EXPECT_TRUE(family.Remove({"b", "True"}));
  EXPECT_EQ(registry.Render(), "");
}

TEST(RegistryTest, CollectorsEmitGaugesAfterRegisteredFamilies) {
  Registry registry;
  registry.AddCounter("app_a_total", "A.").Inc();
  int calls = 0;
  registry.AddCollector([&calls](Writer& w) {
    ++calls;
    w.DeclareGauge("app_items", "Items by state.", {"state"});
    w.Sample("app_items", {"open"}, 2);
    w.Sample("app_items", {"closed"}, 5);
    w.Sample("app_items", {"open"}, 99);  // duplicate series: the first value stays
    w.DeclareGauge("app_empty", "No samples: left out.", {});
  });
  registry.AddCollector([](Writer& w) {
    w.DeclareGauge("app_items", "Items by state.", {"state"});  // joins the family above
    w.Sample("app_items", {"new\"one"}, 1);
  });
  const std::string expected =
      "# HELP app_a_total A.\n"
      "# TYPE app_a_total counter\n"
      "app_a_total 1\n"
      "# HELP app_items Items by state.\n"
      "# TYPE app_items gauge\n"
      "app_items{state=\"closed\"} 5\n"
      "app_items{state=\"new\\\"one\"} 1\n"
      "app_items{state=\"open\"} 2\n";
  EXPECT_EQ(registry.Render(), expected);
  EXPECT_EQ(registry.Render(), expected);
  EXPECT_EQ(calls, 2);
}

TEST(RegistryTest, ConcurrentIncrementsAndScrapes) {
  Registry registry;
  auto& counters = registry.AddCounterFamily("app_hits_total", "Hits.", {"thread"});
  auto& hist = registry.AddHistogramFamily("app_work_seconds", "Work.", {}, {0.5});
  Gauge& gauge = registry.AddGauge("app_level", "Level.");
  Counter& shared = registry.AddCounter("app_shared_total", "Shared.");
  constexpr int kThreads = 4;
  constexpr int kIters = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& mine = counters.WithLabels(std::to_string(t));
      Histogram& h = hist.WithLabels();
      for (int i = 0; i < kIters; ++i) {
        mine.Inc();
        shared.Inc();
        gauge.Inc();
        h.Observe(i % 2 == 0 ? 0.25 : 1.0);
        if (i % 20000 == 0) {
          // Creating series and scraping while others increment.
          counters.WithLabels("extra" + std::to_string(t)).Inc();
          (void)registry.Render();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(shared.Value(), static_cast<std::uint64_t>(kThreads * kIters));
  EXPECT_EQ(gauge.Value(), kThreads * kIters);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(counters.WithLabels(std::to_string(t)).Value(), static_cast<std::uint64_t>(kIters));
  }
  const Histogram::Snapshot snap = hist.WithLabels().Take();
  EXPECT_EQ(snap.count, static_cast<std::uint64_t>(kThreads * kIters));
  EXPECT_EQ(snap.cumulative[0], static_cast<std::uint64_t>(kThreads * kIters / 2));
  EXPECT_DOUBLE_EQ(snap.sum, kThreads * kIters / 2 * 1.25);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("app_shared_total 400000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("app_work_seconds_count 400000\n"), std::string::npos) << text;
}

#ifndef NDEBUG
TEST(RegistryDeathTest, ProgrammerErrorsAssert) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounter("bad-name", "x");
      },
      "invalid metric name");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounterFamily("ok_total", "x", {"__reserved"});
      },
      "invalid or repeated label name");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounterFamily("ok_total", "x", {"a", "a"});
      },
      "invalid or repeated label name");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddHistogramFamily("ok_seconds", "x", {"le"});
      },
      "reserved in histograms");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounter("twice_total", "x");
        r.AddGauge("twice_total", "x");
      },
      "registered twice");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounterFamily("ok_total", "x", {"a", "b"}).WithLabels("only-one");
      },
      "one value per label name");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddHistogram("ok_seconds", "x", {1, 0.5});
      },
      "must increase");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCollector([](Writer& w) { w.Sample("undeclared", {}, 1); });
        (void)r.Render();
      },
      "undeclared gauge");
  EXPECT_DEATH(
      {
        Registry r;
        r.AddCounter("clash_total", "x").Inc();
        r.AddCollector([](Writer& w) {
          w.DeclareGauge("clash_total", "y", {});
          w.Sample("clash_total", {}, 1);
        });
        (void)r.Render();
      },
      "registered metric's name");
}
#endif

}  // namespace
}  // namespace coffer::metrics
