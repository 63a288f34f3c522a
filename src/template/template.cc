#include "template/template.h"

#include <utility>
#include <vector>

#include "template/builtins.h"
#include "template/format.h"
#include "template/literal.h"
#include "template/parse.h"

namespace coffer::tmpl {
namespace {

using internal::Arg;
using internal::Command;
using internal::Node;
using internal::NodeList;
using internal::Pipe;

// Limits against runaway templates (Go has only a depth limit of 100000).
constexpr size_t kMaxOutputBytes = 16U << 20;
constexpr int kMaxDepth = 1000;
constexpr std::int64_t kMaxSteps = 10'000'000;

enum class Flow : std::uint8_t { kNormal, kBreak, kContinue };

// The size of a function result's text (strings and bytes), to cap values built in loops.
size_t ResultSize(const Value& v) {
  switch (v.kind()) {
    case Kind::kString:
      return v.AsString().size();
    case Kind::kBytes:
      return v.AsBytes().data.size();
    default:
      return 0;
  }
}

class Executor {
 public:
  Executor(const ParsedTree& tree, const FunctionMap& funcs, const ParseOptions& options)
      : tree_(tree), funcs_(funcs), options_(options) {}

  Result<std::string> Run(std::string_view name, const Value& data) {
    auto it = tree_.templates.find(name);
    if (it == tree_.templates.end()) {
      return Status::InvalidArgument("template: no template " + internal::GoQuote(name) +
                                     " associated with template " +
                                     internal::GoQuote(tree_.parse_name));
    }
    current_ = std::string(name);
    vars_.emplace_back("$", data);
    COFFER_ASSIGN_OR_RETURN(Flow flow, WalkList(data, it->second));
    (void)flow;
    return std::move(out_);
  }

 private:
  // "template: <parse name>:<line>:<col>: executing "<name>" at <<context>>: <what>".
  Status Fail(int pos, const std::string& context, const std::string& what) const {
    const std::string_view text = tree_.text;
    const size_t p = std::min(static_cast<size_t>(std::max(pos, 0)), text.size());
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < p; ++i) {
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return Status::InvalidArgument("template: " + tree_.parse_name + ":" + std::to_string(line) +
                                   ":" + std::to_string(p - line_start) + ": executing " +
                                   internal::GoQuote(current_) + " at <" + context + ">: " + what);
  }

  Status Step(const Node& node) {
    if (++steps_ > kMaxSteps) {
      return Fail(node.pos, node.String(),
                  "execution exceeds the limit of " + std::to_string(kMaxSteps) + " steps");
    }
    return Status::Ok();
  }

  Status Write(const Node& node, std::string_view s) {
    if (out_.size() + s.size() > kMaxOutputBytes) {
      return Fail(node.pos, node.String(),
                  "output exceeds the limit of " + std::to_string(kMaxOutputBytes) + " bytes");
    }
    out_ += s;
    return Status::Ok();
  }

