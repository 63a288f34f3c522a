#include "metrics/server_metrics.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace coffer::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The value of the exact series line `series` in `text`, or -1.
double SampleValue(const std::string& text, const std::string& series) {
  const std::string needle = "\n" + series + " ";
  const std::size_t pos = ("\n" + text).find(needle);
  if (pos == std::string::npos) return -1;
  const std::size_t start = pos + needle.size() - 1;  // "\n" + text shifted by one
  return std::stod(text.substr(start, text.find('\n', start) - start));
}

TEST(ServerMetricsTest, BuildInfoAndZeroedAuthFailuresFromTheStart) {
  ServerMetrics m({.version = "1.2.3"});
  const std::string text = m.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE coffer_build_info gauge\n"
                              "coffer_build_info{version=\"1.2.3\"} 1\n"));
  EXPECT_EQ(SampleValue(
                text, "coffer_authentication_failures_total{reason=\"InvalidSignatureException\"}"),
            0);
  EXPECT_EQ(SampleValue(text, "coffer_audit_write_failures_total"), 0);
  // No secrets source yet: no secret gauges at all.
  EXPECT_THAT(text, Not(HasSubstr("coffer_secrets")));
  EXPECT_THAT(text, Not(HasSubstr("aws_secretsmanager_secret_last_rotation_timestamp")));
}

TEST(ServerMetricsTest, RecordRequest) {
  ServerMetrics m;
  m.RecordRequest("secretsmanager", "GetSecretValue", Outcome::kSuccess, "", 0.0003);
  m.RecordRequest("secretsmanager", "GetSecretValue", Outcome::kSuccess, "ignored", 0.002);
  m.RecordRequest("secretsmanager", "GetSecretValue", Outcome::kClientError,
                  "ResourceNotFoundException", 0.0002);
  m.RecordRequest("secretsmanager", "CreateSecret", Outcome::kServerError, "InternalServiceError",
                  0.5);
  m.RecordRequest("secretsmanager", "CreateSecret", Outcome::kClientError, "", 0.5);
  const std::string t = m.Render();
  const std::string get = "service=\"secretsmanager\",action=\"GetSecretValue\"";
  const std::string create = "service=\"secretsmanager\",action=\"CreateSecret\"";
  EXPECT_EQ(SampleValue(t, "coffer_requests_total{" + get + ",outcome=\"success\"}"), 2);
  EXPECT_EQ(SampleValue(t, "coffer_requests_total{" + get + ",outcome=\"client_error\"}"), 1);
  EXPECT_EQ(SampleValue(t, "coffer_requests_total{" + get + ",outcome=\"server_error\"}"), 0);
  EXPECT_EQ(SampleValue(t, "coffer_requests_total{" + create + ",outcome=\"server_error\"}"), 1);
  EXPECT_EQ(
      SampleValue(t, "coffer_request_errors_total{" + get + ",code=\"ResourceNotFoundException\"}"),
      1);
  EXPECT_EQ(
      SampleValue(t, "coffer_request_errors_total{" + create + ",code=\"InternalServiceError\"}"),
      1);
  EXPECT_EQ(SampleValue(t, "coffer_request_errors_total{" + create + ",code=\"unknown\"}"), 1);
  EXPECT_THAT(t, Not(HasSubstr("ignored")));
  EXPECT_EQ(SampleValue(t, "coffer_request_duration_seconds_bucket{" + get + ",le=\"0.0001\"}"), 0);
  EXPECT_EQ(SampleValue(t, "coffer_request_duration_seconds_bucket{" + get + ",le=\"0.00025\"}"),
            1);
  EXPECT_EQ(SampleValue(t, "coffer_request_duration_seconds_bucket{" + get + ",le=\"0.0005\"}"), 2);
  EXPECT_EQ(SampleValue(t, "coffer_request_duration_seconds_count{" + get + "}"), 3);
  EXPECT_EQ(SampleValue(t, "coffer_request_duration_seconds_count{" + create + "}"), 2);
}

