#pragma once

// Parsing of `HOST:PORT` listen addresses ("127.0.0.1:7430", "[::1]:0", "localhost:8080").
// Pure string handling: no resolution, so the config loader can validate without the network.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace coffer::http {

struct HostPort {
  std::string host;  // without brackets for IPv6 literals ("::1")
  std::uint16_t port = 0;
  bool ipv6_literal = false;  // the host was written as "[...]"

  // "127.0.0.1:80", "[::1]:80".
  std::string ToString() const;
};

// kInvalidArgument with a message naming the problem: missing port, port out of range,
// unbalanced brackets, empty host.
Result<HostPort> ParseHostPort(std::string_view text);

}  // namespace coffer::http
