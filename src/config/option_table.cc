#include "config/option_table.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include <yaml-cpp/yaml.h>

#include "core/strings.h"

extern char** environ;  // NOLINT: POSIX

namespace coffer::config {
namespace {

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    std::size_t comma = text.find(',');
    std::string_view part = TrimSpaces(text.substr(0, comma));
    if (!part.empty()) out.emplace_back(part);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

template <typename T>
bool ParseUnsigned(std::string_view text, T max, T* out) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return false;
  if (v > static_cast<std::uint64_t>(max)) return false;
  *out = static_cast<T>(v);
  return true;
}

Status NotA(const OptionInfo& info, std::string_view text, std::string_view source,
            std::string_view expected) {
  // Never echo secret values back.
  std::string shown = info.secret ? "***" : "\"" + std::string(text) + "\"";
  return Status::InvalidArgument(std::string(source) + ": " + shown + " is not " +
                                 std::string(expected));
}

std::string YamlTypeName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "empty";
    default:
      return "a scalar";
  }
}

}  // namespace

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.rfind("COFFER_", 0) != 0) continue;
    std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

Status ParseOptionValue(const OptionInfo&, std::string_view text, std::string_view,
                        std::string* out) {
  *out = std::string(text);
  return Status::Ok();
}

Status ParseOptionValue(const OptionInfo& info, std::string_view text, std::string_view source,
                        bool* out) {
  std::string v = ToLower(TrimSpaces(text));
  if (v == "true" || v == "1" || v == "yes" || v == "on") {
    *out = true;
  } else if (v == "false" || v == "0" || v == "no" || v == "off") {
    *out = false;
  } else {
    return NotA(info, text, source, "a boolean (true or false)");
  }
  return Status::Ok();
}

Status ParseOptionValue(const OptionInfo& info, std::string_view text, std::string_view source,
                        int* out) {
  int v = 0;
  if (!ParseUnsigned<int>(TrimSpaces(text), std::numeric_limits<int>::max(), &v)) {
    return NotA(info, text, source, "a non-negative integer");
  }
  *out = v;
  return Status::Ok();
}

Status ParseOptionValue(const OptionInfo& info, std::string_view text, std::string_view source,
                        std::uint64_t* out) {
  std::uint64_t v = 0;
  if (!ParseUnsigned<std::uint64_t>(TrimSpaces(text), std::numeric_limits<std::uint64_t>::max(),
                                    &v)) {
    return NotA(info, text, source, "a non-negative integer");
  }
  *out = v;
  return Status::Ok();
}

Status ParseOptionValue(const OptionInfo&, std::string_view text, std::string_view,
                        std::vector<std::string>* out) {
  *out = SplitList(text);
  return Status::Ok();
}

std::string FormatOptionValue(const std::string& value) { return value; }
std::string FormatOptionValue(bool value) { return value ? "true" : "false"; }
std::string FormatOptionValue(int value) { return std::to_string(value); }
std::string FormatOptionValue(std::uint64_t value) { return std::to_string(value); }
std::string FormatOptionValue(const std::vector<std::string>& value) {
  std::string out;
  for (const auto& s : value) out += (out.empty() ? "" : ",") + s;
  return out;
}

Status CheckRange(std::string_view name, std::uint64_t value, std::uint64_t min,
                  std::uint64_t max) {
  if (value < min || value > max) {
    return Status::InvalidArgument(std::string(name) + " must be between " + std::to_string(min) +
                                   " and " + std::to_string(max));
  }
  return Status::Ok();
}

Status CheckLogLevel(std::string_view name, std::string_view level) {
  static const std::vector<std::string_view> kLevels = {"trace", "debug",    "info", "warn",
                                                        "error", "critical", "off"};
  if (std::find(kLevels.begin(), kLevels.end(), level) == kLevels.end()) {
    return Status::InvalidArgument(std::string(name) + " \"" + std::string(level) +
                                   "\" must be one of trace, debug, info, warn, error, critical, "
                                   "off");
  }
  return Status::Ok();
}

