#include "template/eso_functions.h"

#include <crypt.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

namespace coffer::tmpl {

// Lets GoogleTest print values readably.
void PrintTo(const Value& v, std::ostream* os) { *os << v.ToJson().dump(); }

namespace {

// A value that stands for a secret: it must never appear in an error message.
constexpr char kSecret[] = "s3cr3t";

Result<Value> Call(std::string_view name, std::vector<Value> args) {
  const Function* fn = EsoFunctions().Find(name);
  if (fn == nullptr) return Status::NotFound("no function " + std::string(name));
  return (*fn)(args);
}

std::string CallString(std::string_view name, std::vector<Value> args) {
  auto r = Call(name, std::move(args));
  EXPECT_TRUE(r.ok()) << name << ": " << r.status().message();
  if (!r.ok()) return "<error>";
  EXPECT_EQ(r->kind(), Kind::kString) << name;
  if (r->kind() != Kind::kString) return "<not a string>";
  return r->AsString();
}

std::string Fixture(const std::string& name) {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "testdata" / name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

List Strings(std::initializer_list<const char*> items) {
  List out;
  for (const char* s : items) out.emplace_back(s);
  return out;
}

// ---------------------------------------------------------------------------------------------

struct Case {
  const char* fn;
  std::vector<Value> args;
  Value want;
};

void RunCases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    auto r = Call(c.fn, c.args);
    ASSERT_TRUE(r.ok()) << c.fn << ": " << r.status().message();
    EXPECT_EQ(*r, c.want) << c.fn << " got " << r->ToJson().dump() << " want "
                          << c.want.ToJson().dump();
  }
}

TEST(EsoFunctionsTest, Strings) {
  RunCases({
      {"toString", {Value("abc")}, Value("abc")},
      {"toString", {Value(42)}, Value("42")},
      {"toString", {Value(1.5)}, Value("1.5")},
      {"toString", {Value(1000000.0)}, Value("1e+06")},
      {"toString", {Value(123456.0)}, Value("123456")},
      {"toString", {Value(0.00001)}, Value("1e-05")},
      {"toString", {Value(true)}, Value("true")},
      {"toString", {Value()}, Value("<nil>")},
      {"toString", {Value(Bytes{"raw"})}, Value("raw")},
      {"toString", {Value(Strings({"a", "b"}))}, Value("[a b]")},
      {"toString", {Value(Map{{"b", Value(2)}, {"a", Value("x")}})}, Value("map[a:x b:2]")},
      {"upper", {Value("Hello, wörld")}, Value("HELLO, WÖRLD")},
      {"upper", {Value("straße \xff")}, Value("STRAßE \xff")},
      {"lower", {Value("HeLLo ÄÖÜ Σ")}, Value("hello äöü σ")},
      {"title", {Value("hello wide-world foo_bar élan")}, Value("Hello Wide-World Foo_bar Élan")},
      {"trim", {Value("  \t hi there \n")}, Value("hi there")},
      {"trim", {Value("\xc2\xa0x\xc2\xa0")}, Value("x")},
      {"trimAll", {Value("$-"), Value("$-$5.00-$")}, Value("5.00")},
      {"trimPrefix", {Value("pre-"), Value("pre-fix")}, Value("fix")},
      {"trimPrefix", {Value("x"), Value("pre-fix")}, Value("pre-fix")},
      {"trimSuffix", {Value(".com"), Value("example.com")}, Value("example")},
      {"replace", {Value(" "), Value("-"), Value("a b c")}, Value("a-b-c")},
      {"replace", {Value(""), Value("."), Value("ab")}, Value(".a.b.")},
      {"replace", {Value("xyz"), Value("-"), Value("abc")}, Value("abc")},
      {"quote", {Value("a\"b\\c\n")}, Value(R"("a\"b\\c\n")")},
      {"quote", {Value("x"), Value(), Value(3)}, Value(R"("x" "3")")},
      {"quote", {Value("tab\there\x01\xff")}, Value(R"("tab\there\x01\xff")")},
      {"quote", {Value("é")}, Value("\"é\"")},
      {"squote", {Value("x"), Value(true)}, Value("'x' 'true'")},
      {"contains", {Value("cat"), Value("concatenate")}, Value(true)},
      {"contains", {Value("dog"), Value("concatenate")}, Value(false)},
      {"hasPrefix", {Value("con"), Value("concatenate")}, Value(true)},
      {"hasSuffix", {Value("con"), Value("concatenate")}, Value(false)},
      {"split",
       {Value("$"), Value("foo$bar$baz")},
       Value(Map{{"_0", Value("foo")}, {"_1", Value("bar")}, {"_2", Value("baz")}})},
      {"split", {Value(","), Value("")}, Value(Map{{"_0", Value("")}})},
      {"splitList", {Value(","), Value("a,,b")}, Value(Strings({"a", "", "b"}))},
      {"splitList", {Value(""), Value("añ")}, Value(Strings({"a", "ñ"}))},
      {"join", {Value("-"), Value(Strings({"a", "b", "c"}))}, Value("a-b-c")},
      {"join", {Value(","), Value(List{Value(1), Value(), Value("x")})}, Value("1,x")},
      {"join", {Value(","), Value("single")}, Value("single")},
      {"join", {Value(","), Value()}, Value("")},
      {"indent", {Value(2), Value("a\nb")}, Value("  a\n  b")},
      {"indent", {Value(4.0), Value("x")}, Value("    x")},
      {"nindent", {Value(2), Value("a\nb")}, Value("\n  a\n  b")},
      {"repeat", {Value(3), Value("ab")}, Value("ababab")},
  });
}

TEST(EsoFunctionsTest, DefaultsAndCollections) {
  const Value m(Map{{"a", Value("1")}, {"b", Value(Map{{"c", Value("deep")}})}});
  RunCases({
      {"default", {Value("fallback"), Value("")}, Value("fallback")},
      {"default", {Value("fallback"), Value()}, Value("fallback")},
      {"default", {Value("fallback"), Value(0)}, Value("fallback")},
      {"default", {Value("fallback"), Value(false)}, Value("fallback")},
      {"default", {Value("fallback"), Value(List{})}, Value("fallback")},
      {"default", {Value("fallback"), Value("given")}, Value("given")},
      {"default", {Value("fallback")}, Value("fallback")},
      {"empty", {Value("")}, Value(true)},
      {"empty", {Value(Map{})}, Value(true)},
      {"empty", {Value("x")}, Value(false)},
      {"empty", {Value(1.5)}, Value(false)},
      {"coalesce", {Value(), Value(""), Value("third"), Value("fourth")}, Value("third")},
      {"coalesce", {Value(), Value("")}, Value()},
      {"ternary", {Value("yes"), Value("no"), Value(true)}, Value("yes")},
      {"ternary", {Value("yes"), Value("no"), Value(false)}, Value("no")},
      {"list", {Value("a"), Value(1)}, Value(List{Value("a"), Value(1)})},
      {"list", {}, Value(List{})},
      {"dict",
       {Value("k"), Value("v"), Value(2), Value(true)},
       Value(Map{{"k", Value("v")}, {"2", Value(true)}})},
      {"dict", {Value("odd")}, Value(Map{{"odd", Value("")}})},
      {"get", {m, Value("a")}, Value("1")},
      {"get", {m, Value("missing")}, Value("")},
      {"set",
       {m, Value("a"), Value("2")},
       Value(Map{{"a", Value("2")}, {"b", Value(Map{{"c", Value("deep")}})}})},
      {"unset", {m, Value("b")}, Value(Map{{"a", Value("1")}})},
      {"hasKey", {m, Value("a")}, Value(true)},
      {"hasKey", {m, Value("z")}, Value(false)},
      {"keys",
       {Value(Map{{"z", Value(1)}, {"a", Value(2)}}), Value(Map{{"m", Value(3)}})},
       Value(Strings({"a", "m", "z"}))},
      {"values", {Value(Map{{"z", Value(1)}, {"a", Value(2)}})}, Value(List{Value(2), Value(1)})},
      {"dig", {Value("b"), Value("c"), Value("dflt"), m}, Value("deep")},
      {"dig", {Value("b"), Value("x"), Value("dflt"), m}, Value("dflt")},
      {"dig", {Value("a"), Value("dflt"), m}, Value("1")},
      {"first", {Value(Strings({"x", "y"}))}, Value("x")},
      {"last", {Value(Strings({"x", "y"}))}, Value("y")},
      {"first", {Value(List{})}, Value()},
      {"sortAlpha", {Value(Strings({"b", "c", "a"}))}, Value(Strings({"a", "b", "c"}))},
      {"toStrings", {Value(List{Value(1), Value("a")})}, Value(Strings({"1", "a"}))},
  });
}

TEST(EsoFunctionsTest, Base64AndBase32) {
  RunCases({
      {"b64enc", {Value("")}, Value("")},
      {"b64enc", {Value("f")}, Value("Zg==")},
      {"b64enc", {Value("fo")}, Value("Zm8=")},
      {"b64enc", {Value("foo")}, Value("Zm9v")},
      {"b64enc", {Value("user:pass\xff")}, Value("dXNlcjpwYXNz/w==")},
      {"b64dec", {Value("Zm9vYmFy")}, Value("foobar")},
      {"b64dec", {Value("Zm9v\nYmFy\r\n")}, Value("foobar")},
      {"b64dec", {Value("Zg==")}, Value("f")},
      {"b64dec", {Value("")}, Value("")},
      {"b32enc", {Value("foobar")}, Value("MZXW6YTBOI======")},
      {"b32enc", {Value("f")}, Value("MY======")},
      {"b32dec", {Value("MZXW6YTBOI======")}, Value("foobar")},
      {"b32dec", {Value("MZXW6===")}, Value("foo")},
  });
  // Binary round trip.
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (const char* enc : {"b64", "b32"}) {
    const std::string e = CallString(std::string(enc) + "enc", {Value(all)});
    EXPECT_EQ(CallString(std::string(enc) + "dec", {Value(e)}), all) << enc;
  }
}

TEST(EsoFunctionsTest, Json) {
  RunCases({
      {"toJson",
       {Value(Map{{"b", Value(List{Value(1), Value(2.5), Value(true), Value()})},
                  {"a", Value("<x&y>")}})},
       Value(R"({"a":"\u003cx\u0026y\u003e","b":[1,2.5,true,null]})")},
      {"toRawJson", {Value(Map{{"a", Value("<x&y>")}})}, Value(R"({"a":"<x&y>"})")},
      {"toJson", {Value("line\nbreak\t\x01")}, Value(R"("line\nbreak\t\u0001")")},
      {"toJson", {Value("\xff")}, Value(R"("\ufffd")")},
      {"toJson", {Value(1e21)}, Value("1e+21")},
      {"toJson", {Value(1e-7)}, Value("1e-7")},
      {"toJson", {Value(100000.0)}, Value("100000")},
      {"toJson", {Value(Map{})}, Value("{}")},
      {"toJson", {Value(std::numeric_limits<double>::quiet_NaN())}, Value("")},
      {"toPrettyJson",
       {Value(Map{{"a", Value(List{Value(1)})}, {"b", Value(Map{})}, {"c", Value(List{})}})},
       Value("{\n  \"a\": [\n    1\n  ],\n  \"b\": {},\n  \"c\": []\n}")},
      {"fromJson",
       {Value(R"({"user":"admin","port":5432,"tags":["a"],"n":null})")},
       Value(Map{{"user", Value("admin")},
                 {"port", Value(5432)},
                 {"tags", Value(Strings({"a"}))},
                 {"n", Value()}})},
      {"fromJson", {Value("[1, \"x\"]")}, Value(List{Value(1), Value("x")})},
      {"fromJson", {Value("not json s3cr3t")}, Value()},
      {"fromJson", {Value(std::string(20000, '[') + std::string(20000, ']'))}, Value()},
      {"fromJson", {Value(R"(["[{\"]"])")}, Value(Strings({"[{\"]"}))},
      {"mustFromJson", {Value("\"str\"")}, Value("str")},
  });
}

TEST(EsoFunctionsTest, ToYamlInGoStyle) {
  const Value doc(Map{
      {"name", Value("app")},
      {"replicas", Value(3)},
      {"ratio", Value(0.5)},
      {"whole", Value(2.0)},
      {"enabled", Value(true)},
      {"none", Value()},
      {"list", Value(List{Value("a"), Value(Map{{"k", Value("v")}, {"j", Value(1)}}),
                          Value(Strings({"x", "y"}))})},
      {"nested", Value(Map{{"inner", Value(Map{{"deep", Value("yes")}})}})},
      {"empty_map", Value(Map{})},
      {"empty_list", Value(List{})},
  });
  const std::string want =
      "empty_list: []\n"
      "empty_map: {}\n"
      "enabled: true\n"
      "list:\n"
      "- a\n"
      "- j: 1\n"
      "  k: v\n"
      "- - x\n"
      "  - \"y\"\n"
      "name: app\n"
      "nested:\n"
      "  inner:\n"
      "    deep: \"yes\"\n"
      "none: null\n"
      "ratio: 0.5\n"
      "replicas: 3\n"
      "whole: 2";
  EXPECT_EQ(CallString("toYaml", {doc}), want);

  struct S {
    const char* in;
    const char* want;
  };
  for (const S& s : std::vector<S>{
           {"plain text", "v: plain text"},
           {"", "v: \"\""},
           {"true", "v: \"true\""},
           {"on", "v: \"on\""},
           {"123", "v: \"123\""},
           {"1.5e3", "v: \"1.5e3\""},
           {"0x1F", "v: \"0x1F\""},
           {"null", "v: \"null\""},
           {"~", "v: \"~\""},
           {"2024-01-02", "v: \"2024-01-02\""},
           {"1:20", "v: \"1:20\""},
           {"a: b", "v: 'a: b'"},
           {"- item", "v: '- item'"},
           {"#comment", "v: '#comment'"},
           {"it's", "v: it's"},
           {" leading", "v: ' leading'"},
           {"trailing ", "v: 'trailing '"},
           {"key:", "v: 'key:'"},
           {"*alias", "v: '*alias'"},
           {"tab\there", "v: \"tab\\there\""},
           {"line1\nline2", "v: |-\n  line1\n  line2"},
           {"line1\nline2\n", "v: |\n  line1\n  line2"},
           {"-----BEGIN X-----\nAAAA\n-----END X-----\n",
            "v: |\n  -----BEGIN X-----\n  AAAA\n  -----END X-----"},
           {"a\n\nb", "v: |-\n  a\n\n  b"},
           {"trailing space \nx", "v: \"trailing space \\nx\""},
       }) {
    EXPECT_EQ(CallString("toYaml", {Value(Map{{"v", Value(s.in)}})}), s.want) << s.in;
  }
  EXPECT_EQ(CallString("toYaml", {Value(Map{{"true", Value("x")}})}), "\"true\": x");
  EXPECT_EQ(CallString("toYaml", {Value(Map{{"v", Value("smile \xF0\x9F\x98\x80")}})}),
            "v: \"smile \\U0001F600\"");
  // Like go-yaml, long scalars fold at a space past column 80; continuation lines are indented.
  std::string words;
  for (int i = 0; i < 20; ++i) words += i == 0 ? "word" : " word";
  std::string first_line = "v:", second_line = " ";
  for (int i = 0; i < 20; ++i) (i < 16 ? first_line : second_line) += " word";
  EXPECT_EQ(CallString("toYaml", {Value(Map{{"v", Value(words)}})}),
            first_line + "\n" + second_line);
  EXPECT_EQ(CallString("toYaml", {Value(Map{{"v", Value("a: " + words)}})}),
            "v: 'a: word word word word word word word word word word word word word word word\n"
            "  word word word word word'");
  // Text without spaces is never folded.
  EXPECT_EQ(CallString("toYaml", {Value(Map{{"v", Value(std::string(120, 'x'))}})}),
            "v: " + std::string(120, 'x'));
  EXPECT_EQ(CallString("toYaml", {Value("scalar")}), "scalar");
  EXPECT_EQ(CallString("toYaml", {Value(Strings({"a", "b"}))}), "- a\n- b");
}

TEST(EsoFunctionsTest, FromYaml) {
  auto r = Call("fromYaml", {Value("a: 1\nb: yes\nc: \"yes\"\nd: [x, 2.5]\ne:\n  f: ~\ng: 0x10\n"
                                   "h: 'quoted'\naa: |\n  multi\n  line\n")});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, Value(Map{{"a", Value(1)},
                          {"b", Value(true)},
                          {"c", Value("yes")},
                          {"d", Value(List{Value("x"), Value(2.5)})},
                          {"e", Value(Map{{"f", Value()}})},
                          {"g", Value(16)},
                          {"h", Value("quoted")},
                          {"aa", Value("multi\nline\n")}}));
  // Round trip through toYaml. (Like ESO's, toYaml drops the document's final newline, so a
  // block scalar as the last value would lose its own; "aa" sorts first.)
  auto back = Call("toYaml", {*r});
  ASSERT_TRUE(back.ok());
  auto again = Call("fromYaml", {*back});
  SCOPED_TRACE(back->AsString());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *r);
  // Numbers as keys become strings; an empty document is an empty map.
  EXPECT_EQ(*Call("fromYaml", {Value("1: one\n")}), Value(Map{{"1", Value("one")}}));
  EXPECT_EQ(*Call("fromYaml", {Value("")}), Value(Map{}));

  // Alias bombs stop at a node budget.
  std::string bomb = "a0: &a0 [s3cr3t, s3cr3t, s3cr3t, s3cr3t, s3cr3t, s3cr3t, s3cr3t, s3cr3t]\n";
  for (int i = 1; i < 9; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 8; ++j) bomb += (j ? ", " : "") + prev;
    bomb += "]\n";
  }
  auto exploded = Call("fromYaml", {Value(bomb)});
  ASSERT_TRUE(exploded.ok());
  ASSERT_TRUE(exploded->AsMap().contains("Error"));
  EXPECT_NE(exploded->AsMap().at("Error").AsString().find("excessive aliasing"), std::string::npos);

