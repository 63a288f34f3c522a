// libFuzzer target for the Go text/template engine (src/template/template.h).
//
// Input: the first byte picks the options (bit 0: missingkey=error, bits 1-2: delimiters {{ }},
// [[ ]], <% %> or ${ }), the rest is the template text. Each input is parsed and, when it
// parses, executed twice against fixed data holding a marker secret. Findings: a crash or
// sanitizer report, an error code other than kInvalidArgument, an error message that does not
// start with "template: ", an execution error that contains the marker secret (unless the
// template text itself contains it), output above the 16 MiB cap, or two executions that
// disagree.
//
// Build with the `fuzz` preset (clang) or replay the corpus with fuzz_replay.template_parse.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "template/function.h"
#include "template/template.h"
#include "template/value.h"

namespace {

using coffer::Result;
using coffer::Status;
using coffer::StatusCode;
using coffer::tmpl::Bytes;
using coffer::tmpl::FunctionMap;
using coffer::tmpl::List;
using coffer::tmpl::Map;
using coffer::tmpl::ParseOptions;
using coffer::tmpl::Template;
using coffer::tmpl::Value;

constexpr std::string_view kSecret = "s3cr3t-fuzz-marker";

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckError(const Status& status) {
  Check(status.code() == StatusCode::kInvalidArgument);
  Check(status.message().rfind("template: ", 0) == 0);
}

const FunctionMap& Functions() {
  static const FunctionMap* fns = [] {
    auto* f = new FunctionMap();
    f->Add("fail", [](std::span<const Value>) -> Result<Value> {
      return Status::InvalidArgument("fail: always fails");
    });
    f->Add("list", [](std::span<const Value> args) -> Result<Value> {
      return Value(List(args.begin(), args.end()));
    });
    f->Add("dict", [](std::span<const Value> args) -> Result<Value> {
      Map m;
      for (size_t i = 0; i + 1 < args.size(); i += 2) {
        if (args[i].kind() != coffer::tmpl::Kind::kString) {
          return Status::InvalidArgument("dict: keys must be strings");
        }
        m[args[i].AsString()] = args[i + 1];
      }
      return Value(std::move(m));
    });
    return f;
  }();
  return *fns;
}

const Value& Data() {
  static const Value* data = [] {
    Map m;
    m["password"] = std::string(kSecret);
    m["port"] = 5432;
    m["ratio"] = 0.5;
    m["on"] = true;
    m["none"] = Value();
    m["list"] = List{std::string(kSecret), 1, 2.5, Value(), List{1, 2}};
    m["map"] = Map{{"inner", std::string(kSecret)}, {"n", 7}, {"deep", Map{{"x", "y"}}}};
    m["bytes"] = Bytes{std::string(kSecret)};
    m["empty"] = List{};
    return new Value(std::move(m));
  }();
  return *data;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  ParseOptions options;
  options.missing_key_error = (selector & 1) != 0;
  switch ((selector >> 1) & 3) {
    case 1:
      options.left_delim = "[[";
      options.right_delim = "]]";
      break;
    case 2:
      options.left_delim = "<%";
      options.right_delim = "%>";
      break;
    case 3:
      options.left_delim = "${";
      options.right_delim = "}";
      break;
    default:
      break;
  }
  Result<Template> t = Template::Parse("fuzz", text, Functions(), options);
  if (!t.ok()) {
    CheckError(t.status());
    return 0;
  }
  const bool text_has_secret = text.find(kSecret) != std::string_view::npos;
  Result<std::string> first = t->Execute(Data());
  Result<std::string> second = t->Execute(Data());
  Check(first.ok() == second.ok());
  if (!first.ok()) {
    CheckError(first.status());
    Check(first.status().message() == second.status().message());
    if (!text_has_secret) Check(first.status().message().find(kSecret) == std::string::npos);
    return 0;
  }
  Check(first->size() <= (16U << 20));
  Check(*first == *second);
  return 0;
}
