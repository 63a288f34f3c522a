#include "api/json_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

namespace coffer::api {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kArn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:MyTest-a1b2c3";
constexpr const char* kVersion = "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1";

template <typename T>
T Ok(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return T{};
  return std::move(r).value();
}

template <typename T>
Status Err(const Result<T>& r) {
  EXPECT_FALSE(r.ok());
  return r.status();
}

// ---------------------------------------------------------------- decoding: every operation

TEST(DecodeTest, CreateSecret) {
  auto r = Ok(DecodeCreateSecretRequest(R"({
    "Name": "MyTestDatabaseSecret",
    "ClientRequestToken": "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1",
    "Description": "My test database secret created with the CLI",
    "KmsKeyId": "alias/mine",
    "SecretString": "{\"username\":\"david\",\"password\":\"EXAMPLE-PASSWORD\"}",
    "Tags": [{"Key": "CostCenter", "Value": "12345"}, {"Key": "environment", "Value": ""}],
    "AddReplicaRegions": [{"Region": "eu-west-1", "KmsKeyId": "k"}, {"Region": "us-west-2"}],
    "ForceOverwriteReplicaSecret": true,
    "Type": "partner"
  })"));
  EXPECT_EQ(r.name, "MyTestDatabaseSecret");
  EXPECT_EQ(r.client_request_token, "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1");
  EXPECT_EQ(r.description, "My test database secret created with the CLI");
  EXPECT_EQ(r.kms_key_id, "alias/mine");
  EXPECT_EQ(r.value.string, R"({"username":"david","password":"EXAMPLE-PASSWORD"})");
  EXPECT_FALSE(r.value.binary.has_value());
  ASSERT_TRUE(r.tags.has_value());
  ASSERT_EQ(r.tags->size(), 2u);
  EXPECT_EQ((*r.tags)[0].key, "CostCenter");
  EXPECT_EQ((*r.tags)[0].value, "12345");
  EXPECT_EQ((*r.tags)[1].value, "");
  ASSERT_TRUE(r.add_replica_regions.has_value());
  EXPECT_EQ((*r.add_replica_regions)[0].region, "eu-west-1");
  EXPECT_EQ((*r.add_replica_regions)[0].kms_key_id, "k");
  EXPECT_FALSE((*r.add_replica_regions)[1].kms_key_id.has_value());
  EXPECT_EQ(r.force_overwrite_replica_secret, true);
  EXPECT_EQ(r.type, "partner");
}

TEST(DecodeTest, CreateSecretMinimalLeavesOptionalsUnset) {
  auto r = Ok(DecodeCreateSecretRequest(R"({"Name":"n"})"));
  EXPECT_EQ(r.name, "n");
  EXPECT_FALSE(r.client_request_token.has_value());
  EXPECT_FALSE(r.description.has_value());
  EXPECT_FALSE(r.kms_key_id.has_value());
  EXPECT_FALSE(r.value.string.has_value());
  EXPECT_FALSE(r.value.binary.has_value());
  EXPECT_FALSE(r.tags.has_value());
  EXPECT_FALSE(r.add_replica_regions.has_value());
  EXPECT_FALSE(r.force_overwrite_replica_secret.has_value());
  EXPECT_FALSE(r.type.has_value());
}

TEST(DecodeTest, SecretBinaryIsBase64) {
  auto r = Ok(DecodeCreateSecretRequest(R"({"Name":"n","SecretBinary":"AAEC/w=="})"));
  ASSERT_TRUE(r.value.binary.has_value());
  EXPECT_EQ(*r.value.binary, std::string("\x00\x01\x02\xff", 4));
  EXPECT_FALSE(r.value.string.has_value());
}

TEST(DecodeTest, BadBase64IsSerializationErrorWithoutTheValue) {
  Status s = Err(DecodePutSecretValueRequest(R"({"SecretId":"x","SecretBinary":"hunter2!"})"));
  EXPECT_EQ(s.code(), StatusCode::kSerialization);
  EXPECT_THAT(s.message(), HasSubstr("SecretBinary"));
  EXPECT_THAT(s.message(), HasSubstr("base64"));
  EXPECT_EQ(s.message().find("hunter2"), std::string::npos);
}

TEST(DecodeTest, GetSecretValue) {
  auto r = Ok(DecodeGetSecretValueRequest(
      R"({"SecretId":"MyTestDatabaseSecret","VersionId":"v1","VersionStage":"AWSPREVIOUS"})"));
  EXPECT_EQ(r.secret_id, "MyTestDatabaseSecret");
  EXPECT_EQ(r.version_id, "v1");
  EXPECT_EQ(r.version_stage, "AWSPREVIOUS");
}

TEST(DecodeTest, BatchGetSecretValue) {
  auto r = Ok(DecodeBatchGetSecretValueRequest(R"({
    "SecretIdList": ["MySecret1", "MySecret2"],
    "Filters": [{"Key": "tag-key", "Values": ["!prod", "env"]}],
    "MaxResults": 20, "NextToken": "tok"})"));
  ASSERT_TRUE(r.secret_id_list.has_value());
  EXPECT_EQ(*r.secret_id_list, (std::vector<std::string>{"MySecret1", "MySecret2"}));
  ASSERT_TRUE(r.filters.has_value());
  EXPECT_EQ((*r.filters)[0].key, "tag-key");
  EXPECT_EQ((*r.filters)[0].values, (std::vector<std::string>{"!prod", "env"}));
  EXPECT_EQ(r.max_results, 20);
  EXPECT_EQ(r.next_token, "tok");
}

TEST(DecodeTest, PutSecretValue) {
  auto r = Ok(DecodePutSecretValueRequest(R"({
    "SecretId": "MyTestDatabaseSecret", "ClientRequestToken": "EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE",
    "SecretString": "{\"username\":\"david\"}", "VersionStages": ["AWSPENDING", "custom"],
    "RotationToken": "0123456789abcdef0123456789abcdef0123"})"));
  EXPECT_EQ(r.secret_id, "MyTestDatabaseSecret");
  EXPECT_EQ(r.client_request_token, "EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE");
  EXPECT_EQ(r.value.string, R"({"username":"david"})");
  ASSERT_TRUE(r.version_stages.has_value());
  EXPECT_EQ(*r.version_stages, (std::vector<std::string>{"AWSPENDING", "custom"}));
  EXPECT_EQ(r.rotation_token, "0123456789abcdef0123456789abcdef0123");
}

TEST(DecodeTest, UpdateSecret) {
  auto r = Ok(DecodeUpdateSecretRequest(
      R"({"SecretId":"s","ClientRequestToken":"t","Description":"d","KmsKeyId":"",)"
      R"("SecretBinary":"Zm9v","Type":"x"})"));
  EXPECT_EQ(r.secret_id, "s");
  EXPECT_EQ(r.client_request_token, "t");
  EXPECT_EQ(r.description, "d");
  EXPECT_EQ(r.kms_key_id, "");  // present but empty: "use the default key"
  EXPECT_EQ(r.value.binary, "foo");
  EXPECT_EQ(r.type, "x");
}

TEST(DecodeTest, DescribeSecret) {
  EXPECT_EQ(Ok(DecodeDescribeSecretRequest(R"({"SecretId":"MyTestDatabaseSecret"})")).secret_id,
            "MyTestDatabaseSecret");
}

TEST(DecodeTest, ListSecrets) {
  auto r = Ok(DecodeListSecretsRequest(R"({
    "IncludePlannedDeletion": true, "MaxResults": 5, "NextToken": "n",
    "Filters": [{"Key":"name","Values":["prod/"]},{"Key":"all","Values":["a","b"]}],
    "SortOrder": "desc", "SortBy": "name"})"));
  EXPECT_EQ(r.include_planned_deletion, true);
  EXPECT_EQ(r.max_results, 5);
  EXPECT_EQ(r.next_token, "n");
  ASSERT_TRUE(r.filters.has_value());
  ASSERT_EQ(r.filters->size(), 2u);
  EXPECT_EQ((*r.filters)[1].key, "all");
  EXPECT_EQ(r.sort_order, "desc");
  EXPECT_EQ(r.sort_by, "name");
}

TEST(DecodeTest, ListSecretsEmptyBodyIsEmptyRequest) {
  for (const char* body : {"", "{}", "  \n", " {} "}) {
    auto r = Ok(DecodeListSecretsRequest(body));
    EXPECT_FALSE(r.max_results.has_value()) << body;
    EXPECT_FALSE(r.filters.has_value()) << body;
  }
}

TEST(DecodeTest, ListSecretVersionIds) {
  auto r = Ok(DecodeListSecretVersionIdsRequest(
      R"({"SecretId":"s","MaxResults":100,"NextToken":"t","IncludeDeprecated":true})"));
  EXPECT_EQ(r.secret_id, "s");
  EXPECT_EQ(r.max_results, 100);
  EXPECT_EQ(r.next_token, "t");
  EXPECT_EQ(r.include_deprecated, true);
}

TEST(DecodeTest, UpdateSecretVersionStage) {
  auto r = Ok(DecodeUpdateSecretVersionStageRequest(
      R"({"SecretId":"s","VersionStage":"AWSCURRENT","RemoveFromVersionId":"a",)"
      R"("MoveToVersionId":"b"})"));
  EXPECT_EQ(r.secret_id, "s");
  EXPECT_EQ(r.version_stage, "AWSCURRENT");
  EXPECT_EQ(r.remove_from_version_id, "a");
  EXPECT_EQ(r.move_to_version_id, "b");
}

TEST(DecodeTest, DeleteSecret) {
  auto r = Ok(DecodeDeleteSecretRequest(
      R"({"SecretId":"s","RecoveryWindowInDays":7,"ForceDeleteWithoutRecovery":false})"));
  EXPECT_EQ(r.secret_id, "s");
  EXPECT_EQ(r.recovery_window_in_days, 7);
  EXPECT_EQ(r.force_delete_without_recovery, false);
}

TEST(DecodeTest, SecretIdRequest) {
  EXPECT_EQ(Ok(DecodeSecretIdRequest(R"({"SecretId":"MyTestDatabaseSecret"})")).secret_id,
            "MyTestDatabaseSecret");
}

TEST(DecodeTest, TagAndUntagResource) {
  auto t = Ok(DecodeTagResourceRequest(
      R"({"SecretId":"s","Tags":[{"Key":"FirstTag","Value":"SomeValue"}]})"));
  EXPECT_EQ(t.secret_id, "s");
  ASSERT_EQ(t.tags.size(), 1u);
  EXPECT_EQ(t.tags[0].key, "FirstTag");
  EXPECT_EQ(t.tags[0].value, "SomeValue");
  auto u = Ok(DecodeUntagResourceRequest(R"({"SecretId":"s","TagKeys":["FirstTag","x"]})"));
  EXPECT_EQ(u.tag_keys, (std::vector<std::string>{"FirstTag", "x"}));
}

TEST(DecodeTest, GetRandomPassword) {
  auto r = Ok(DecodeGetRandomPasswordRequest(
      R"({"PasswordLength":20,"ExcludeCharacters":"abc","ExcludeNumbers":true,)"
      R"("ExcludePunctuation":true,"ExcludeUppercase":false,"ExcludeLowercase":false,)"
      R"("IncludeSpace":true,"RequireEachIncludedType":true})"));
  EXPECT_EQ(r.password_length, 20);
  EXPECT_EQ(r.exclude_characters, "abc");
  EXPECT_EQ(r.exclude_numbers, true);
  EXPECT_EQ(r.exclude_punctuation, true);
  EXPECT_EQ(r.exclude_uppercase, false);
  EXPECT_EQ(r.exclude_lowercase, false);
  EXPECT_EQ(r.include_space, true);
  EXPECT_EQ(r.require_each_included_type, true);
  auto empty = Ok(DecodeGetRandomPasswordRequest("{}"));
  EXPECT_FALSE(empty.password_length.has_value());
}

TEST(DecodeTest, ResourcePolicies) {
  auto put = Ok(DecodePutResourcePolicyRequest(
      R"({"SecretId":"s","ResourcePolicy":"{\"Version\":\"2012-10-17\"}","BlockPublicPolicy":true})"));
  EXPECT_EQ(put.secret_id, "s");
  EXPECT_EQ(put.resource_policy, R"({"Version":"2012-10-17"})");
  EXPECT_EQ(put.block_public_policy, true);
  auto v = Ok(DecodeValidateResourcePolicyRequest(R"({"ResourcePolicy":"{}"})"));
  EXPECT_FALSE(v.secret_id.has_value());
  EXPECT_EQ(v.resource_policy, "{}");
}

TEST(DecodeTest, RotateSecret) {
  auto r = Ok(DecodeRotateSecretRequest(R"j({
    "SecretId": "MyTestDatabaseSecret", "ClientRequestToken": "tok",
    "RotationLambdaARN": "arn:aws:lambda:us-west-2:123456789012:function:MyTestRotationLambda",
    "RotationRules": {"AutomaticallyAfterDays": 30, "Duration": "2h",
                      "ScheduleExpression": "cron(0 16 1,15 * ? *)", "Unknown": 1},
    "RotateImmediately": false,
    "ExternalSecretRotationMetadata": [{"Key": "k", "Value": "v", "Extra": 3}],
    "ExternalSecretRotationRoleArn": "arn:aws:iam::000000000000:role/r"})j"));
  EXPECT_EQ(r.secret_id, "MyTestDatabaseSecret");
  EXPECT_EQ(r.client_request_token, "tok");
  EXPECT_EQ(r.rotation_lambda_arn,
            "arn:aws:lambda:us-west-2:123456789012:function:MyTestRotationLambda");
  ASSERT_TRUE(r.rotation_rules.has_value());
  EXPECT_EQ(r.rotation_rules->automatically_after_days, 30);
  EXPECT_EQ(r.rotation_rules->duration, "2h");
  EXPECT_EQ(r.rotation_rules->schedule_expression, "cron(0 16 1,15 * ? *)");
  EXPECT_EQ(r.rotate_immediately, false);
  EXPECT_EQ(r.external_secret_rotation_metadata_json, R"([{"Key":"k","Value":"v"}])");
  EXPECT_EQ(r.external_secret_rotation_role_arn, "arn:aws:iam::000000000000:role/r");
}

TEST(DecodeTest, ReplicationBodies) {
  EXPECT_EQ(Ok(DecodeReplicationRequest(
                   R"({"SecretId":"s","AddReplicaRegions":[{"Region":"eu-west-1"}]})"))
                .secret_id,
            "s");
  EXPECT_EQ(Err(DecodeReplicationRequest("[1]")).code(), StatusCode::kSerialization);
}

// ---------------------------------------------------------------- decoding: the rules

TEST(DecodeRulesTest, UnknownMembersAreIgnored) {
  auto r = Ok(DecodeGetSecretValueRequest(
      R"({"SecretId":"s","SomethingNew":{"deep":[1,2,{"x":null}]},"Another":7})"));
  EXPECT_EQ(r.secret_id, "s");
}

TEST(DecodeRulesTest, NullMeansAbsent) {
  auto r = Ok(DecodeGetSecretValueRequest(R"({"SecretId":"s","VersionId":null})"));
  EXPECT_FALSE(r.version_id.has_value());
}

TEST(DecodeRulesTest, BodyMustBeAnObject) {
  for (const char* body : {"[]", "\"x\"", "1", "null", "true"}) {
    Status s = Err(DecodeDescribeSecretRequest(body));
    EXPECT_EQ(s.code(), StatusCode::kSerialization) << body;
    EXPECT_THAT(s.message(), HasSubstr("JSON object")) << body;
  }
}

TEST(DecodeRulesTest, MalformedJsonNeverQuotesTheBody) {
  for (const char* body : {R"({"SecretString":"hunter2)", R"({"SecretString":"hunter2" x})",
                           R"({"SecretString":hunter2})", "{", "{}}"}) {
    Status s = Err(DecodeCreateSecretRequest(body));
    EXPECT_EQ(s.code(), StatusCode::kSerialization) << body;
    EXPECT_EQ(s.message().find("hunter2"), std::string::npos) << s.message();
  }
}

TEST(DecodeRulesTest, WrongTypesNameTheMember) {
  struct Case {
    std::string body;
    std::string member;
  };
  const Case cases[] = {
      {R"({"SecretId":{}})", "'SecretId'"},
      {R"({"SecretId":1})", "'SecretId'"},
      {R"({"SecretId":"s","VersionId":["a"]})", "'VersionId'"},
      {R"({"SecretId":"s","VersionStage":true})", "'VersionStage'"},
  };
  for (const auto& c : cases) {
    Status s = Err(DecodeGetSecretValueRequest(c.body));
    EXPECT_EQ(s.code(), StatusCode::kSerialization) << c.body;
    EXPECT_THAT(s.message(), HasSubstr(c.member)) << c.body;
  }
  Status s = Err(DecodeCreateSecretRequest(R"({"Name":"n","Tags":[{"Key":"k","Value":5}]})"));
  EXPECT_THAT(s.message(), HasSubstr("'Tags[0].Value'"));
  EXPECT_THAT(s.message(), HasSubstr("expected string, found number"));
  s = Err(DecodeCreateSecretRequest(R"({"Name":"n","Tags":{"Key":"k"}})"));
  EXPECT_THAT(s.message(), HasSubstr("'Tags': expected list, found object"));
  s = Err(DecodeCreateSecretRequest(R"({"Name":"n","Tags":[null]})"));
  EXPECT_THAT(s.message(), HasSubstr("Tags[0]"));
  s = Err(DecodeListSecretsRequest(R"({"Filters":[{"Key":"name","Values":"x"}]})"));
  EXPECT_THAT(s.message(), HasSubstr("'Filters[0].Values'"));
  s = Err(DecodeRotateSecretRequest(R"({"SecretId":"s","RotationRules":{"Duration":2}})"));
  EXPECT_THAT(s.message(), HasSubstr("'RotationRules.Duration'"));
  s = Err(DecodeRotateSecretRequest(
      R"({"SecretId":"s","ExternalSecretRotationMetadata":[{"Key":1}]})"));
  EXPECT_THAT(s.message(), HasSubstr("'ExternalSecretRotationMetadata[0].Key'"));
  s = Err(DecodeDeleteSecretRequest(R"({"SecretId":"s","ForceDeleteWithoutRecovery":"true"})"));
  EXPECT_THAT(s.message(), HasSubstr("'ForceDeleteWithoutRecovery': expected boolean"));
  s = Err(DecodeDeleteSecretRequest(R"({"SecretId":"s","RecoveryWindowInDays":"7"})"));
  EXPECT_THAT(s.message(), HasSubstr("'RecoveryWindowInDays': expected integer"));
}

TEST(DecodeRulesTest, Integers) {
  EXPECT_EQ(Ok(DecodeDeleteSecretRequest(R"({"RecoveryWindowInDays":7.0})")).recovery_window_in_days,
            7);
  EXPECT_EQ(Ok(DecodeDeleteSecretRequest(R"({"RecoveryWindowInDays":-3})")).recovery_window_in_days,
            -3);  // ranges are the service's business
  EXPECT_EQ(Err(DecodeDeleteSecretRequest(R"({"RecoveryWindowInDays":7.5})")).code(),
            StatusCode::kSerialization);
  EXPECT_EQ(Err(DecodeDeleteSecretRequest(R"({"RecoveryWindowInDays":18446744073709551615})"))
                .code(),
            StatusCode::kSerialization);
  EXPECT_EQ(Err(DecodeDeleteSecretRequest(R"({"RecoveryWindowInDays":1e300})")).code(),
            StatusCode::kSerialization);
}

TEST(DecodeRulesTest, NoSemanticValidation) {
  // Lengths, patterns and required members are left to the service.
  auto r = Ok(DecodeGetSecretValueRequest(R"({"VersionId":""})"));
  EXPECT_EQ(r.secret_id, "");
  EXPECT_EQ(r.version_id, "");
  auto c = Ok(DecodeCreateSecretRequest(R"({"Name":"bad name?","SecretString":"a","SecretBinary":"YQ=="})"));
  EXPECT_EQ(c.value.string, "a");
  EXPECT_EQ(c.value.binary, "a");
}

TEST(DecodeRulesTest, DeepNestingInUnknownMemberIsFine) {
  std::string body = R"({"SecretId":"s","X":)" + std::string(10000, '[') +
                     std::string(10000, ']') + "}";
  EXPECT_EQ(Ok(DecodeGetSecretValueRequest(body)).secret_id, "s");
}

// ---------------------------------------------------------------- encoding responses

TEST(EncodeTest, TimestampsHaveAFraction) {
  secrets::DeleteSecretResponse r{kArn, "MyTest", 1523477145713};
  EXPECT_THAT(Ok(EncodeDeleteSecretResponse(r)), HasSubstr(R"("DeletionDate":1523477145.713)"));
  r.deletion_date_ms = 1700000000500;
  EXPECT_THAT(Ok(EncodeDeleteSecretResponse(r)), HasSubstr(R"("DeletionDate":1700000000.5)"));
  r.deletion_date_ms = 1700000000000;
  EXPECT_THAT(Ok(EncodeDeleteSecretResponse(r)), HasSubstr(R"("DeletionDate":1700000000.0)"));
  r.deletion_date_ms = 1700000000001;
  EXPECT_THAT(Ok(EncodeDeleteSecretResponse(r)), HasSubstr(R"("DeletionDate":1700000000.001)"));
}

TEST(EncodeTest, TimestampsOfEveryMillisecondAreExactDecimals) {
  // Shortest round-trip printing gives "<seconds>.<ms without trailing zeros>", never an exponent.
  for (std::int64_t ms = 1700000000000; ms < 1700000003000; ms += 7) {
    std::string fraction = std::to_string(1000 + ms % 1000).substr(1);
    while (fraction.size() > 1 && fraction.back() == '0') fraction.pop_back();
    std::string expected = std::to_string(ms / 1000) + "." + fraction;
    secrets::DeleteSecretResponse r{"a", "n", ms};
    EXPECT_EQ(Ok(EncodeDeleteSecretResponse(r)),
              R"({"ARN":"a","DeletionDate":)" + expected + R"(,"Name":"n"})");
  }
}

TEST(EncodeTest, CreateSecret) {
  EXPECT_EQ(Ok(EncodeCreateSecretResponse({kArn, "MyTest", kVersion})),
            std::string(R"({"ARN":")") + kArn + R"(","Name":"MyTest","VersionId":")" + kVersion +
                R"("})");
  EXPECT_EQ(Ok(EncodeCreateSecretResponse({kArn, "MyTest", std::nullopt})),
            std::string(R"({"ARN":")") + kArn + R"(","Name":"MyTest"})");
}

TEST(EncodeTest, GetSecretValueString) {
  secrets::GetSecretValueResponse r;
  r.arn = kArn;
  r.name = "MyTest";
  r.version_id = kVersion;
  r.value.string = R"({"user":"a"})";
  r.version_stages = {"AWSCURRENT"};
  r.created_date_ms = 1523477145713;
  EXPECT_EQ(Ok(EncodeGetSecretValueResponse(r)),
            std::string(R"({"ARN":")") + kArn +
                R"(","CreatedDate":1523477145.713,"Name":"MyTest",)"
                R"("SecretString":"{\"user\":\"a\"}","VersionId":")" +
                kVersion + R"(","VersionStages":["AWSCURRENT"]})");
}

