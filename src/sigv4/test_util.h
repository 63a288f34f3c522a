#pragma once

// Test helpers for the sigv4 tests (header-only, so it never lands in the library).

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

#include "core/encoding.h"
#include "core/status.h"
#include "sigv4/sigv4.h"

namespace coffer::sigv4::testing {

// A CredentialSource over a map; unknown keys are kUnauthenticated, as the real one answers.
class FakeCredentialSource : public CredentialSource {
 public:
  void Add(std::string access_key_id, std::string secret, std::string principal_arn = "") {
    credentials_[std::move(access_key_id)] =
        Credential{std::move(secret), std::move(principal_arn)};
  }
  void Remove(const std::string& access_key_id) { credentials_.erase(access_key_id); }
  // When set, every lookup fails with this status.
  void FailWith(Status status) { fail_with_ = std::move(status); }

  Result<Credential> Lookup(const std::string& access_key_id) override {
    ++lookups;
    if (!fail_with_.ok()) return fail_with_;
    auto it = credentials_.find(access_key_id);
    if (it == credentials_.end()) {
      return Status::Unauthenticated("The security token included in the request is invalid.");
    }
    return it->second;
  }

  int lookups = 0;

 private:
  std::map<std::string, Credential> credentials_;
  Status fail_with_;
};

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "<missing file " + path + ">";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct HttpMessage {
  std::string method;
  std::string target;
  HeaderList headers;
  std::string body;
};

// Parses the AWS test suite's .req/.sreq format: "METHOD target HTTP/1.1", then "Name:value"
// lines (value kept raw, leading spaces included), a blank line and the body. The target may
// contain spaces (get-space), so it runs up to the last " HTTP/".
inline HttpMessage ParseHttpMessage(std::string_view text) {
  HttpMessage msg;
  std::size_t eol = text.find('\n');
  std::string_view line = text.substr(0, eol);
  std::size_t sp = line.find(' ');
  std::size_t ver = line.rfind(" HTTP/");
  msg.method = std::string(line.substr(0, sp));
  msg.target = std::string(line.substr(sp + 1, ver - sp - 1));
  std::size_t pos = eol == std::string_view::npos ? text.size() : eol + 1;
  while (pos < text.size()) {
    eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) {
      if (pos < text.size()) msg.body = std::string(text.substr(pos));
      break;
    }
    std::size_t colon = line.find(':');
    msg.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(line.substr(colon + 1)));
  }
  return msg;
}

inline std::int64_t AmzMillis(std::string_view amz_date) { return ParseAmzDate(amz_date).value(); }

}  // namespace coffer::sigv4::testing
