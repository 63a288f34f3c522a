#include "secrets/policy_check.h"

#include <nlohmann/json.hpp>

namespace coffer::secrets {
namespace {

using nlohmann::json;

// Why the statement is malformed, or nullopt.
std::optional<std::string> StatementError(const json& statement) {
  if (!statement.is_object()) return "Each statement must be a JSON object.";
  auto effect = statement.find("Effect");
  if (effect == statement.end() || !effect->is_string() ||
      (*effect != "Allow" && *effect != "Deny")) {
    return "Each statement must have an Effect of Allow or Deny.";
  }
  return std::nullopt;
}

bool IsWildcard(const json& v) { return v.is_string() && v == "*"; }

bool GrantsEveryone(const json& statement) {
  if (statement.value("Effect", "") != "Allow") return false;
  auto principal = statement.find("Principal");
  if (principal == statement.end()) return false;
  if (IsWildcard(*principal)) return true;
  if (!principal->is_object()) return false;
  auto aws = principal->find("AWS");
  if (aws == principal->end()) return false;
  if (IsWildcard(*aws)) return true;
  return aws->is_array() && std::any_of(aws->begin(), aws->end(), IsWildcard);
}

std::vector<json> Statements(const json& policy) {
  const json& s = policy.at("Statement");
  if (s.is_array()) return std::vector<json>(s.begin(), s.end());
  return {s};
}

}  // namespace

std::vector<ValidationErrorsEntry> CheckPolicy(std::string_view document) {
  auto syntax_error = [](std::string message) {
    return std::vector<ValidationErrorsEntry>{{std::string(kSyntaxCheck), std::move(message)}};
  };
  json policy = json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (policy.is_discarded()) return syntax_error("The policy is not valid JSON.");
  if (!policy.is_object()) return syntax_error("The policy must be a JSON object.");
  auto statement = policy.find("Statement");
  if (statement == policy.end() || (!statement->is_object() && !statement->is_array()) ||
      statement->empty()) {
    return syntax_error("The policy must have a non-empty Statement.");
  }
  const std::vector<json> statements = Statements(policy);
  for (const json& s : statements) {
    if (auto error = StatementError(s)) return syntax_error(*error);
  }
  if (std::any_of(statements.begin(), statements.end(), GrantsEveryone)) {
    return {{std::string(kPublicPolicyCheck),
             "The policy grants access to every principal (\"Principal\": \"*\")."}};
  }
  return {};
}

}  // namespace coffer::secrets