TEST(EncodeTest, GetSecretValueBinaryIsBase64) {
  secrets::GetSecretValueResponse r;
  r.arn = kArn;
  r.name = "n";
  r.version_id = "v";
  r.value.binary = std::string("\x00\x01\x02\xff", 4);
  r.version_stages = {"AWSCURRENT", "AWSPREVIOUS"};
  r.created_date_ms = 1000;
  json j = json::parse(Ok(EncodeGetSecretValueResponse(r)));
  EXPECT_EQ(j["SecretBinary"], "AAEC/w==");
  EXPECT_FALSE(j.contains("SecretString"));
  EXPECT_EQ(j["CreatedDate"], 1.0);
}

TEST(EncodeTest, BatchGetSecretValue) {
  secrets::BatchGetSecretValueResponse r;
  secrets::GetSecretValueResponse v;
  v.arn = "a";
  v.name = "n";
  v.version_id = "v";
  v.value.string = "s";
  v.version_stages = {"AWSCURRENT"};
  v.created_date_ms = 1500;
  r.secret_values.push_back(v);
  r.errors.push_back({"missing", Status::NotFound("Secrets Manager can't find it.")});
  // Server-side failures never leak their details into the response.
  r.errors.push_back({"broken", Status::Internal("sqlite: disk I/O error")});
  EXPECT_EQ(Ok(EncodeBatchGetSecretValueResponse(r)),
            R"({"Errors":[{"ErrorCode":"ResourceNotFoundException",)"
            R"("Message":"Secrets Manager can't find it.","SecretId":"missing"},)"
            R"({"ErrorCode":"InternalServiceError",)"
            R"("Message":"An error occurred on the server side.","SecretId":"broken"}],)"
            R"("SecretValues":[{"ARN":"a","CreatedDate":1.5,"Name":"n","SecretString":"s",)"
            R"("VersionId":"v","VersionStages":["AWSCURRENT"]}]})");
  r.next_token = "t";
  r.errors.clear();
  r.secret_values.clear();
  EXPECT_EQ(Ok(EncodeBatchGetSecretValueResponse(r)),
            R"({"Errors":[],"NextToken":"t","SecretValues":[]})");
}

