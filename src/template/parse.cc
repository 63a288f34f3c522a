#include "template/parse.h"

#include <algorithm>
#include <optional>

#include "template/builtins.h"
#include "template/lexer.h"
#include "template/literal.h"

namespace coffer::tmpl::internal {
namespace {

enum class Keyword : std::uint8_t {
  kNone,
  kBlock,
  kBreak,
  kContinue,
  kDefine,
  kElse,
  kEnd,
  kIf,
  kRange,
  kTemplate,
  kWith,
};

Keyword KeywordOf(const Token& t) {
  if (t.type != TokenType::kIdentifier) return Keyword::kNone;
  static const std::pair<std::string_view, Keyword> kWords[] = {
      {"block", Keyword::kBlock},   {"break", Keyword::kBreak}, {"continue", Keyword::kContinue},
      {"define", Keyword::kDefine}, {"else", Keyword::kElse},   {"end", Keyword::kEnd},
      {"if", Keyword::kIf},         {"range", Keyword::kRange}, {"template", Keyword::kTemplate},
      {"with", Keyword::kWith},
  };
  for (const auto& [w, k] : kWords) {
    if (t.text == w) return k;
  }
  return Keyword::kNone;
}

// Go's item.String(): keywords as <word>, long values truncated, others quoted.
std::string TokenString(const Token& t) {
  if (t.type == TokenType::kEof) return "EOF";
  if (t.type == TokenType::kDot) return "<.>";
  if (KeywordOf(t) != Keyword::kNone) return "<" + t.text + ">";
  std::string_view v = t.text;
  const bool truncated = v.size() > 10;
  if (truncated) v = v.substr(0, 10);
  return GoQuote(v) + (truncated ? "..." : "");
}

// What ended an item list.
enum class Stop : std::uint8_t { kEof, kEnd, kElse };

class Parser {
 public:
  Parser(std::string_view name, std::vector<Token> tokens, const FunctionMap& funcs,
         ParsedTree& tree)
      : name_(name), tokens_(std::move(tokens)), funcs_(funcs), tree_(tree) {}

  Status Run() {
    NodeList root;
    vars_ = {"$"};
    while (Peek().type != TokenType::kEof) {
      if (Peek().type == TokenType::kLeftDelim && KeywordOf(PeekAt(1)) == Keyword::kDefine) {
        Next();
        Next();
        COFFER_RETURN_IF_ERROR(ParseDefinition());
        continue;
      }
      bool is_end = false;
      bool is_else = false;
      auto node = TextOrAction(&is_end, &is_else);
      if (!node.ok()) return node.status();
      if (is_end) return Error("unexpected {{end}}");
      if (is_else) return Error("unexpected {{else}}");
      root.push_back(std::move(*node));
    }
    return Add(std::string(name_), std::move(root));
  }

 private:
  // ---- tokens ----
  const Token& Peek() const { return tokens_[std::min(pos_, tokens_.size() - 1)]; }
  const Token& PeekAt(size_t ahead) const {
    return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() {
    const Token& t = Peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    last_line_ = t.line;
    return t;
  }
  Status Error(const std::string& what) const { return ErrorAtLine(last_line_, what); }
  Status ErrorAtLine(int line, const std::string& what) const {
    return Status::InvalidArgument("template: " + std::string(name_) + ":" + std::to_string(line) +
                                   ": " + what);
  }
  Status Unexpected(const Token& t, std::string_view context) const {
    return ErrorAtLine(t.line, "unexpected " + TokenString(t) + " in " + std::string(context));
  }
  Status Expect(TokenType type, std::string_view context, const Token** out = nullptr) {
    const Token& t = Next();
    if (t.type != type) return Unexpected(t, context);
    if (out != nullptr) *out = &t;
    return Status::Ok();
  }

  // ---- templates ----
  static bool IsEmptyList(const NodeList& list) {
    for (const auto& n : list) {
      if (n->type != Node::Type::kText) return false;
      for (char c : n->text) {
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f') {
          return false;
        }
      }
    }
    return true;
  }
  Status Add(std::string name, NodeList list) {
    auto it = tree_.templates.find(name);
    if (it == tree_.templates.end() || IsEmptyList(it->second)) {
      tree_.templates[name] = std::move(list);
      return Status::Ok();
    }
    if (!IsEmptyList(list)) {
      return Error("template: multiple definition of template " + GoQuote(name));
    }
    return Status::Ok();
  }