  // Errors land under "Error", as in ESO, without the input.
  for (const char* bad : {"- a\n- s3cr3t\n", "s3cr3t", "a: [s3cr3t\n", "a: \"\\q s3cr3t\"\n"}) {
    auto e = Call("fromYaml", {Value(bad)});
    ASSERT_TRUE(e.ok()) << bad;
    ASSERT_EQ(e->kind(), Kind::kMap) << bad;
    auto it = e->AsMap().find("Error");
    ASSERT_NE(it, e->AsMap().end()) << bad;
    EXPECT_EQ(it->second.AsString().find(kSecret), std::string::npos) << it->second.AsString();
  }
}

TEST(EsoFunctionsTest, Hashes) {
  RunCases({
      {"sha256sum",
       {Value("abc")},
       Value("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")},
      {"sha1sum", {Value("abc")}, Value("a9993e364706816aba3e25717850c26c9cd0d89d")},
      {"sha256sum",
       {Value("")},
       Value("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")},
      {"htpasswd",
       {Value("user"), Value("password"), Value("sha")},
       Value("user:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=")},
  });
}

bool BcryptMatches(const std::string& password, const std::string& hash) {
  crypt_data data{};
  const char* out = crypt_rn(password.c_str(), hash.c_str(), &data, sizeof(data));
  return out != nullptr && hash == out;
}

