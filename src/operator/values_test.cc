#include "operator/values.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace coffer::op {
namespace {

constexpr std::string_view kCanary = "CANARY-7f3a9-do-not-log";

TEST(ParseVersionTest, UuidIsVersionIdElseStage) {
  EXPECT_EQ(ParseVersion("uuid/0123-abc").version_id, "0123-abc");
  EXPECT_TRUE(ParseVersion("uuid/0123-abc").version_stage.empty());
  EXPECT_EQ(ParseVersion("").version_stage, "AWSCURRENT");
  EXPECT_EQ(ParseVersion("AWSPREVIOUS").version_stage, "AWSPREVIOUS");
  EXPECT_EQ(ParseVersion("custom-stage").version_stage, "custom-stage");
  EXPECT_TRUE(ParseVersion("AWSPREVIOUS").version_id.empty());
}

TEST(ExtractPropertyTest, PathsLikeGjson) {
  const std::string doc = R"({
    "password": "pw", "port": 5432, "ratio": 1.50, "big": 1e3, "on": true, "off": false,
    "nothing": null,
    "db": {"user": "u", "creds": {"password": "nested"}, "hosts": ["a", "b"]},
    "friends": [{"first": "Dale"}, {"first": "Roger"}],
    "a.b": "literal-dotted", "x": {"y.z": "escaped"}
  })";
  struct Case {
    std::string_view property;
    std::string_view want;
  } cases[] = {
      {"password", "pw"},
      {"port", "5432"},
      {"ratio", "1.5"},
      {"big", "1000"},
      {"on", "true"},
      {"off", "false"},
      {"nothing", ""},
      {"db.user", "u"},
      {"db.creds.password", "nested"},
      {"db.creds", R"({"password":"nested"})"},
      {"db.hosts", R"(["a","b"])"},
      {"db.hosts.1", "b"},
      {"db.hosts.#", "2"},
      {"friends.1.first", "Roger"},
      {"a.b", "literal-dotted"},
      {R"(x.y\.z)", "escaped"},
  };
  for (const Case& c : cases) {
    auto got = ExtractProperty(doc, c.property, "app/db");
    ASSERT_TRUE(got.ok()) << c.property << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.want) << c.property;
  }
}

TEST(ExtractPropertyTest, MissingIsNotFoundWithEsoMessage) {
  for (std::string_view property : {"missing", "db.missing", "db.hosts.9", "password.deeper"}) {
    auto got = ExtractProperty(R"({"password":"pw","db":{"hosts":[]}})", property, "app/db");
    ASSERT_FALSE(got.ok()) << property;
    EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(got.status().message(),
              "key " + std::string(property) + " does not exist in secret app/db");
  }
  // Not JSON at all: the property cannot exist.
  EXPECT_EQ(ExtractProperty("plain text", "a", "k").status().code(), StatusCode::kNotFound);
}

TEST(ExtractAllTest, TopLevelKeysWithNestedAsJsonText) {
  auto got = ExtractAll(R"({"user":"u","port":5432,"nested":{"b":1,"a":[true,null]},"n":null})",
                        "app/all");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->at("user"), "u");
  EXPECT_EQ(got->at("port"), "5432");
  EXPECT_EQ(got->at("nested"), R"({"b":1,"a":[true,null]})");  // document order kept
  EXPECT_EQ(got->at("n"), "");
  EXPECT_EQ(got->size(), 4u);
}

TEST(ExtractAllTest, NonObjectIsAnError) {
  for (std::string_view doc : {"[1,2]", "\"str\"", "not json", "42"}) {
    auto got = ExtractAll(doc, "app/all");
    ASSERT_FALSE(got.ok()) << doc;
    EXPECT_NE(got.status().message().find("app/all"), std::string::npos);
  }
}