  Result<std::string> TemplateName(const Token& t, std::string_view context) {
    if (t.type != TokenType::kString && t.type != TokenType::kRawString) {
      return Unexpected(t, context);
    }
    auto s = UnquoteString(t.text);
    if (!s) return ErrorAtLine(t.line, "invalid syntax");
    return *s;
  }

  // After "{{define": "name" }} list {{end}}.
  Status ParseDefinition() {
    const Token& t = Next();
    if (t.type != TokenType::kString && t.type != TokenType::kRawString) {
      return Unexpected(t, "define clause");
    }
    COFFER_ASSIGN_OR_RETURN(std::string name, TemplateName(t, "define clause"));
    COFFER_RETURN_IF_ERROR(Expect(TokenType::kRightDelim, "define clause"));
    std::vector<std::string> saved_vars = std::move(vars_);
    const int saved_range = range_depth_;
    vars_ = {"$"};
    range_depth_ = 0;
    NodeList list;
    COFFER_ASSIGN_OR_RETURN(Stop stop, ItemList(list));
    if (stop != Stop::kEnd) {
      return Error(std::string("unexpected ") + (stop == Stop::kElse ? "{{else}}" : "EOF") +
                   " in define clause");
    }
    vars_ = std::move(saved_vars);
    range_depth_ = saved_range;
    return Add(std::move(name), std::move(list));
  }

  // Parses nodes until {{end}}, {{else}} or EOF (an error at EOF).
  Result<Stop> ItemList(NodeList& list) {
    if (++depth_ > kMaxParseDepth) return Error("max expression depth exceeded");
    while (Peek().type != TokenType::kEof) {
      bool is_end = false;
      bool is_else = false;
      COFFER_ASSIGN_OR_RETURN(auto node, TextOrAction(&is_end, &is_else));
      if (is_end || is_else) {
        --depth_;
        return is_end ? Stop::kEnd : Stop::kElse;
      }
      list.push_back(std::move(node));
    }
    return ErrorAtLine(Peek().line, "unexpected EOF");
  }

  Result<std::unique_ptr<Node>> TextOrAction(bool* is_end, bool* is_else) {
    const Token& t = Next();
    if (t.type == TokenType::kText) {
      auto n = std::make_unique<Node>();
      n->type = Node::Type::kText;
      n->pos = t.pos;
      n->line = t.line;
      n->text = t.text;
      return n;
    }
    if (t.type == TokenType::kLeftDelim) return Action(is_end, is_else);
    return Unexpected(t, "input");
  }

  Result<std::unique_ptr<Node>> Action(bool* is_end, bool* is_else) {
    const Token& t = Peek();
    switch (KeywordOf(t)) {
      case Keyword::kBlock:
        Next();
        return BlockControl();
      case Keyword::kBreak:
      case Keyword::kContinue: {
        Next();
        const bool is_break = KeywordOf(t) == Keyword::kBreak;
        const char* what = is_break ? "{{break}}" : "{{continue}}";
        const Token& close = Next();
        if (close.type != TokenType::kRightDelim) return Unexpected(close, what);
        if (range_depth_ == 0) {
          return Error(std::string(what) + " outside {{range}}");
        }
        auto n = std::make_unique<Node>();
        n->type = is_break ? Node::Type::kBreak : Node::Type::kContinue;
        n->pos = t.pos;
        n->line = t.line;
        return n;
      }
      case Keyword::kElse:
        Next();
        // "{{else if" / "{{else with": leave the keyword for the enclosing control.
        if (KeywordOf(Peek()) != Keyword::kIf && KeywordOf(Peek()) != Keyword::kWith) {
          COFFER_RETURN_IF_ERROR(Expect(TokenType::kRightDelim, "else"));
        }
        *is_else = true;
        return std::unique_ptr<Node>();
      case Keyword::kEnd:
        Next();
        COFFER_RETURN_IF_ERROR(Expect(TokenType::kRightDelim, "end"));
        *is_end = true;
        return std::unique_ptr<Node>();
      case Keyword::kIf:
        Next();
        return Control(Node::Type::kIf, "if");
      case Keyword::kRange:
        Next();
        return Control(Node::Type::kRange, "range");
      case Keyword::kWith:
        Next();
        return Control(Node::Type::kWith, "with");
      case Keyword::kTemplate:
        Next();
        return TemplateControl();
      case Keyword::kDefine:
      case Keyword::kNone:
        break;
    }
    auto n = std::make_unique<Node>();
    n->type = Node::Type::kAction;
    n->pos = t.pos;
    n->line = t.line;
    COFFER_ASSIGN_OR_RETURN(n->pipe, Pipeline("command", TokenType::kRightDelim));
    return n;
  }