TEST(ServerMetricsTest, ActionHandlesAreCachedAndBounded) {
  ServerMetrics m;
  ActionMetrics& a = m.ForAction("secretsmanager", "ListSecrets");
  EXPECT_EQ(&a, &m.ForAction("secretsmanager", "ListSecrets"));
  // Empty and malformed names are "unknown", and share one handle.
  ActionMetrics& unknown = m.ForAction("secretsmanager", "");
  EXPECT_EQ(&unknown, &m.ForAction("secretsmanager", "Bad Action{\"}"));
  EXPECT_EQ(&m.ForAction("", ""), &m.ForAction("weird service", std::string(100, 'A')));
  unknown.Record(Outcome::kClientError, "UnknownOperationException", 0.001);
  const std::string t = m.Render();
  EXPECT_EQ(SampleValue(t,
                        "coffer_requests_total{service=\"secretsmanager\",action=\"unknown\","
                        "outcome=\"client_error\"}"),
            1);
  EXPECT_THAT(t, Not(HasSubstr("Bad Action")));

  // Past kMaxActions pairs, new ones all land on ("unknown", "unknown").
  for (std::size_t i = 0; i < ServerMetrics::kMaxActions + 10; ++i) {
    m.RecordRequest("svc", "Action" + std::to_string(i), Outcome::kSuccess, "", 0.001);
  }
  const std::string t2 = m.Render();
  std::size_t series = 0;
  for (std::size_t p = 0; (p = t2.find("\ncoffer_requests_total{", p)) != std::string::npos; ++p) {
    ++series;
  }
  EXPECT_LE(series, 3 * (ServerMetrics::kMaxActions + 1));
  EXPECT_GT(SampleValue(t2,
                        "coffer_requests_total{service=\"unknown\",action=\"unknown\","
                        "outcome=\"success\"}"),
            0);
}

TEST(ServerMetricsTest, ErrorCodesAreBounded) {
  ServerMetrics m;
  ActionMetrics& a = m.ForAction("iam", "CreateUser");
  a.Record(Outcome::kClientError, "code with spaces and \"quotes\"", 0.001);
  for (std::size_t i = 0; i < ServerMetrics::kMaxErrorCodesPerAction + 5; ++i) {
    a.Record(Outcome::kClientError, "Code" + std::to_string(i), 0.001);
  }
  const std::string t = m.Render();
  EXPECT_THAT(t, Not(HasSubstr("quotes")));
  EXPECT_GE(SampleValue(t,
                        "coffer_request_errors_total{service=\"iam\",action=\"CreateUser\","
                        "code=\"other\"}"),
            6);
  EXPECT_EQ(SampleValue(t,
                        "coffer_request_errors_total{service=\"iam\",action=\"CreateUser\","
                        "code=\"Code70\"}"),
            -1);
}

TEST(ServerMetricsTest, AuthFailuresDenialsAuditFailures) {
  ServerMetrics m;
  m.CountAuthFailure("InvalidSignatureException");
  m.CountAuthFailure("InvalidSignatureException");
  m.CountAuthFailure("UnrecognizedClientException");
  m.CountAuthFailure("IncompleteSignature");
  m.CountAuthFailure("MissingAuthenticationToken");
  m.CountAuthFailure("not a type\n");
  m.CountDenial("secretsmanager", "GetSecretValue");
  m.CountDenial("secretsmanager", "GetSecretValue");
  m.CountDenial("iam", "");
  m.CountAuditFailure();
  const std::string t = m.Render();
  EXPECT_EQ(
      SampleValue(t, "coffer_authentication_failures_total{reason=\"InvalidSignatureException\"}"),
      2);
  EXPECT_EQ(SampleValue(
                t, "coffer_authentication_failures_total{reason=\"UnrecognizedClientException\"}"),
            1);
  EXPECT_EQ(SampleValue(t, "coffer_authentication_failures_total{reason=\"IncompleteSignature\"}"),
            1);
  EXPECT_EQ(
      SampleValue(t, "coffer_authentication_failures_total{reason=\"MissingAuthenticationToken\"}"),
      1);
  EXPECT_EQ(SampleValue(t, "coffer_authentication_failures_total{reason=\"other\"}"), 1);
  EXPECT_EQ(SampleValue(t,
                        "coffer_authorization_denials_total{service=\"secretsmanager\","
                        "action=\"GetSecretValue\"}"),
            2);
  EXPECT_EQ(
      SampleValue(t, "coffer_authorization_denials_total{service=\"iam\",action=\"unknown\"}"), 1);
  EXPECT_EQ(SampleValue(t, "coffer_audit_write_failures_total"), 1);

  for (std::size_t i = 0; i < ServerMetrics::kMaxAuthFailureReasons + 5; ++i) {
    m.CountAuthFailure("Reason" + std::to_string(i));
  }
  m.CountAuthFailure("InvalidSignatureException");  // an existing series keeps counting
  const std::string t2 = m.Render();
  EXPECT_EQ(
      SampleValue(t2, "coffer_authentication_failures_total{reason=\"InvalidSignatureException\"}"),
      3);
  EXPECT_EQ(SampleValue(t2, "coffer_authentication_failures_total{reason=\"Reason36\"}"), -1);
  EXPECT_GT(SampleValue(t2, "coffer_authentication_failures_total{reason=\"other\"}"), 1);
}