TEST(DecodeValueTest, Strategies) {
  // "hi?>" has bytes that differ between the standard and URL alphabets: aGk/Pg== vs aGk_Pg==.
  EXPECT_EQ(*DecodeValue("aGk/Pg==", DecodingStrategy::kBase64, "k"), "hi?>");
  EXPECT_EQ(*DecodeValue("aGk_Pg==", DecodingStrategy::kBase64Url, "k"), "hi?>");
  EXPECT_EQ(*DecodeValue("aGk/Pg==", DecodingStrategy::kAuto, "k"), "hi?>");
  EXPECT_EQ(*DecodeValue("aGk_Pg==", DecodingStrategy::kAuto, "k"), "hi?>");
  EXPECT_EQ(*DecodeValue("not base64!", DecodingStrategy::kAuto, "k"), "not base64!");
  EXPECT_EQ(*DecodeValue("aGk/Pg==", DecodingStrategy::kNone, "k"), "aGk/Pg==");
  EXPECT_FALSE(DecodeValue("aGk_Pg==", DecodingStrategy::kBase64, "k").ok());
  EXPECT_FALSE(DecodeValue("aGk/Pg==", DecodingStrategy::kBase64Url, "k").ok());
  auto bad = DecodeValue("%%%", DecodingStrategy::kBase64, "tls.key");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("error decoding key tls.key"), std::string::npos);
}

TEST(ConvertKeyTest, DefaultAndUnicode) {
  EXPECT_EQ(ConvertKey("path/to/key", ConversionStrategy::kDefault), "path_to_key");
  EXPECT_EQ(ConvertKey("ok-key_1.x", ConversionStrategy::kDefault), "ok-key_1.x");
  EXPECT_EQ(ConvertKey("a b", ConversionStrategy::kUnicode), "a_U0020_b");
  EXPECT_EQ(ConvertKey("caf\xC3\xA9", ConversionStrategy::kUnicode), "caf_U00E9_");
  EXPECT_EQ(ConvertKey("caf\xC3\xA9", ConversionStrategy::kDefault), "caf_");
}

TEST(ComputeTest, DataValueAppliesPropertyThenDecoding) {
  DataItem item{"cert", RemoteRef{"app/tls", "tls.crt", "", DecodingStrategy::kBase64}};
  RemoteValue v{std::string(R"({"tls":{"crt":")") + Base64Encode("PEM") + "\"}}"};
  auto got = ComputeDataValue(item, v);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "PEM");
  // Without a property the whole value is used, binary included.
  DataItem whole{"blob", RemoteRef{"app/blob"}};
  RemoteValue bin{std::string("\x00\xff\x01", 3), true};
  EXPECT_EQ(*ComputeDataValue(whole, bin), std::string("\x00\xff\x01", 3));
}

TEST(ComputeTest, ExtractConvertsAndDecodesKeys) {
  RemoteRef ref{"app/all",
                "",
                "",
                DecodingStrategy::kBase64,
                MetadataPolicy::kNone,
                ConversionStrategy::kDefault};
  RemoteValue v{R"({"db/user":")" + Base64Encode("admin") + R"("})"};
  auto got = ComputeExtract(ref, v);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->at("db_user"), "admin");
  // With a property, the extract runs on the nested object.
  RemoteRef nested{"app/all", "inner"};
  auto n = ComputeExtract(nested, RemoteValue{R"({"inner":{"a":"1","b":{"c":2}}})"});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->at("a"), "1");
  EXPECT_EQ(n->at("b"), R"({"c":2})");
}

ExternalSecret EsWith(std::vector<DataItem> data, std::vector<RemoteRef> data_from,
                      DeletionPolicy deletion = DeletionPolicy::kRetain) {
  ExternalSecret es;
  es.metadata.name = "es";
  es.metadata.namespace_ = "ns";
  es.target.name = "es";
  es.target.deletion_policy = deletion;
  es.data = std::move(data);
  es.data_from.assign(data_from.begin(), data_from.end());
  return es;
}