TEST(EncodeTest, PutAndUpdateSecret) {
  EXPECT_EQ(Ok(EncodePutSecretValueResponse({"a", "n", "v", {"AWSCURRENT"}})),
            R"({"ARN":"a","Name":"n","VersionId":"v","VersionStages":["AWSCURRENT"]})");
  EXPECT_EQ(Ok(EncodeUpdateSecretResponse({"a", "n", std::nullopt})), R"({"ARN":"a","Name":"n"})");
  EXPECT_EQ(Ok(EncodeUpdateSecretResponse({"a", "n", "v"})),
            R"({"ARN":"a","Name":"n","VersionId":"v"})");
}

secrets::SecretDescription FullDescription() {
  secrets::SecretDescription d;
  d.arn = "a";
  d.name = "n";
  d.type = "t";
  d.description = "desc";
  d.kms_key_id = "k";
  d.rotation_enabled = true;
  d.rotation_lambda_arn = "l";
  d.rotation_rules = secrets::RotationRules{30, "2h", std::nullopt};
  d.last_rotated_date_ms = 1000;
  d.last_changed_date_ms = 2000;
  d.last_accessed_date_ms = 3000;
  d.deleted_date_ms = 4000;
  d.next_rotation_date_ms = 5000;
  d.tags = std::vector<secrets::Tag>{{"k1", "v1"}};
  d.version_ids_to_stages =
      std::vector<secrets::VersionStagesEntry>{{"v1", {"AWSCURRENT"}}, {"v0", {"AWSPREVIOUS"}}};
  d.owning_service = "o";
  d.created_date_ms = 500;
  d.primary_region = "us-east-1";
  d.external_secret_rotation_metadata_json = R"([{"Key":"k","Value":"v"}])";
  d.external_secret_rotation_role_arn = "arn:aws:iam::000000000000:role/r";
  return d;
}

