#include "iam/query_protocol.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace coffer::iam {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// --- form parsing ---

TEST(ParseFormTest, DecodesPercentEscapesAndPlusAsSpace) {
  Result<FormParams> p = ParseForm(
      "Action=CreatePolicy&Version=2010-05-08&PolicyName=My+Policy&"
      "PolicyDocument=%7B%22Version%22%3A%20%222012-10-17%22%7D&Plus=a%2Bb");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->Get("Action"), "CreatePolicy");
  EXPECT_EQ(p->Get("PolicyName"), "My Policy");
  EXPECT_EQ(p->Get("PolicyDocument"), R"({"Version": "2012-10-17"})");
  EXPECT_EQ(p->Get("Plus"), "a+b");
  EXPECT_FALSE(p->Get("Missing").has_value());
}

TEST(ParseFormTest, EmptyBodyEmptyPairsAndValuelessNames) {
  Result<FormParams> empty = ParseForm("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->values().empty());

  Result<FormParams> p = ParseForm("&a=1&&b&c=&");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_THAT(p->values(), ElementsAre(Pair("a", "1"), Pair("b", ""), Pair("c", "")));
}

TEST(ParseFormTest, NamesAreDecodedToo) {
  Result<FormParams> p = ParseForm("Tags.member.1%2EKey=k");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Get("Tags.member.1.Key"), "k");
}

TEST(ParseFormTest, RejectsRepeatedNames) {
  Result<FormParams> p = ParseForm("UserName=a&UserName=b");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kSerialization);
  EXPECT_THAT(p.status().message(), HasSubstr("UserName"));
  // Same name after decoding.
  EXPECT_FALSE(ParseForm("User%4Eame=a&UserName=b").ok());
}

TEST(ParseFormTest, RejectsMalformedEscapes) {
  for (const char* body : {"a=%", "a=%4", "a=%zz", "a=%G0", "%=1", "a=1&b=%2"}) {
    Result<FormParams> p = ParseForm(body);
    ASSERT_FALSE(p.ok()) << body;
    EXPECT_EQ(p.status().code(), StatusCode::kSerialization) << body;
  }
}

TEST(ParseFormTest, RejectsNamelessPairsAndInvalidUtf8) {
  EXPECT_FALSE(ParseForm("=value").ok());
  EXPECT_FALSE(ParseForm("a=%FF").ok());
  EXPECT_FALSE(ParseForm("a=%C0%AF").ok());                      // overlong '/'
  EXPECT_FALSE(ParseForm("a=%ED%A0%80").ok());                   // surrogate
  EXPECT_TRUE(ParseForm("a=%C3%A9%E2%82%AC%F0%9F%98%80").ok());  // é € 😀
}

TEST(ParseFormTest, EnforcesSizeAndCountLimits) {
  FormLimits limits;
  limits.max_bytes = 10;
  limits.max_params = 2;
  Result<FormParams> big = ParseForm("a=0123456789", limits);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kPayloadTooLarge);
  limits.max_bytes = 64;
  Result<FormParams> many = ParseForm("a=1&b=2&c=3", limits);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.status().code(), StatusCode::kSerialization);
  EXPECT_TRUE(ParseForm("a=1&b=2", limits).ok());
}

TEST(FormUrlDecodeTest, Basics) {
  EXPECT_EQ(FormUrlDecode("a+b%20c%2b"), "a b c+");
  EXPECT_EQ(FormUrlDecode("%00x"), std::string("\0x", 2));
  EXPECT_FALSE(FormUrlDecode("50%").has_value());
}

// --- typed access and member lists ---

FormParams Form(const std::string& body) {
  Result<FormParams> p = ParseForm(body);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? *p : FormParams();
}

TEST(FormParamsTest, RequiredBoolAndInt) {
  FormParams p = Form("UserName=bob&SetAsDefault=TRUE&Bad=yes&MaxItems=5&Zero=0&Text=x");
  Result<std::string> name = p.Required("UserName", "userName");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, "bob");
  Result<std::string> missing = p.Required("PolicyArn", "policyArn");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kValidation);
  EXPECT_EQ(missing.status().message(),
            "1 validation error detected: Value null at 'policyArn' failed to satisfy "
            "constraint: Member must not be null");

  EXPECT_EQ(*p.Bool("SetAsDefault", false), true);
  EXPECT_EQ(*p.Bool("Absent", true), true);
  EXPECT_EQ(p.Bool("Bad", false).status().code(), StatusCode::kValidation);

  EXPECT_EQ(*p.Int("MaxItems", "maxItems", 1, 1000), 5);
  EXPECT_FALSE(p.Int("Absent", "x", 1, 2)->has_value());
  Result<std::optional<std::int64_t>> zero = p.Int("Zero", "maxItems", 1, 1000);
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.status().message(), HasSubstr("greater than or equal to 1"));
  EXPECT_EQ(p.Int("Text", "x", 1, 2).status().code(), StatusCode::kValidation);
}

