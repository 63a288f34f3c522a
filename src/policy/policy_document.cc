// Document::Parse and Document::AllowsPublicAccess.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "policy/condition.h"
#include "policy/internal/match.h"
#include "policy/policy.h"

namespace coffer::policy {
namespace {

using internal::Quote;
using json = nlohmann::json;

Status Malformed(std::string message) {
  return Status(StatusCode::kMalformedPolicy, std::move(message));
}

// "Statement 2: " (1-based), the prefix of every per-statement message.
std::string At(std::size_t index) { return "Statement " + std::to_string(index + 1) + ": "; }

bool IsLowerAlnumDash(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool IsAccountId(std::string_view s) {
  if (s.size() != 12) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::size_t CountColons(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += c == ':' ? 1 : 0;
  return n;
}

bool IsArn(std::string_view s) { return s.starts_with("arn:") && CountColons(s) >= 5; }

// "*" or "<service>:<action pattern>". The service prefix is [a-z0-9-]+, compared
// case-insensitively like the rest of the action (so "SecretsManager:Get*" is accepted); the
// action pattern is letters, digits, '-', '_', '*' and '?'.
bool IsValidAction(std::string_view action) {
  if (action == "*") return true;
  const std::size_t colon = action.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == action.size()) return false;
  for (char c : action.substr(0, colon)) {
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (!IsLowerAlnumDash(lower)) return false;
  }
  for (char c : action.substr(colon + 1)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '*' || c == '?';
    if (!ok) return false;
  }
  return true;
}

// "*" or an ARN whose resource field (after the fifth colon) is not empty.
bool IsValidResource(std::string_view resource) {
  if (resource == "*") return true;
  if (!IsArn(resource)) return false;
  std::size_t colons = 0, i = 0;
  for (; i < resource.size() && colons < 5; ++i) colons += resource[i] == ':' ? 1 : 0;
  return i < resource.size();
}

// A string or a non-empty array of strings, into `out`. `what` names the element in messages.
Status StringList(const json& value, const std::string& what, std::vector<std::string>& out) {
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
    return Status::Ok();
  }
  if (!value.is_array()) return Malformed(what + " must be a string or an array of strings.");
  if (value.empty()) return Malformed(what + " must not be empty.");
  out.reserve(value.size());
  for (const json& item : value) {
    if (!item.is_string()) return Malformed(what + " must be a string or an array of strings.");
    out.push_back(item.get<std::string>());
  }
  return Status::Ok();
}

// Principal / NotPrincipal: "*", or an object whose keys are AWS, Service, Federated or
// CanonicalUser. AWS entries are "*", an ARN or a 12-digit account id and are kept as written;
// the others are kept as "<Key>:<value>" so that they can never equal a caller's ARN.
Status ParsePrincipal(const json& value, const std::string& what, Statement& statement) {
  if (value.is_string()) {
    if (value.get<std::string>() != "*") {
      return Malformed(what + " must be \"*\" or an object such as {\"AWS\": ...}.");
    }
    statement.principals.push_back("*");
    return Status::Ok();
  }
  if (!value.is_object() || value.empty()) {
    return Malformed(what + " must be \"*\" or an object such as {\"AWS\": ...}.");
  }
  for (const auto& [type, entries] : value.items()) {
    std::vector<std::string> list;
    if (type != "AWS" && type != "Service" && type != "Federated" && type != "CanonicalUser") {
      return Malformed(what + " has an unknown principal type " + Quote(type) + ".");
    }
    COFFER_RETURN_IF_ERROR(StringList(entries, what + " " + type, list));
    for (std::string& entry : list) {
      if (entry.empty()) return Malformed(what + " " + type + " has an empty principal.");
      if (type == "AWS") {
        if (entry != "*" && !IsArn(entry) && !IsAccountId(entry)) {
          return Malformed(what + " has an invalid AWS principal " + Quote(entry) +
                           ": expected \"*\", an ARN or a 12-digit account id.");
        }
        statement.principals.push_back(std::move(entry));
      } else {
        statement.principals.push_back(type + ":" + entry);
      }
    }
  }
  return Status::Ok();
}

Status ParseConditionBlock(const json& value, const std::string& prefix, Statement& statement) {
  if (!value.is_object()) return Malformed(prefix + "Condition must be an object.");
  for (const auto& [op, keys] : value.items()) {
    if (!ParseConditionOperator(op)) {
      return Malformed(prefix + "unknown condition operator " + Quote(op) + ".");
    }
    if (!keys.is_object() || keys.empty()) {
      return Malformed(prefix + "condition operator " + op +
                       " must map condition keys to values.");
    }
    for (const auto& [key, values] : keys.items()) {
      Condition condition;
      condition.op = op;
      condition.key = key;
      const std::string bad = prefix + "condition " + op + " on " + Quote(key) +
                              " must be a string, number, boolean or an array of them.";
      auto add = [&](const json& v) -> bool {
        if (v.is_string()) {
          condition.values.push_back(v.get<std::string>());
        } else if (v.is_boolean() || v.is_number()) {
          condition.values.push_back(v.dump());
        } else {
          return false;
        }
        return true;
      };
      if (values.is_array()) {
        if (values.empty()) return Malformed(bad);
        for (const json& v : values) {
          if (!add(v)) return Malformed(bad);
        }
      } else if (!add(values)) {
        return Malformed(bad);
      }
      Status compiled = CompileCondition(condition);
      if (!compiled.ok()) return Malformed(prefix + compiled.message());
      statement.conditions.push_back(std::move(condition));
    }
  }
  return Status::Ok();
}

Status ParseStatement(const json& value, std::size_t index, DocumentKind kind, Statement& out) {
  const std::string prefix = At(index);
  if (!value.is_object()) return Malformed(prefix + "a statement must be an object.");
  static constexpr std::array<std::string_view, 10> kMembers = {
      "Sid",         "Effect",   "Action",       "NotAction", "Resource",
      "NotResource", "Principal", "NotPrincipal", "Condition", ""};
  for (const auto& [name, member] : value.items()) {
    bool known = false;
    for (std::string_view m : kMembers) known = known || (!m.empty() && m == name);
    if (!known) return Malformed(prefix + "unknown element " + Quote(name) + ".");
  }

  if (auto it = value.find("Sid"); it != value.end()) {
    if (!it->is_string()) return Malformed(prefix + "Sid must be a string.");
    out.sid = it->get<std::string>();
  }

  auto effect = value.find("Effect");
  if (effect == value.end() || !effect->is_string() ||
      (*effect != "Allow" && *effect != "Deny")) {
    return Malformed(prefix + "Effect must be \"Allow\" or \"Deny\".");
  }
  out.effect = *effect == "Allow" ? Effect::kAllow : Effect::kDeny;

  const auto action = value.find("Action"), not_action = value.find("NotAction");
  if ((action == value.end()) == (not_action == value.end())) {
    return Malformed(prefix + "exactly one of Action or NotAction is required.");
  }
  out.not_action = not_action != value.end();
  const char* action_name = out.not_action ? "NotAction" : "Action";
  COFFER_RETURN_IF_ERROR(StringList(out.not_action ? *not_action : *action,
                                    prefix + action_name, out.actions));
  for (const std::string& a : out.actions) {
    if (!IsValidAction(a)) {
      return Malformed(prefix + action_name + " " + Quote(a) +
                       " must be \"*\" or \"<service>:<action>\", e.g. "
                       "\"secretsmanager:GetSecretValue\".");
    }
  }

  const auto resource = value.find("Resource"), not_resource = value.find("NotResource");
  if ((resource == value.end()) == (not_resource == value.end())) {
    return Malformed(prefix + "exactly one of Resource or NotResource is required.");
  }
  out.not_resource = not_resource != value.end();
  const char* resource_name = out.not_resource ? "NotResource" : "Resource";
  COFFER_RETURN_IF_ERROR(StringList(out.not_resource ? *not_resource : *resource,
                                    prefix + resource_name, out.resources));
  for (const std::string& r : out.resources) {
    if (!IsValidResource(r)) {
      return Malformed(prefix + resource_name + " " + Quote(r) +
                       " must be \"*\" or an ARN (arn:partition:service:region:account:resource).");
    }
  }

  const auto principal = value.find("Principal"), not_principal = value.find("NotPrincipal");
  const bool has_principal = principal != value.end(), has_not = not_principal != value.end();
  if (kind == DocumentKind::kIdentity) {
    if (has_principal || has_not) {
      return Malformed(prefix + (has_principal ? "Principal" : "NotPrincipal") +
                       " is not allowed in an identity-based policy.");
    }
  } else {
    if (has_principal && has_not) {
      return Malformed(prefix + "Principal and NotPrincipal cannot both be present.");
    }
    if (!has_principal && !has_not) {
      return Malformed(prefix + "a resource-based policy statement requires Principal or "
                                "NotPrincipal.");
    }
    out.not_principal = has_not;
    COFFER_RETURN_IF_ERROR(ParsePrincipal(has_not ? *not_principal : *principal,
                                          prefix + (has_not ? "NotPrincipal" : "Principal"),
                                          out));
  }

  if (auto it = value.find("Condition"); it != value.end()) {
    COFFER_RETURN_IF_ERROR(ParseConditionBlock(*it, prefix, out));
  }
  return Status::Ok();
}

// ---- public access ------------------------------------------------------------------------------

bool IsAllWildcards(std::string_view s) {
  for (char c : s) {
    if (c != '*' && c != '?') return false;
  }
  return true;
}

bool NarrowingValue(std::string_view key, std::string_view value) {
  if (value.empty() || IsAllWildcards(value)) return false;
  if (key == "aws:principalarn" || key == "aws:sourcearn") {
    const std::string_view account = internal::ArnAccount(value);
    if (account.empty() || account.find_first_of("*?") != std::string_view::npos) return false;
  }
  if (key == "aws:principalaccount" || key == "aws:sourceaccount" || key == "aws:sourceowner") {
    if (value.find_first_of("*?") != std::string_view::npos) return false;
  }
  if (key == "aws:sourceip") {
    if (value == "0.0.0.0/0" || value == "::/0") return false;
  }
  return true;
}

bool Narrows(const Condition& condition) {
  static constexpr std::array<std::string_view, 14> kKeys = {
      "aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths",
      "aws:sourceip",     "aws:sourcevpc",        "aws:sourcevpce",     "aws:sourcearn",
      "aws:sourceaccount", "aws:sourceowner",     "aws:sourceorgid",    "aws:sourceorgpaths",
      "aws:userid",       "aws:username"};
  const std::optional<ConditionOperator> op = ParseConditionOperator(condition.op);
  if (!op || op->negated() || op->if_exists || op->set == SetQualifier::kForAllValues) {
    return false;
  }
  switch (op->base) {
    case ConditionBase::kStringEquals:
    case ConditionBase::kStringEqualsIgnoreCase:
    case ConditionBase::kStringLike:
    case ConditionBase::kArnEquals:
    case ConditionBase::kArnLike:
    case ConditionBase::kIpAddress:
      break;
    default:
      return false;
  }
  const std::string key = internal::ToLower(condition.key);
  bool known = false;
  for (std::string_view k : kKeys) known = known || k == key;
  if (!known) return false;
  for (const std::string& value : condition.values) {
    if (!NarrowingValue(key, value)) return false;
  }
  return true;
}

}  // namespace

Result<Document> Document::Parse(std::string_view text, DocumentKind kind) {
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return Malformed("The policy document is not valid JSON (at byte " + std::to_string(e.byte) +
                     ").");
  } catch (const json::exception&) {
    return Malformed("The policy document is not valid JSON.");
  }
  if (!root.is_object()) return Malformed("The policy document must be a JSON object.");

