#include "kube/label_selector.h"

#include <algorithm>
#include <cctype>

namespace coffer::kube {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<LabelSelector> Parse() {
    LabelSelector out;
    SkipSpace();
    if (AtEnd()) return out;
    while (true) {
      auto requirement = Requirement();
      if (!requirement.ok()) return requirement.status();
      out.requirements.push_back(std::move(*requirement));
      SkipSpace();
      if (AtEnd()) return out;
      if (!Consume(',')) return Error("expected ',' or the end");
      SkipSpace();
    }
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  bool Consume(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  void SkipSpace() {
    while (!AtEnd() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  Status Error(std::string_view what) const {
    return Status::InvalidArgument("label selector: " + std::string(what) + " at position " +
                                   std::to_string(pos_));
  }
  static bool IsNameChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '/';
  }
  // A label key or value: [A-Za-z0-9-_./]*.
  std::string Word() {
    const std::size_t start = pos_;
    while (!AtEnd() && IsNameChar(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  // Kubernetes' keyword check: "in"/"notin" followed by a space or '('.
  bool Keyword(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    const std::size_t after = pos_ + word.size();
    if (after < text_.size() && text_[after] != '(' &&
        !std::isspace(static_cast<unsigned char>(text_[after]))) {
      return false;
    }
    pos_ = after;
    return true;
  }

  Result<LabelRequirement> Requirement() {
    LabelRequirement r;
    if (Consume('!')) {
      SkipSpace();
      r.key = Word();
      if (r.key.empty()) return Error("expected a label key after '!'");
      r.op = LabelRequirement::Op::kDoesNotExist;
      return r;
    }
    r.key = Word();
    if (r.key.empty()) return Error("expected a label key");
    SkipSpace();
    if (AtEnd() || Peek() == ',') {
      r.op = LabelRequirement::Op::kExists;
      return r;
    }
    if (Consume('=')) {
      Consume('=');
      r.op = LabelRequirement::Op::kEquals;
    } else if (Consume('!')) {
      if (!Consume('=')) return Error("expected '=' after '!'");
      r.op = LabelRequirement::Op::kNotEquals;
    } else if (Keyword("notin")) {
      r.op = LabelRequirement::Op::kNotIn;
    } else if (Keyword("in")) {
      r.op = LabelRequirement::Op::kIn;
    } else {
      return Error("expected '=', '==', '!=', 'in' or 'notin'");
    }
    SkipSpace();
    if (r.op == LabelRequirement::Op::kEquals || r.op == LabelRequirement::Op::kNotEquals) {
      r.values.push_back(Word());  // an empty value is allowed ("key=")
      return r;
    }
    if (!Consume('(')) return Error("expected '('");
    while (true) {
      SkipSpace();
      r.values.push_back(Word());
      SkipSpace();
      if (Consume(')')) break;
      if (!Consume(',')) return Error("expected ',' or ')' in a value list");
    }
    return r;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<LabelSelector> ParseLabelSelector(std::string_view text) { return Parser(text).Parse(); }

bool Matches(const LabelSelector& selector, const std::map<std::string, std::string>& labels) {
  for (const LabelRequirement& r : selector.requirements) {
    auto it = labels.find(r.key);
    const bool has = it != labels.end();
    const bool in =
        has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    switch (r.op) {
      case LabelRequirement::Op::kEquals:
      case LabelRequirement::Op::kIn:
        if (!in) return false;
        break;
      case LabelRequirement::Op::kNotEquals:
      case LabelRequirement::Op::kNotIn:
        if (in) return false;
        break;
      case LabelRequirement::Op::kExists:
        if (!has) return false;
        break;
      case LabelRequirement::Op::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

}  // namespace coffer::kube