  Result<std::unique_ptr<Node>> Control(Node::Type type, const char* context) {
    const size_t saved_vars = vars_.size();
    auto n = std::make_unique<Node>();
    n->type = type;
    COFFER_ASSIGN_OR_RETURN(n->pipe, Pipeline(context, TokenType::kRightDelim));
    n->pos = n->pipe->pos;
    n->line = n->pipe->line;
    if (type == Node::Type::kRange) ++range_depth_;
    COFFER_ASSIGN_OR_RETURN(Stop stop, ItemList(n->list));
    if (type == Node::Type::kRange) --range_depth_;
    if (stop == Stop::kElse) {
      n->has_else = true;
      const Keyword next = KeywordOf(Peek());
      // "{{else if ...}}" inside an if and "{{else with ...}}" inside a with chain into a
      // nested control that shares this one's {{end}}.
      if ((type == Node::Type::kIf && next == Keyword::kIf) ||
          (type == Node::Type::kWith && next == Keyword::kWith)) {
        Next();
        if (++depth_ > kMaxParseDepth) return Error("max expression depth exceeded");
        COFFER_ASSIGN_OR_RETURN(auto nested, Control(type, context));
        --depth_;
        n->else_list.push_back(std::move(nested));
      } else if (next == Keyword::kIf || next == Keyword::kWith) {
        const Token& t = Next();
        return Unexpected(t, "input");
      } else {
        COFFER_ASSIGN_OR_RETURN(Stop stop2, ItemList(n->else_list));
        if (stop2 != Stop::kEnd) return Error("expected end; found {{else}}");
      }
    }
    vars_.resize(saved_vars);
    return n;
  }

  Result<std::unique_ptr<Node>> TemplateControl() {
    const Token& t = Next();
    COFFER_ASSIGN_OR_RETURN(std::string name, TemplateName(t, "template clause"));
    auto n = std::make_unique<Node>();
    n->type = Node::Type::kTemplate;
    n->pos = t.pos;
    n->line = t.line;
    n->text = std::move(name);
    if (Peek().type != TokenType::kRightDelim) {
      COFFER_ASSIGN_OR_RETURN(n->pipe, Pipeline("template clause", TokenType::kRightDelim));
    } else {
      Next();
    }
    return n;
  }

  // {{block "name" pipeline}} list {{end}}: defines "name" and executes it in place.
  Result<std::unique_ptr<Node>> BlockControl() {
    const Token& t = Next();
    COFFER_ASSIGN_OR_RETURN(std::string name, TemplateName(t, "block clause"));
    auto n = std::make_unique<Node>();
    n->type = Node::Type::kTemplate;
    n->pos = t.pos;
    n->line = t.line;
    n->text = name;
    COFFER_ASSIGN_OR_RETURN(n->pipe, Pipeline("block clause", TokenType::kRightDelim));
    std::vector<std::string> saved_vars = std::move(vars_);
    const int saved_range = range_depth_;
    vars_ = {"$"};
    range_depth_ = 0;
    NodeList list;
    COFFER_ASSIGN_OR_RETURN(Stop stop, ItemList(list));
    if (stop != Stop::kEnd) return Error("unexpected {{else}} in block clause");
    vars_ = std::move(saved_vars);
    range_depth_ = saved_range;
    COFFER_RETURN_IF_ERROR(Add(std::move(name), std::move(list)));
    return n;
  }