  for (const auto& [name, member] : root.items()) {
    if (name != "Version" && name != "Id" && name != "Statement") {
      return Malformed("Unknown policy element " + Quote(name) + ".");
    }
  }
  if (auto it = root.find("Version"); it != root.end()) {
    if (!it->is_string() || (*it != "2012-10-17" && *it != "2008-10-17")) {
      return Malformed("Version must be \"2012-10-17\" or \"2008-10-17\".");
    }
  }
  if (auto it = root.find("Id"); it != root.end() && !it->is_string()) {
    return Malformed("Id must be a string.");
  }
  auto statements = root.find("Statement");
  if (statements == root.end()) return Malformed("The policy document has no Statement.");

  Document document;
  document.kind_ = kind;
  if (statements->is_object()) {
    Statement statement;
    COFFER_RETURN_IF_ERROR(ParseStatement(*statements, 0, kind, statement));
    document.statements_.push_back(std::move(statement));
  } else if (statements->is_array()) {
    if (statements->empty()) return Malformed("Statement must not be empty.");
    document.statements_.reserve(statements->size());
    for (std::size_t i = 0; i < statements->size(); ++i) {
      Statement statement;
      COFFER_RETURN_IF_ERROR(ParseStatement((*statements)[i], i, kind, statement));
      document.statements_.push_back(std::move(statement));
    }
  } else {
    return Malformed("Statement must be an object or an array of objects.");
  }
  return document;
}

bool Document::AllowsPublicAccess() const {
  for (const Statement& statement : statements_) {
    if (statement.effect != Effect::kAllow) continue;
    bool to_everyone = statement.not_principal;
    for (const std::string& p : statement.principals) to_everyone = to_everyone || p == "*";
    if (!to_everyone) continue;
    bool narrowed = false;
    for (const Condition& condition : statement.conditions) {
      narrowed = narrowed || Narrows(condition);
    }
    if (!narrowed) return true;
  }
  return false;
}

}  // namespace coffer::policy
