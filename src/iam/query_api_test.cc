#include "iam/query_api.h"

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "iam/iam_test_fixture.h"
#include "policy/authorizer.h"

namespace coffer::iam {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::IamFixture;
using testing::kAllowAll;
using testing::kAllowGetSecret;
using testing::kAllowIam;
using ::testing::Not;

constexpr char kRoot[] = "arn:aws:iam::000000000000:root";

// --- a small reader for the XML QueryApi writes (elements and text only) ---

struct XmlNode {
  std::string name;
  std::string text;
  std::vector<XmlNode> children;

  const XmlNode* Child(std::string_view n) const {
    for (const XmlNode& c : children) {
      if (c.name == n) return &c;
    }
    return nullptr;
  }
  // "A/B/C" -> the text of that descendant ("" if absent).
  std::string At(std::string_view path) const {
    const XmlNode* node = this;
    while (!path.empty()) {
      std::size_t slash = path.find('/');
      node = node->Child(path.substr(0, slash));
      if (node == nullptr) return "";
      path = slash == std::string_view::npos ? "" : path.substr(slash + 1);
    }
    return node->text;
  }
};

std::string Unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    std::size_t semi = s.find(';', i);
    std::string_view entity = s.substr(i + 1, semi - i - 1);
    if (entity == "amp")
      out.push_back('&');
    else if (entity == "lt")
      out.push_back('<');
    else if (entity == "gt")
      out.push_back('>');
    else if (entity == "quot")
      out.push_back('"');
    else if (entity == "apos")
      out.push_back('\'');
    else if (entity == "#xD")
      out.push_back('\r');
    else
      ADD_FAILURE() << "unknown entity " << entity;
    i = semi;
  }
  return out;
}

bool ParseElement(std::string_view doc, std::size_t& pos, XmlNode& node) {
  if (pos >= doc.size() || doc[pos] != '<') return false;
  std::size_t end = doc.find('>', pos);
  if (end == std::string_view::npos) return false;
  std::string_view tag = doc.substr(pos + 1, end - pos - 1);
  node.name = std::string(tag.substr(0, tag.find(' ')));
  pos = end + 1;
  while (pos < doc.size()) {
    if (doc.compare(pos, 2, "</") == 0) {
      std::size_t close = doc.find('>', pos);
      if (doc.substr(pos + 2, close - pos - 2) != node.name) return false;
      pos = close + 1;
      return true;
    }
    if (doc[pos] == '<') {
      node.children.emplace_back();
      if (!ParseElement(doc, pos, node.children.back())) return false;
    } else {
      std::size_t next = doc.find('<', pos);
      node.text += Unescape(doc.substr(pos, next - pos));
      pos = next;
    }
  }
  return false;
}

XmlNode ParseXml(const std::string& doc) {
  const std::string prolog = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  EXPECT_EQ(doc.substr(0, prolog.size()), prolog);
  std::size_t pos = prolog.size();
  XmlNode root;
  EXPECT_TRUE(ParseElement(doc, pos, root)) << doc;
  EXPECT_EQ(pos, doc.size()) << "trailing bytes: " << doc;
  return root;
}

// --- fixture ---

class QueryApiTest : public IamFixture {
 protected:
  QueryApiTest() : authorizer_(&source_), api_(service_.get(), &authorizer_) {}