TEST(EncodeTest, DescribeSecretFull) {
  EXPECT_EQ(Ok(EncodeDescribeSecretResponse(FullDescription())),
            R"({"ARN":"a","CreatedDate":0.5,"DeletedDate":4.0,"Description":"desc",)"
            R"("ExternalSecretRotationMetadata":[{"Key":"k","Value":"v"}],)"
            R"("ExternalSecretRotationRoleArn":"arn:aws:iam::000000000000:role/r",)"
            R"("KmsKeyId":"k","LastAccessedDate":3.0,"LastChangedDate":2.0,)"
            R"("LastRotatedDate":1.0,"Name":"n","NextRotationDate":5.0,"OwningService":"o",)"
            R"("PrimaryRegion":"us-east-1","RotationEnabled":true,"RotationLambdaARN":"l",)"
            R"("RotationRules":{"AutomaticallyAfterDays":30,"Duration":"2h"},)"
            R"("Tags":[{"Key":"k1","Value":"v1"}],"Type":"t",)"
            R"("VersionIdsToStages":{"v0":["AWSPREVIOUS"],"v1":["AWSCURRENT"]}})");
}

TEST(EncodeTest, DescribeSecretOmitsEmpties) {
  secrets::SecretDescription d;
  d.arn = "a";
  d.name = "n";
  d.created_date_ms = 1000;
  d.last_changed_date_ms = 1000;
  EXPECT_EQ(Ok(EncodeDescribeSecretResponse(d)),
            R"({"ARN":"a","CreatedDate":1.0,"LastChangedDate":1.0,"Name":"n"})");
}