TEST(EsoFunctionsTest, BcryptAndHtpasswd) {
  const std::string hash = CallString("bcrypt", {Value(kSecret)});
  ASSERT_EQ(hash.size(), 60u);
  EXPECT_EQ(hash.substr(0, 7), "$2a$10$");
  EXPECT_TRUE(BcryptMatches(kSecret, hash));
  EXPECT_FALSE(BcryptMatches("other", hash));
  // Salted: two hashes of one password differ.
  EXPECT_NE(CallString("bcrypt", {Value(kSecret)}), hash);

  const std::string line = CallString("htpasswd", {Value("admin"), Value(kSecret)});
  ASSERT_EQ(line.substr(0, 6), "admin:");
  EXPECT_EQ(line.substr(6, 7), "$2a$10$");
  EXPECT_TRUE(BcryptMatches(kSecret, line.substr(6)));
}

// ---------------------------------------------------------------------------------------------
// PEM and PKCS#12 against the fixtures of testdata/make_fixtures.sh.

TEST(EsoFunctionsTest, FilterPem) {
  const std::string bundle = Fixture("bundle.pem");
  const std::string leaf = Fixture("leaf.crt");
  const std::string intermediate = Fixture("intermediate-ca.crt");
  const std::string root = Fixture("root-ca.crt");
  EXPECT_EQ(CallString("filterPEM", {Value("CERTIFICATE"), Value(bundle)}),
            leaf + intermediate + root);
  EXPECT_EQ(CallString("filterPEM", {Value("PRIVATE KEY"), Value(bundle)}), Fixture("leaf.key"));
  EXPECT_EQ(CallString("filterPEM", {Value("private key"), Value(bundle)}), Fixture("leaf.key"));
  EXPECT_EQ(CallString("filterPEM", {Value("RSA PRIVATE KEY"), Value(bundle)}), "");
  // Text around and between blocks, CRLF line ends and long lines are tolerated.
  std::string crlf;
  for (char c : leaf) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  EXPECT_EQ(CallString("filterPEM", {Value("CERTIFICATE"),
                                     Value("subject=foo\n" + crlf + "junk in between\n" + root)}),
            leaf + root);
  EXPECT_EQ(CallString("filterPEM", {Value("CERTIFICATE"), Value("")}), "");
}

