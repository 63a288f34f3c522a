#pragma once

// The machinery behind every coffer configuration struct (ServerConfig in server_config.h,
// OperatorConfig in operator_config.h).
//
// A config struct declares its options once, as an OptionTable<Config> built from Def(...)
// entries that pair the option's metadata (OptionInfo) with a pointer to the struct's field.
// The table then provides, for that struct:
//   - Load():       flags > environment variables > YAML config file > the struct's defaults,
//   - ApplyFile():  the YAML file, with unknown keys and mistyped values rejected,
//   - ToString():   one "key = value" line per option, secrets as "***",
//   - MarkdownTable(): the table the design docs embed verbatim,
//   - Infos():      the metadata, from which OptionFlags (flags.h) registers the CLI flags.
//
// The option with key "config" is special: its flag and environment variable name the YAML
// file, its field receives the file's path, and it may not appear inside the file.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

namespace coffer::config {

// How an option's text is parsed.
enum class ValueType { kString, kBool, kInt, kList };

struct OptionInfo {
  std::string_view key;   // config file key and field name, snake_case
  std::string_view flag;  // "--listen"; empty when the option has no flag
  std::string_view env;   // "COFFER_LISTEN"; empty when the option has no variable
  ValueType type;
  std::string_view default_text;  // for docs and --help
  std::string_view help;
  bool secret = false;       // printed as *** by ToString()
  bool file_allowed = true;  // may appear in the config file
};

// Raw values keyed by option key ("listen"), as given on the command line or in the environment.
using RawValues = std::map<std::string, std::string>;

// The COFFER_* variables of this process's environment, keyed by variable name.
std::map<std::string, std::string> ProcessEnvironment();

// Parses `text` into `out` for the option `info`. Errors start with `source` (the flag, variable
// or file key the text came from) and never echo the text of a secret option.
Status ParseOptionValue(const OptionInfo& info, std::string_view text, std::string_view source,
                        std::string* out);
Status ParseOptionValue(const OptionInfo& info, std::string_view text, std::string_view source,
                        bool* out);
Status ParseOptionValue(const OptionInfo& info, std::string_view text, std::string_view source,
                        int* out);
Status ParseOptionValue(const OptionInfo& info, std::string_view text, std::string_view source,
                        std::uint64_t* out);
Status ParseOptionValue(const OptionInfo& info, std::string_view text, std::string_view source,
                        std::vector<std::string>* out);

// The text ToString() shows for a value; lists are comma-joined.
std::string FormatOptionValue(const std::string& value);
std::string FormatOptionValue(bool value);
std::string FormatOptionValue(int value);
std::string FormatOptionValue(std::uint64_t value);
std::string FormatOptionValue(const std::vector<std::string>& value);

// Shared validation helpers; the messages name the option.
// "<name> must be between <min> and <max>" unless min <= value <= max.
Status CheckRange(std::string_view name, std::uint64_t value, std::uint64_t min, std::uint64_t max);
// `name` must be one of trace, debug, info, warn, error, critical, off.
Status CheckLogLevel(std::string_view name, std::string_view level);

// One option of a Config: its metadata and the field it sets.
template <typename Config>
struct OptionDef {
  using Member = std::variant<std::string Config::*, bool Config::*, int Config::*,
                              std::uint64_t Config::*, std::vector<std::string> Config::*>;
  OptionInfo info;
  Member member;
};

template <typename T>
constexpr ValueType ValueTypeOf() {
  if constexpr (std::is_same_v<T, std::string>) {
    return ValueType::kString;
  } else if constexpr (std::is_same_v<T, bool>) {
    return ValueType::kBool;
  } else if constexpr (std::is_same_v<T, int> || std::is_same_v<T, std::uint64_t>) {
    return ValueType::kInt;
  } else {
    static_assert(std::is_same_v<T, std::vector<std::string>>,
                  "options are std::string, bool, int, std::uint64_t or std::vector<std::string>");
    return ValueType::kList;
  }
}

// An entry of an option table: Def("listen", "--listen", "COFFER_LISTEN", &ServerConfig::listen,
// "127.0.0.1:7430", "HOST:PORT to listen on"). The value type follows from the field.
template <typename Config, typename T>
OptionDef<Config> Def(std::string_view key, std::string_view flag, std::string_view env,
                      T Config::*member, std::string_view default_text, std::string_view help,
                      bool secret = false, bool file_allowed = true) {
  return OptionDef<Config>{
      OptionInfo{key, flag, env, ValueTypeOf<T>(), default_text, help, secret, file_allowed},
      typename OptionDef<Config>::Member(member)};
}

namespace internal {

// The parts of OptionTable that do not depend on the config struct. Options are addressed by
// their index in the table.
class OptionTableBase {
 public:
  const std::vector<OptionInfo>& Infos() const { return infos_; }