TEST(RequiredFetchesTest, DedupesSameKeyAndVersion) {
  ExternalSecret es = EsWith(
      {{"a", {"db", "user"}}, {"b", {"db", "password"}}, {"c", {"db", "password", "AWSPREVIOUS"}}},
      {{"db"}});
  std::vector<FetchKey> keys = RequiredFetches(es);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0], (FetchKey{"db", "", MetadataPolicy::kNone}));
  EXPECT_EQ(keys[1], (FetchKey{"db", "AWSPREVIOUS", MetadataPolicy::kNone}));
}

TEST(BuildSecretDataTest, DataOverridesDataFromAndLaterDataFromWins) {
  ExternalSecret es = EsWith({{"user", {"one", "user"}}}, {{"one"}, {"two"}});
  FetchResult f;
  f.values[{"one"}] = {Status::Ok(), {R"({"user":"u1","shared":"from-one"})"}};
  f.values[{"two"}] = {Status::Ok(), {R"({"shared":"from-two","user":"u2"})"}};
  auto built = BuildSecretData(es, f);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(built->data.at("shared"), "from-two");
  EXPECT_EQ(built->data.at("user"), "u1");  // data[] is applied last
}

DataFromEntry FindEntry(FindQuery query, std::vector<Rewrite> rewrite = {}) {
  DataFromEntry e;
  e.kind = DataFromEntry::Kind::kFind;
  e.find.query = std::move(query);
  e.rewrite = std::move(rewrite);
  return e;
}

Rewrite RegexpRewrite(std::string source, std::string target) {
  Rewrite r;
  r.source = std::move(source);
  r.target = std::move(target);
  return r;
}

Rewrite TransformRewrite(std::string text) {
  Rewrite r;
  r.kind = Rewrite::Kind::kTransform;
  r.template_text = std::move(text);
  return r;
}

std::vector<FoundSecret> MlSecrets() {
  return {{"ml-platform/airflow/db", {"air-s3cr3t"}}, {"ml-platform/mlflow/db", {"ml-s3cr3t"}}};
}

TEST(RequiredFindsTest, DedupesEqualQueriesAndSkipsThemInFetches) {
  ExternalSecret es = EsWith({}, {});
  es.data_from = {FindEntry({"", "^a", {}}), RemoteRef{"x"}, FindEntry({"", "^a", {}}),
                  FindEntry({"p/", "", {{"team", "ml"}}})};
  std::vector<FindQuery> finds = RequiredFinds(es);
  ASSERT_EQ(finds.size(), 2u);
  EXPECT_EQ(finds[0].name_regexp, "^a");
  EXPECT_EQ(finds[1].path, "p/");
  std::vector<FetchKey> keys = RequiredFetches(es);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].key, "x");
}

TEST(ComputeFindTest, FullNamesConvertedWithoutRewrite) {
  FindSpec spec;
  auto data = ComputeFind(spec, {}, MlSecrets());
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, (SecretData{{"ml-platform_airflow_db", "air-s3cr3t"},
                               {"ml-platform_mlflow_db", "ml-s3cr3t"}}));
  spec.conversion_strategy = ConversionStrategy::kUnicode;
  data = ComputeFind(spec, {}, MlSecrets());
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->count("ml-platform_U002F_mlflow_U002F_db"), 1u);
}

TEST(ComputeFindTest, RewriteRegexpReplacesAndSkipsConversion) {
  FindSpec spec;
  auto data = ComputeFind(spec, {RegexpRewrite("ml-platform/(.*)/db", "$1-db")}, MlSecrets());
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, (SecretData{{"airflow-db", "air-s3cr3t"}, {"mlflow-db", "ml-s3cr3t"}}));
  // With a rewrite, no conversion: a '/' left in a key is a validation error naming the key.
  auto bad = ComputeFind(spec, {RegexpRewrite("^ml-platform/", "")}, MlSecrets());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"airflow/db\" is not a valid Secret key"),
            std::string::npos)
      << bad.status().message();
  EXPECT_EQ(bad.status().message().find("s3cr3t"), std::string::npos);
}

