// GetRandomPassword (reference §1.9): a CSPRNG password from the included character classes.

#include <string>
#include <vector>

#include "crypto/random.h"
#include "secrets/authorize.h"
#include "secrets/messages.h"
#include "secrets/service.h"
#include "secrets/validate.h"

namespace coffer::secrets {
namespace {

constexpr std::int64_t kDefaultLength = 32;
constexpr std::string_view kLowercase = "abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kUppercase = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

std::string Without(std::string_view chars, std::string_view excluded) {
  std::string out;
  for (char c : chars) {
    if (excluded.find(c) == std::string_view::npos) out.push_back(c);
  }
  return out;
}

// The character classes left after the Exclude* switches and ExcludeCharacters.
std::vector<std::string> IncludedClasses(const GetRandomPasswordRequest& r) {
  const std::string excluded = r.exclude_characters.value_or("");
  std::vector<std::string> classes;
  auto add = [&](bool exclude, std::string_view chars) {
    if (exclude) return;
    std::string left = Without(chars, excluded);
    if (!left.empty()) classes.push_back(std::move(left));
  };
  add(r.exclude_lowercase.value_or(false), kLowercase);
  add(r.exclude_uppercase.value_or(false), kUppercase);
  add(r.exclude_numbers.value_or(false), kDigits);
  add(r.exclude_punctuation.value_or(false), kPunctuation);
  return classes;
}

char RandomChar(std::string_view alphabet) {
  return alphabet[crypto::RandomUniform(alphabet.size())];
}

void Shuffle(std::string& s) {
  for (std::size_t i = s.size(); i > 1; --i) std::swap(s[i - 1], s[crypto::RandomUniform(i)]);
}

}  // namespace

Result<GetRandomPasswordResponse> Service::GetRandomPassword(const CallContext& ctx,
                                                             const GetRandomPasswordRequest& r) {
  COFFER_RETURN_IF_ERROR(CheckRange("passwordLength", r.password_length, 1, 4096));
  COFFER_RETURN_IF_ERROR(CheckLength("excludeCharacters", r.exclude_characters, 0, 4096));
  internal::AuthTarget account;
  account.resource_arn = "*";
  account.record = false;
  COFFER_RETURN_IF_ERROR(Authorize(ctx, "GetRandomPassword", account));
  const auto length = static_cast<std::size_t>(r.password_length.value_or(kDefaultLength));
  const std::vector<std::string> classes = IncludedClasses(r);
  std::string alphabet;
  for (const auto& c : classes) alphabet += c;
  const bool space = r.include_space.value_or(false) &&
                     r.exclude_characters.value_or("").find(' ') == std::string::npos;
  if (space) alphabet.push_back(' ');
  if (alphabet.empty()) {
    return Status::InvalidArgument(
        "The password can't be generated because every character was excluded.");
  }
  const bool require_each = r.require_each_included_type.value_or(true);
  if (require_each && length < classes.size()) {
    return Status::InvalidArgument(std::string(msg::kPasswordTooShort));
  }

  std::string password;
  password.reserve(length);
  if (require_each) {
    for (const auto& c : classes) password.push_back(RandomChar(c));
  }
  while (password.size() < length) password.push_back(RandomChar(alphabet));
  Shuffle(password);
  return GetRandomPasswordResponse{std::move(password)};
}

}  // namespace coffer::secrets
