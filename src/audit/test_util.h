#pragma once

// Helpers for the audit tests: a temporary directory, a keyring, records, file editing.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "audit/record.h"
#include "core/encoding.h"
#include "crypto/envelope.h"

namespace coffer::audit::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "coffer-audit-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::unique_ptr<crypto::Keyring> TestKeyring(char fill = 'k') {
  auto keyring = crypto::KeyringFromText(Base64Encode(std::string(32, fill)));
  return keyring.ok() ? std::move(keyring).value() : nullptr;
}

inline Record MakeRecord(int i, std::string secret_name = "ml-platform/mlflow/database") {
  Record r;
  r.time_ms = 1'700'000'000'000 + i * 1000LL;
  r.request_id = "req-" + std::to_string(i);
  r.account_id = "000000000000";
  r.region = "us-east-1";
  r.principal_arn = "arn:aws:iam::000000000000:user/alice";
  r.principal_type = "IAMUser";
  r.user_name = "alice";
  r.access_key_id = "AKIAALICE0000000001";
  r.source_ip = "127.0.0.1";
  r.user_agent = "aws-cli/2.15.0 Python/3.11";
  r.event_source = std::string(kSecretsManagerSource);
  r.event_name = i % 2 == 0 ? "GetSecretValue" : "DescribeSecret";
  r.read_only = true;
  r.resources.push_back(
      {std::string(kSecretType),
       "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + secret_name + "-AbCdEf",
       secret_name});
  return r;
}

inline std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (const std::string& l : lines) out << l << '\n';
}

inline void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

}  // namespace coffer::audit::testing