TEST(EncodeTest, ListSecretsUsesSecretVersionsToStages) {
  secrets::ListSecretsResponse r;
  r.secret_list.push_back(FullDescription());
  json j = json::parse(Ok(EncodeListSecretsResponse(r)));
  ASSERT_EQ(j["SecretList"].size(), 1u);
  EXPECT_FALSE(j["SecretList"][0].contains("VersionIdsToStages"));
  EXPECT_EQ(j["SecretList"][0]["SecretVersionsToStages"]["v1"], json::array({"AWSCURRENT"}));
  EXPECT_EQ(j["SecretList"][0]["ExternalSecretRotationMetadata"],
            json::parse(R"([{"Key":"k","Value":"v"}])"));
  EXPECT_FALSE(j.contains("NextToken"));
  EXPECT_EQ(Ok(EncodeListSecretsResponse({})), R"({"SecretList":[]})");
  r.secret_list.clear();
  r.next_token = "x";
  EXPECT_EQ(Ok(EncodeListSecretsResponse(r)), R"({"NextToken":"x","SecretList":[]})");
}

TEST(EncodeTest, ListSecretVersionIdsDeprecatedHasNoStages) {
  secrets::ListSecretVersionIdsResponse r;
  r.arn = "a";
  r.name = "n";
  secrets::SecretVersionsListEntry current;
  current.version_id = "v2";
  current.version_stages = std::vector<std::string>{"AWSCURRENT"};
  current.last_accessed_date_ms = 86400000;
  current.created_date_ms = 2000;
  current.kms_key_ids = {"DefaultEncryptionKey"};
  secrets::SecretVersionsListEntry deprecated;
  deprecated.version_id = "v1";
  deprecated.created_date_ms = 1000;
  deprecated.kms_key_ids = {"DefaultEncryptionKey"};
  r.versions = {current, deprecated};
  EXPECT_EQ(Ok(EncodeListSecretVersionIdsResponse(r)),
            R"({"ARN":"a","Name":"n","Versions":[)"
            R"({"CreatedDate":2.0,"KmsKeyIds":["DefaultEncryptionKey"],)"
            R"("LastAccessedDate":86400.0,"VersionId":"v2","VersionStages":["AWSCURRENT"]},)"
            R"({"CreatedDate":1.0,"KmsKeyIds":["DefaultEncryptionKey"],"VersionId":"v1"}]})");
}

