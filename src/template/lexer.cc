#include "template/lexer.h"

#include <cctype>
#include <cstdio>

namespace coffer::tmpl {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

class Lexer {
 public:
  Lexer(std::string_view name, std::string_view in, std::string_view l, std::string_view r)
      : name_(name), in_(in), left_(l.empty() ? "{{" : l), right_(r.empty() ? "}}" : r) {}

  Result<std::vector<Token>> Run() {
    bool trim_next_text = false;
    while (pos_ < in_.size()) {
      const size_t start = in_.find(left_, pos_);
      const size_t text_end = start == std::string_view::npos ? in_.size() : start;
      std::string_view text = in_.substr(pos_, text_end - pos_);
      const int text_line = line_;
      CountLines(text);
      pos_ = text_end;
      bool trim_left = false;
      if (start != std::string_view::npos) {
        trim_left = HasLeftTrim(start + left_.size());
      }
      if (trim_next_text) {
        while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
      }
      if (trim_left) {
        while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
      }
      if (!text.empty()) {
        Emit(TokenType::kText, std::string(text), text_line, false,
             static_cast<int>(text.data() - in_.data()));
      }
      if (start == std::string_view::npos) break;
      pos_ += left_.size() + (trim_left ? 2 : 0);
      action_line_ = line_;
      if (trim_left && in_[pos_ - 1] == '\n') ++line_;
      auto trim_right = LexAction();
      if (!trim_right.ok()) return trim_right.status();
      trim_next_text = *trim_right;
    }
    Emit(TokenType::kEof, "", line_, false, static_cast<int>(pos_));
    return std::move(tokens_);
  }

 private:
  Status Error(const std::string& what) const {
    std::string extra;
    if (in_action_ && action_line_ != line_) {
      extra = (what.ends_with(" action") ? " started at " : " in action started at ") +
              std::string(name_) + ":" + std::to_string(action_line_);
    }
    return Status::InvalidArgument("template: " + std::string(name_) + ":" + std::to_string(line_) +
                                   ": " + what + extra);
  }
  // Go's %#U: U+0023 '#' (the character only when printable ASCII).
  static std::string CharName(char c) {
    char buf[32];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      std::snprintf(buf, sizeof buf, "U+%04X '%c'", u, c);
    } else {
      std::snprintf(buf, sizeof buf, "U+%04X", u);
    }
    return buf;
  }
  // Go's atTerminator: what may follow a field, variable or identifier.
  bool AtTerminator() const {
    if (pos_ >= in_.size()) return true;
    const char c = in_[pos_];
    return IsSpace(c) || c == '.' || c == ',' || c == '|' || c == ':' || c == ')' || c == '(' ||
           AtRight(pos_);
  }
  // Go's scanNumber: sign, base prefix, digits, fraction, exponent; nothing alphanumeric after.
  bool ScanNumber() {
    auto accept = [&](std::string_view valid) {
      if (pos_ < in_.size() && valid.find(in_[pos_]) != std::string_view::npos) {
        ++pos_;
        return true;
      }
      return false;
    };
    auto accept_run = [&](std::string_view valid) {
      while (accept(valid)) {
      }
    };
    accept("+-");
    std::string_view digits = "0123456789_";
    if (accept("0")) {
      if (accept("xX")) {
        digits = "0123456789abcdefABCDEF_";
      } else if (accept("oO")) {
        digits = "01234567_";
      } else if (accept("bB")) {
        digits = "01_";
      }
    }
    accept_run(digits);
    if (accept(".")) accept_run(digits);
    if (digits.size() == 11 && accept("eE")) {
      accept("+-");
      accept_run("0123456789_");
    }
    if (digits.size() == 23 && accept("pP")) {
      accept("+-");
      accept_run("0123456789_");
    }
    if (pos_ < in_.size() && IsAlnum(in_[pos_])) {
      ++pos_;
      return false;
    }
    return true;
  }
  void CountLines(std::string_view s) {
    for (char c : s) line_ += c == '\n' ? 1 : 0;
  }
  void Emit(TokenType t, std::string text, int line, bool space, int pos) {
    tokens_.push_back(Token{t, std::move(text), line, pos, space});
  }
  // "{{- " : a dash followed by white space right after the left delimiter.
  bool HasLeftTrim(size_t at) const {
    return at + 1 < in_.size() && in_[at] == '-' && IsSpace(in_[at + 1]);
  }
  // " -}}" at `at`: white space, a dash, then the right delimiter.
  bool AtRightTrim(size_t at) const {
    return at + 1 < in_.size() && IsSpace(in_[at]) && in_[at + 1] == '-' &&
           in_.substr(at + 2).starts_with(right_);
  }
  bool AtRight(size_t at) const { return in_.substr(at).starts_with(right_); }

