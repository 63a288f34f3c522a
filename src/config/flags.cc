#include "config/flags.h"

#include <algorithm>

#include <CLI/CLI.hpp>

namespace coffer::config {

void OptionFlags::Register(CLI::App* app, const std::vector<std::string_view>& keys) {
  for (const OptionInfo& info : *table_) {
    if (info.flag.empty()) continue;
    bool wanted = keys.empty() || info.key == "config" ||
                  std::find(keys.begin(), keys.end(), info.key) != keys.end();
    if (!wanted) continue;
    std::string help = std::string(info.help) + " [default: " + std::string(info.default_text) +
                       "] [env: " + std::string(info.env) + "]";
    CLI::Option* option;
    if (info.type == ValueType::kBool) {
      option = app->add_flag(std::string(info.flag))->description(help);
    } else {
      // Note: add_option(name, help) would bind `help` as the value variable; no variable here.
      option = app->add_option(std::string(info.flag))
                   ->description(help)
                   ->type_size(1)
                   ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
      switch (info.type) {
        case ValueType::kInt:
          option->type_name("INT");
          break;
        case ValueType::kList:
          option->type_name("LIST");
          break;
        default:
          option->type_name("TEXT");
          break;
      }
    }
    options_.emplace_back(std::string(info.key), option);
  }
}

RawValues OptionFlags::Given() const {
  RawValues out;
  for (const auto& [key, option] : options_) {
    if (option->count() == 0) continue;
    if (option->get_type_size() == 0) {  // a flag: --dev, or --audit=false to turn one off
      std::string value = "true";
      if (!option->results().empty()) {
        const std::string& given = option->results().back();
        if (given == "false" || given == "0" || given == "off" || given == "no") value = "false";
      }
      out[key] = value;
      continue;
    }
    const auto& results = option->results();
    if (!results.empty()) out[key] = results.back();
  }
  return out;
}

}  // namespace coffer::config
