#include <cstddef>

#include "core/strings.h"
#include "http/server.h"

namespace coffer::http {

const std::string* Request::FindHeader(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

}  // namespace coffer::http