TEST(FormParamsTest, StringListInOrder) {
  FormParams p = Form(
      "TagKeys.member.2=b&TagKeys.member.1=a&TagKeys.member.10=j&"
      "TagKeys.member.3=c&TagKeys.member.4=d&TagKeys.member.5=e&"
      "TagKeys.member.6=f&TagKeys.member.7=g&TagKeys.member.8=h&"
      "TagKeys.member.9=i");
  Result<std::vector<std::string>> keys = p.StringList("TagKeys");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_THAT(*keys, ElementsAre("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"));
  Result<std::vector<std::string>> none = p.StringList("Other");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(FormParamsTest, ListsMustBeNumberedFromOneWithoutGaps) {
  EXPECT_FALSE(Form("K.member.2=b").StringList("K").ok());
  EXPECT_FALSE(Form("K.member.1=a&K.member.3=c").StringList("K").ok());
  EXPECT_FALSE(Form("K.member.0=a").StringList("K").ok());
  EXPECT_FALSE(Form("K.member.01=a").StringList("K").ok());
  EXPECT_FALSE(Form("K.member.x=a").StringList("K").ok());
  EXPECT_FALSE(Form("K.member.1.Key=a").StringList("K").ok());  // a struct where a string goes
}

TEST(FormParamsTest, StructList) {
  FormParams p = Form(
      "Tags.member.1.Key=team&Tags.member.1.Value=ml&Tags.member.2.Key=env&"
      "Tags.member.2.Value=");
  Result<std::vector<std::map<std::string, std::string>>> tags =
      p.StructList("Tags", {"Key", "Value"});
  ASSERT_TRUE(tags.ok()) << tags.status().ToString();
  ASSERT_EQ(tags->size(), 2u);
  EXPECT_EQ((*tags)[0].at("Key"), "team");
  EXPECT_EQ((*tags)[0].at("Value"), "ml");
  EXPECT_EQ((*tags)[1].at("Key"), "env");
  EXPECT_EQ((*tags)[1].at("Value"), "");

  EXPECT_FALSE(Form("Tags.member.1.Colour=x").StructList("Tags", {"Key", "Value"}).ok());
  EXPECT_FALSE(Form("Tags.member.1=x").StructList("Tags", {"Key", "Value"}).ok());
  EXPECT_FALSE(Form("Tags.member.2.Key=x").StructList("Tags", {"Key", "Value"}).ok());
}

// --- encodings ---

TEST(UrlEncodePolicyTest, EncodesEverythingButUnreservedWithPercent20ForSpace) {
  EXPECT_EQ(UrlEncodePolicy(R"({"A": "b*c/d"})"), "%7B%22A%22%3A%20%22b%2Ac%2Fd%22%7D");
  EXPECT_EQ(UrlEncodePolicy("aZ09-_.~"), "aZ09-_.~");
  EXPECT_EQ(UrlEncodePolicy("\n\xC3\xA9"), "%0A%C3%A9");
  // Round trip through the form decoder ('+' never appears).
  std::string doc = "{ \"Statement\": [ {\"Effect\": \"Allow\", \"Action\": \"a+b\"} ] }\r\n";
  EXPECT_EQ(FormUrlDecode(UrlEncodePolicy(doc)), doc);
}

TEST(IsValidUtf8Test, Cases) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));  // overlong
}

// --- XML ---

TEST(XmlEscapeTest, EscapesMarkupAndReplacesControls) {
  EXPECT_EQ(XmlEscape(R"(<a href="x">Tom & 'Jerry'</a>)"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;");
  EXPECT_EQ(XmlEscape("a\tb\nc\rd"), "a\tb\nc&#xD;d");
  EXPECT_EQ(XmlEscape(std::string("x\0y\x01z\x7f", 6)), "x\xEF\xBF\xBDy\xEF\xBF\xBDz\xEF\xBF\xBD");
  EXPECT_EQ(XmlEscape("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(XmlWriterTest, NestsAndEscapes) {
  XmlWriter xml("GetUserResponse", kXmlNamespace);
  xml.Open("GetUserResult").Open("User").Element("UserName", "a<b").Element("Count", 3).Close();
  xml.Bool("IsTruncated", false);
  std::string doc = xml.Finish();
  EXPECT_EQ(doc,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<GetUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
            "<GetUserResult><User><UserName>a&lt;b</UserName><Count>3</Count></User>"
            "<IsTruncated>false</IsTruncated></GetUserResult></GetUserResponse>");
}

TEST(ErrorXmlTest, SenderAndReceiverShapes) {
  std::string doc = ErrorXml(ErrorFor(Status::NotFound("The user with name <x> cannot be found.")),
                             "The user with name <x> cannot be found.", "req-1");
  EXPECT_EQ(doc,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
            "<Type>Sender</Type><Code>NoSuchEntity</Code>"
            "<Message>The user with name &lt;x&gt; cannot be found.</Message></Error>"
            "<RequestId>req-1</RequestId></ErrorResponse>");
  EXPECT_THAT(ErrorXml(ErrorFor(Status::Internal("x")), "m", "r"),
              HasSubstr("<Type>Receiver</Type><Code>ServiceFailure</Code>"));
}

TEST(ErrorForTest, IamCodesAndStatuses) {
  struct Case {
    Status status;
    int http;
    const char* code;
  };
  const Case cases[] = {
      {Status::NotFound(""), 404, "NoSuchEntity"},
      {Status::AlreadyExists(""), 409, "EntityAlreadyExists"},
      {Status::FailedPrecondition(""), 409, "DeleteConflict"},
      {Status::ResourceExhausted(""), 409, "LimitExceeded"},
      {Status(StatusCode::kMalformedPolicy, ""), 400, "MalformedPolicyDocument"},
      {Status::Validation(""), 400, "ValidationError"},
      {Status::InvalidArgument(""), 400, "InvalidInput"},
      {Status::Aborted(""), 409, "ConcurrentModification"},
      {Status::PermissionDenied(""), 403, "AccessDenied"},
      {Status(StatusCode::kUnknownOperation, ""), 400, "InvalidAction"},
      {Status::Internal(""), 500, "ServiceFailure"},
  };
  for (const Case& c : cases) {
    QueryError e = ErrorFor(c.status);
    EXPECT_EQ(e.http_status, c.http) << c.code;
    EXPECT_EQ(e.code, c.code);
  }
}

}  // namespace
}  // namespace coffer::iam