  QueryResponse Call(const std::string& principal, const std::string& body) {
    QueryCall call;
    call.principal_arn = principal;
    call.request_id = "req-" + std::to_string(++requests_);
    call.source_ip = "10.0.0.1";
    call.now_ms = clock_.NowMillis();
    return api_.Handle(call, body);
  }
  QueryResponse Root(const std::string& action, const std::string& params = "") {
    return Call(kRoot,
                "Action=" + action + "&Version=2010-05-08" + (params.empty() ? "" : "&" + params));
  }
  static std::string Enc(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
      if (std::isalnum(c)) {
        out.push_back(static_cast<char>(c));
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
    return out;
  }

  policy::PolicyAuthorizer authorizer_;
  QueryApi api_;
  int requests_ = 0;
};

// --- success shapes ---

TEST_F(QueryApiTest, CreateUserResponseShape) {
  QueryResponse r = Root("CreateUser",
                         "UserName=bob&Path=%2Fteam%2F&Tags.member.1.Key=env&"
                         "Tags.member.1.Value=prod");
  ASSERT_EQ(r.http_status, 200) << r.body;
  EXPECT_EQ(r.action, "CreateUser");
  EXPECT_FALSE(r.read_only);
  EXPECT_EQ(r.error_code, "");
  EXPECT_THAT(r.resources, ElementsAre("arn:aws:iam::000000000000:user/team/bob"));
  EXPECT_THAT(r.body, HasSubstr("<CreateUserResponse "
                                "xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                                "<CreateUserResult><User>"));
  XmlNode root = ParseXml(r.body);
  EXPECT_EQ(root.name, "CreateUserResponse");
  EXPECT_EQ(root.At("CreateUserResult/User/UserName"), "bob");
  EXPECT_EQ(root.At("CreateUserResult/User/Path"), "/team/");
  EXPECT_EQ(root.At("CreateUserResult/User/Arn"), "arn:aws:iam::000000000000:user/team/bob");
  EXPECT_EQ(root.At("CreateUserResult/User/CreateDate"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(root.At("CreateUserResult/User/Tags/member/Key"), "env");
  EXPECT_EQ(root.At("ResponseMetadata/RequestId"), "req-1");
}

TEST_F(QueryApiTest, NoResultActionsHaveOnlyResponseMetadata) {
  ASSERT_EQ(Root("CreateUser", "UserName=bob").http_status, 200);
  QueryResponse r = Root("DeleteUser", "UserName=bob");
  ASSERT_EQ(r.http_status, 200) << r.body;
  XmlNode root = ParseXml(r.body);
  EXPECT_EQ(root.name, "DeleteUserResponse");
  ASSERT_EQ(root.children.size(), 1u);
  EXPECT_EQ(root.children[0].name, "ResponseMetadata");
}

TEST_F(QueryApiTest, PolicyDocumentsComeBackUrlEncoded) {
  const std::string doc = R"({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", )"
                          R"("Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})";
  QueryResponse created =
      Root("CreatePolicy", "PolicyName=ExternalSecretsPolicy&PolicyDocument=" + Enc(doc) +
                               "&Description=" + Enc("a & b"));
  ASSERT_EQ(created.http_status, 200) << created.body;
  XmlNode c = ParseXml(created.body);
  const std::string arn = c.At("CreatePolicyResult/Policy/Arn");
  EXPECT_EQ(arn, "arn:aws:iam::000000000000:policy/ExternalSecretsPolicy");
  EXPECT_EQ(c.At("CreatePolicyResult/Policy/DefaultVersionId"), "v1");
  EXPECT_EQ(c.At("CreatePolicyResult/Policy/AttachmentCount"), "0");
  EXPECT_EQ(c.At("CreatePolicyResult/Policy/IsAttachable"), "true");
  EXPECT_EQ(c.At("CreatePolicyResult/Policy/Description"), "a & b");
  EXPECT_EQ(c.At("CreatePolicyResult/Policy/PolicyId").substr(0, 4), "ANPA");

  QueryResponse v = Root("GetPolicyVersion", "PolicyArn=" + Enc(arn) + "&VersionId=v1");
  ASSERT_EQ(v.http_status, 200) << v.body;
  EXPECT_TRUE(v.read_only);
  XmlNode root = ParseXml(v.body);
  std::string encoded = root.At("GetPolicyVersionResult/PolicyVersion/Document");
  EXPECT_EQ(encoded.find_first_of("{}\" "), std::string::npos) << encoded;
  EXPECT_EQ(FormUrlDecode(encoded), doc);
  EXPECT_EQ(root.At("GetPolicyVersionResult/PolicyVersion/IsDefaultVersion"), "true");

  ASSERT_EQ(Root("CreateUser", "UserName=u").http_status, 200);
  ASSERT_EQ(
      Root("PutUserPolicy", "UserName=u&PolicyName=inl&PolicyDocument=" + Enc(doc)).http_status,
      200);
  QueryResponse inl = Root("GetUserPolicy", "UserName=u&PolicyName=inl");
  ASSERT_EQ(inl.http_status, 200) << inl.body;
  EXPECT_EQ(FormUrlDecode(ParseXml(inl.body).At("GetUserPolicyResult/PolicyDocument")), doc);
}

TEST_F(QueryApiTest, ListPagingWithMaxItemsAndMarker) {
  for (const char* name : {"u1", "u2", "u3"}) {
    ASSERT_EQ(Root("CreateUser", std::string("UserName=") + name).http_status, 200);
  }
  QueryResponse first = Root("ListUsers", "MaxItems=2");
  ASSERT_EQ(first.http_status, 200) << first.body;
  XmlNode p1 = ParseXml(first.body);
  const XmlNode* users = p1.Child("ListUsersResult")->Child("Users");
  ASSERT_EQ(users->children.size(), 2u);
  EXPECT_EQ(users->children[0].At("UserName"), "u1");
  EXPECT_EQ(p1.At("ListUsersResult/IsTruncated"), "true");
  std::string marker = p1.At("ListUsersResult/Marker");
  ASSERT_FALSE(marker.empty());

  QueryResponse second = Root("ListUsers", "MaxItems=2&Marker=" + Enc(marker));
  XmlNode p2 = ParseXml(second.body);
  users = p2.Child("ListUsersResult")->Child("Users");
  ASSERT_EQ(users->children.size(), 1u);
  EXPECT_EQ(users->children[0].At("UserName"), "u3");
  EXPECT_EQ(p2.At("ListUsersResult/IsTruncated"), "false");
  EXPECT_EQ(p2.Child("ListUsersResult")->Child("Marker"), nullptr);

  QueryResponse bad = Root("ListUsers", "MaxItems=0");
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_EQ(bad.error_code, "ValidationError");
  EXPECT_EQ(Root("ListUsers", "MaxItems=1001").error_code, "ValidationError");
  EXPECT_EQ(Root("ListUsers", "Marker=%25%25").error_code, "InvalidInput");
}

// --- errors ---

TEST_F(QueryApiTest, ErrorResponseShape) {
  QueryResponse r = Root("GetUser", "UserName=ghost");
  EXPECT_EQ(r.http_status, 404);
  EXPECT_EQ(r.error_code, "NoSuchEntity");
  XmlNode root = ParseXml(r.body);
  EXPECT_EQ(root.name, "ErrorResponse");
  EXPECT_EQ(root.At("Error/Type"), "Sender");
  EXPECT_EQ(root.At("Error/Code"), "NoSuchEntity");
  EXPECT_EQ(root.At("Error/Message"), "The user with name ghost cannot be found.");
  EXPECT_EQ(root.At("RequestId"), "req-1");
}

TEST_F(QueryApiTest, ProtocolErrors) {
  QueryResponse no_action = Call(kRoot, "Version=2010-05-08");
  EXPECT_EQ(no_action.http_status, 400);
  EXPECT_EQ(no_action.error_code, "MissingAction");

  QueryResponse unknown = Root("LaunchRocket");
  EXPECT_EQ(unknown.http_status, 400);
  EXPECT_EQ(unknown.error_code, "InvalidAction");
  EXPECT_EQ(unknown.error_message, "Could not find operation LaunchRocket for version 2010-05-08");

  QueryResponse old = Call(kRoot, "Action=ListUsers&Version=2006-01-01");
  EXPECT_EQ(old.error_code, "InvalidAction");
  EXPECT_EQ(Call(kRoot, "Action=ListUsers").error_code, "InvalidAction");

  QueryResponse repeated = Call(kRoot, "Action=ListUsers&Version=2010-05-08&Action=GetUser");
  EXPECT_EQ(repeated.http_status, 400);
  EXPECT_EQ(repeated.error_code, "InvalidQueryParameter");
  EXPECT_EQ(Call(kRoot, "Action=ListUsers&Version=2010-05-08&x=%zz").error_code,
            "InvalidQueryParameter");

  QueryResponse missing = Root("CreateUser");
  EXPECT_EQ(missing.http_status, 400);
  EXPECT_EQ(missing.error_code, "ValidationError");
  EXPECT_EQ(missing.error_message,
            "1 validation error detected: Value null at 'userName' failed to satisfy "
            "constraint: Member must not be null");

  EXPECT_EQ(Root("GetPolicy", "PolicyArn=nope").error_code, "InvalidInput");
  QueryResponse malformed = Root("CreatePolicy", "PolicyName=P&PolicyDocument=%7B");
  EXPECT_EQ(malformed.http_status, 400);
  EXPECT_EQ(malformed.error_code, "MalformedPolicyDocument");
}

TEST_F(QueryApiTest, ConflictAndLimitCodes) {
  ASSERT_EQ(Root("CreateUser", "UserName=x").http_status, 200);
  QueryResponse dup = Root("CreateUser", "UserName=x");
  EXPECT_EQ(dup.http_status, 409);
  EXPECT_EQ(dup.error_code, "EntityAlreadyExists");
  ASSERT_EQ(Root("CreateAccessKey", "UserName=x").http_status, 200);
  ASSERT_EQ(Root("CreateAccessKey", "UserName=x").http_status, 200);
  QueryResponse limit = Root("CreateAccessKey", "UserName=x");
  EXPECT_EQ(limit.http_status, 409);
  EXPECT_EQ(limit.error_code, "LimitExceeded");
  QueryResponse conflict = Root("DeleteUser", "UserName=x");
  EXPECT_EQ(conflict.http_status, 409);
  EXPECT_EQ(conflict.error_code, "DeleteConflict");
}

TEST_F(QueryApiTest, RootMustNameAUserForKeyActionsButCanListItsOwnKeys) {
  QueryResponse create = Root("CreateAccessKey");
  EXPECT_EQ(create.http_status, 400);
  EXPECT_EQ(create.error_message, "Must specify userName when calling with non-User credentials");
  QueryResponse list = Root("ListAccessKeys");
  ASSERT_EQ(list.http_status, 200) << list.body;
  EXPECT_EQ(ParseXml(list.body).At("ListAccessKeysResult/IsTruncated"), "false");
}

// --- authorization ---

class QueryApiAuthzTest : public QueryApiTest {
 protected:
  // A user with `document` attached; returns its principal ARN.
  std::string UserWith(const std::string& name, const std::string& document) {
    EXPECT_EQ(Root("CreateUser", "UserName=" + name).http_status, 200);
    EXPECT_EQ(
        Root("PutUserPolicy", "UserName=" + name + "&PolicyName=p&PolicyDocument=" + Enc(document))
            .http_status,
        200);
    return "arn:aws:iam::000000000000:user/" + name;
  }
};

TEST_F(QueryApiAuthzTest, AUserWithoutIamPermissionsIsDeniedWithAwsMessage) {
  std::string reader = UserWith("reader", kAllowGetSecret);
  QueryResponse r = Call(reader, "Action=CreateUser&Version=2010-05-08&UserName=bob");
  EXPECT_EQ(r.http_status, 403);
  EXPECT_EQ(r.error_code, "AccessDenied");
  EXPECT_EQ(r.error_message,
            "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: "
            "iam:CreateUser on resource: arn:aws:iam::000000000000:user/bob because no "
            "identity-based policy allows the iam:CreateUser action");
  XmlNode root = ParseXml(r.body);
  EXPECT_EQ(root.At("Error/Code"), "AccessDenied");
  EXPECT_THAT(r.resources, ElementsAre("arn:aws:iam::000000000000:user/bob"));
  // Nothing was created.
  EXPECT_EQ(service().GetUser("bob").status().code(), StatusCode::kNotFound);
}

TEST_F(QueryApiAuthzTest, IamStarAllowsEverythingAndExplicitDenyWins) {
  std::string admin = UserWith("admin", kAllowIam);
  QueryResponse r = Call(admin, "Action=CreateUser&Version=2010-05-08&UserName=bob");
  EXPECT_EQ(r.http_status, 200) << r.body;
  EXPECT_EQ(Call(admin, "Action=ListUsers&Version=2010-05-08").http_status, 200);

  // An explicit deny on deleting users, added to the admin.
  const std::string deny =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:DeleteUser",)"
      R"("Resource":"arn:aws:iam::000000000000:user/bob"}]})";
  ASSERT_EQ(Root("PutUserPolicy", "UserName=admin&PolicyName=deny&PolicyDocument=" + Enc(deny))
                .http_status,
            200);
  QueryResponse denied = Call(admin, "Action=DeleteUser&Version=2010-05-08&UserName=bob");
  EXPECT_EQ(denied.http_status, 403);
  EXPECT_THAT(denied.error_message, HasSubstr("with an explicit deny"));
}

TEST_F(QueryApiAuthzTest, ResourceScopedPermissions) {
  const std::string own_keys =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*AccessKey*",)"
      R"("Resource":"arn:aws:iam::000000000000:user/selfie"}]})";
  std::string selfie = UserWith("selfie", own_keys);
  ASSERT_EQ(Root("CreateUser", "UserName=other").http_status, 200);
  // Own keys (no UserName: the caller).
  QueryResponse mine = Call(selfie, "Action=CreateAccessKey&Version=2010-05-08");
  ASSERT_EQ(mine.http_status, 200) << mine.body;
  EXPECT_EQ(ParseXml(mine.body).At("CreateAccessKeyResult/AccessKey/UserName"), "selfie");
  QueryResponse theirs = Call(selfie, "Action=CreateAccessKey&Version=2010-05-08&UserName=other");
  EXPECT_EQ(theirs.http_status, 403);
  EXPECT_THAT(theirs.error_message, HasSubstr("on resource: arn:aws:iam::000000000000:user/other"));
}

TEST_F(QueryApiAuthzTest, DeletedUsersAndOtherAccountsAreDenied) {
  EXPECT_EQ(Call("arn:aws:iam::000000000000:user/ghost", "Action=ListUsers&Version=2010-05-08")
                .http_status,
            403);
  EXPECT_EQ(
      Call("arn:aws:iam::999999999999:root", "Action=ListUsers&Version=2010-05-08").http_status,
      403);
}

TEST_F(QueryApiAuthzTest, PolicyChangesTakeEffectOnTheNextRequest) {
  std::string u = UserWith("later", kAllowGetSecret);
  EXPECT_EQ(Call(u, "Action=ListUsers&Version=2010-05-08").http_status, 403);
  ASSERT_EQ(Root("CreatePolicy", "PolicyName=Admin&PolicyDocument=" + Enc(kAllowIam)).http_status,
            200);
  ASSERT_EQ(Root("AttachUserPolicy",
                 "UserName=later&PolicyArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2FAdmin")
                .http_status,
            200);
  EXPECT_EQ(Call(u, "Action=ListUsers&Version=2010-05-08").http_status, 200);
  ASSERT_EQ(Root("DetachUserPolicy",
                 "UserName=later&PolicyArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2FAdmin")
                .http_status,
            200);
  EXPECT_EQ(Call(u, "Action=ListUsers&Version=2010-05-08").http_status, 403);
}

// --- every action's response against botocore's IAM model ---

const char* kBotocoreModel =
    "/usr/lib/python3/dist-packages/botocore/data/iam/2010-05-08/service-2.json";

// Checks that `node` (the XML of shape `shape_name`) only has members the model knows, every
// required member, list items named "member", and scalar texts of the right form.
void CheckShape(const nlohmann::json& shapes, const std::string& shape_name, const XmlNode& node,
                const std::string& where) {
  const nlohmann::json& shape = shapes.at(shape_name);
  const std::string type = shape.at("type");
  if (type == "structure") {
    EXPECT_TRUE(node.text.empty()) << where << " has text in a structure";
    const nlohmann::json& members = shape.at("members");
    for (const XmlNode& child : node.children) {
      if (!members.contains(child.name)) {
        ADD_FAILURE() << where << ": <" << child.name << "> is not a member of " << shape_name;
        continue;
      }
      CheckShape(shapes, members.at(child.name).at("shape"), child, where + "/" + child.name);
    }
    for (const auto& required : shape.value("required", nlohmann::json::array())) {
      // AWS itself leaves out PasswordLastUsed-like optional data; required ones must be there.
      EXPECT_NE(node.Child(required.get<std::string>()), nullptr)
          << where << " lacks required " << required;
    }
  } else if (type == "list") {
    for (const XmlNode& child : node.children) {
      EXPECT_EQ(child.name, "member") << where;
      CheckShape(shapes, shape.at("member").at("shape"), child, where + "/member");
    }
  } else {
    EXPECT_TRUE(node.children.empty()) << where << " is a scalar with children";
    if (type == "boolean") {
      EXPECT_TRUE(node.text == "true" || node.text == "false") << where;
    }
    if (type == "integer") {
      EXPECT_FALSE(node.text.empty()) << where;
      EXPECT_EQ(node.text.find_first_not_of("0123456789"), std::string::npos) << where;
    }
    if (type == "timestamp") {
      EXPECT_EQ(node.text.size(), 20u) << where << " " << node.text;
      EXPECT_EQ(node.text.back(), 'Z') << where;
    }
    if (shape.contains("enum")) {
      bool known = false;
      for (const auto& v : shape.at("enum")) known = known || v == node.text;
      EXPECT_TRUE(known) << where << " " << node.text;
    }
  }
}

TEST_F(QueryApiTest, EveryActionMatchesTheBotocoreModel) {
  if (!std::filesystem::exists(kBotocoreModel)) GTEST_SKIP() << "python3-botocore not installed";
  std::ifstream in(kBotocoreModel);
  nlohmann::json model = nlohmann::json::parse(in);
  const nlohmann::json& shapes = model.at("shapes");

  const std::string doc = Enc(kAllowAll);
  const std::string arn = Enc("arn:aws:iam::000000000000:policy/team/P");
  // In order: each call succeeds on the state the previous ones left.
  std::vector<std::pair<std::string, std::string>> calls = {
      {"CreateUser", "UserName=alice&Tags.member.1.Key=k&Tags.member.1.Value=v"},
      {"GetUser", "UserName=alice"},
      {"ListUsers", "MaxItems=1"},
      {"TagUser", "UserName=alice&Tags.member.1.Key=k2&Tags.member.1.Value=v2"},
      {"ListUserTags", "UserName=alice"},
      {"UntagUser", "UserName=alice&TagKeys.member.1=k2"},
      {"CreateAccessKey", "UserName=alice"},
      {"ListAccessKeys", "UserName=alice"},
      {"CreatePolicy", "PolicyName=P&Path=%2Fteam%2F&Description=d&PolicyDocument=" + doc +
                           "&Tags.member.1.Key=k&Tags.member.1.Value=v"},
      {"GetPolicy", "PolicyArn=" + arn},
      {"CreatePolicyVersion", "PolicyArn=" + arn + "&SetAsDefault=true&PolicyDocument=" + doc},
      {"GetPolicyVersion", "PolicyArn=" + arn + "&VersionId=v2"},
      {"ListPolicyVersions", "PolicyArn=" + arn},
      {"SetDefaultPolicyVersion", "PolicyArn=" + arn + "&VersionId=v1"},
      {"DeletePolicyVersion", "PolicyArn=" + arn + "&VersionId=v2"},
      {"AttachUserPolicy", "UserName=alice&PolicyArn=" + arn},
      {"ListPolicies", "OnlyAttached=true&Scope=Local"},
      {"ListAttachedUserPolicies", "UserName=alice"},
      {"PutUserPolicy", "UserName=alice&PolicyName=inl&PolicyDocument=" + doc},
      {"GetUserPolicy", "UserName=alice&PolicyName=inl"},
      {"ListUserPolicies", "UserName=alice"},
      {"DeleteUserPolicy", "UserName=alice&PolicyName=inl"},
      {"DetachUserPolicy", "UserName=alice&PolicyArn=" + arn},
      {"DeletePolicy", "PolicyArn=" + arn},
  };
  std::set<std::string> covered;
  std::string key_id;
  for (const auto& [action, params] : calls) {
    QueryResponse r = Root(action, params);
    ASSERT_EQ(r.http_status, 200) << action << ": " << r.body;
    covered.insert(action);
    XmlNode root = ParseXml(r.body);
    EXPECT_EQ(root.name, action + "Response");
    EXPECT_EQ(root.At("ResponseMetadata/RequestId"), "req-" + std::to_string(requests_));
    const nlohmann::json& op = model.at("operations").at(action);
    if (op.contains("output")) {
      const std::string wrapper = op.at("output").at("resultWrapper");
      EXPECT_EQ(wrapper, action + "Result");
      const XmlNode* result = root.Child(wrapper);
      ASSERT_NE(result, nullptr) << action;
      CheckShape(shapes, op.at("output").at("shape"), *result, action);
    } else {
      EXPECT_EQ(root.children.size(), 1u) << action << " has a result the model does not";
    }
    if (action == "CreateAccessKey")
      key_id = root.At("CreateAccessKeyResult/AccessKey/AccessKeyId");
  }
  // The access-key actions that need the id.
  for (const std::string action : {"UpdateAccessKey", "DeleteAccessKey"}) {
    QueryResponse r = Root(action, "UserName=alice&AccessKeyId=" + key_id +
                                       (action == "UpdateAccessKey" ? "&Status=Inactive" : ""));
    ASSERT_EQ(r.http_status, 200) << action << ": " << r.body;
    EXPECT_EQ(ParseXml(r.body).children.size(), 1u);
    covered.insert(action);
  }
  QueryResponse del = Root("DeleteUser", "UserName=alice");
  ASSERT_EQ(del.http_status, 200) << del.body;
  covered.insert("DeleteUser");
  for (std::string_view action : {"CreateUser",
                                  "GetUser",
                                  "ListUsers",
                                  "DeleteUser",
                                  "TagUser",
                                  "UntagUser",
                                  "ListUserTags",
                                  "CreateAccessKey",
                                  "ListAccessKeys",
                                  "UpdateAccessKey",
                                  "DeleteAccessKey",
                                  "CreatePolicy",
                                  "GetPolicy",
                                  "GetPolicyVersion",
                                  "ListPolicies",
                                  "CreatePolicyVersion",
                                  "ListPolicyVersions",
                                  "SetDefaultPolicyVersion",
                                  "DeletePolicyVersion",
                                  "DeletePolicy",
                                  "AttachUserPolicy",
                                  "DetachUserPolicy",
                                  "ListAttachedUserPolicies",
                                  "PutUserPolicy",
                                  "GetUserPolicy",
                                  "ListUserPolicies",
                                  "DeleteUserPolicy"}) {
    EXPECT_TRUE(QueryApi::IsKnownAction(action)) << action;
    EXPECT_EQ(covered.count(std::string(action)), 1u) << action << " not exercised";
  }
  // Every error code we emit is one the model declares for IAM (or a common Query error).
  for (const char* shape :
       {"NoSuchEntityException", "EntityAlreadyExistsException", "DeleteConflictException",
        "LimitExceededException", "MalformedPolicyDocumentException", "InvalidInputException",
        "ConcurrentModificationException", "ServiceFailureException"}) {
    const nlohmann::json& error = shapes.at(shape).at("error");
    Status status = [&] {
      std::string code = error.at("code");
      if (code == "NoSuchEntity") return Status::NotFound("");
      if (code == "EntityAlreadyExists") return Status::AlreadyExists("");
      if (code == "DeleteConflict") return Status::FailedPrecondition("");
      if (code == "LimitExceeded") return Status::ResourceExhausted("");
      if (code == "MalformedPolicyDocument") return Status(StatusCode::kMalformedPolicy, "");
      if (code == "InvalidInput") return Status::InvalidArgument("");
      if (code == "ConcurrentModification") return Status::Aborted("");
      return Status::Internal("");
    }();
    EXPECT_EQ(ErrorFor(status).code, error.at("code").get<std::string>()) << shape;
    EXPECT_EQ(ErrorFor(status).http_status, error.at("httpStatusCode").get<int>()) << shape;
  }
}

TEST_F(QueryApiTest, SecretAccessKeyOnlyInTheCreateResponse) {
  ASSERT_EQ(Root("CreateUser", "UserName=s").http_status, 200);
  QueryResponse created = Root("CreateAccessKey", "UserName=s");
  ASSERT_EQ(created.http_status, 200);
  std::string secret = ParseXml(created.body).At("CreateAccessKeyResult/AccessKey/SecretAccessKey");
  ASSERT_EQ(secret.size(), 40u);
  EXPECT_THAT(created.error_message, Not(HasSubstr(secret)));
  QueryResponse list = Root("ListAccessKeys", "UserName=s");
  EXPECT_THAT(list.body, Not(HasSubstr(secret)));
  EXPECT_THAT(list.body, Not(HasSubstr("SecretAccessKey")));
}

}  // namespace
}  // namespace coffer::iam