TEST(ComputeFindTest, RewritesApplyInOrderIncludingTransform) {
  FindSpec spec;
  auto data = ComputeFind(spec,
                          {RegexpRewrite("ml-platform/(?P<app>.*)/db", "${app}_db"),
                           TransformRewrite("{{ .value | upper }}")},
                          MlSecrets());
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, (SecretData{{"AIRFLOW_DB", "air-s3cr3t"}, {"MLFLOW_DB", "ml-s3cr3t"}}));
  // A missing key prints "<no value>" (Go's default), which is then not a valid key.
  auto missing = ComputeFind(spec, {TransformRewrite("{{ .nope }}")}, MlSecrets());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("<no value>"), std::string::npos)
      << missing.status().message();
  auto broken = ComputeFind(spec, {TransformRewrite("{{ .value ")}, MlSecrets());
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("rewrite[0].transform.template"), std::string::npos);
}

TEST(ComputeFindTest, DecodingAfterKeys) {
  FindSpec spec;
  spec.decoding_strategy = DecodingStrategy::kBase64;
  auto data = ComputeFind(spec, {}, {{"a/b", {Base64Encode("s3cr3t")}}});
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->at("a_b"), "s3cr3t");
  auto bad = ComputeFind(spec, {}, {{"a/b", {"not base64 s3cr3t"}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("error decoding key a_b"), std::string::npos);
  EXPECT_EQ(bad.status().message().find("s3cr3t"), std::string::npos);
}

TEST(ComputeExtractTest, RewriteAppliesToExtractedKeys) {
  auto data = ComputeExtract(RemoteRef{"app/all"}, {R"({"db.user":"u","db.pass":"p"})"},
                             {RegexpRewrite("^db\\.", "DB_")});
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, (SecretData{{"DB_pass", "p"}, {"DB_user", "u"}}));
}

TEST(ValidateSecretKeyTest, KubernetesConfigMapKeyRules) {
  EXPECT_TRUE(ValidateSecretKey("a-b_c.d").ok());
  EXPECT_FALSE(ValidateSecretKey("").ok());
  EXPECT_FALSE(ValidateSecretKey(".").ok());
  EXPECT_FALSE(ValidateSecretKey("..x").ok());
  EXPECT_FALSE(ValidateSecretKey("a b").ok());
  EXPECT_FALSE(ValidateSecretKey(std::string(254, 'a')).ok());
  EXPECT_TRUE(ValidateSecretKey(std::string(253, 'a')).ok());
}

TEST(BuildSecretDataTest, FindMergesInOrderThenData) {
  ExternalSecret es = EsWith({{"mlflow-db", {"one", "user"}}}, {});
  const FindQuery q{"", "^ml-platform/", {}};
  es.data_from = {RemoteRef{"one"}, FindEntry(q, {RegexpRewrite("ml-platform/(.*)/db", "$1-db")})};
  FetchResult f;
  f.values[{"one"}] = {Status::Ok(), {R"({"user":"u1","airflow-db":"from-extract"})"}};
  f.found[q] = {Status::Ok(), MlSecrets()};
  auto built = BuildSecretData(es, f);
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  EXPECT_EQ(built->data, (SecretData{{"airflow-db", "air-s3cr3t"},  // the later find wins
                                     {"mlflow-db", "u1"},           // data[] is applied last
                                     {"user", "u1"}}));
  // A failed query fails the build with the entry named.
  f.found[q] = {Status::Unavailable("ListSecrets failed"), {}};
  auto failed = BuildSecretData(es, f);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("spec.dataFrom[1].find"), std::string::npos);
  // A query that matched nothing adds no keys.
  f.found[q] = {Status::Ok(), {}};
  built = BuildSecretData(es, f);
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(built->data,
            (SecretData{{"airflow-db", "from-extract"}, {"mlflow-db", "u1"}, {"user", "u1"}}));
}