TEST(EsoFunctionsTest, FilterCertChain) {
  const std::string leaf = Fixture("leaf.crt");
  const std::string intermediate = Fixture("intermediate-ca.crt");
  const std::string root = Fixture("root-ca.crt");
  // Orders any input order; skips the key of a whole bundle.
  for (const std::string& input :
       {Fixture("shuffled-chain.pem"), leaf + intermediate + root, Fixture("bundle.pem")}) {
    EXPECT_EQ(CallString("filterCertChain", {Value("leaf"), Value(input)}), leaf);
    EXPECT_EQ(CallString("filterCertChain", {Value("intermediate"), Value(input)}), intermediate);
    EXPECT_EQ(CallString("filterCertChain", {Value("root"), Value(input)}), root);
  }
  // A lone self-signed root is neither a leaf nor an intermediate.
  EXPECT_EQ(CallString("filterCertChain", {Value("leaf"), Value(root)}), "");
  EXPECT_EQ(CallString("filterCertChain", {Value("intermediate"), Value(root)}), "");
  EXPECT_EQ(CallString("filterCertChain", {Value("root"), Value(root)}), root);
  // Without the root, the chain ends at the intermediate: no root.
  EXPECT_EQ(CallString("filterCertChain", {Value("root"), Value(leaf + intermediate)}), "");
  EXPECT_EQ(CallString("filterCertChain", {Value("intermediate"), Value(leaf + intermediate)}),
            intermediate);
  EXPECT_EQ(CallString("filterCertChain", {Value("other"), Value(leaf + intermediate)}), "");
}