TEST(ServerMetricsTest, SecretGauges) {
  ServerMetrics m;
  m.SetSecretsSource([]() -> Result<std::vector<SecretGaugeInfo>> {
    return std::vector<SecretGaugeInfo>{
        {.name = "ml-platform/mlflow/database", .region = "us-east-1", .created_ms = 1700000000000},
        {.name = "rotated",
         .region = "eu-west-1",
         .created_ms = 1600000000000,
         .last_rotated_ms = 1710000000500},
        {.name = "doomed",
         .region = "us-east-1",
         .created_ms = 1500000000000,
         .scheduled_for_deletion = true},
        {.name = "odd\"name\\", .region = "us-east-1", .created_ms = 1000},
    };
  });
  const std::string t = m.Render();
  EXPECT_THAT(t, HasSubstr("# TYPE coffer_secrets gauge\n"
                           "coffer_secrets{state=\"active\"} 3\n"
                           "coffer_secrets{state=\"scheduled_for_deletion\"} 1\n"));
  EXPECT_THAT(t, HasSubstr("# TYPE aws_secretsmanager_secret_last_rotation_timestamp gauge\n"));
  EXPECT_EQ(SampleValue(t,
                        "aws_secretsmanager_secret_last_rotation_timestamp{secret_name=\""
                        "ml-platform/mlflow/database\",region=\"us-east-1\"}"),
            1700000000);
  EXPECT_THAT(t, HasSubstr("aws_secretsmanager_secret_last_rotation_timestamp{secret_name=\""
                           "rotated\",region=\"eu-west-1\"} 1710000000.5\n"));
  EXPECT_THAT(t, HasSubstr("aws_secretsmanager_secret_last_rotation_timestamp{secret_name=\""
                           "odd\\\"name\\\\\",region=\"us-east-1\"} 1\n"));
  EXPECT_THAT(t, Not(HasSubstr("doomed")));
}

TEST(ServerMetricsTest, SecretsSourceIsCachedForTheTtl) {
  FakeClock clock(1'000'000);
  ServerMetrics m({.secrets_cache_ttl = std::chrono::seconds(5), .clock = &clock});
  std::atomic<int> calls = 0;
  std::atomic<int> count = 1;
  m.SetSecretsSource([&]() -> Result<std::vector<SecretGaugeInfo>> {
    ++calls;
    std::vector<SecretGaugeInfo> v;
    for (int i = 0; i < count; ++i) v.push_back({.name = "s" + std::to_string(i), .created_ms = 0});
    return v;
  });
  EXPECT_EQ(SampleValue(m.Render(), "coffer_secrets{state=\"active\"}"), 1);
  count = 2;
  clock.AdvanceMillis(4999);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(SampleValue(m.Render(), "coffer_secrets{state=\"active\"}"), 1);
  }
  EXPECT_EQ(calls, 1);
  clock.AdvanceMillis(1);
  EXPECT_EQ(SampleValue(m.Render(), "coffer_secrets{state=\"active\"}"), 2);
  EXPECT_EQ(calls, 2);

  // A scrape storm from several threads still calls the source once per TTL.
  clock.AdvanceMillis(5000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) (void)m.Render();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(calls, 3);

  // A new source drops the cache.
  m.SetSecretsSource(
      []() -> Result<std::vector<SecretGaugeInfo>> { return std::vector<SecretGaugeInfo>{}; });
  EXPECT_EQ(SampleValue(m.Render(), "coffer_secrets{state=\"active\"}"), 0);
}