namespace internal {

OptionTableBase::OptionTableBase(std::vector<OptionInfo> infos) : infos_(std::move(infos)) {}

std::optional<std::size_t> OptionTableBase::IndexOf(std::string_view key) const {
  for (std::size_t i = 0; i < infos_.size(); ++i) {
    if (infos_[i].key == key) return i;
  }
  return std::nullopt;
}

Status OptionTableBase::ApplyFileWith(const std::string& path, const Setter& set,
                                      bool* read) const {
  *read = false;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::InvalidArgument("config file " + path + ": cannot be read");
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("config file " + path + ": line " +
                                   std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return Status::Ok();  // an empty file
  if (!root.IsMap()) {
    return Status::InvalidArgument("config file " + path +
                                   ": expected a mapping of option keys to values");
  }
  try {
    for (const auto& entry : root) {
      if (!entry.first.IsScalar()) {
        return Status::InvalidArgument("config file " + path + ": keys must be plain names");
      }
      const std::string key = entry.first.Scalar();
      const YAML::Node& value = entry.second;
      std::string where = "config file " + path + ": key \"" + key + "\"";
      std::optional<std::size_t> index = IndexOf(key);
      if (!index) {
        return Status::InvalidArgument("config file " + path + ": unknown key \"" + key +
                                       "\" (see docs/design/configuration.md for the keys)");
      }
      const OptionInfo& info = infos_[*index];
      if (!info.file_allowed) {
        return Status::InvalidArgument(where + " cannot be set in a config file; use the " +
                                       std::string(info.env) + " environment variable");
      }
      if (info.type == ValueType::kList) {
        if (value.IsSequence()) {
          std::string joined;
          for (const auto& item : value) {
            if (!item.IsScalar()) {
              return Status::InvalidArgument(where + ": list items must be strings");
            }
            if (item.Scalar().find(',') != std::string::npos) {
              return Status::InvalidArgument(where + ": list items must not contain commas");
            }
            joined += (joined.empty() ? "" : ",") + item.Scalar();
          }
          COFFER_RETURN_IF_ERROR(set(*index, joined, where));
          continue;
        }
        if (!value.IsScalar()) {
          return Status::InvalidArgument(where + ": expected a list, got " + YamlTypeName(value));
        }
      } else if (!value.IsScalar()) {
        return Status::InvalidArgument(where + ": expected a single value, got " +
                                       YamlTypeName(value));
      }
      COFFER_RETURN_IF_ERROR(set(*index, value.Scalar(), where));
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("config file " + path + ": " + e.msg);
  }
  *read = true;
  return Status::Ok();
}

Status OptionTableBase::LoadWith(const RawValues& flags,
                                 const std::map<std::string, std::string>& env,
                                 const std::function<Status(const std::string&)>& apply_file,
                                 const Setter& set) const {
  // The config file: the flag beats the environment variable.
  std::string file;
  std::optional<std::size_t> config = IndexOf("config");
  if (auto it = flags.find("config"); it != flags.end()) {
    file = it->second;
  } else if (config && !infos_[*config].env.empty()) {
    if (auto e = env.find(std::string(infos_[*config].env)); e != env.end() && !e->second.empty()) {
      file = e->second;
    }
  }
  if (!file.empty()) COFFER_RETURN_IF_ERROR(apply_file(file));

  for (std::size_t i = 0; i < infos_.size(); ++i) {
    const OptionInfo& info = infos_[i];
    if (info.key == "config" || info.env.empty()) continue;
    auto it = env.find(std::string(info.env));
    if (it == env.end() || it->second.empty()) continue;
    COFFER_RETURN_IF_ERROR(set(i, it->second, std::string(info.env)));
  }

  for (const auto& [key, value] : flags) {
    if (key == "config") continue;
    std::optional<std::size_t> index = IndexOf(key);
    if (!index || infos_[*index].flag.empty()) {
      return Status::InvalidArgument("unknown option \"" + key + "\"");
    }
    COFFER_RETURN_IF_ERROR(set(*index, value, std::string(infos_[*index].flag)));
  }
  return Status::Ok();
}

std::string OptionTableBase::ToStringWith(
    const std::function<std::string(std::size_t)>& value_of) const {
  std::string out;
  for (std::size_t i = 0; i < infos_.size(); ++i) {
    const OptionInfo& info = infos_[i];
    std::string value = value_of(i);
    if (info.secret) {
      value = value.empty() ? "(unset)" : "***";
    } else if (value.empty()) {
      value = "(unset)";
    }
    out += std::string(info.key) + " = " + value + "\n";
  }
  return out;
}

std::string OptionTableBase::MarkdownTable() const {
  std::string out =
      "| File key | Flag | Environment variable | Default | Meaning |\n"
      "| --- | --- | --- | --- | --- |\n";
  for (const OptionInfo& i : infos_) {
    std::string key = i.file_allowed ? "`" + std::string(i.key) + "`" : "(not in file)";
    std::string flag = i.flag.empty() ? "(env only)" : "`" + std::string(i.flag) + "`";
    std::string help(i.help);
    std::string def;
    for (char c : i.default_text) def += c == '<' ? "&lt;" : c == '>' ? "&gt;" : std::string(1, c);
    if (i.secret) help += " (secret: shown as ***)";
    out += "| " + key + " | " + flag + " | `" + std::string(i.env) + "` | " + def + " | " + help +
           " |\n";
  }
  return out;
}

}  // namespace internal
}  // namespace coffer::config