  // Lexes one action after its left delimiter; returns whether it ends with a trim marker.
  Result<bool> LexAction() {
    // A comment fills the whole action: {{/* ... */}}, optionally with trim markers.
    if (in_.substr(pos_).starts_with("/*")) {
      const size_t end = in_.find("*/", pos_ + 2);
      if (end == std::string_view::npos) return Error("unclosed comment");
      CountLines(in_.substr(pos_, end + 2 - pos_));
      pos_ = end + 2;
      if (AtRight(pos_)) {
        pos_ += right_.size();
        return false;
      }
      if (AtRightTrim(pos_)) {
        pos_ += 2 + right_.size();
        return true;
      }
      return Error("comment ends before closing delimiter");
    }
    in_action_ = true;
    Emit(TokenType::kLeftDelim, std::string(left_), line_, false,
         static_cast<int>(pos_ - left_.size()));
    int paren_depth = 0;
    bool space = false;
    while (true) {
      if (paren_depth > 0 && (AtRightTrim(pos_) || AtRight(pos_))) {
        return Error("unclosed left paren");
      }
      if (AtRightTrim(pos_)) {
        if (in_[pos_] == '\n') ++line_;
        Emit(TokenType::kRightDelim, std::string(right_), line_, true, static_cast<int>(pos_));
        pos_ += 2 + right_.size();
        in_action_ = false;
        return true;
      }
      if (AtRight(pos_)) {
        Emit(TokenType::kRightDelim, std::string(right_), line_, space, static_cast<int>(pos_));
        pos_ += right_.size();
        in_action_ = false;
        return false;
      }
      if (pos_ >= in_.size()) return Error("unclosed action");
      const char c = in_[pos_];
      if (IsSpace(c)) {
        if (c == '\n') ++line_;
        ++pos_;
        space = true;
        continue;
      }
      const size_t begin = pos_;
      TokenType type;
      if (c == '|') {
        type = TokenType::kPipe;
        ++pos_;
      } else if (c == '(') {
        type = TokenType::kLeftParen;
        ++paren_depth;
        ++pos_;
      } else if (c == ')') {
        if (--paren_depth < 0) return Error("unexpected right paren");
        type = TokenType::kRightParen;
        ++pos_;
      } else if (c == ',') {
        type = TokenType::kComma;
        ++pos_;
      } else if (c == '=') {
        type = TokenType::kAssign;
        ++pos_;
      } else if (c == ':') {
        if (pos_ + 1 >= in_.size() || in_[pos_ + 1] != '=') return Error("expected :=");
        type = TokenType::kDeclare;
        pos_ += 2;
      } else if (c == '"' || c == '\'') {
        type = c == '"' ? TokenType::kString : TokenType::kChar;
        ++pos_;
        while (true) {
          if (pos_ >= in_.size() || in_[pos_] == '\n') {
            return Error(c == '"' ? "unterminated quoted string"
                                  : "unterminated character constant");
          }
          if (in_[pos_] == '\\') {
            pos_ += 2;
            continue;
          }
          if (in_[pos_++] == c) break;
        }
        if (pos_ > in_.size()) return Error("unterminated quoted string");
      } else if (c == '`') {
        const size_t end = in_.find('`', pos_ + 1);
        if (end == std::string_view::npos) return Error("unterminated raw quoted string");
        type = TokenType::kRawString;
        pos_ = end + 1;
      } else if (c == '$' ||
                 (c == '.' && (pos_ + 1 >= in_.size() ||
                               !std::isdigit(static_cast<unsigned char>(in_[pos_ + 1]))))) {
        // A variable ($, $x) or the cursor / a field (., .x), as Go's lexFieldOrVariable.
        ++pos_;
        if (AtTerminator()) {
          type = c == '$' ? TokenType::kVariable : TokenType::kDot;
        } else {
          type = c == '$' ? TokenType::kVariable : TokenType::kField;
          while (pos_ < in_.size() && IsAlnum(in_[pos_])) ++pos_;
          if (!AtTerminator()) return Error("bad character " + CharName(in_[pos_]));
          if (c == '.' && pos_ == begin + 1) type = TokenType::kDot;
        }
      } else if (c == '+' || c == '-' || c == '.' ||
                 std::isdigit(static_cast<unsigned char>(c)) != 0) {
        type = TokenType::kNumber;
        // A sign right after a number starts Go's complex syntax (1+2i), not supported here.
        bool ok = ScanNumber();
        if (ok && pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) {
          ScanNumber();
          ok = false;
        }
        if (!ok) {
          return Error("bad number syntax: \"" + std::string(in_.substr(begin, pos_ - begin)) +
                       "\"");
        }
      } else if (IsAlnum(c)) {
        type = TokenType::kIdentifier;
        while (pos_ < in_.size() && IsAlnum(in_[pos_])) ++pos_;
        if (!AtTerminator()) return Error("bad character " + CharName(in_[pos_]));
      } else if (c > 0x20 && c < 0x7f) {
        type = TokenType::kPunct;
        ++pos_;
      } else {
        return Error("unrecognized character in action: " + CharName(c));
      }
      Emit(type, std::string(in_.substr(begin, pos_ - begin)), line_, space,
           static_cast<int>(begin));
      if (type == TokenType::kRawString) CountLines(in_.substr(begin, pos_ - begin));
      space = false;
    }
  }

  std::string_view name_;
  std::string_view in_;
  std::string_view left_;
  std::string_view right_;
  size_t pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
  bool in_action_ = false;
  int action_line_ = 1;
};

}  // namespace

Result<std::vector<Token>> Lex(std::string_view name, std::string_view input,
                               std::string_view left_delim, std::string_view right_delim) {
  return Lexer(name, input, left_delim, right_delim).Run();
}

}  // namespace coffer::tmpl