TEST(EncodeTest, SmallResponses) {
  EXPECT_EQ(Ok(EncodeArnNameResponse({"a", "n"})), R"({"ARN":"a","Name":"n"})");
  EXPECT_EQ(EncodeEmptyResponse(), "{}");
  EXPECT_EQ(Ok(EncodeGetRandomPasswordResponse({"p@ss"})), R"({"RandomPassword":"p@ss"})");
  EXPECT_EQ(Ok(EncodeGetResourcePolicyResponse({"a", "n", std::nullopt})),
            R"({"ARN":"a","Name":"n"})");
  EXPECT_EQ(Ok(EncodeGetResourcePolicyResponse({"a", "n", "{}"})),
            R"({"ARN":"a","Name":"n","ResourcePolicy":"{}"})");
  EXPECT_EQ(Ok(EncodeValidateResourcePolicyResponse({true, {}})),
            R"({"PolicyValidationPassed":true,"ValidationErrors":[]})");
  EXPECT_EQ(Ok(EncodeValidateResourcePolicyResponse({false, {{"c", "m"}}})),
            R"({"PolicyValidationPassed":false,)"
            R"("ValidationErrors":[{"CheckName":"c","ErrorMessage":"m"}]})");
  EXPECT_EQ(Ok(EncodeRotateSecretResponse({"a", "n", "v"})),
            R"({"ARN":"a","Name":"n","VersionId":"v"})");
  EXPECT_EQ(Ok(EncodeCancelRotateSecretResponse({"a", "n", std::nullopt})),
            R"({"ARN":"a","Name":"n"})");
}