  // ---- pipelines ----
  Result<std::unique_ptr<Pipe>> Pipeline(const std::string& context, TokenType end) {
    if (++depth_ > kMaxParseDepth) return Error("max expression depth exceeded");
    auto pipe = std::make_unique<Pipe>();
    pipe->pos = Peek().pos;
    pipe->line = Peek().line;
    // Declarations: $x := / $x = / (range) $i, $v :=.
    while (Peek().type == TokenType::kVariable) {
      const Token& v = Peek();
      const Token& after = PeekAt(1);
      if (after.type == TokenType::kDeclare || after.type == TokenType::kAssign) {
        Next();
        Next();
        pipe->is_assign = after.type == TokenType::kAssign;
        pipe->decl.push_back(v.text);
        break;
      }
      if (after.type == TokenType::kComma) {
        Next();
        Next();
        pipe->decl.push_back(v.text);
        if (context == "range" && pipe->decl.size() < 2) {
          const TokenType nt = Peek().type;
          if (nt == TokenType::kVariable || nt == TokenType::kRightDelim ||
              nt == TokenType::kRightParen) {
            continue;
          }
          return Error("range can only initialize variables");
        }
        return Error("too many declarations in " + context);
      }
      break;
    }
    if (!pipe->decl.empty() && !pipe->is_assign) {
      for (const auto& d : pipe->decl) vars_.push_back(d);
    } else if (pipe->is_assign) {
      for (const auto& d : pipe->decl) {
        if (!HasVar(d)) return Error("undefined variable " + GoQuote(d));
      }
    }
    while (true) {
      const Token& t = Peek();
      if (t.type == end) {
        Next();
        break;
      }
      switch (t.type) {
        case TokenType::kIdentifier:
        case TokenType::kField:
        case TokenType::kDot:
        case TokenType::kVariable:
        case TokenType::kString:
        case TokenType::kRawString:
        case TokenType::kChar:
        case TokenType::kNumber:
        case TokenType::kLeftParen: {
          if (KeywordOf(t) != Keyword::kNone) return Unexpected(Next(), context);
          COFFER_ASSIGN_OR_RETURN(Command cmd, ParseCommand());
          pipe->cmds.push_back(std::move(cmd));
          break;
        }
        default:
          return Unexpected(Next(), context);
      }
    }
    if (pipe->cmds.empty()) return Error("missing value for " + context);
    for (size_t i = 1; i < pipe->cmds.size(); ++i) {
      const Arg& a = pipe->cmds[i].args[0];
      if (a.type == Arg::Type::kConstant || a.type == Arg::Type::kDot ||
          a.type == Arg::Type::kNil) {
        return Error("non executable command in pipeline stage " + std::to_string(i + 1));
      }
    }
    --depth_;
    return pipe;
  }

  bool HasVar(std::string_view name) const {
    for (const auto& v : vars_) {
      if (v == name) return true;
    }
    return false;
  }

  Result<Command> ParseCommand() {
    Command cmd;
    cmd.pos = Peek().pos;
    while (true) {
      COFFER_ASSIGN_OR_RETURN(std::optional<Arg> operand, Operand());
      if (operand) cmd.args.push_back(std::move(*operand));
      const Token& t = Peek();
      if (t.type == TokenType::kRightDelim || t.type == TokenType::kRightParen) break;
      if (t.type == TokenType::kPipe) {
        Next();
        break;
      }
      if (!operand || !t.space_before) return Unexpected(Next(), "operand");
    }
    if (cmd.args.empty()) return Error("empty command");
    return cmd;
  }

  Result<std::optional<Arg>> Operand() {
    COFFER_ASSIGN_OR_RETURN(std::optional<Arg> term, Term());
    if (!term) return term;
    if (Peek().type == TokenType::kField && !Peek().space_before) {
      const int chain_pos = Peek().pos;
      switch (term->type) {
        case Arg::Type::kConstant:
        case Arg::Type::kNil:
        case Arg::Type::kDot:
          return Error("unexpected . after term " + GoQuote(term->String()));
        default:
          break;
      }
      while (Peek().type == TokenType::kField && !Peek().space_before) {
        term->fields.push_back(Next().text.substr(1));
      }
      // Go turns a chain on a field or variable into a longer field or variable at the chain's
      // position; other chained terms keep their own.
      if (term->type == Arg::Type::kField || term->type == Arg::Type::kVariable) {
        term->pos = chain_pos;
      }
      term->fields_pos = chain_pos;
    }
    return term;
  }

