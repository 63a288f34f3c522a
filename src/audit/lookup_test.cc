#include "audit/lookup.h"

#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "audit/cloudtrail_json.h"
#include "audit/files.h"
#include "audit/test_util.h"
#include "audit/trail.h"

namespace coffer::audit {
namespace {

using testing::MakeRecord;
using testing::ReadLines;
using testing::TempDir;
using testing::WriteLines;

constexpr std::int64_t kT0 = 1'700'000'000'000;  // record i has time kT0 + i s

// 40 records over several segments:
//  - odd i: secret "ml-platform/mlflow/database", even i: "team/other"
//  - i % 4 == 0: PutSecretValue (write) by bob with key AKIABOB; else alice's reads
//  - i == 13: root; i == 21: an IAM CreateUser; i == 33: denied
class LookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TrailOptions o;
    o.dir = AuditDir(tmp_.path());
    o.digest_interval = std::chrono::milliseconds(0);
    o.segment_max_bytes = 4096;
    auto trail = Trail::Open(o, keyring_.get());
    ASSERT_TRUE(trail.ok());
    trail_ = std::move(trail).value();
    for (int i = 1; i <= 40; ++i) {
      Record r = MakeRecord(i, i % 2 == 1 ? "ml-platform/mlflow/database" : "team/other");
      r.event_id = "event-" + std::to_string(i);
      r.time_ms = kT0 + i * 1000LL + 250;  // sub-second part, as real times have
      if (i % 4 == 0) {
        r.event_name = "PutSecretValue";
        r.read_only = false;
        r.user_name = "bob";
        r.principal_arn = "arn:aws:iam::000000000000:user/bob";
        r.access_key_id = "AKIABOB";
      }
      if (i == 13) {
        r.principal_type = "Root";
        r.principal_arn = "arn:aws:iam::000000000000:root";
        r.user_name.clear();
        r.access_key_id = "AKIAROOT";
      }
      if (i == 21) {
        r.event_source = std::string(kIamSource);
        r.event_name = "CreateUser";
        r.read_only = false;
        r.resources = {{std::string(kIamUserType), "arn:aws:iam::000000000000:user/carol",
                        "carol"}};
      }
      if (i == 33) r.error_code = "AccessDeniedException";
      ASSERT_TRUE(trail_->Append(std::move(r)).ok());
    }
    ASSERT_GT(ListSegments(o.dir)->size(), 3u);
  }

  std::vector<std::string> Ids(const LookupPage& page) {
    std::vector<std::string> ids;
    for (const Record& r : page.events) ids.push_back(r.event_id.substr(6));
    return ids;
  }

