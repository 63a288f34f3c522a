#include "audit/record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "audit/test_util.h"
#include "core/encoding.h"
#include "crypto/hash.h"

namespace coffer::audit {
namespace {

using testing::MakeRecord;

TEST(RecordTest, LineHasStableKeyOrderAndRoundTrips) {
  Record r = MakeRecord(1);
  r.event_id = "11111111-2222-4333-8444-555555555555";
  r.error_code = "AccessDeniedException";
  std::string line = ComposeLine(7, kGenesisHash, SerializeBody(r));
  EXPECT_EQ(line.rfind("{\"seq\":7,\"prev\":\"0000", 0), 0u) << line;

  auto j = nlohmann::ordered_json::parse(line);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "seq", "prev", "time", "event_id", "request_id", "account_id", "region",
                      "principal_arn", "principal_type", "user_name", "access_key_id",
                      "source_ip", "user_agent", "event_source", "event_name", "read_only",
                      "resources", "error_code"}));

  auto parsed = ParseLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->seq, 7u);
  EXPECT_EQ(parsed->prev, kGenesisHash);
  EXPECT_EQ(parsed->record, r);
  EXPECT_EQ(LineHash(line), HexEncode(crypto::Sha256(line)));

  std::uint64_t seq = 0;
  std::string_view prev;
  ASSERT_TRUE(PeekChainFields(line, &seq, &prev));
  EXPECT_EQ(seq, 7u);
  EXPECT_EQ(prev, kGenesisHash);
}

TEST(RecordTest, HostileStringsStayOneParseableLine) {
  Record r = MakeRecord(2);
  r.user_agent = std::string("quote\" backslash\\ newline\n cr\r tab\t nul") + '\0' +
                 " del\x7f bad-utf8 \xff\xfe truncated \xe2\x82 ok \xe2\x82\xac";
  r.resources[0].name = "name\"},{\"injected\":true";
  std::string line = ComposeLine(1, kGenesisHash, SerializeBody(r));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto parsed = ParseLine(line);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << line;
  EXPECT_EQ(parsed->record.resources.size(), 1u);
  EXPECT_EQ(parsed->record.resources[0].name, r.resources[0].name);
  const std::string& ua = parsed->record.user_agent;
  EXPECT_NE(ua.find("quote\" backslash\\ newline\n cr\r tab\t nul"), std::string::npos);
  EXPECT_NE(ua.find(std::string(1, '\0')), std::string::npos);
  EXPECT_NE(ua.find("\xef\xbf\xbd"), std::string::npos);  // U+FFFD for the invalid bytes
  EXPECT_NE(ua.find("ok \xe2\x82\xac"), std::string::npos);  // valid UTF-8 kept
}

TEST(RecordTest, RejectsLinesThatAreNotRecords) {
  EXPECT_EQ(ParseLine("not json").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseLine("{\"seq\":1}").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseLine("[]").status().code(), StatusCode::kDataLoss);
  std::string line = ComposeLine(1, kGenesisHash, SerializeBody(MakeRecord(1)));
  std::string bad_type = line;
  bad_type.replace(bad_type.find("\"read_only\":true"), 16, "\"read_only\":\"yes\"");
  EXPECT_EQ(ParseLine(bad_type).status().code(), StatusCode::kDataLoss);
  std::uint64_t seq;
  std::string_view prev;
  EXPECT_FALSE(PeekChainFields("{\"seq\":x", &seq, &prev));
  EXPECT_FALSE(PeekChainFields("{\"seq\":1,\"prev\":\"abc\"", &seq, &prev));
}

TEST(RecordTest, CloudTrailEventJson) {
  Record r = MakeRecord(3);
  r.event_id = "ev-1";
  r.error_code = "ResourceNotFoundException";
  auto e = nlohmann::json::parse(CloudTrailEventJson(r));
  EXPECT_EQ(e["eventVersion"], "1.08");
  EXPECT_EQ(e["userIdentity"]["type"], "IAMUser");
  EXPECT_EQ(e["userIdentity"]["arn"], "arn:aws:iam::000000000000:user/alice");
  EXPECT_EQ(e["userIdentity"]["accountId"], "000000000000");
  EXPECT_EQ(e["userIdentity"]["accessKeyId"], "AKIAALICE0000000001");
  EXPECT_EQ(e["userIdentity"]["userName"], "alice");
  EXPECT_EQ(e["eventTime"], "2023-11-14T22:13:23Z");
  EXPECT_EQ(e["eventSource"], "secretsmanager.amazonaws.com");
  EXPECT_EQ(e["eventName"], "DescribeSecret");
  EXPECT_EQ(e["awsRegion"], "us-east-1");
  EXPECT_EQ(e["sourceIPAddress"], "127.0.0.1");
  EXPECT_EQ(e["userAgent"], "aws-cli/2.15.0 Python/3.11");
  EXPECT_TRUE(e["requestParameters"].is_null());
  EXPECT_TRUE(e["responseElements"].is_null());
  EXPECT_EQ(e["requestID"], "req-3");
  EXPECT_EQ(e["eventID"], "ev-1");
  EXPECT_EQ(e["readOnly"], true);
  EXPECT_EQ(e["resources"][0]["ARN"],
            "arn:aws:secretsmanager:us-east-1:000000000000:secret:ml-platform/mlflow/"
            "database-AbCdEf");
  EXPECT_EQ(e["resources"][0]["type"], "AWS::SecretsManager::Secret");
  EXPECT_EQ(e["resources"][0]["accountId"], "000000000000");
  EXPECT_EQ(e["eventType"], "AwsApiCall");
  EXPECT_EQ(e["managementEvent"], true);
  EXPECT_EQ(e["recipientAccountId"], "000000000000");
  EXPECT_EQ(e["errorCode"], "ResourceNotFoundException");

  r.error_code.clear();
  EXPECT_FALSE(nlohmann::json::parse(CloudTrailEventJson(r)).contains("errorCode"));
}

TEST(RecordTest, RootAndUnauthenticatedIdentities) {
  Record root = MakeRecord(1);
  root.principal_type = "Root";
  root.principal_arn = "arn:aws:iam::000000000000:root";
  root.user_name.clear();
  EXPECT_EQ(DisplayUserName(root), "root");
  auto e = nlohmann::json::parse(CloudTrailEventJson(root));
  EXPECT_EQ(e["userIdentity"]["type"], "Root");
  EXPECT_EQ(e["userIdentity"]["principalId"], "000000000000");

  Record anon = MakeRecord(1);
  anon.principal_type.clear();
  anon.principal_arn.clear();
  anon.user_name.clear();
  anon.access_key_id.clear();
  anon.error_code = "MissingAuthenticationTokenException";
  EXPECT_EQ(DisplayUserName(anon), "");
  e = nlohmann::json::parse(CloudTrailEventJson(anon));
  EXPECT_EQ(e["userIdentity"]["type"], "Unknown");
  EXPECT_FALSE(e["userIdentity"].contains("arn"));
}

}  // namespace
}  // namespace coffer::audit