TEST(EncodeTest, NonUtf8IsAnInternalErrorNamingNoValue) {
  secrets::GetSecretValueResponse r;
  r.value.string = "secret\xff";
  Status s = Err(EncodeGetSecretValueResponse(r));
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message().find("secret"), std::string::npos);
}

TEST(EncodeTest, UnicodeIsKept) {
  secrets::GetSecretValueResponse r;
  r.value.string = "pässwörd \xF0\x9F\x94\x91";
  auto back = Ok(DecodeCreateSecretRequest(
      R"({"Name":"n","SecretString":)" + json(*r.value.string).dump() + "}"));
  EXPECT_EQ(back.value.string, r.value.string);
  EXPECT_EQ(json::parse(Ok(EncodeGetSecretValueResponse(r)))["SecretString"], *r.value.string);
}

// ---------------------------------------------------------------- request round trips

// decode(encode(decode(body))) encodes to the same text: the request encoders are exact inverses.
template <typename Decode, typename Encode>
void ExpectRoundTrip(const std::string& body, Decode decode, Encode encode) {
  auto first = decode(body);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto text = encode(*first);
  ASSERT_TRUE(text.ok());
  auto second = decode(*text);
  ASSERT_TRUE(second.ok()) << *text;
  auto again = encode(*second);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*text, *again);
  EXPECT_EQ(json::parse(*text), json::parse(body)) << "body: " << body;
}

