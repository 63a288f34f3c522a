#pragma once

// Command-line flags for the options of an option table (option_table.h), registered on a CLI11
// app: OptionFlags for any table, ServerFlags for `coffer server`, OperatorFlags for
// `coffer operator`.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/operator_config.h"
#include "config/option_table.h"
#include "config/server_config.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace coffer::config {

class OptionFlags {
 public:
  // `options` (an option table's Infos()) must outlive this object.
  explicit OptionFlags(const std::vector<OptionInfo>& options) : table_(&options) {}

  // Adds --config and the flag of every option that has one; with `keys`, only those options
  // (plus --config).
  void Register(CLI::App* app, const std::vector<std::string_view>& keys = {});
  // After parsing: the flags that were given, keyed by option key, last value wins.
  RawValues Given() const;

 private:
  const std::vector<OptionInfo>* table_;
  std::vector<std::pair<std::string, CLI::Option*>> options_;
};

// The flags of `coffer server` (and of the commands sharing its data dir options).
class ServerFlags : public OptionFlags {
 public:
  ServerFlags() : OptionFlags(Options()) {}
};

// The flags of `coffer operator`.
class OperatorFlags : public OptionFlags {
 public:
  OperatorFlags() : OptionFlags(OperatorOptions()) {}
};

}  // namespace coffer::config