  // The table as Markdown (File key | Flag | Environment variable | Default | Meaning).
  std::string MarkdownTable() const;

 protected:
  // Sets option `index` from `text`; `source` names where the text came from.
  using Setter =
      std::function<Status(std::size_t index, std::string_view text, const std::string& source)>;

  explicit OptionTableBase(std::vector<OptionInfo> infos);

  std::optional<std::size_t> IndexOf(std::string_view key) const;

  // Reads the YAML file at `path` and sets each of its keys through `set`. `*read` becomes true
  // when the file held at least a (possibly empty) mapping and every key was applied.
  Status ApplyFileWith(const std::string& path, const Setter& set, bool* read) const;

  // The config file (flags["config"], else the "config" option's variable), then the
  // environment, then the flags. `apply_file` is called with the file's path.
  Status LoadWith(const RawValues& flags, const std::map<std::string, std::string>& env,
                  const std::function<Status(const std::string&)>& apply_file,
                  const Setter& set) const;

  // One "key = value" line per option; `value(index)` gives the unredacted text.
  std::string ToStringWith(const std::function<std::string(std::size_t)>& value) const;

 private:
  std::vector<OptionInfo> infos_;
};

}  // namespace internal

template <typename Config>
class OptionTable : public internal::OptionTableBase {
 public:
  // `defs` in documentation order.
  explicit OptionTable(std::vector<OptionDef<Config>> defs)
      : OptionTableBase(InfosOf(defs)), defs_(std::move(defs)) {}

  const std::vector<OptionDef<Config>>& Defs() const { return defs_; }

  // The option with this key, or nullptr.
  const OptionDef<Config>* Find(std::string_view key) const {
    std::optional<std::size_t> index = IndexOf(key);
    return index ? &defs_[*index] : nullptr;
  }

  // Sets one option from text. `source` names where the text came from, for the error message.
  Status Apply(Config& config, const OptionDef<Config>& def, std::string_view text,
               std::string_view source) const {
    return std::visit(
        [&](auto member) { return ParseOptionValue(def.info, text, source, &(config.*member)); },
        def.member);
  }

  // Applies the YAML file at `path`; on success the "config" option's field holds `path`
  // (unless the file is empty).
  Status ApplyFile(Config& config, const std::string& path) const {
    bool read = false;
    COFFER_RETURN_IF_ERROR(ApplyFileWith(path, SetterFor(config), &read));
    if (read) SetConfigFile(config, path);
    return Status::Ok();
  }

  // Fills `config` (normally default-constructed) from the sources in precedence order: flags
  // (keyed by option key), then environment variables (keyed by variable name; empty values
  // count as unset), then the config file. Does not validate.
  Status Load(Config& config, const RawValues& flags,
              const std::map<std::string, std::string>& env) const {
    return LoadWith(
        flags, env, [&](const std::string& path) { return ApplyFile(config, path); },
        SetterFor(config));
  }

  // The value's text, unredacted (empty when unset).
  std::string ValueText(const Config& config, const OptionDef<Config>& def) const {
    return std::visit([&](auto member) { return FormatOptionValue(config.*member); }, def.member);
  }

  // One "key = value" line per option, in table order; secrets print as "***", empty values
  // as "(unset)".
  std::string ToString(const Config& config) const {
    return ToStringWith([&](std::size_t index) { return ValueText(config, defs_[index]); });
  }

 private:
  static std::vector<OptionInfo> InfosOf(const std::vector<OptionDef<Config>>& defs) {
    std::vector<OptionInfo> infos;
    infos.reserve(defs.size());
    for (const OptionDef<Config>& d : defs) infos.push_back(d.info);
    return infos;
  }

  Setter SetterFor(Config& config) const {
    return [this, &config](std::size_t index, std::string_view text, const std::string& source) {
      return Apply(config, defs_[index], text, source);
    };
  }

  void SetConfigFile(Config& config, const std::string& path) const {
    const OptionDef<Config>* def = Find("config");
    if (def == nullptr) return;
    if (auto* member = std::get_if<std::string Config::*>(&def->member)) config.*(*member) = path;
  }

  std::vector<OptionDef<Config>> defs_;
};

}  // namespace coffer::config