TEST(EsoFunctionsTest, CertSans) {
  auto r = Call("certSANs", {Value(Fixture("leaf.crt"))});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, Value(Strings({"app.example.test", "*.app.example.test", "10.0.0.7", "2001:db8::7",
                               "ops@example.test", "spiffe://example.test/app"})));
  auto none = Call("certSANs", {Value(Fixture("root-ca.crt"))});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, Value(List{}));
}

TEST(EsoFunctionsTest, Pkcs12) {
  const std::string chain =
      Fixture("leaf.crt") + Fixture("intermediate-ca.crt") + Fixture("root-ca.crt");
  const std::string nopass = Fixture("leaf-nopass.p12");
  const std::string withpass = Fixture("leaf-pass.p12");
  EXPECT_EQ(CallString("pkcs12key", {Value(nopass)}), Fixture("leaf.key"));
  EXPECT_EQ(CallString("pkcs12cert", {Value(nopass)}), chain);
  EXPECT_EQ(CallString("pkcs12keyPass", {Value("fixture-p12-pass"), Value(withpass)}),
            Fixture("leaf.key"));
  EXPECT_EQ(CallString("pkcs12certPass", {Value("fixture-p12-pass"), Value(withpass)}), chain);
  // Legacy encryption (RC2-40 certificates, 3DES key, SHA-1 MAC).
  EXPECT_EQ(
      CallString("pkcs12keyPass", {Value("fixture-p12-pass"), Value(Fixture("leaf-legacy.p12"))}),
      Fixture("leaf.key"));
  EXPECT_EQ(
      CallString("pkcs12certPass", {Value("fixture-p12-pass"), Value(Fixture("leaf-legacy.p12"))}),
      chain);
  // The empty password is the no-password archive's.
  EXPECT_EQ(CallString("pkcs12keyPass", {Value(""), Value(nopass)}), Fixture("leaf.key"));
}