TEST(ServerMetricsTest, ZeroTtlAsksEveryScrape) {
  FakeClock clock(0);
  ServerMetrics m({.secrets_cache_ttl = std::chrono::milliseconds(0), .clock = &clock});
  int calls = 0;
  m.SetSecretsSource([&]() -> Result<std::vector<SecretGaugeInfo>> {
    ++calls;
    return std::vector<SecretGaugeInfo>{};
  });
  (void)m.Render();
  (void)m.Render();
  EXPECT_EQ(calls, 2);
}

TEST(ServerMetricsTest, SourceErrorsAreCountedAndOmitTheGauges) {
  FakeClock clock(0);
  ServerMetrics m({.clock = &clock});
  bool fail = true;
  m.SetSecretsSource([&]() -> Result<std::vector<SecretGaugeInfo>> {
    if (fail) return Status::Unavailable("store is closed");
    return std::vector<SecretGaugeInfo>{{.name = "a", .region = "r", .created_ms = 2000}};
  });
  std::string t = m.Render();
  EXPECT_EQ(SampleValue(t, "coffer_metrics_source_errors_total"), 1);
  EXPECT_THAT(t, Not(HasSubstr("coffer_secrets")));
  EXPECT_THAT(t, Not(HasSubstr("store is closed")));
  (void)m.Render();  // the error is cached too: no second call within the TTL
  EXPECT_EQ(SampleValue(m.Render(), "coffer_metrics_source_errors_total"), 1);
  fail = false;
  clock.AdvanceMillis(5000);
  t = m.Render();
  EXPECT_EQ(SampleValue(t, "coffer_secrets{state=\"active\"}"), 1);
  EXPECT_EQ(SampleValue(t,
                        "aws_secretsmanager_secret_last_rotation_timestamp{secret_name=\"a\","
                        "region=\"r\"}"),
            2);
}

TEST(ServerMetricsTest, ConcurrentRequestsFromFourThreads) {
  ServerMetrics m;
  constexpr int kIters = 50000;
  const char* actions[] = {"GetSecretValue", "DescribeSecret", "ListSecrets", "PutSecretValue"};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIters; ++i) {
        const char* action = actions[(t + i) % 4];
        const Outcome o = i % 10 == 0 ? Outcome::kClientError : Outcome::kSuccess;
        m.RecordRequest("secretsmanager", action, o, "ResourceNotFoundException", 0.0001);
        if (i % 1000 == 0) (void)m.Render();
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::string t = m.Render();
  double total = 0;
  double errors = 0;
  for (const char* action : actions) {
    const std::string labels = std::string("service=\"secretsmanager\",action=\"") + action + "\"";
    total += SampleValue(t, "coffer_requests_total{" + labels + ",outcome=\"success\"}");
    total += SampleValue(t, "coffer_requests_total{" + labels + ",outcome=\"client_error\"}");
    errors += SampleValue(
        t, "coffer_request_errors_total{" + labels + ",code=\"ResourceNotFoundException\"}");
    EXPECT_EQ(SampleValue(t, "coffer_request_duration_seconds_count{" + labels + "}"), kIters);
  }
  EXPECT_EQ(total, 4 * kIters);
  EXPECT_EQ(errors, 4 * kIters / 10);
}

TEST(ServerMetricsTest, OutcomeFromHttpStatus) {
  EXPECT_EQ(OutcomeFromHttpStatus(200), Outcome::kSuccess);
  EXPECT_EQ(OutcomeFromHttpStatus(400), Outcome::kClientError);
  EXPECT_EQ(OutcomeFromHttpStatus(404), Outcome::kClientError);
  EXPECT_EQ(OutcomeFromHttpStatus(500), Outcome::kServerError);
  EXPECT_EQ(OutcomeFromHttpStatus(503), Outcome::kServerError);
  EXPECT_EQ(OutcomeName(Outcome::kClientError), "client_error");
}

}  // namespace
}  // namespace coffer::metrics
