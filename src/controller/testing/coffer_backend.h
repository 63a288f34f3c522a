#pragma once

// Test-only: the in-process coffer server (api/testing/in_process_server.h) with the controller
// tests' root credentials. Header-only.

#include <string>

#include "api/testing/in_process_server.h"

namespace coffer::controller::testing {

inline constexpr char kAccessKeyId[] = "AKIACONTROLLERTEST01";
inline constexpr char kSecretAccessKey[] = "controller/Test/Secret/Key/0123456789abcdef";

class CofferBackend : public api::testing::InProcessServer {
 public:
  CofferBackend() : InProcessServer(kAccessKeyId, kSecretAccessKey) {}

  // Creates secret `name` holding `value`; returns its first version id.
  std::string Create(const std::string& name, const std::string& value) {
    return InProcessServer::Create(name, value).version_id;
  }
};

}  // namespace coffer::controller::testing