TEST(EsoFunctionsTest, PemToPkcs12RoundTrip) {
  const std::string leaf = Fixture("leaf.crt");
  const std::string key = Fixture("leaf.key");
  const std::string chain = leaf + Fixture("intermediate-ca.crt") + Fixture("root-ca.crt");

  const std::string b64 = CallString("pemToPkcs12", {Value(leaf), Value(key)});
  const std::string der = CallString("b64dec", {Value(b64)});
  EXPECT_EQ(CallString("pkcs12key", {Value(der)}), key);
  EXPECT_EQ(CallString("pkcs12cert", {Value(der)}), leaf);

  const std::string with_pass =
      CallString("pemToPkcs12Pass", {Value(leaf), Value(key), Value(kSecret)});
  const std::string der2 = CallString("b64dec", {Value(with_pass)});
  EXPECT_EQ(CallString("pkcs12keyPass", {Value(kSecret), Value(der2)}), key);
  EXPECT_FALSE(Call("pkcs12key", {Value(der2)}).ok());

  const std::string full =
      CallString("fullPemToPkcs12Pass", {Value(chain), Value(key), Value("p")});
  EXPECT_EQ(CallString("pkcs12certPass", {Value("p"), Value(CallString("b64dec", {Value(full)}))}),
            chain);
  const std::string full_nopass = CallString("fullPemToPkcs12", {Value(chain), Value(key)});
  EXPECT_EQ(CallString("pkcs12cert", {Value(CallString("b64dec", {Value(full_nopass)}))}), chain);
}

TEST(EsoFunctionsTest, PemTruststoreToPkcs12) {
  const std::string chain =
      Fixture("leaf.crt") + Fixture("intermediate-ca.crt") + Fixture("root-ca.crt");
  for (const char* password : {"", "store-pass"}) {
    const std::string b64 = *password == '\0' ? CallString("pemTruststoreToPKCS12", {Value(chain)})
                                              : CallString("pemTruststoreToPKCS12Pass",
                                                           {Value(chain), Value(password)});
    const std::string der = CallString("b64dec", {Value(b64)});
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(der.size()));
    ASSERT_NE(p12, nullptr);
    EXPECT_EQ(PKCS12_verify_mac(p12, password, -1), 1);
    // Three certificate bags, each with the Java trusted-key-usage attribute.
    STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12);
    ASSERT_NE(safes, nullptr);
    int certs = 0, trusted = 0;
    for (int i = 0; i < sk_PKCS7_num(safes); ++i) {
      STACK_OF(PKCS12_SAFEBAG)* bags =
          PKCS12_unpack_p7encdata(sk_PKCS7_value(safes, i), password, -1);
      ASSERT_NE(bags, nullptr);
      for (int j = 0; j < sk_PKCS12_SAFEBAG_num(bags); ++j) {
        const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, j);
        if (PKCS12_SAFEBAG_get_nid(bag) == NID_certBag) ++certs;
        const STACK_OF(X509_ATTRIBUTE)* attrs = PKCS12_SAFEBAG_get0_attrs(bag);
        for (int k = 0; k < sk_X509_ATTRIBUTE_num(attrs); ++k) {
          char oid[64];
          OBJ_obj2txt(oid, sizeof(oid),
                      X509_ATTRIBUTE_get0_object(sk_X509_ATTRIBUTE_value(attrs, k)), 1);
          if (std::string(oid) == "2.16.840.1.113894.746875.1.1") ++trusted;
        }
      }
      sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    sk_PKCS7_pop_free(safes, PKCS7_free);
    PKCS12_free(p12);
    EXPECT_EQ(certs, 3) << password;
    EXPECT_EQ(trusted, 3) << password;
  }
}