TEST(RoundTripTest, EveryRequest) {
  ExpectRoundTrip(R"({"Name":"n","ClientRequestToken":"t","Description":"d","KmsKeyId":"k",)"
                  R"("SecretBinary":"AAEC/w==","Tags":[{"Key":"a","Value":"b"}],)"
                  R"("AddReplicaRegions":[{"Region":"eu-west-1","KmsKeyId":"k"},{"Region":"x"}],)"
                  R"("ForceOverwriteReplicaSecret":false,"Type":"t"})",
                  DecodeCreateSecretRequest, EncodeCreateSecretRequest);
  ExpectRoundTrip(R"({"SecretId":"s","VersionId":"v","VersionStage":"AWSCURRENT"})",
                  DecodeGetSecretValueRequest, EncodeGetSecretValueRequest);
  ExpectRoundTrip(R"({"SecretIdList":["a"],"Filters":[{"Key":"name","Values":["x"]}],)"
                  R"("MaxResults":3,"NextToken":"t"})",
                  DecodeBatchGetSecretValueRequest, EncodeBatchGetSecretValueRequest);
  ExpectRoundTrip(R"({"SecretId":"s","ClientRequestToken":"t","SecretString":"v",)"
                  R"("VersionStages":["A"],"RotationToken":"r"})",
                  DecodePutSecretValueRequest, EncodePutSecretValueRequest);
  ExpectRoundTrip(R"({"SecretId":"s","ClientRequestToken":"t","Description":"d","KmsKeyId":"",)"
                  R"("SecretString":"v","Type":"x"})",
                  DecodeUpdateSecretRequest, EncodeUpdateSecretRequest);
  ExpectRoundTrip(R"({"SecretId":"s"})", DecodeDescribeSecretRequest, EncodeDescribeSecretRequest);
  ExpectRoundTrip(R"({"IncludePlannedDeletion":true,"MaxResults":1,"NextToken":"n",)"
                  R"("Filters":[{"Key":"all","Values":["a","!b"]}],"SortOrder":"asc",)"
                  R"("SortBy":"name"})",
                  DecodeListSecretsRequest, EncodeListSecretsRequest);
  ExpectRoundTrip(R"({"SecretId":"s","MaxResults":2,"NextToken":"n","IncludeDeprecated":true})",
                  DecodeListSecretVersionIdsRequest, EncodeListSecretVersionIdsRequest);
  ExpectRoundTrip(R"({"SecretId":"s","VersionStage":"x","RemoveFromVersionId":"a",)"
                  R"("MoveToVersionId":"b"})",
                  DecodeUpdateSecretVersionStageRequest, EncodeUpdateSecretVersionStageRequest);
  ExpectRoundTrip(R"({"SecretId":"s","RecoveryWindowInDays":7,"ForceDeleteWithoutRecovery":true})",
                  DecodeDeleteSecretRequest, EncodeDeleteSecretRequest);
  ExpectRoundTrip(R"({"SecretId":"s"})", DecodeSecretIdRequest, EncodeSecretIdRequest);
  ExpectRoundTrip(R"({"SecretId":"s","Tags":[{"Key":"a","Value":""}]})", DecodeTagResourceRequest,
                  EncodeTagResourceRequest);
  ExpectRoundTrip(R"({"SecretId":"s","TagKeys":["a","b"]})", DecodeUntagResourceRequest,
                  EncodeUntagResourceRequest);
  ExpectRoundTrip(R"({"PasswordLength":12,"ExcludeCharacters":"x","ExcludeNumbers":true,)"
                  R"("ExcludePunctuation":false,"ExcludeUppercase":true,"ExcludeLowercase":false,)"
                  R"("IncludeSpace":true,"RequireEachIncludedType":false})",
                  DecodeGetRandomPasswordRequest, EncodeGetRandomPasswordRequest);
  ExpectRoundTrip(R"({"SecretId":"s","ResourcePolicy":"{}","BlockPublicPolicy":true})",
                  DecodePutResourcePolicyRequest, EncodePutResourcePolicyRequest);
  ExpectRoundTrip(R"({"SecretId":"s","ResourcePolicy":"{}"})",
                  DecodeValidateResourcePolicyRequest, EncodeValidateResourcePolicyRequest);
  ExpectRoundTrip(R"({"SecretId":"s","ClientRequestToken":"t","RotationLambdaARN":"l",)"
                  R"("RotationRules":{"AutomaticallyAfterDays":1,"Duration":"3h",)"
                  R"j("ScheduleExpression":"rate(4 hours)"},"RotateImmediately":true,)j"
                  R"("ExternalSecretRotationMetadata":[{"Key":"k","Value":"v"}],)"
                  R"("ExternalSecretRotationRoleArn":"r"})",
                  DecodeRotateSecretRequest, EncodeRotateSecretRequest);
}

}  // namespace
}  // namespace coffer::api
