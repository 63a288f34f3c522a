#pragma once

// Command-line flags for the options in the table (server_config.h), registered on a CLI11 app.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/server_config.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace coffer::config {

class ServerFlags {
 public:
  // Adds --config and the flag of every option that has one; with `keys`, only those options
  // (plus --config).
  void Register(CLI::App* app, const std::vector<std::string_view>& keys = {});
  // After parsing: the flags that were given, keyed by option key, last value wins.
  RawValues Given() const;

 private:
  std::vector<std::pair<std::string, CLI::Option*>> options_;
};

}  // namespace coffer::config