TEST(EsoFunctionsTest, JwkToPem) {
  EXPECT_EQ(CallString("jwkPrivateKeyPem", {Value(Fixture("leaf.jwk.json"))}), Fixture("leaf.key"));
  EXPECT_EQ(CallString("jwkPublicKeyPem", {Value(Fixture("leaf.jwk.json"))}),
            Fixture("leaf.pub.pem"));
  EXPECT_EQ(CallString("jwkPrivateKeyPem", {Value(Fixture("ed25519.jwk.json"))}),
            Fixture("ed25519.key"));
  EXPECT_EQ(CallString("jwkPublicKeyPem", {Value(Fixture("ed25519.jwk.json"))}),
            Fixture("ed25519.pub.pem"));
  EXPECT_EQ(CallString("jwkPublicKeyPem", {Value(Fixture("rsa.jwk.json"))}),
            Fixture("rsa.pub.pem"));
  EXPECT_EQ(CallString("jwkPublicKeyPem", {Value(Fixture("rsa.public.jwk.json"))}),
            Fixture("rsa.pub.pem"));
  EXPECT_EQ(CallString("jwkPrivateKeyPem", {Value(Fixture("rsa.jwk.json"))}), Fixture("rsa.key"));
}

TEST(EsoFunctionsTest, RsaDecrypt) {
  const std::string key = Fixture("rsa.key");
  EXPECT_EQ(CallString("rsaDecrypt", {Value("RSA-OAEP"), Value("SHA256"),
                                      Value(Fixture("rsa-oaep-sha256.bin")), Value(key)}),
            "s3cr3t-plaintext");
  EXPECT_EQ(CallString("rsaDecrypt", {Value("RSA-OAEP"), Value("SHA1"),
                                      Value(Fixture("rsa-oaep-sha1.bin")), Value(key)}),
            "s3cr3t-plaintext");
  // ESO's docs pipe the stored base64 text through b64dec first.
  const std::string b64 = CallString("b64enc", {Value(Fixture("rsa-oaep-sha256.bin"))});
  EXPECT_EQ(CallString("rsaDecrypt", {Value("RSA-OAEP"), Value("SHA256"),
                                      Value(CallString("b64dec", {Value(b64)})), Value(key)}),
            "s3cr3t-plaintext");
  EXPECT_EQ(CallString("rsaDecrypt", {Value("None"), Value("SHA256"), Value("as is"), Value("")}),
            "as is");
}

// ---------------------------------------------------------------------------------------------
// Errors: kInvalidArgument, naming the function, never containing an argument's value.

struct ErrorCase {
  const char* fn;
  std::vector<Value> args;
  const char* want;  // a substring of the message
};

