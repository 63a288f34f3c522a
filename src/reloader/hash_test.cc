#include "reloader/hash.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/hash.h"

namespace coffer::reloader {
namespace {

using nlohmann::json;

constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

json Secret(const std::string& name, json data) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}, {"namespace", "ml"}, {"resourceVersion", "1"}}},
          {"data", std::move(data)}};
}

TEST(SourceHashTest, KeyedAndOverTheContentOnly) {
  const json a =
      Secret("db", {{"user", Base64Encode("mlflow")}, {"password", Base64Encode("s3cr3t")}});
  const std::string h = SourceHash(kKey, a);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(SourceHash(kKey, a), h);

  json relabelled = a;
  relabelled["metadata"]["labels"] = {{"x", "y"}};
  relabelled["metadata"]["annotations"] = {{"reloader.stakater.com/match", "true"}};
  relabelled["metadata"]["resourceVersion"] = "2";
  EXPECT_EQ(SourceHash(kKey, relabelled), h);
  // Key order does not matter (JSON objects have none).
  EXPECT_EQ(SourceHash(kKey, Secret("db", {{"password", Base64Encode("s3cr3t")},
                                           {"user", Base64Encode("mlflow")}})),
            h);

  json changed = a;
  changed["data"]["password"] = Base64Encode("s3cr3u");
  EXPECT_NE(SourceHash(kKey, changed), h);
  json extra = a;
  extra["data"]["z"] = "";
  EXPECT_NE(SourceHash(kKey, extra), h);
  EXPECT_NE(SourceHash("another key of 32 bytes.........", a), h);
  // Same data, another name (or namespace): another hash, so equal secrets are not revealed.
  EXPECT_NE(SourceHash(kKey, Secret("db2", a["data"])), h);
  json other_ns = a;
  other_ns["metadata"]["namespace"] = "team";
  EXPECT_NE(SourceHash(kKey, other_ns), h);
  // Never a plain hash of the data.
  EXPECT_NE(h, HexEncode(crypto::Sha256("s3cr3t")));
  EXPECT_EQ(h.find("s3cr3t"), std::string::npos);
}

TEST(SourceHashTest, FieldsCannotRunIntoEachOther) {
  // "ab" + "c" and "a" + "bc": the length prefixes tell them apart.
  EXPECT_NE(SourceHash(kKey, Secret("x", {{"ab", Base64Encode("c")}})),
            SourceHash(kKey, Secret("x", {{"a", Base64Encode("bc")}})));
}

TEST(SourceHashTest, ConfigMapsAndOddInput) {
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "settings"}, {"namespace", "ml"}}},
             {"data", {{"a", "1"}}}};
  const std::string h = SourceHash(kKey, cm);
  json cm2 = cm;
  cm2["binaryData"] = {{"blob", Base64Encode(std::string("\x00\x01", 2))}};
  EXPECT_NE(SourceHash(kKey, cm2), h);
  json cm3 = cm;
  cm3["data"]["a"] = "2";
  EXPECT_NE(SourceHash(kKey, cm3), h);
  // Not base64: still a defined, distinct result.
  const std::string bad = SourceHash(kKey, Secret("x", {{"k", "%%%"}}));
  EXPECT_EQ(bad.size(), 64u);
  EXPECT_NE(bad, SourceHash(kKey, Secret("x", {{"k", Base64Encode("%%%")}})));
  EXPECT_EQ(SourceHash(kKey, json::array()).size(), 64u);
  EXPECT_EQ(SourceHash(kKey, Secret("x", json())).size(), 64u);
}

}  // namespace
}  // namespace coffer::reloader