TEST(BuildSecretDataTest, NotFoundByDeletionPolicy) {
  std::vector<DataItem> data = {{"a", {"present"}}, {"b", {"gone"}}};
  FetchResult f;
  f.values[{"present"}] = {Status::Ok(), {"va"}};
  f.values[{"gone"}] = {Status::NotFound("Secrets Manager can't find the specified secret."), {}};

  auto retain = BuildSecretData(EsWith(data, {}, DeletionPolicy::kRetain), f);
  ASSERT_FALSE(retain.ok());
  EXPECT_EQ(retain.status().code(), StatusCode::kNotFound);
  EXPECT_NE(retain.status().message().find("spec.data[1]"), std::string::npos);
  EXPECT_NE(retain.status().message().find("\"gone\""), std::string::npos);

  for (DeletionPolicy p : {DeletionPolicy::kDelete, DeletionPolicy::kMerge}) {
    auto built = BuildSecretData(EsWith(data, {}, p), f);
    ASSERT_TRUE(built.ok());
    EXPECT_EQ(built->data.size(), 1u);
    EXPECT_EQ(built->data.at("a"), "va");
    EXPECT_EQ(built->missing_secret_keys, std::vector<std::string>{"b"});
    EXPECT_EQ(built->missing_remote_keys, std::vector<std::string>{"gone"});
  }
}

TEST(BuildSecretDataTest, BackendErrorsAndStoreErrorsPropagate) {
  ExternalSecret es = EsWith({{"a", {"k"}}}, {});
  FetchResult down;
  down.values[{"k"}] = {Status::Unavailable("connection refused"), {}};
  auto r = BuildSecretData(es, down);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("connection refused"), std::string::npos);

  FetchResult store;
  store.error = Status::FailedPrecondition("SecretStore \"s\" is not ready");
  EXPECT_EQ(BuildSecretData(es, store).status(), store.error);

  FetchResult missing;  // the runner forgot to fetch: an internal error, not a crash
  EXPECT_EQ(BuildSecretData(es, missing).status().code(), StatusCode::kInternal);
}

// No error message anywhere in this file's pipeline may contain a secret value.
TEST(CanaryTest, ErrorsNeverContainSecretValues) {
  const std::string canary(kCanary);
  const std::vector<std::string> documents = {
      canary,                                      // not JSON
      "{\"pw\": \"" + canary + "\", broken",       // JSON error right after the value
      "[\"" + canary + "\"]",                      // JSON, not an object
      "{\"pw\": \"" + canary + "\"}",              // valid, property missing
      "{\"pw\": {\"deep\": \"" + canary + "\"}}",  // valid, path through a string
      "\"" + canary + "\"",                        // a JSON string
  };
  std::vector<Status> errors;
  for (const std::string& doc : documents) {
    errors.push_back(ExtractProperty(doc, "missing", "app/db").status());
    errors.push_back(ExtractProperty(doc, "pw.deep.deeper", "app/db").status());
    errors.push_back(ExtractAll(doc, "app/db").status());
    errors.push_back(DecodeValue(doc, DecodingStrategy::kBase64, "pw").status());
    errors.push_back(DecodeValue(doc, DecodingStrategy::kBase64Url, "pw").status());
    errors.push_back(
        ComputeExtract(RemoteRef{"app/db", "pw", "", DecodingStrategy::kBase64}, RemoteValue{doc})
            .status());
    ExternalSecret es =
        EsWith({{"pw", {"app/db", "nope", "", DecodingStrategy::kBase64}}}, {{"app/db"}});
    FetchResult f;
    f.values[{"app/db"}] = {Status::Ok(), {doc}};
    errors.push_back(BuildSecretData(es, f).status());
  }
  int failures = 0;
  for (const Status& s : errors) {
    if (s.ok()) continue;
    ++failures;
    EXPECT_EQ(s.ToString().find("CANARY"), std::string::npos) << s.ToString();
  }
  EXPECT_GT(failures, 30);  // the cases above really failed
}

}  // namespace
}  // namespace coffer::op