  Result<std::optional<Arg>> Term() {
    const Token& t = Peek();
    Arg a;
    a.pos = t.pos;
    switch (t.type) {
      case TokenType::kIdentifier: {
        if (KeywordOf(t) != Keyword::kNone) return std::optional<Arg>();
        Next();
        if (t.text == "true" || t.text == "false") {
          a.type = Arg::Type::kConstant;
          a.text = t.text;
          a.constant = Value(t.text == "true");
          return std::optional<Arg>(std::move(a));
        }
        if (t.text == "nil") {
          a.type = Arg::Type::kNil;
          return std::optional<Arg>(std::move(a));
        }
        if (!IsBuiltinName(t.text) && funcs_.Find(t.text) == nullptr) {
          return ErrorAtLine(t.line, "function " + GoQuote(t.text) + " not defined");
        }
        a.type = Arg::Type::kIdentifier;
        a.text = t.text;
        return std::optional<Arg>(std::move(a));
      }
      case TokenType::kDot:
        Next();
        a.type = Arg::Type::kDot;
        return std::optional<Arg>(std::move(a));
      case TokenType::kVariable:
        Next();
        if (!HasVar(t.text)) {
          return ErrorAtLine(t.line, "undefined variable " + GoQuote(t.text));
        }
        a.type = Arg::Type::kVariable;
        a.text = t.text;
        return std::optional<Arg>(std::move(a));
      case TokenType::kField:
        Next();
        a.type = Arg::Type::kField;
        a.fields_pos = t.pos;
        a.fields.push_back(t.text.substr(1));
        return std::optional<Arg>(std::move(a));
      case TokenType::kNumber:
      case TokenType::kChar: {
        Next();
        a.type = Arg::Type::kConstant;
        a.is_number = true;
        a.text = t.text;
        auto n = t.type == TokenType::kChar ? ParseCharConstant(t.text) : ParseNumber(t.text);
        if (!n.ok()) return ErrorAtLine(t.line, n.status().message());
        a.constant = n->value;
        a.overflows_int = n->overflows_int;
        return std::optional<Arg>(std::move(a));
      }
      case TokenType::kString:
      case TokenType::kRawString: {
        Next();
        auto s = UnquoteString(t.text);
        if (!s) return ErrorAtLine(t.line, "invalid syntax");
        a.type = Arg::Type::kConstant;
        a.text = t.text;
        a.constant = Value(std::move(*s));
        return std::optional<Arg>(std::move(a));
      }
      case TokenType::kLeftParen: {
        Next();
        a.type = Arg::Type::kPipe;
        COFFER_ASSIGN_OR_RETURN(a.pipe, Pipeline("parenthesized pipeline", TokenType::kRightParen));
        return std::optional<Arg>(std::move(a));
      }
      default:
        return std::optional<Arg>();
    }
  }

  std::string_view name_;
  std::vector<Token> tokens_;
  const FunctionMap& funcs_;
  ParsedTree& tree_;
  size_t pos_ = 0;
  int last_line_ = 1;
  std::vector<std::string> vars_;
  int range_depth_ = 0;
  int depth_ = 0;
};

void AppendFields(std::string& out, const std::vector<std::string>& fields) {
  for (const auto& f : fields) out += "." + f;
}

}  // namespace

bool IsBuiltinName(std::string_view name) { return FindBuiltin(name) != nullptr; }

std::string Arg::String() const {
  std::string out;
  switch (type) {
    case Type::kDot:
      out = ".";
      break;
    case Type::kNil:
      out = "nil";
      break;
    case Type::kConstant:
    case Type::kVariable:
    case Type::kIdentifier:
      out = text;
      break;
    case Type::kField:
      break;
    case Type::kPipe:
      out = "(" + pipe->String() + ")";
      break;
  }
  AppendFields(out, fields);
  return out;
}

std::string Command::String() const {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += " ";
    out += args[i].String();
  }
  return out;
}

std::string Pipe::String() const {
  std::string out;
  for (size_t i = 0; i < decl.size(); ++i) {
    if (i > 0) out += ", ";
    out += decl[i];
  }
  if (!decl.empty()) out += is_assign ? " = " : " := ";
  for (size_t i = 0; i < cmds.size(); ++i) {
    if (i > 0) out += " | ";
    out += cmds[i].String();
  }
  return out;
}

namespace {
std::string ListString(const NodeList& list) {
  std::string out;
  for (const auto& n : list) out += n->String();
  return out;
}
}  // namespace

std::string Node::String() const {
  switch (type) {
    case Type::kText:
      return GoQuote(text);
    case Type::kAction:
      return "{{" + pipe->String() + "}}";
    case Type::kIf:
    case Type::kRange:
    case Type::kWith: {
      const char* word = type == Type::kIf ? "if" : type == Type::kRange ? "range" : "with";
      std::string out = std::string("{{") + word + " " + pipe->String() + "}}" + ListString(list);
      if (has_else) out += "{{else}}" + ListString(else_list);
      return out + "{{end}}";
    }
    case Type::kTemplate:
      if (pipe == nullptr) return "{{template " + GoQuote(text) + "}}";
      return "{{template " + GoQuote(text) + " " + pipe->String() + "}}";
    case Type::kBreak:
      return "{{break}}";
    case Type::kContinue:
      return "{{continue}}";
  }
  return "";
}

Result<std::shared_ptr<ParsedTree>> ParseTree(std::string_view name, std::string_view text,
                                              const FunctionMap& funcs, std::string_view left_delim,
                                              std::string_view right_delim) {
  COFFER_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(name, text, left_delim, right_delim));
  auto tree = std::make_shared<ParsedTree>();
  tree->parse_name = std::string(name);
  tree->text = std::string(text);
  Parser parser(name, std::move(tokens), funcs, *tree);
  COFFER_RETURN_IF_ERROR(parser.Run());
  return tree;
}

}  // namespace coffer::tmpl::internal