  Result<Flow> WalkList(const Value& dot, const NodeList& list) {
    for (const auto& node : list) {
      COFFER_ASSIGN_OR_RETURN(Flow flow, Walk(dot, *node));
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Result<Flow> Walk(const Value& dot, const Node& node) {
    COFFER_RETURN_IF_ERROR(Step(node));
    switch (node.type) {
      case Node::Type::kText:
        COFFER_RETURN_IF_ERROR(Write(node, node.text));
        return Flow::kNormal;
      case Node::Type::kAction: {
        COFFER_ASSIGN_OR_RETURN(Value v, EvalPipeline(dot, *node.pipe));
        if (node.pipe->decl.empty()) {
          std::string s;
          if (v.is_nil()) {
            s = "<no value>";
          } else {
            internal::AppendValue(s, v);
          }
          COFFER_RETURN_IF_ERROR(Write(node, s));
        }
        return Flow::kNormal;
      }
      case Node::Type::kIf:
      case Node::Type::kWith:
        return WalkIfOrWith(dot, node);
      case Node::Type::kRange:
        return WalkRange(dot, node);
      case Node::Type::kTemplate:
        COFFER_RETURN_IF_ERROR(WalkTemplate(dot, node));
        return Flow::kNormal;
      case Node::Type::kBreak:
        return Flow::kBreak;
      case Node::Type::kContinue:
        return Flow::kContinue;
    }
    return Flow::kNormal;
  }

  Status Enter(const Node& node) {
    if (++depth_ > kMaxDepth) {
      return Fail(node.pos, node.String(),
                  "exceeded maximum template depth (" + std::to_string(kMaxDepth) + ")");
    }
    return Status::Ok();
  }

  Result<Flow> WalkIfOrWith(const Value& dot, const Node& node) {
    COFFER_RETURN_IF_ERROR(Enter(node));
    const size_t mark = vars_.size();
    COFFER_ASSIGN_OR_RETURN(Value v, EvalPipeline(dot, *node.pipe));
    Result<Flow> flow = Flow::kNormal;
    if (v.Truthy()) {
      flow = WalkList(node.type == Node::Type::kWith ? v : dot, node.list);
    } else if (node.has_else) {
      flow = WalkList(dot, node.else_list);
    }
    vars_.resize(mark);
    --depth_;
    return flow;
  }

  Result<Flow> WalkRange(const Value& dot, const Node& node) {
    COFFER_RETURN_IF_ERROR(Enter(node));
    const size_t mark = vars_.size();
    const Pipe& pipe = *node.pipe;
    COFFER_ASSIGN_OR_RETURN(Value val, EvalPipeline(dot, pipe));
    const size_t body_mark = vars_.size();
    bool any = false;
    // One iteration: set the range variables, walk the body, drop the body's variables.
    auto iteration = [&](const Value& index, const Value& elem) -> Result<Flow> {
      any = true;
      COFFER_RETURN_IF_ERROR(Step(node));
      if (!pipe.decl.empty()) {
        if (pipe.is_assign) {
          SetVar(pipe.decl[0], pipe.decl.size() > 1 ? index : elem);
          if (pipe.decl.size() > 1) SetVar(pipe.decl[1], elem);
        } else {
          vars_[body_mark - 1].second = elem;
          if (pipe.decl.size() > 1) vars_[body_mark - 2].second = index;
        }
      }
      Result<Flow> flow = WalkList(elem, node.list);
      vars_.resize(body_mark);
      return flow;
    };
    Status status = Status::Ok();
    auto run = [&](const Value& index, const Value& elem) -> bool {
      Result<Flow> flow = iteration(index, elem);
      if (!flow.ok()) {
        status = flow.status();
        return false;
      }
      return *flow != Flow::kBreak;
    };
    switch (val.kind()) {
      case Kind::kList: {
        const List& list = val.AsList();
        for (size_t i = 0; i < list.size(); ++i) {
          if (!run(Value(static_cast<std::int64_t>(i)), list[i])) break;
        }
        break;
      }
      case Kind::kMap:
        for (const auto& [k, e] : val.AsMap()) {
          if (!run(Value(k), e)) break;
        }
        break;
      case Kind::kBytes: {
        const std::string& data = val.AsBytes().data;
        for (size_t i = 0; i < data.size(); ++i) {
          if (!run(Value(static_cast<std::int64_t>(i)),
                   Value(static_cast<std::int64_t>(static_cast<unsigned char>(data[i]))))) {
            break;
          }
        }
        break;
      }
      case Kind::kInt: {
        if (pipe.decl.size() > 1) {
          status = Fail(pipe.cmds.back().pos, pipe.cmds.back().String(),
                        "can't use int to iterate over more than one variable");
          break;
        }
        for (std::int64_t i = 0; i < val.AsInt(); ++i) {
          if (!run(Value(i), Value(i))) break;
        }
        break;
      }
      case Kind::kNil:
        break;
      default:
        status = Fail(pipe.cmds.back().pos, pipe.cmds.back().String(),
                      std::string("range can't iterate over type ") + internal::GoTypeName(val));
        break;
    }
    if (!status.ok()) return status;
    Result<Flow> flow = Flow::kNormal;
    if (!any && node.has_else) flow = WalkList(dot, node.else_list);
    vars_.resize(mark);
    --depth_;
    if (!flow.ok()) return flow.status();
    return Flow::kNormal;
  }

  Status WalkTemplate(const Value& dot, const Node& node) {
    auto it = tree_.templates.find(node.text);
    if (it == tree_.templates.end()) {
      return Fail(node.pos, node.String(),
                  "template " + internal::GoQuote(node.text) + " not defined");
    }
    COFFER_RETURN_IF_ERROR(Enter(node));
    Value new_dot;
    if (node.pipe != nullptr) {
      COFFER_ASSIGN_OR_RETURN(new_dot, EvalPipeline(dot, *node.pipe));
    }
    std::vector<std::pair<std::string, Value>> saved_vars;
    saved_vars.swap(vars_);
    vars_.emplace_back("$", new_dot);
    std::string saved_name = std::exchange(current_, node.text);
    Result<Flow> flow = WalkList(new_dot, it->second);
    current_ = std::move(saved_name);
    vars_.swap(saved_vars);
    --depth_;
    return flow.status();
  }

  // ---- variables ----
  const Value* FindVar(std::string_view name) const {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->first == name) return &it->second;
    }
    return nullptr;
  }
  void SetVar(const std::string& name, const Value& v) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->first == name) {
        it->second = v;
        return;
      }
    }
  }

  // ---- pipelines ----
  Result<Value> EvalPipeline(const Value& dot, const Pipe& pipe) {
    Value value;
    bool have_final = false;
    for (const auto& cmd : pipe.cmds) {
      COFFER_ASSIGN_OR_RETURN(value, EvalCommand(dot, cmd, have_final ? &value : nullptr));
      have_final = true;
    }
    for (const auto& name : pipe.decl) {
      if (pipe.is_assign) {
        SetVar(name, value);
      } else {
        vars_.emplace_back(name, value);
      }
    }
    return value;
  }

  Status NotAFunction(const Command& cmd, const Value* final) const {
    if (cmd.args.size() > 1 || final != nullptr) {
      return Fail(cmd.args[0].pos, cmd.args[0].String(),
                  "can't give argument to non-function " + cmd.args[0].String());
    }
    return Status::Ok();
  }

  Result<Value> EvalCommand(const Value& dot, const Command& cmd, const Value* final) {
    const Arg& first = cmd.args[0];
    const bool has_args = cmd.args.size() > 1 || final != nullptr;
    switch (first.type) {
      case Arg::Type::kField:
        return EvalFields(first, dot, false, has_args);
      case Arg::Type::kVariable: {
        const Value* v = FindVar(first.text);
        if (v == nullptr) {
          return Fail(first.pos, first.String(), "undefined variable: " + first.text);
        }
        if (first.fields.empty()) {
          COFFER_RETURN_IF_ERROR(NotAFunction(cmd, final));
          return *v;
        }
        return EvalFields(first, *v, false, has_args);
      }
      case Arg::Type::kPipe: {
        if (first.fields.empty()) {
          COFFER_RETURN_IF_ERROR(NotAFunction(cmd, final));
          return EvalPipeline(dot, *first.pipe);
        }
        COFFER_ASSIGN_OR_RETURN(Value base, EvalPipeline(dot, *first.pipe));
        return EvalFields(first, base, false, has_args);
      }
      case Arg::Type::kIdentifier:
        if (first.fields.empty()) return CallFunction(dot, first, cmd, final);
        {
          COFFER_ASSIGN_OR_RETURN(Value base, CallBare(dot, first));
          return EvalFields(first, base, false, has_args);
        }
      case Arg::Type::kNil:
        COFFER_RETURN_IF_ERROR(NotAFunction(cmd, final));
        return Fail(first.pos, "nil", "nil is not a command");
      case Arg::Type::kDot:
        COFFER_RETURN_IF_ERROR(NotAFunction(cmd, final));
        return dot;
      case Arg::Type::kConstant:
        COFFER_RETURN_IF_ERROR(NotAFunction(cmd, final));
        return Constant(first);
    }
    return Value();
  }

  Result<Value> Constant(const Arg& arg) const {
    if (arg.overflows_int) return Fail(arg.pos, arg.String(), arg.text + " overflows int");
    return arg.constant;
  }

  // Walks arg.fields from `receiver`. Missing keys yield nil (or an error under
  // missing_key_error); a present nil in the middle of a chain is Go's nil interface.
  Result<Value> EvalFields(const Arg& arg, const Value& receiver, bool receiver_is_nil_interface,
                           bool has_args) {
    const Value* cur = &receiver;
    bool nil_interface = receiver_is_nil_interface;
    bool invalid = receiver.is_nil() && !nil_interface;
    for (size_t i = 0; i < arg.fields.size(); ++i) {
      const std::string& name = arg.fields[i];
      const bool last = i + 1 == arg.fields.size();
      if (invalid) {
        if (options_.missing_key_error) {
          return Fail(arg.fields_pos, arg.String(),
                      "nil data; no entry for key " + internal::GoQuote(name));
        }
        return Value();
      }
      if (nil_interface) {
        return Fail(arg.fields_pos, arg.String(), "nil pointer evaluating interface {}." + name);
      }
      if (cur->kind() != Kind::kMap) {
        return Fail(arg.fields_pos, arg.String(),
                    "can't evaluate field " + name + " in type " + internal::GoTypeName(*cur));
      }
      if (last && has_args) {
        return Fail(arg.fields_pos, arg.String(), name + " is not a method but has arguments");
      }
      const Map& m = cur->AsMap();
      auto it = m.find(name);
      if (it == m.end()) {
        if (options_.missing_key_error) {
          return Fail(arg.fields_pos, arg.String(),
                      "map has no entry for key " + internal::GoQuote(name));
        }
        invalid = true;
        continue;
      }
      cur = &it->second;
      nil_interface = cur->is_nil();
    }
    if (invalid) return Value();
    return *cur;
  }

  // An operand as a function argument.
  Result<Value> EvalArg(const Value& dot, const Arg& arg) {
    switch (arg.type) {
      case Arg::Type::kDot:
        return dot;
      case Arg::Type::kNil:
        return Value();
      case Arg::Type::kConstant:
        return Constant(arg);
      case Arg::Type::kField:
        return EvalFields(arg, dot, false, false);
      case Arg::Type::kVariable: {
        const Value* v = FindVar(arg.text);
        if (v == nullptr) return Fail(arg.pos, arg.String(), "undefined variable: " + arg.text);
        if (arg.fields.empty()) return *v;
        return EvalFields(arg, *v, false, false);
      }
      case Arg::Type::kPipe: {
        COFFER_ASSIGN_OR_RETURN(Value v, EvalPipeline(dot, *arg.pipe));
        if (arg.fields.empty()) return v;
        return EvalFields(arg, v, false, false);
      }
      case Arg::Type::kIdentifier: {
        COFFER_ASSIGN_OR_RETURN(Value v, CallBare(dot, arg));
        if (arg.fields.empty()) return v;
        return EvalFields(arg, v, false, false);
      }
    }
    return Value();
  }

  // Calls the function `ident` names without arguments (an operand, or the term of a chain).
  Result<Value> CallBare(const Value& dot, const Arg& ident) {
    Command bare;
    bare.pos = ident.pos;
    Arg name;
    name.type = Arg::Type::kIdentifier;
    name.pos = ident.pos;
    name.text = ident.text;
    bare.args.push_back(std::move(name));
    return CallFunction(dot, bare.args[0], bare, nullptr);
  }

  Result<Value> CallFunction(const Value& dot, const Arg& ident, const Command& cmd,
                             const Value* final) {
    const std::string& name = ident.text;
    const Function* user = funcs_.Find(name);
    const internal::Builtin* builtin = user == nullptr ? internal::FindBuiltin(name) : nullptr;
    if (user == nullptr && builtin == nullptr) {
      return Fail(ident.pos, ident.String(),
                  internal::GoQuote(name) + " is not a defined function");
    }
    const size_t nargs = cmd.args.empty() ? 0 : cmd.args.size() - 1;
    const size_t num_in = nargs + (final != nullptr ? 1 : 0);
    if (builtin != nullptr) {
      if (builtin->max_args < 0) {
        if (num_in < static_cast<size_t>(builtin->min_args)) {
          return Fail(ident.pos, ident.String(),
                      "wrong number of args for " + name + ": want at least " +
                          std::to_string(builtin->min_args) + " got " + std::to_string(nargs));
        }
      } else if (num_in != static_cast<size_t>(builtin->max_args)) {
        return Fail(ident.pos, ident.String(),
                    "wrong number of args for " + name + ": want " +
                        std::to_string(builtin->max_args) + " got " + std::to_string(num_in));
      }
      if (builtin->fn == nullptr) {  // and, or: evaluate lazily, return the deciding operand
        const bool is_or = name == "or";
        Value v;
        for (size_t i = 1; i < cmd.args.size(); ++i) {
          COFFER_ASSIGN_OR_RETURN(v, EvalArg(dot, cmd.args[i]));
          if (v.Truthy() == is_or) return v;
        }
        if (final != nullptr) v = *final;
        return v;
      }
    }
    std::vector<Value> args;
    args.reserve(num_in);
    for (size_t i = 1; i < cmd.args.size(); ++i) {
      COFFER_ASSIGN_OR_RETURN(Value v, EvalArg(dot, cmd.args[i]));
      if (i == 1 && builtin != nullptr && name == "printf" && v.kind() != Kind::kString) {
        const Arg& a = cmd.args[i];
        if (a.type == Arg::Type::kConstant) {
          return Fail(a.pos, a.String(), "expected string; found " + a.String());
        }
        if (v.is_nil()) return Fail(a.pos, a.String(), "invalid value; expected string");
        return Fail(
            a.pos, a.String(),
            std::string("wrong type for value; expected string; got ") + internal::GoTypeName(v));
      }
      args.push_back(std::move(v));
    }
    if (final != nullptr) {
      if (args.empty() && builtin != nullptr && name == "printf" &&
          final->kind() != Kind::kString) {
        if (final->is_nil()) return Fail(cmd.pos, cmd.String(), "invalid value; expected string");
        return Fail(cmd.pos, cmd.String(),
                    std::string("wrong type for value; expected string; got ") +
                        internal::GoTypeName(*final));
      }
      args.push_back(*final);
    }
    Result<Value> r = user != nullptr ? (*user)(args) : builtin->fn(args);
    if (!r.ok()) {
      return Fail(cmd.pos, cmd.String(), "error calling " + name + ": " + r.status().message());
    }
    if (ResultSize(*r) > kMaxOutputBytes) {
      return Fail(cmd.pos, cmd.String(),
                  "result of " + name + " exceeds the limit of " + std::to_string(kMaxOutputBytes) +
                      " bytes");
    }
    return r;
  }

  const ParsedTree& tree_;
  const FunctionMap& funcs_;
  const ParseOptions& options_;
  std::string out_;
  std::string current_;
  std::vector<std::pair<std::string, Value>> vars_;
  int depth_ = 0;
  std::int64_t steps_ = 0;
};

}  // namespace

Result<Template> Template::Parse(std::string_view name, std::string_view text,
                                 const FunctionMap& funcs, const ParseOptions& options) {
  const std::string_view left =
      options.left_delim.empty() ? std::string_view("{{") : std::string_view(options.left_delim);
  const std::string_view right =
      options.right_delim.empty() ? std::string_view("}}") : std::string_view(options.right_delim);
  COFFER_ASSIGN_OR_RETURN(std::shared_ptr<ParsedTree> tree,
                          internal::ParseTree(name, text, funcs, left, right));
  Template t;
  t.name_ = std::string(name);
  t.tree_ = std::move(tree);
  t.funcs_ = &funcs;
  t.options_ = options;
  return t;
}

Result<std::string> Template::Execute(const Value& data) const { return ExecuteNamed(name_, data); }

Result<std::string> Template::ExecuteNamed(std::string_view name, const Value& data) const {
  if (tree_ == nullptr || funcs_ == nullptr) {
    return Status::FailedPrecondition("template: " + name_ + ": not parsed");
  }
  Executor exec(*tree_, *funcs_, options_);
  return exec.Run(name, data);
}

}  // namespace coffer::tmpl