TEST(EsoFunctionsTest, ErrorsNameTheFunctionAndNeverTheValue) {
  const Value secret(kSecret);
  const std::string secret_pem =
      "-----BEGIN CERTIFICATE-----\nczNjcjN0\n-----END CERTIFICATE-----\n";
  const std::vector<ErrorCase> cases = {
      {"upper", {}, "upper: wrong number of args: want 1, got 0"},
      {"upper", {secret, secret}, "want 1, got 2"},
      {"upper", {Value(42)}, "upper: argument 1: expected string; got int"},
      {"replace", {secret, secret}, "want 3, got 2"},
      {"replace", {secret, secret, Value(List{secret})}, "argument 3: expected string; got slice"},
      {"default", {}, "want at least 1, got 0"},
      {"htpasswd", {secret}, "want 2 to 3, got 1"},
      {"htpasswd", {Value("user:s3cr3t"), secret}, "htpasswd: invalid username"},
      {"bcrypt", {Value(std::string(73, 's') + kSecret)}, "longer than 72 bytes"},
      {"ternary", {secret, secret, secret}, "argument 3: expected bool; got string"},
      {"indent", {secret, secret}, "argument 1: expected int; got string"},
      {"indent", {Value(-1), secret}, "out of range"},
      {"get", {secret, secret}, "get: argument 1: expected map; got string"},
      {"keys", {Value(Map{}), secret}, "argument 2: expected map"},
      {"dig", {Value("a"), Value("b"), secret, Value(Map{{"a", secret}})}, "is not a map"},
      {"b64dec", {Value("czNj!cjN0")}, "b64dec: illegal base64 data at input byte 4"},
      {"b64dec", {Value("czNjcjN")}, "b64dec: illegal base64 data at input byte 4"},
      {"b64dec", {Value("cz=Ncj")}, "illegal base64 data"},
      {"b32dec", {Value("s3cr3t")}, "b32dec: illegal base32 data at input byte"},
      {"mustFromJson", {Value("{\"a\": s3cr3t}")}, "mustFromJson: invalid JSON"},
      {"mustToJson", {Value(std::numeric_limits<double>::infinity())}, "unsupported value"},
      {"mustFromJson", {Value(std::string(20000, '[') + kSecret)}, "exceeded max depth of 10000"},
      {"filterPEM", {Value("CERTIFICATE"), secret}, "filterPEM: error filtering pem: found junk"},
      {"filterCertChain", {Value("leaf"), Value(secret_pem)}, "not an X.509 certificate"},
      {"filterCertChain",
       {Value("leaf"), Value(Fixture("leaf.crt") + Fixture("root-ca.crt"))},
       "found multiple leaf or disjunct certificates"},
      {"certSANs", {secret}, "certSANs: failed to decode PEM block"},
      {"certSANs", {Value(secret_pem)}, "failed to parse certificate"},
      {"pkcs12key", {secret}, "pkcs12key: the input is not a PKCS#12 archive"},
      {"pkcs12keyPass", {secret, Value(Fixture("leaf-pass.p12"))}, "wrong password"},
      {"pkcs12certPass", {secret, Value(Fixture("leaf-pass.p12"))}, "pkcs12certPass: wrong"},
      {"pkcs12cert", {Value(Fixture("leaf-pass.p12"))}, "wrong password"},
      {"pemToPkcs12", {secret, secret}, "no PEM block in the certificate input"},
      {"pemToPkcs12", {Value(Fixture("leaf.crt")), secret}, "no PEM block in the key input"},
      {"pemToPkcs12",
       {Value(Fixture("leaf.crt")), Value(Fixture("root-ca.key"))},
       "does not match the certificate"},
      {"pemToPkcs12Pass", {secret, secret}, "want 3, got 2"},
      {"pemTruststoreToPKCS12", {secret}, "no certificate in the input"},
      {"pemTruststoreToPKCS12", {Value(secret_pem)}, "not an X.509 certificate"},
      {"jwkPublicKeyPem", {secret}, "jwkPublicKeyPem: the input is not JSON"},
      {"jwkPublicKeyPem",
       {Value(R"({"kty":"EC","crv":"P-256","x":"czNjcjN0","y":"czNjcjN0"})")},
       "not a valid key"},
      {"jwkPublicKeyPem", {Value(R"({"kty":"oct","k":"czNjcjN0"})")}, "unsupported key type"},
      {"jwkPrivateKeyPem", {Value(Fixture("rsa.public.jwk.json"))}, "holds no private key"},
      {"jwkPrivateKeyPem",
       {Value(R"({"kty":"RSA","n":"czNjcjN0","e":"AQAB","d":"!s3cr3t"})")},
       "member d is not base64url"},
      {"rsaDecrypt", {Value("s3cr3t"), secret, secret, secret}, "scheme is not supported"},
      {"rsaDecrypt",
       {Value("RSA-OAEP"), Value("SHA256"), secret, secret},
       "failed to decode PEM block"},
      {"rsaDecrypt",
       {Value("RSA-OAEP"), Value("SHA256"), secret, Value(Fixture("rsa.key"))},
       "error decrypting data with RSA"},
      {"rsaDecrypt",
       {Value("RSA-OAEP"), Value("SHA256"), secret, Value(Fixture("leaf.key"))},
       "could not parse RSA private key"},
  };
  for (const auto& c : cases) {
    auto r = Call(c.fn, c.args);
    ASSERT_FALSE(r.ok()) << c.fn << " unexpectedly succeeded";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.fn;
    const std::string& msg = r.status().message();
    EXPECT_NE(msg.find(c.want), std::string::npos) << c.fn << ": message was: " << msg;
    EXPECT_EQ(msg.rfind(std::string(c.fn) + ": ", 0), 0u) << "does not start with the name";
    EXPECT_EQ(msg.find(kSecret), std::string::npos) << c.fn << " leaks its argument";
    EXPECT_EQ(msg.find("czNjcjN0"), std::string::npos) << c.fn << " leaks its argument";
  }
}

TEST(EsoFunctionsTest, RegistersTheDocumentedFunctions) {
  for (const char* name : {"toString",
                           "upper",
                           "lower",
                           "title",
                           "trim",
                           "trimPrefix",
                           "trimSuffix",
                           "trimAll",
                           "replace",
                           "quote",
                           "squote",
                           "default",
                           "empty",
                           "coalesce",
                           "ternary",
                           "list",
                           "dict",
                           "get",
                           "set",
                           "hasKey",
                           "keys",
                           "join",
                           "split",
                           "splitList",
                           "contains",
                           "hasPrefix",
                           "hasSuffix",
                           "indent",
                           "nindent",
                           "b64enc",
                           "b64dec",
                           "b32enc",
                           "b32dec",
                           "fromJson",
                           "toJson",
                           "toRawJson",
                           "toPrettyJson",
                           "mustFromJson",
                           "fromYaml",
                           "toYaml",
                           "sha256sum",
                           "sha1sum",
                           "htpasswd",
                           "bcrypt",
                           "filterPEM",
                           "filterCertChain",
                           "pkcs12key",
                           "pkcs12keyPass",
                           "pkcs12cert",
                           "pkcs12certPass",
                           "pemToPkcs12",
                           "pemToPkcs12Pass",
                           "fullPemToPkcs12",
                           "fullPemToPkcs12Pass",
                           "certSANs"}) {
    EXPECT_NE(EsoFunctions().Find(name), nullptr) << name;
  }
  // env and expandenv are removed by ESO; printf and index are the executor's builtins.
  EXPECT_EQ(EsoFunctions().Find("env"), nullptr);
  EXPECT_EQ(EsoFunctions().Find("expandenv"), nullptr);
  EXPECT_EQ(EsoFunctions().Find("printf"), nullptr);
}

}  // namespace
}  // namespace coffer::tmpl
