// GetRandomPassword (reference §1.9).

#include <algorithm>
#include <set>

#include "secrets/messages.h"
#include "secrets/service_test_fixture.h"

namespace coffer::secrets::testing {
namespace {

const std::string kPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

bool AnyOf(const std::string& s, const std::function<bool(char)>& pred) {
  return std::any_of(s.begin(), s.end(), pred);
}
bool IsPunct(char c) { return kPunctuation.find(c) != std::string::npos; }

class PasswordTest : public ServiceTest {
 protected:
  std::string Password(GetRandomPasswordRequest r) {
    auto out = service_->GetRandomPassword(ctx_, r);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? out->random_password : "";
  }
};

TEST_F(PasswordTest, DefaultIs32CharsWithEveryType) {
  for (int i = 0; i < 50; ++i) {
    const std::string p = Password({});
    ASSERT_EQ(p.size(), 32u);
    EXPECT_TRUE(AnyOf(p, [](char c) { return c >= 'a' && c <= 'z'; })) << p;
    EXPECT_TRUE(AnyOf(p, [](char c) { return c >= 'A' && c <= 'Z'; })) << p;
    EXPECT_TRUE(AnyOf(p, [](char c) { return c >= '0' && c <= '9'; })) << p;
    EXPECT_TRUE(AnyOf(p, IsPunct)) << p;
    EXPECT_FALSE(AnyOf(p, [](char c) { return c == ' '; })) << p;
  }
}

TEST_F(PasswordTest, PasswordsDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(Password({}));
  EXPECT_EQ(seen.size(), 100u);
}

TEST_F(PasswordTest, ExcludeCharactersAndClasses) {
  GetRandomPasswordRequest r;
  r.password_length = 120;
  r.exclude_characters = "xyzDje@?!.";
  const std::string p = Password(r);
  ASSERT_EQ(p.size(), 120u);
  EXPECT_EQ(p.find_first_of("xyzDje@?!."), std::string::npos) << p;

  GetRandomPasswordRequest digits_only;
  digits_only.password_length = 64;
  digits_only.exclude_lowercase = true;
  digits_only.exclude_uppercase = true;
  digits_only.exclude_punctuation = true;
  const std::string d = Password(digits_only);
  EXPECT_TRUE(std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; })) << d;
}

TEST_F(PasswordTest, IncludeSpace) {
  GetRandomPasswordRequest r;
  r.password_length = 4096;
  r.include_space = true;
  EXPECT_NE(Password(r).find(' '), std::string::npos);
}

TEST_F(PasswordTest, TooShortForRequiredTypes) {
  GetRandomPasswordRequest r;
  r.password_length = 3;
  EXPECT_THAT(service_->GetRandomPassword(ctx_, r).status(),
              StatusIs(StatusCode::kInvalidArgument, std::string(msg::kPasswordTooShort)));
  r.require_each_included_type = false;
  EXPECT_EQ(Password(r).size(), 3u);
  r.password_length = 1;
  EXPECT_EQ(Password(r).size(), 1u);
}

TEST_F(PasswordTest, EverythingExcludedIsAnError) {
  GetRandomPasswordRequest r;
  r.exclude_lowercase = r.exclude_uppercase = r.exclude_numbers = r.exclude_punctuation = true;
  EXPECT_THAT(service_->GetRandomPassword(ctx_, r).status(),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(PasswordTest, LengthRange) {
  GetRandomPasswordRequest r;
  r.password_length = 0;
  EXPECT_THAT(service_->GetRandomPassword(ctx_, r).status(), StatusIs(StatusCode::kValidation));
  r.password_length = 4097;
  EXPECT_THAT(service_->GetRandomPassword(ctx_, r).status(), StatusIs(StatusCode::kValidation));
  r.password_length = 4096;
  EXPECT_EQ(Password(r).size(), 4096u);
}

}  // namespace
}  // namespace coffer::secrets::testing