  LookupPage Find(const std::string& key, const std::string& value) {
    LookupQuery q;
    q.attributes.push_back({key, value});
    auto page = trail_->Lookup(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    return page.ok() ? *page : LookupPage{};
  }

  TempDir tmp_;
  std::unique_ptr<crypto::Keyring> keyring_ = testing::TestKeyring();
  std::unique_ptr<Trail> trail_;
};

TEST_F(LookupTest, NoAttributeReturnsNewestFirstUpToFifty) {
  auto page = trail_->Lookup({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 40u);
  EXPECT_EQ(page->events.front().event_id, "event-40");
  EXPECT_EQ(page->events.back().event_id, "event-1");
  EXPECT_TRUE(page->next_token.empty());
}

TEST_F(LookupTest, EachAttribute) {
  EXPECT_EQ(Ids(Find("EventId", "event-7")), std::vector<std::string>{"7"});
  EXPECT_EQ(Ids(Find("EventName", "PutSecretValue")).size(), 10u);
  EXPECT_EQ(Ids(Find("EventName", "CreateUser")), std::vector<std::string>{"21"});
  EXPECT_EQ(Ids(Find("ReadOnly", "false")).size(), 11u);  // 10 puts + CreateUser
  EXPECT_EQ(Ids(Find("ReadOnly", "true")).size(), 29u);
  EXPECT_EQ(Ids(Find("Username", "bob")).size(), 10u);
  EXPECT_EQ(Ids(Find("Username", "root")), std::vector<std::string>{"13"});
  EXPECT_EQ(Ids(Find("AccessKeyId", "AKIABOB")).size(), 10u);
  EXPECT_EQ(Ids(Find("EventSource", "iam.amazonaws.com")), std::vector<std::string>{"21"});
  EXPECT_EQ(Ids(Find("ResourceType", "AWS::IAM::User")), std::vector<std::string>{"21"});
  EXPECT_EQ(Ids(Find("ResourceType", "AWS::SecretsManager::Secret")).size(), 39u);
  EXPECT_EQ(Ids(Find("ResourceName", "carol")), std::vector<std::string>{"21"});
  // ResourceName matches a name or an ARN.
  LookupPage by_name = Find("ResourceName", "ml-platform/mlflow/database");
  EXPECT_EQ(by_name.events.size(), 19u);  // the odd records but 21
  EXPECT_EQ(by_name.events.front().event_id, "event-39");
  EXPECT_EQ(Ids(Find("ResourceName",
                     "arn:aws:secretsmanager:us-east-1:000000000000:secret:team/other-AbCdEf"))
                .size(),
            20u);
  EXPECT_TRUE(Find("ResourceName", "ml-platform").events.empty());  // no partial matches
  EXPECT_TRUE(Find("Username", "mallory").events.empty());
}

TEST_F(LookupTest, TimeRangeIsInclusiveAtSecondPrecision) {
  LookupQuery q;
  q.start_ms = kT0 + 10 * 1000;
  q.end_ms = kT0 + 12 * 1000;
  auto page = trail_->Lookup(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(Ids(*page), (std::vector<std::string>{"12", "11", "10"}));

  q.attributes.push_back({"Username", "bob"});
  q.start_ms = kT0;
  q.end_ms = kT0 + 20 * 1000;
  page = trail_->Lookup(q);
  EXPECT_EQ(Ids(*page), (std::vector<std::string>{"20", "16", "12", "8", "4"}));
}

TEST_F(LookupTest, PagesWithNextToken) {
  LookupQuery q;
  q.attributes.push_back({"ResourceName", "ml-platform/mlflow/database"});
  q.max_results = 7;
  std::vector<std::string> all;
  int pages = 0;
  while (true) {
    auto page = trail_->Lookup(q);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const std::string& id : Ids(*page)) all.push_back(id);
    if (page->next_token.empty()) break;
    q.next_token = page->next_token;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);  // 7 + 7 + 5, and no empty last page
  std::vector<std::string> expected;
  for (int i = 39; i >= 1; i -= 2) {
    if (i != 21) expected.push_back(std::to_string(i));
  }
  EXPECT_EQ(all, expected);

  // Exactly one page: no token.
  q.next_token.clear();
  q.max_results = 19;
  auto page = trail_->Lookup(q);
  EXPECT_EQ(page->events.size(), 19u);
  EXPECT_TRUE(page->next_token.empty());
}

TEST_F(LookupTest, TokensAreBoundToTheQuery) {
  LookupQuery q;
  q.attributes.push_back({"Username", "alice"});
  q.max_results = 2;
  auto page = trail_->Lookup(q);
  ASSERT_FALSE(page->next_token.empty());

  LookupQuery other = q;
  other.attributes[0].value = "bob";
  other.next_token = page->next_token;
  EXPECT_EQ(trail_->Lookup(other).status().code(), StatusCode::kInvalidNextToken);
  other = q;
  other.start_ms = kT0;
  other.next_token = page->next_token;
  EXPECT_EQ(trail_->Lookup(other).status().code(), StatusCode::kInvalidNextToken);
  for (const char* bad : {"garbage", "bm90IGpzb24=", "e30="}) {
    LookupQuery g = q;
    g.next_token = bad;
    EXPECT_EQ(trail_->Lookup(g).status().code(), StatusCode::kInvalidNextToken) << bad;
  }
  // A different page size with the same query is fine.
  LookupQuery resized = q;
  resized.max_results = 50;
  resized.next_token = page->next_token;
  auto rest = trail_->Lookup(resized);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->events.front().event_id, "event-37");
}

TEST_F(LookupTest, InvalidQueries) {
  LookupQuery q;
  q.max_results = 0;
  EXPECT_EQ(trail_->Lookup(q).status().code(), StatusCode::kInvalidMaxResults);
  q.max_results = 51;
  EXPECT_EQ(trail_->Lookup(q).status().code(), StatusCode::kInvalidMaxResults);
  q = {};
  q.start_ms = kT0 + 2000;
  q.end_ms = kT0 + 1000;
  EXPECT_EQ(trail_->Lookup(q).status().code(), StatusCode::kInvalidTimeRange);
  q = {};
  q.attributes = {{"Username", "bob"}, {"EventName", "PutSecretValue"}};
  EXPECT_EQ(trail_->Lookup(q).status().code(), StatusCode::kInvalidLookupAttributes);
  q.attributes = {{"Colour", "red"}};
  EXPECT_EQ(trail_->Lookup(q).status().code(), StatusCode::kInvalidLookupAttributes);
  q.attributes = {{"Username", ""}};
  EXPECT_EQ(trail_->Lookup(q).status().code(), StatusCode::kInvalidLookupAttributes);
  q.attributes = {{"ReadOnly", "yes"}};
  EXPECT_EQ(trail_->Lookup(q).status().code(), StatusCode::kInvalidLookupAttributes);
}

TEST_F(LookupTest, ServesOnlyFromTheChainedFiles) {
  // An edited record is not served: the lookup checks the links it reads.
  auto segments = ListSegments(trail_->dir());
  const std::string newest = segments->back().path;
  std::vector<std::string> lines = ReadLines(newest);
  ASSERT_GE(lines.size(), 2u);
  std::string& l = lines[lines.size() - 2];
  l.replace(l.find("127.0.0.1"), 9, "127.0.0.2");
  WriteLines(newest, lines);
  EXPECT_EQ(trail_->Lookup({}).status().code(), StatusCode::kDataLoss);
}

TEST_F(LookupTest, SeedCommandThroughTheCodec) {
  // aws cloudtrail lookup-events --lookup-attributes
  //   AttributeKey=ResourceName,AttributeValue=ml-platform/mlflow/database --max-results 10
  auto body = HandleLookupEvents(
      *trail_,
      R"({"LookupAttributes":[{"AttributeKey":"ResourceName",)"
      R"("AttributeValue":"ml-platform/mlflow/database"}],"MaxResults":10})");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  auto j = nlohmann::json::parse(*body);
  ASSERT_EQ(j["Events"].size(), 10u);
  ASSERT_TRUE(j["NextToken"].is_string());
  const auto& e = j["Events"][0];
  EXPECT_EQ(e["EventId"], "event-39");
  EXPECT_EQ(e["EventName"], "DescribeSecret");
  EXPECT_EQ(e["ReadOnly"], "true");
  EXPECT_EQ(e["AccessKeyId"], "AKIAALICE0000000001");
  EXPECT_EQ(e["EventTime"], (kT0 + 39 * 1000) / 1000);
  EXPECT_EQ(e["EventSource"], "secretsmanager.amazonaws.com");
  EXPECT_EQ(e["Username"], "alice");
  EXPECT_EQ(e["Resources"][0]["ResourceType"], "AWS::SecretsManager::Secret");
  EXPECT_EQ(e["Resources"][0]["ResourceName"], "ml-platform/mlflow/database");
  auto event = nlohmann::json::parse(e["CloudTrailEvent"].get<std::string>());
  EXPECT_EQ(event["eventID"], "event-39");
  EXPECT_EQ(event["eventTime"], "2023-11-14T22:13:59Z");

  // The next page, with the CLI's epoch-second timestamps.
  nlohmann::json next = {
      {"LookupAttributes",
       {{{"AttributeKey", "ResourceName"}, {"AttributeValue", "ml-platform/mlflow/database"}}}},
      {"MaxResults", 10},
      {"NextToken", j["NextToken"]}};
  body = HandleLookupEvents(*trail_, next.dump());
  ASSERT_TRUE(body.ok());
  j = nlohmann::json::parse(*body);
  EXPECT_EQ(j["Events"].size(), 9u);
  EXPECT_EQ(j["Events"][0]["EventId"], "event-17");
  EXPECT_FALSE(j.contains("NextToken"));
}

TEST_F(LookupTest, CodecErrors) {
  EXPECT_EQ(HandleLookupEvents(*trail_, "not json").status().code(), StatusCode::kSerialization);
  EXPECT_EQ(HandleLookupEvents(*trail_, R"({"MaxResults":"ten"})").status().code(),
            StatusCode::kSerialization);
  EXPECT_EQ(HandleLookupEvents(*trail_, R"({"MaxResults":500})").status().code(),
            StatusCode::kInvalidMaxResults);
  EXPECT_EQ(HandleLookupEvents(*trail_, R"({"StartTime":"yesterday"})").status().code(),
            StatusCode::kSerialization);
  EXPECT_EQ(HandleLookupEvents(*trail_, R"({"StartTime":1700000100,"EndTime":1700000000})")
                .status()
                .code(),
            StatusCode::kInvalidTimeRange);
  EXPECT_EQ(HandleLookupEvents(*trail_, R"({"LookupAttributes":[{"AttributeKey":"EventName",
      "AttributeValue":"A"},{"AttributeKey":"Username","AttributeValue":"B"}]})")
                .status()
                .code(),
            StatusCode::kInvalidLookupAttributes);
  EXPECT_EQ(HandleLookupEvents(*trail_, R"({"NextToken":"nope"})").status().code(),
            StatusCode::kInvalidNextToken);
  auto insight = HandleLookupEvents(*trail_, R"({"EventCategory":"insight"})");
  ASSERT_TRUE(insight.ok());
  EXPECT_EQ(*insight, R"({"Events":[]})");
}

TEST(CloudTrailCodecTest, DecodesTimestampsAsNumbersOrStrings) {
  auto r = DecodeLookupEventsRequest(
      R"({"StartTime":1700000000.5,"EndTime":"2023-11-14T22:13:20Z","MaxResults":5,
          "LookupAttributes":[{"AttributeKey":"Username","AttributeValue":"bob"}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->query.start_ms, 1'700'000'000'500);
  EXPECT_EQ(r->query.end_ms, 1'700'000'000'000);
  EXPECT_EQ(r->query.max_results, 5);
  ASSERT_EQ(r->query.attributes.size(), 1u);
  EXPECT_EQ(r->query.attributes[0].key, "Username");
  EXPECT_EQ(*ParseIso8601Millis("2023-11-14T23:13:20.250+01:00"), 1'700'000'000'250);
  EXPECT_EQ(*ParseIso8601Millis("2023-11-14T22:13:20"), 1'700'000'000'000);
  EXPECT_FALSE(ParseIso8601Millis("2023-11-14"));
  EXPECT_FALSE(ParseIso8601Millis("2023-13-14T22:13:20Z"));
  auto empty = DecodeLookupEventsRequest("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->query.attributes.empty());
}

}  // namespace
}  // namespace coffer::audit
