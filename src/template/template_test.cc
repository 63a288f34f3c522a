#include "template/template.h"

#include <cctype>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace coffer::tmpl {
namespace {

// The data every table case runs against (the same as the Go program that produced the
// expected outputs used).
Value TestData() {
  Map m;
  m["a"] = Value();
  m["s"] = "str";
  m["n"] = 3;
  m["f"] = 1.5;
  m["t"] = true;
  m["e"] = "";
  m["z"] = 0;
  m["l"] = List{1, "x", Value()};
  m["nums"] = List{3, 1, 2};
  m["empty"] = List{};
  m["m"] = Map{{"k", "v"}, {"a", 1}, {"b", Map{{"c", "deep"}}}};
  m["secret"] = "s3cr3t";
  m["b"] = Bytes{"hi"};
  m["users"] = List{Map{{"name", "ann"}, {"age", 30}}, Map{{"name", "bob"}, {"age", 25}}};
  m["big"] = 1e21;
  m["neg"] = -7;
  m["str5"] = "5";
  return Value(std::move(m));
}

// Functions the table uses: fail always fails, echo returns its arguments as a list, up
// upper-cases the Sprint of its arguments, nothing returns nil.
const FunctionMap& TestFunctions() {
  static const FunctionMap* fns = [] {
    auto* f = new FunctionMap();
    f->Add("fail",
           [](std::span<const Value>) -> Result<Value> { return Status::InvalidArgument("boom"); });
    f->Add("echo", [](std::span<const Value> args) -> Result<Value> {
      return Value(List(args.begin(), args.end()));
    });
    f->Add("up", [](std::span<const Value> args) -> Result<Value> {
      std::string s;
      for (const auto& a : args) {
        if (a.kind() == Kind::kString) s += a.AsString();
      }
      for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return Value(s);
    });
    f->Add("nothing", [](std::span<const Value>) -> Result<Value> { return Value(); });
    return f;
  }();
  return *fns;
}

enum Mode { kDefault, kMissingKeyError, kSquare, kAngle };

struct Case {
  const char* tmpl;
  const char* want;  // expected output, or nullptr when an error is expected
  const char* err;   // expected error message
  Mode mode;
};

ParseOptions OptionsFor(Mode mode) {
  ParseOptions o;
  o.missing_key_error = mode == kMissingKeyError;
  if (mode == kSquare) {
    o.left_delim = "[[";
    o.right_delim = "]]";
  } else if (mode == kAngle) {
    o.left_delim = "<%";
    o.right_delim = "%>";
  }
  return o;
}

// Parses and executes; returns the output or "ERROR: <message>".
std::string RunTemplate(std::string_view text, Mode mode, const Value& data) {
  auto t = Template::Parse("t", text, TestFunctions(), OptionsFor(mode));
  if (!t.ok()) return "ERROR: " + t.status().message();
  auto out = t->Execute(data);
  if (!out.ok()) return "ERROR: " + out.status().message();
  return *out;
}

// Expected outputs and messages come from Go's text/template (Go 1.19/1.22 behaviour), except
// where a comment says coffer differs on purpose.
const Case kCases[] = {
    {"plain text", "plain text", nullptr, kDefault},
    {"", "", nullptr, kDefault},
    {"{{.s}}", "str", nullptr, kDefault},
    {"{{.n}} {{.f}} {{.t}} {{.z}} {{.neg}}", "3 1.5 true 0 -7", nullptr, kDefault},
    {"{{.l}}", "[1 x <nil>]", nullptr, kDefault},
    {"{{.m}}", "map[a:1 b:map[c:deep] k:v]", nullptr, kDefault},
    {"{{.b}}", "[104 105]", nullptr, kDefault},
    {"{{.users}}", "[map[age:30 name:ann] map[age:25 name:bob]]", nullptr, kDefault},
    {"{{.big}}", "1e+21", nullptr, kDefault},
    {"{{.m.b.c}}", "deep", nullptr, kDefault},
    {"{{.m.k}}-{{.m.a}}", "v-1", nullptr, kDefault},
    {"{{.a}}", "<no value>", nullptr, kDefault},
    {"{{.missing}}", "<no value>", nullptr, kDefault},
    {"{{.missing.deeper}}", "<no value>", nullptr, kDefault},
    {"{{.missing}}", nullptr,
     "template: t:1:2: executing \"t\" at <.missing>: map has no entry for key \"missing\"",
     kMissingKeyError},
    {"{{.m.nope}}", nullptr,
     "template: t:1:4: executing \"t\" at <.m.nope>: map has no entry for key \"nope\"",
     kMissingKeyError},
    {"{{.a.b}}", nullptr,
     "template: t:1:4: executing \"t\" at <.a.b>: nil pointer evaluating interface {}.b", kDefault},
    {"{{.s.x}}", nullptr,
     "template: t:1:4: executing \"t\" at <.s.x>: can't evaluate field x in type string", kDefault},
    {"{{.n.x}}", nullptr,
     "template: t:1:4: executing \"t\" at <.n.x>: can't evaluate field x in type int", kDefault},
    {"{{.}}",
     "map[a:<nil> b:[104 105] big:1e+21 e: empty:[] f:1.5 l:[1 x <nil>] m:map[a:1 b:map[c:deep] "
     "k:v] n:3 neg:-7 nums:[3 1 2] s:str secret:s3cr3t str5:5 t:true users:[map[age:30 name:ann] "
     "map[age:25 name:bob]] z:0]",
     nullptr, kDefault},
    {"{{$}}",
     "map[a:<nil> b:[104 105] big:1e+21 e: empty:[] f:1.5 l:[1 x <nil>] m:map[a:1 b:map[c:deep] "
     "k:v] n:3 neg:-7 nums:[3 1 2] s:str secret:s3cr3t str5:5 t:true users:[map[age:30 name:ann] "
     "map[age:25 name:bob]] z:0]",
     nullptr, kDefault},
    {"{{$.s}}", "str", nullptr, kDefault},
    {"{{1}} {{-2}} {{+3}} {{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{0x_ff}}",
     "1 -2 3 31 15 15 5 1000 255", nullptr, kDefault},
    {"{{1.5}} {{1e3}} {{1.0}} {{.5}} {{1e-7}} {{0x1p-2}} {{1_0.2_5}} {{123456789.0}}",
     "1.5 1000 1 0.5 1e-07 0.25 10.25 1.23456789e+08", nullptr, kDefault},
    {"{{'a'}} {{'\\n'}} {{'\\x41'}} {{'\\u00e9'}} {{'é'}}", "97 10 65 233 233", nullptr, kDefault},
    {"{{\"a\\tb\\\"c\\u00e9\\x41\\101\"}}", "a\tb\"céAA", nullptr, kDefault},
    {"{{`raw \\n string`}}", "raw \\n string", nullptr, kDefault},
    {"{{true}} {{false}}", "true false", nullptr, kDefault},
    {"{{print nil}}", "<nil>", nullptr, kDefault},
    {"{{nil}}", nullptr, "template: t:1:2: executing \"t\" at <nil>: nil is not a command",
     kDefault},
    {"{{08}}", nullptr, "template: t:1: integer overflow: \"08\"", kDefault},
    {"{{1x}}", nullptr, "template: t:1: bad number syntax: \"1x\"", kDefault},
    {"{{9223372036854775807}} {{-9223372036854775808}}", "9223372036854775807 -9223372036854775808",
     nullptr, kDefault},
    {"{{18446744073709551615}}", nullptr,
     "template: t:1:2: executing \"t\" at <18446744073709551615>: 18446744073709551615 overflows "
     "int",
     kDefault},
    {"{{99999999999999999999}}", nullptr,
     "template: t:1: integer overflow: \"99999999999999999999\"", kDefault},
    {"{{\"\\q\"}}", nullptr, "template: t:1: invalid syntax", kDefault},
    {"a  {{- .s -}}  b", "astrb", nullptr, kDefault},
    {"a\n  {{- .s}}\n  b", "astr\n  b", nullptr, kDefault},
    {"{{.s -}}\n\n  x", "strx", nullptr, kDefault},
    {"x {{- /* comment */ -}} y", "xy", nullptr, kDefault},
    {"x {{/* comment */}} y", "x  y", nullptr, kDefault},
    {"{{- 3 -}}", "3", nullptr, kDefault},
    {"{{-3}}", "-3", nullptr, kDefault},
    {"a\n{{- if .t}}\n  yes\n{{- end}}\nb", "a\n  yes\nb", nullptr, kDefault},
    {"{{if .t}}yes{{end}}", "yes", nullptr, kDefault},
    {"{{if .e}}yes{{else}}no{{end}}", "no", nullptr, kDefault},
    {"{{if .z}}a{{else if .n}}b{{else}}c{{end}}", "b", nullptr, kDefault},
    {"{{if .z}}a{{else if .e}}b{{else if .a}}c{{else}}d{{end}}", "d", nullptr, kDefault},
    {"{{if .empty}}x{{else}}empty{{end}}", "empty", nullptr, kDefault},
    {"{{if .missing}}x{{else}}missing{{end}}", "missing", nullptr, kDefault},
    {"{{if .m}}{{.m.k}}{{end}}", "v", nullptr, kDefault},
    {"{{if and .t .n}}both{{end}}", "both", nullptr, kDefault},
    {"{{if not .e}}not{{end}}", "not", nullptr, kDefault},
    {"{{with .m}}{{.k}}{{end}}", "v", nullptr, kDefault},
    {"{{with .e}}x{{else}}none{{end}}", "none", nullptr, kDefault},
    {"{{with $x := .m.b}}{{$x.c}} {{.c}}{{end}}", "deep deep", nullptr, kDefault},
    {"{{with .missing}}x{{else}}{{.s}}{{end}}", "str", nullptr, kDefault},
    {"{{range .nums}}{{.}},{{end}}", "3,1,2,", nullptr, kDefault},
    {"{{range $i, $v := .nums}}{{$i}}={{$v}} {{end}}", "0=3 1=1 2=2 ", nullptr, kDefault},
    {"{{range $v := .nums}}{{$v}}{{end}}", "312", nullptr, kDefault},
    {"{{range $k, $v := .m}}{{$k}}:{{$v}};{{end}}", "a:1;b:map[c:deep];k:v;", nullptr, kDefault},
    {"{{range .m}}{{.}};{{end}}", "1;map[c:deep];v;", nullptr, kDefault},
    {"{{range .empty}}x{{else}}empty{{end}}", "empty", nullptr, kDefault},
    {"{{range .missing}}x{{else}}none{{end}}", "none", nullptr, kDefault},
    {"{{range .nums}}{{if eq . 1}}{{break}}{{end}}{{.}}{{end}}", "3", nullptr, kDefault},
    {"{{range .nums}}{{if eq . 1}}{{continue}}{{end}}{{.}}{{end}}", "32", nullptr, kDefault},
    {"{{range .users}}{{.name}}({{.age}}) {{end}}", "ann(30) bob(25) ", nullptr, kDefault},
    {"{{range $i, $u := .users}}{{if $i}}, {{end}}{{$u.name}}{{end}}", "ann, bob", nullptr,
     kDefault},
    {"{{range .l}}[{{.}}]{{end}}", "[1][x][<no value>]", nullptr, kDefault},
    {"{{range .b}}{{.}} {{end}}", "104 105 ", nullptr, kDefault},
    {"{{range .nums}}{{range $.nums}}{{.}}{{end}}|{{end}}", "312|312|312|", nullptr, kDefault},
    {"{{range .s}}x{{end}}", nullptr,
     "template: t:1:8: executing \"t\" at <.s>: range can't iterate over type string", kDefault},
    {"{{range .nums}}{{.}}{{else}}none{{end}}", "312", nullptr, kDefault},
    {"{{$x := 1}}{{$x}}", "1", nullptr, kDefault},
    {"{{$x := 1}}{{$x = 2}}{{$x}}", "2", nullptr, kDefault},
    {"{{$x := 1}}{{if .t}}{{$x = 2}}{{end}}{{$x}}", "2", nullptr, kDefault},
    {"{{$x := 1}}{{if .t}}{{$x := 2}}{{$x}}{{end}}{{$x}}", "21", nullptr, kDefault},
    {"{{if .t}}{{$y := 1}}{{end}}{{$y}}", nullptr, "template: t:1: undefined variable \"$y\"",
     kDefault},
    {"{{range .nums}}{{$z := .}}{{end}}{{$z}}", nullptr, "template: t:1: undefined variable \"$z\"",
     kDefault},
    {"{{$x}}", nullptr, "template: t:1: undefined variable \"$x\"", kDefault},
    {"{{$x = 1}}", nullptr, "template: t:1: undefined variable \"$x\"", kDefault},
    {"{{$s := .s}}{{range .nums}}{{$s}}{{end}}", "strstrstr", nullptr, kDefault},
    {"{{$n := len .l}}{{$n}}", "3", nullptr, kDefault},
    {"{{$x := .m}}{{$x.k}}", "v", nullptr, kDefault},
    {"{{$x := .missing}}{{$x.k}}", "<no value>", nullptr, kDefault},
    {"{{$x := .missing}}{{$x.k}}", nullptr,
     "template: t:1:8: executing \"t\" at <.missing>: map has no entry for key \"missing\"",
     kMissingKeyError},
    {"{{$x := \"v\"}}{{with .m}}{{$x}}{{$.s}}{{end}}", "vstr", nullptr, kDefault},
    {"{{define \"T\"}}[{{.}}]{{end}}{{template \"T\" .s}}", "[str]", nullptr, kDefault},
    {"{{define \"T\"}}[{{.}}]{{end}}{{template \"T\"}}", "[<no value>]", nullptr, kDefault},
    {"{{define \"T\"}}{{$}}{{end}}{{template \"T\" .n}}", "3", nullptr, kDefault},
    {"{{block \"B\" .s}}<{{.}}>{{end}}", "<str>", nullptr, kDefault},
    {"{{template \"nope\"}}", nullptr,
     "template: t:1:11: executing \"t\" at <{{template \"nope\"}}>: template \"nope\" not defined",
     kDefault},
    {"{{define \"a\"}}a{{template \"b\" .}}{{end}}{{define \"b\"}}b{{.n}}{{end}}{{template \"a\" "
     ".}}",
     "ab3", nullptr, kDefault},
    {"{{define \"T\"}}x{{end}}{{define \"T\"}}y{{end}}", nullptr,
     "template: t:1: template: multiple definition of template \"T\"", kDefault},
    {"{{define \"T\"}}{{$x}}{{end}}", nullptr, "template: t:1: undefined variable \"$x\"",
     kDefault},
    {"{{$x := 1}}{{define \"T\"}}{{end}}{{template \"T\" $x}}", "", nullptr, kDefault},
    {"{{define \"T\"}}{{fail}}{{end}}{{template \"T\"}}", nullptr,
     "template: t:1:16: executing \"T\" at <fail>: error calling fail: boom", kDefault},
    {"{{if .t}}{{define \"x\"}}{{end}}{{end}}", nullptr,
     "template: t:1: unexpected <define> in command", kDefault},
    {"{{.s | printf \"%s!\"}}", "str!", nullptr, kDefault},
    {"{{\"a\" | printf \"%s%s\" \"b\"}}", "ba", nullptr, kDefault},
    {"{{.n | printf \"%d\" | printf \"%q\"}}", "\"3\"", nullptr, kDefault},
    {"{{printf \"%d-%d\" (len .l) (len .nums)}}", "3-3", nullptr, kDefault},
    {"{{(.m).k}}", "v", nullptr, kDefault},
    {"{{(index .users 1).name}}", "bob", nullptr, kDefault},
    {"{{(.m.b).c}}", "deep", nullptr, kDefault},
    {"{{(1)}}", "1", nullptr, kDefault},
    {"{{(print \"a\" | printf \"%s!\")}}", "a!", nullptr, kDefault},
    {"{{.s | len}}", "3", nullptr, kDefault},
    {"{{.n | eq 3}}", "true", nullptr, kDefault},
    {"{{1 | 2}}", nullptr, "template: t:1: non executable command in pipeline stage 2", kDefault},
    {"{{.s 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <.s>: s is not a method but has arguments", kDefault},
    {"{{1 2}}", nullptr,
     "template: t:1:2: executing \"t\" at <1>: can't give argument to non-function 1", kDefault},
    {"{{\"x\" | .m.k}}", nullptr,
     "template: t:1:10: executing \"t\" at <.m.k>: k is not a method but has arguments", kDefault},
    {"{{$.s 1}}", nullptr,
     "template: t:1:3: executing \"t\" at <$.s>: s is not a method but has arguments", kDefault},
    {"{{(.missing).x}}", "<no value>", nullptr, kDefault},
    {"{{echo 1 \"a\"}}", "[1 a]", nullptr, kDefault},
    {"{{echo}}", "[]", nullptr, kDefault},
    {"{{up .s}}", "STR", nullptr, kDefault},
    {"{{.s | up}}", "STR", nullptr, kDefault},
    {"{{nothing}}", "<no value>", nullptr, kDefault},
    {"{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" 3}} {{or 0 \"\"}} {{not 0}} {{not .s}}",
     "0 2 3  true false", nullptr, kDefault},
    {"{{and .e (fail)}}", "", nullptr, kDefault},
    {"{{or .s (fail)}}", "str", nullptr, kDefault},
    {"{{and}}", nullptr,
     "template: t:1:2: executing \"t\" at <and>: wrong number of args for and: want at least 1 got "
     "0",
     kDefault},
    {"{{not 1 2}}", nullptr,
     "template: t:1:2: executing \"t\" at <not>: wrong number of args for not: want 1 got 2",
     kDefault},
    {"{{.t | and 1}}", "true", nullptr, kDefault},
    {"{{0 | or 0}}", "0", nullptr, kDefault},
    {"{{len .s}} {{len .l}} {{len .m}} {{len .b}} {{len .empty}}", "3 3 3 2 0", nullptr, kDefault},
    {"{{len 3}}", nullptr,
     "template: t:1:2: executing \"t\" at <len 3>: error calling len: len of type int", kDefault},
    {"{{index .l 1}} {{index .m \"k\"}} {{index .m \"b\" \"c\"}} {{index .s 0}} {{index .users 0 "
     "\"name\"}}",
     "x v deep 115 ann", nullptr, kDefault},
    {"{{index .m \"zz\"}}", "<no value>", nullptr, kDefault},
    {"{{index .l}}", "[1 x <nil>]", nullptr, kDefault},
    {"{{index .l 5}}", nullptr,
     "template: t:1:2: executing \"t\" at <index .l 5>: error calling index: index out of range",
     kDefault},
    {"{{index .l -1}}", nullptr,
     "template: t:1:2: executing \"t\" at <index .l -1>: error calling index: index out of range",
     kDefault},
    {"{{index .l \"a\"}}", nullptr,
     "template: t:1:2: executing \"t\" at <index .l \"a\">: error calling index: cannot index "
     "slice/array with type string",
     kDefault},
    {"{{index .m 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <index .m 1>: error calling index: value has type int; "
     "should be string",
     kDefault},
    {"{{index .n 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <index .n 1>: error calling index: can't index item of "
     "type int",
     kDefault},
    {"{{index nil 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <index nil 1>: error calling index: index of untyped nil",
     kDefault},
    {"{{index .m \"zz\" \"y\"}}", nullptr,
     "template: t:1:2: executing \"t\" at <index .m \"zz\" \"y\">: error calling index: index of "
     "nil pointer",
     kDefault},
    {"{{slice .s 1 3}} {{slice .s 1}} {{slice .s}} {{slice .nums 1 2}} {{slice .nums 0 1 2}} "
     "{{slice .b 1}}",
     "tr tr str [1] [3] [105]", nullptr, kDefault},
    {"{{slice .nums 2 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <slice .nums 2 1>: error calling slice: invalid slice "
     "index",
     kDefault},
    {"{{slice .s 1 2 3}}", nullptr,
     "template: t:1:2: executing \"t\" at <slice .s 1 2 3>: error calling slice: cannot 3-index "
     "slice a string",
     kDefault},
    {"{{slice .n 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <slice .n 1>: error calling slice: can't slice item of "
     "type int",
     kDefault},
    {"{{slice .s 9}}", nullptr,
     "template: t:1:2: executing \"t\" at <slice .s 9>: error calling slice: index out of range",
     kDefault},
    {"{{print 1 2 \"a\" \"b\" 3 nil 4}}", "1 2ab3 <nil> 4", nullptr, kDefault},
    {"{{println 1 \"a\" 2}}", "1 a 2\n", nullptr, kDefault},
    {"{{print}}|{{println}}|", "|\n|", nullptr, kDefault},
    {"{{print .l .m}}", "[1 x <nil>] map[a:1 b:map[c:deep] k:v]", nullptr, kDefault},
    {"{{printf \"%5.2f|%-6d|%+d|%x|%X|%o|%#x|%#o|%b|%c|%q|%U\" 3.14159 42 5 255 255 8 255 8 5 65 "
     "65 65}}",
     " 3.14|42    |+5|ff|FF|10|0xff|010|101|A|'A'|U+0041", nullptr, kDefault},
    {"{{printf \"%e|%E|%g|%G|%t|%%|%v\" 1234.5678 0.000123 0.000012345 1e21 true .f}}",
     "1.234568e+03|1.230000E-04|1.2345e-05|1E+21|true|%|1.5", nullptr, kDefault},
    {"{{printf \"%s %d %v\" 1 \"a\" nil}}", "%!s(int=1) %!d(string=a) <nil>", nullptr, kDefault},
    {"{{printf \"%d\"}}", "%!d(MISSING)", nullptr, kDefault},
    {"{{printf \"%d\" 1 2}}", "1%!(EXTRA int=2)", nullptr, kDefault},
    {"{{printf \"%v %v\" .m .l}}", "map[a:1 b:map[c:deep] k:v] [1 x <nil>]", nullptr, kDefault},
    {"{{printf \"%x %X % x %q %#q\" \"hi\" \"hi\" \"hi\" \"a\\\"b\" \"ab\"}}",
     "6869 6869 68 69 \"a\\\"b\" `ab`", nullptr, kDefault},
    {"{{printf \"%6.2v|%-8s|%08.3f|%+.2e|% d|%x\" 3.14159 \"ab\" -3.14159 12345.678 5 -255}}",
     "   3.1|ab      |-003.142|+1.23e+04| 5|-ff", nullptr, kDefault},
    {"{{printf \"%.3g %.10g %g %g %g %g\" 100.0 1.0 100000000.0 0.0001 123456.0 1e-5}}",
     "100 1 1e+08 0.0001 123456 1e-05", nullptr, kDefault},
    {"{{printf \"%d %s\" .l .l}}", "[1 %!d(string=x) <nil>] [%!s(int=1) x <nil>]", nullptr,
     kDefault},
    {"{{printf \"%*d|%-*d|%.*f\" 5 1 4 2 2 3.14159}}", "    1|2   |3.14", nullptr, kDefault},
    {"{{printf \"%[2]d %[1]d\" 1 2}}", "2 1", nullptr, kDefault},
    {"{{printf \"%z\" 1}}", "%!z(int=1)", nullptr, kDefault},
    {"{{printf \"%.0f %.0f %.1f %.2f\" 0.5 1.5 0.25 1.005}}", "0 2 0.2 1.00", nullptr, kDefault},
    {"{{printf \"%08d|%-08d|%+08d|%x\" -42 42 42 -1}}", "-0000042|42      |+0000042|-1", nullptr,
     kDefault},
    {"{{printf \"%.2s|%.5d|%.0d|%5.1q\" \"hello\" 42 0 \"abc\"}}", "he|00042||  \"a\"", nullptr,
     kDefault},
    {"{{printf \"%s|%v|%x|%q|%d\" .b .b .b .b .b}}", "hi|[104 105]|6869|\"hi\"|[104 105]", nullptr,
     kDefault},
    {"{{printf \"%05s|%-5s|%5s\" \"ab\" \"ab\" \"é\"}}", "000ab|ab   |    é", nullptr, kDefault},
    {"{{printf \"%v|%v|%v|%v|%v\" 1e6 1e20 1e21 0.00001 100000.0}}",
     "1e+06|1e+20|1e+21|1e-05|100000", nullptr, kDefault},
    {"{{printf \"%T %T %T %T %T %T\" 1 1.5 \"s\" .l .m nil}}",
     "int float64 string []interface {} map[string]interface {} <nil>", nullptr, kDefault},
    {"{{printf \"%t\" 1}}", "%!t(int=1)", nullptr, kDefault},
    {"{{printf \"%d\" .t}}", "%!d(bool=true)", nullptr, kDefault},
    {"{{printf \"%s\" .missing}}", "%!s(<nil>)", nullptr, kDefault},
    {"{{printf \"%!\"}}", "%!!(MISSING)", nullptr, kDefault},
    {"{{printf \"%\"}}", "%!(NOVERB)", nullptr, kDefault},
    {"{{printf \"%-5d|%5t|%-7v|\" 3 true .s}}", "3    | true|str    |", nullptr, kDefault},
    {"{{printf \"%x|%X|%.2x\" 1.5 -0.75 3.0}}", "0x1.8p+00|-0X1.8P-01|0x1.80p+01", nullptr,
     kDefault},
    {"{{printf \"%c%c%c\" 72 105 0x1F600}}", "Hi😀", nullptr, kDefault},
    {"{{printf \"%+q %#U\" \"é\" 0xe9}}", "\"\\u00e9\" U+00E9 'é'", nullptr, kDefault},
    {"{{printf 1}}", nullptr, "template: t:1:9: executing \"t\" at <1>: expected string; found 1",
     kDefault},
    {"{{printf .n}}", nullptr,
     "template: t:1:9: executing \"t\" at <.n>: wrong type for value; expected string; got int",
     kDefault},
    {"{{printf \"%d items\" (len .nums)}}", "3 items", nullptr, kDefault},
    {"{{printf \"%f %e %g\" 0.0 0.0 0.0}}", "0.000000 0.000000e+00 0", nullptr, kDefault},
    {"{{printf \"%v %v\" -0.0 1e100}}", "-0 1e+100", nullptr, kDefault},
    {"{{eq 1 1}} {{eq 1 2}} {{eq \"a\" \"a\"}} {{eq 1.5 1.5}} {{eq true true}} {{eq 1 2 3 1}}",
     "true false true true true true", nullptr, kDefault},
    {"{{ne 1 2}} {{ne \"a\" \"a\"}} {{lt 1 2}} {{le 2 2}} {{gt 3 2}} {{ge 1 2}} {{lt \"a\" \"b\"}} "
     "{{lt 1.5 2.5}}",
     "true false true true true false true true", nullptr, kDefault},
    {"{{eq .n 3}} {{eq .s \"str\"}} {{eq .str5 \"5\"}}", "true true true", nullptr, kDefault},
    {"{{eq nil nil}} {{eq .a nil}} {{eq .a .l}} {{eq .missing \"x\"}}", "true true false false",
     nullptr, kDefault},
    {"{{eq 1 1.0}}", nullptr,
     "template: t:1:2: executing \"t\" at <eq 1 1.0>: error calling eq: incompatible types for "
     "comparison",
     kDefault},
    {"{{eq \"a\" .l}}", nullptr,
     "template: t:1:2: executing \"t\" at <eq \"a\" .l>: error calling eq: incompatible types for "
     "comparison",
     kDefault},
    {"{{eq .l .l}}", nullptr,
     "template: t:1:2: executing \"t\" at <eq .l .l>: error calling eq: non-comparable type "
     "[]interface {}",
     kDefault},
    {"{{eq .m 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <eq .m 1>: error calling eq: incompatible types for "
     "comparison",
     kDefault},
    {"{{eq 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <eq 1>: error calling eq: missing argument for "
     "comparison",
     kDefault},
    {"{{ne 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <ne>: wrong number of args for ne: want 2 got 1",
     kDefault},
    {"{{lt 1 \"a\"}}", nullptr,
     "template: t:1:2: executing \"t\" at <lt 1 \"a\">: error calling lt: incompatible types for "
     "comparison",
     kDefault},
    {"{{lt true false}}", nullptr,
     "template: t:1:2: executing \"t\" at <lt true false>: error calling lt: invalid type for "
     "comparison",
     kDefault},
    {"{{lt nil 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <lt nil 1>: error calling lt: invalid type for "
     "comparison",
     kDefault},
    {"{{lt .l .l}}", nullptr,
     "template: t:1:2: executing \"t\" at <lt .l .l>: error calling lt: invalid type for "
     "comparison",
     kDefault},
    {"{{gt .secret 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <gt .secret 1>: error calling gt: incompatible types for "
     "comparison",
     kDefault},
    {"{{le 2 1}} {{gt 1 1}} {{ge 2 2}}", "false false true", nullptr, kDefault},
    {"{{html \"<a href='x'>&\\\"</a>\"}}", "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;",
     nullptr, kDefault},
    {"{{html nil \"<a>\"}}", "&lt;no value&gt;&lt;a&gt;", nullptr, kDefault},
    {"{{html 1 2}}", "1 2", nullptr, kDefault},
    {"{{js \"a\\\"b<c>\\n=é'\\\\&\"}}", "a\\\"b\\u003Cc\\u003E\\u000A\\u003Dé\\'\\\\\\u0026",
     nullptr, kDefault},
    {"{{urlquery \"a b&c=d/é~._-\"}}", "a+b%26c%3Dd%2F%C3%A9~._-", nullptr, kDefault},
    {"{{.s | urlquery}}", "str", nullptr, kDefault},
    {"[[.s]] {{.s}}", "str {{.s}}", nullptr, kSquare},
    {"<%.n%> <%- .s -%> %>", "3str%>", nullptr, kAngle},
    {"[[range .nums]][[.]][[end]]", "312", nullptr, kSquare},
    {"[[/* c */]]x", "x", nullptr, kSquare},
    {"{{.s", nullptr, "template: t:1: unclosed action", kDefault},
    {"{{end}}", nullptr, "template: t:1: unexpected {{end}}", kDefault},
    {"{{else}}", nullptr, "template: t:1: unexpected {{else}}", kDefault},
    {"{{if .t}}x", nullptr, "template: t:1: unexpected EOF", kDefault},
    {"{{range .l}}", nullptr, "template: t:1: unexpected EOF", kDefault},
    {"{{undefinedfn 1}}", nullptr, "template: t:1: function \"undefinedfn\" not defined", kDefault},
    {"{{$nope}}", nullptr, "template: t:1: undefined variable \"$nope\"", kDefault},
    {"{{}}", nullptr, "template: t:1: missing value for command", kDefault},
    {"{{if}}{{end}}", nullptr, "template: t:1: missing value for if", kDefault},
    {"{{break}}", nullptr, "template: t:1: {{break}} outside {{range}}", kDefault},
    {"{{continue}}", nullptr, "template: t:1: {{continue}} outside {{range}}", kDefault},
    {"{{range .l}}{{else}}{{break}}{{end}}", nullptr, "template: t:1: {{break}} outside {{range}}",
     kDefault},
    {"{{.s | }}", "str", nullptr, kDefault},
    {"{{| .s}}", nullptr, "template: t:1: unexpected \"|\" in command", kDefault},
    {"{{.s | 1}}", nullptr, "template: t:1: non executable command in pipeline stage 2", kDefault},
    {"{{(.s}}", nullptr, "template: t:1: unclosed left paren", kDefault},
    {"{{.s)}}", nullptr, "template: t:1: unexpected right paren", kDefault},
    {"{{\"unterminated}}", nullptr, "template: t:1: unterminated quoted string", kDefault},
    {"{{1.x}}", nullptr, "template: t:1: bad number syntax: \"1.x\"", kDefault},
    {"{{\"s\".x}}", nullptr, "template: t:1: unexpected . after term \"\\\"s\\\"\"", kDefault},
    {"{{end x}}", nullptr, "template: t:1: unexpected \"x\" in end", kDefault},
    {"{{if .t}}{{else}}{{else}}{{end}}", nullptr, "template: t:1: expected end; found {{else}}",
     kDefault},
    {"{{template .s}}", nullptr, "template: t:1: unexpected \".s\" in template clause", kDefault},
    {"{{define \"x\"}}", nullptr, "template: t:1: unexpected EOF", kDefault},
    {"{{define x}}{{end}}", nullptr, "template: t:1: unexpected \"x\" in define clause", kDefault},
    {"{{range $i, $j, $k := .l}}{{end}}", nullptr, "template: t:1: too many declarations in range",
     kDefault},
    {"{{with $x, $y := .l}}{{end}}", nullptr, "template: t:1: too many declarations in with",
     kDefault},
    {"{{.s.}}", nullptr, "template: t:1: unexpected <.> in operand", kDefault},
    {"{{.s\"a\"}}", nullptr, "template: t:1: bad character U+0022 '\"'", kDefault},
    {"line1\nline2\n{{.s\n}}\n{{end}}", nullptr, "template: t:5: unexpected {{end}}", kDefault},
    {"a\n\n{{if}}", nullptr, "template: t:3: missing value for if", kDefault},
    {"{{/* unclosed", nullptr, "template: t:1: unclosed comment", kDefault},
    {"{{$x := 1 2}}{{$x}}", nullptr,
     "template: t:1:8: executing \"t\" at <1>: can't give argument to non-function 1", kDefault},
    {"{{fail}}", nullptr, "template: t:1:2: executing \"t\" at <fail>: error calling fail: boom",
     kDefault},
    {"{{fail .secret}}", nullptr,
     "template: t:1:2: executing \"t\" at <fail .secret>: error calling fail: boom", kDefault},
    {"{{.s | fail}}", nullptr,
     "template: t:1:7: executing \"t\" at <fail>: error calling fail: boom", kDefault},
    {"x\n  {{fail 1 2}}", nullptr,
     "template: t:2:4: executing \"t\" at <fail 1 2>: error calling fail: boom", kDefault},
    {"{{.secret | printf \"%d\" | fail}}", nullptr,
     "template: t:1:26: executing \"t\" at <fail>: error calling fail: boom", kDefault},
    {"{{index .secret 99}}", nullptr,
     "template: t:1:2: executing \"t\" at <index .secret 99>: error calling index: index out of "
     "range",
     kDefault},
    {"{{len .secret | fail}}", nullptr,
     "template: t:1:16: executing \"t\" at <fail>: error calling fail: boom", kDefault},
    {"{{if .t -}}  yes  {{- else -}} no {{- end}}", "yes", nullptr, kDefault},
    {"{{range .nums -}}\n  {{.}}\n{{- end}}", "312", nullptr, kDefault},
    {"{{- /* a */ -}}\n  x  \n{{- /* b */}}", "x", nullptr, kDefault},
    {"{{with .m.b}}{{.c}}{{with $.m}}{{.k}}{{end}}{{end}}", "deepv", nullptr, kDefault},
    {"{{range $k, $v := .m}}{{if eq $k \"b\"}}{{continue}}{{end}}{{$k}}{{end}}", "ak", nullptr,
     kDefault},
    {"{{range $i, $v := .nums}}{{if ge $i 2}}{{break}}{{end}}{{$v}}{{end}}", "31", nullptr,
     kDefault},
    {"{{range .users}}{{range $.nums}}{{if eq . 1}}{{break}}{{end}}{{.}}{{end}};{{end}}", "3;3;",
     nullptr, kDefault},
    {"{{$i := 0}}{{range .nums}}{{$i = .}}{{end}}{{$i}}", "2", nullptr, kDefault},
    {"{{$x := 1}}{{with .m}}{{$x = 2}}{{end}}{{$x}}", "2", nullptr, kDefault},
    {"{{$x := 1}}{{range .nums}}{{$x := 5}}{{end}}{{$x}}", "1", nullptr, kDefault},
    {"{{if $x := .n}}{{$x}}{{else}}{{$x}}{{end}}", "3", nullptr, kDefault},
    {"{{if $x := .z}}{{$x}}{{else if $y := .n}}{{$x}}{{$y}}{{end}}", "03", nullptr, kDefault},
    {"{{if $x := .z}}{{end}}{{$x}}", nullptr, "template: t:1: undefined variable \"$x\"", kDefault},
    {"{{define \"list\"}}{{range .}}<{{.}}>{{end}}{{end}}{{template \"list\" .nums}}{{template "
     "\"list\" .l}}",
     "<3><1><2><1><x><<no value>>", nullptr, kDefault},
    {"{{define \"T\"}}{{.name}}{{end}}{{range .users}}{{template \"T\" .}}{{end}}", "annbob",
     nullptr, kDefault},
    {"{{define \"T\"}}{{.x}}{{end}}{{template \"T\" .}}", nullptr,
     "template: t:1:16: executing \"T\" at <.x>: map has no entry for key \"x\"", kMissingKeyError},
    {"{{block \"B\" .m}}{{.k}}{{end}}|{{template \"B\" .m}}", "v|v", nullptr, kDefault},
    {"{{printf \"%s\" (printf \"%d\" (len (slice .nums 1)))}}", "2", nullptr, kDefault},
    {"{{(printf \"%s\" .s) | len}}", "3", nullptr, kDefault},
    {"{{len (index .users 0)}}", "2", nullptr, kDefault},
    {"{{index (index .users 1) \"age\" | printf \"%03d\"}}", "025", nullptr, kDefault},
    {"{{$u := index .users 0}}{{$u.name}} {{$u.age}}", "ann 30", nullptr, kDefault},
    {"{{(index .users 0).missing}}", "<no value>", nullptr, kDefault},
    {"{{(index .users 0).missing}}", nullptr,
     "template: t:1:18: executing \"t\" at <(index .users 0).missing>: map has no entry for key "
     "\"missing\"",
     kMissingKeyError},
    {"{{.m.b.c.d}}", nullptr,
     "template: t:1:4: executing \"t\" at <.m.b.c.d>: can't evaluate field d in type string",
     kDefault},
    {"{{.missing.a.b}}", nullptr,
     "template: t:1:10: executing \"t\" at <.missing.a.b>: map has no entry for key \"missing\"",
     kMissingKeyError},
    {"{{$.missing}}", nullptr,
     "template: t:1:3: executing \"t\" at <$.missing>: map has no entry for key \"missing\"",
     kMissingKeyError},
    {"{{index .m \"nope\"}}", "<no value>", nullptr, kMissingKeyError},
    {"{{with .missing}}x{{end}}", nullptr,
     "template: t:1:7: executing \"t\" at <.missing>: map has no entry for key \"missing\"",
     kMissingKeyError},
    {"{{print .missing}}", "<nil>", nullptr, kDefault},
    {"{{printf \"%v\" .missing}}", "<nil>", nullptr, kDefault},
    {"{{.missing | print}}", "<nil>", nullptr, kDefault},
    {"{{html .missing}}", "&lt;no value&gt;", nullptr, kDefault},
    {"{{not .missing}}", "true", nullptr, kDefault},
    {"{{and .s .missing}}", "<no value>", nullptr, kDefault},
    {"{{len .missing}}", nullptr,
     "template: t:1:2: executing \"t\" at <len .missing>: error calling len: len of untyped nil",
     kDefault},
    {"{{echo .a .missing}}", "[<nil> <nil>]", nullptr, kDefault},
    {"{{printf \"%5.1f|%-8.3e|%G\" -2.25 1234.5 1e-10}}", " -2.2|1.234e+03|1E-10", nullptr,
     kDefault},
    {"{{printf \"%3c|%-3c|%q\" 65 66 \"\\x00\\u2028é\"}}", "  A|B  |\"\\x00\\u2028é\"", nullptr,
     kDefault},
    {"{{printf \"%v %d %s\" true true true}}", "true %!d(bool=true) %!s(bool=true)", nullptr,
     kDefault},
    {"{{printf \"%08.3f|%+08d|% 08d|%x|%#b\" 3.14159 7 7 3735928559 5}}",
     "0003.142|+0000007| 0000007|deadbeef|0b101", nullptr, kDefault},
    {"{{printf \"%o %O %#o\" 64 64 0}}", "100 0o100 0", nullptr, kDefault},
    {"{{printf \"%[1]s %[1]q %[2]*[1]s\" \"x\" 3}}", "x \"x\"   x", nullptr, kDefault},
    {"{{printf \"%[3]d\" 1 2}}", "%!d(BADINDEX)", nullptr, kDefault},
    {"{{printf \"%.*d\" 4 7}}", "0007", nullptr, kDefault},
    {"{{printf \"%*d\" \"a\" 7}}", "%!(BADWIDTH)7", nullptr, kDefault},
    {"{{printf \"%v\" .users}}", "[map[age:30 name:ann] map[age:25 name:bob]]", nullptr, kDefault},
    {"{{printf \"%q\" .nums}}", "['\\x03' '\\x01' '\\x02']", nullptr, kDefault},
    {"{{printf \"%x\" .nums}}", "[3 1 2]", nullptr, kDefault},
    {"{{printf \"%5v|%-5v|\" .nums .nums}}", "[    3     1     2]|[3     1     2    ]|", nullptr,
     kDefault},
    {"{{printf \"%.1f %.2f %.3f\" 0.05 0.125 2.0005}}", "0.1 0.12 2.001", nullptr, kDefault},
    {"{{printf \"%g %g %g %g\" 1e6 1e5 0.0001234 1234567.0}}",
     "1e+06 100000 0.0001234 1.234567e+06", nullptr, kDefault},
    {"{{printf \"%.2g %.2e %.0e\" 1234.0 0.0 5.5}}", "1.2e+03 0.00e+00 6e+00", nullptr, kDefault},
    {"{{print 1.0 2.5 1e-300 5e-324 1.7976931348623157e308}}",
     "1 2.5 1e-300 5e-324 1.7976931348623157e+308", nullptr, kDefault},
    {"{{print 0.1 0.2 100.0 1e7 12345678.9}}", "0.1 0.2 100 1e+07 1.23456789e+07", nullptr,
     kDefault},
    {"{{printf \"%s\" \"\"}}|{{printf \"\"}}|{{printf \"%%d\" 1}}", "||%d%!(EXTRA int=1)", nullptr,
     kDefault},
    {"{{println}}", "\n", nullptr, kDefault},
    {"{{print \"a\" 1 2 \"b\" \"c\" 3.5 true}}", "a1 2bc3.5 true", nullptr, kDefault},
    {"{{println .l .m .b}}", "[1 x <nil>] map[a:1 b:map[c:deep] k:v] [104 105]\n", nullptr,
     kDefault},
    {"{{eq .users .users}}", nullptr,
     "template: t:1:2: executing \"t\" at <eq .users .users>: error calling eq: non-comparable "
     "type []interface {}",
     kDefault},
    {"{{eq .n 3 4}} {{eq .s \"a\" \"str\"}}", "true true", nullptr, kDefault},
    {"{{lt .neg 0}} {{gt .f 1.4}} {{le \"b\" \"a\"}} {{ge .s \"str\"}}", "true true false true",
     nullptr, kDefault},
    {"{{eq .t true}} {{ne .t false}} {{eq .e \"\"}}", "true true true", nullptr, kDefault},
    {"{{eq .a .missing}}", "true", nullptr, kDefault},
    {"{{ne .b .b}}", nullptr,
     "template: t:1:2: executing \"t\" at <ne .b .b>: error calling ne: non-comparable type "
     "[]uint8",
     kDefault},
    {"{{lt 1 2.0}}", nullptr,
     "template: t:1:2: executing \"t\" at <lt 1 2.0>: error calling lt: incompatible types for "
     "comparison",
     kDefault},
    {"{{if eq .n 1 2 3}}in{{end}}", "in", nullptr, kDefault},
    {"{{js \"\\u2028\\t<\"}}", "\\u2028\\u0009\\u003C", nullptr, kDefault},
    {"{{js 1 \"a\"}} {{urlquery 1 2}} {{html .nums}}", "1a 1+2 [3 1 2]", nullptr, kDefault},
    {"{{html \"\\x00\"}}", "�", nullptr, kDefault},
    {"{{urlquery}}|{{html}}|{{js}}", "||", nullptr, kDefault},
    {"{{template \"x\" 1 2}}", nullptr,
     "template: t:1:11: executing \"t\" at <{{template \"x\" 1 2}}>: template \"x\" not defined",
     kDefault},
    {"{{template}}", nullptr, "template: t:1: unexpected \"}}\" in template clause", kDefault},
    {"{{range}}{{end}}", nullptr, "template: t:1: missing value for range", kDefault},
    {"{{with}}{{end}}", nullptr, "template: t:1: missing value for with", kDefault},
    {"{{range .l}}{{end}}{{end}}", nullptr, "template: t:1: unexpected {{end}}", kDefault},
    {"{{if .t}}{{else if}}{{end}}", nullptr, "template: t:1: missing value for if", kDefault},
    {"{{if .t}}{{else}}{{end}}{{else}}", nullptr, "template: t:1: unexpected {{else}}", kDefault},
    {"{{block}}{{end}}", nullptr, "template: t:1: unexpected \"}}\" in block clause", kDefault},
    {"{{block \"x\"}}{{end}}", nullptr, "template: t:1: missing value for block clause", kDefault},
    {"{{$x := }}", nullptr, "template: t:1: missing value for command", kDefault},
    {"{{$x, $y := .l}}", nullptr, "template: t:1: too many declarations in command", kDefault},
    {"{{range $x, := .l}}{{end}}", nullptr, "template: t:1: range can only initialize variables",
     kDefault},
    {"{{$ := 1}}", "", nullptr, kDefault},
    {"{{:= 1}}", nullptr, "template: t:1: unexpected \":=\" in command", kDefault},
    {"{{.s | .s}}", nullptr,
     "template: t:1:7: executing \"t\" at <.s>: s is not a method but has arguments", kDefault},
    {"{{printf \"%d\" | 1}}", nullptr, "template: t:1: non executable command in pipeline stage 2",
     kDefault},
    {"{{.l | len | printf \"%d\" | len}}", "1", nullptr, kDefault},
    {"{{. | nothing}}", "<no value>", nullptr, kDefault},
    {"{{nothing | print}}", "<nil>", nullptr, kDefault},
    {"{{(nothing).x}}", "<no value>", nullptr, kDefault},
    {"{{up}}", "", nullptr, kDefault},
    {"{{echo (echo 1 2) 3}}", "[[1 2] 3]", nullptr, kDefault},
    {"{{(echo 1 2)}}", "[1 2]", nullptr, kDefault},
    {"{{index (echo 1 2) 1}}", "2", nullptr, kDefault},
    {"{{\"a\" 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <\"a\">: can't give argument to non-function \"a\"",
     kDefault},
    {"{{. 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <.>: can't give argument to non-function .", kDefault},
    {"{{(1) 2}}", nullptr,
     "template: t:1:2: executing \"t\" at <(1)>: can't give argument to non-function (1)",
     kDefault},
    {"{{$ 1}}", nullptr,
     "template: t:1:2: executing \"t\" at <$>: can't give argument to non-function $", kDefault},
    {"{{true.x}}", nullptr, "template: t:1: unexpected . after term \"true\"", kDefault},
    {"{{nil.x}}", nullptr, "template: t:1: unexpected . after term \"nil\"", kDefault},
    {"{{..x}}", nullptr, "template: t:1: unexpected . after term \".\"", kDefault},
    {"{{$.m.k}}", "v", nullptr, kDefault},
    {"{{$.m.k}}", "v", nullptr, kMissingKeyError},
    {"{{$.m.zz}}", nullptr,
     "template: t:1:3: executing \"t\" at <$.m.zz>: map has no entry for key \"zz\"",
     kMissingKeyError},
    {"multi\nline\n\n  {{.m.k}} {{fail}}", nullptr,
     "template: t:4:13: executing \"t\" at <fail>: error calling fail: boom", kDefault},
    {"{{define \"T\"}}\n\n{{fail}}{{end}}{{template \"T\"}}", nullptr,
     "template: t:3:2: executing \"T\" at <fail>: error calling fail: boom", kDefault},
    {"{{if .t}}\n{{.s.x}}{{end}}", nullptr,
     "template: t:2:4: executing \"t\" at <.s.x>: can't evaluate field x in type string", kDefault},
    {"{{printf \"%.400f|%.350e|%.900g|%.20g|%#.30g\" 1e308 1.5 0.1 0.1 2.5}}",
     "100000000000000001097906362944045541740492309677311846336810682903157585404911491537163328978"
     "494688899061249669721172515611590283743140088328307009198146046031271664502933027185697489699"
     "588559043338384466165001178426897626212945177628091195786707458122783970171784415105291802893"
     "207873272974885715430223118336."
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000|1."
     "500000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000000e+00|0."
     "1000000000000000055511151231257827021181583404541015625|0.10000000000000000555|2."
     "50000000000000000000000000000",
     nullptr, kDefault},
    {"{{printf \"%.0f|%.17g|%.3e\" 1e308 1e308 5e-324}}",
     "100000000000000001097906362944045541740492309677311846336810682903157585404911491537163328978"
     "494688899061249669721172515611590283743140088328307009198146046031271664502933027185697489699"
     "588559043338384466165001178426897626212945177628091195786707458122783970171784415105291802893"
     "207873272974885715430223118336|1e+308|4.941e-324",
     nullptr, kDefault},
    {"{{printf \"%#g|%#.3g|%#e|%#.0f|%#x|%b|%b\" 0.1 100.0 1.0 3.0 1.0 1.0 -0.0}}",
     "0.100000|100.|1.000000e+00|3.|0x1.p+00|4503599627370496p-52|-0p-1074", nullptr, kDefault},
    {"{{printf \"%U|%.6U|%#U|%q|%+q\" 0x1F600 65 0x2028 0x2028 0xe9}}",
     "U+1F600|U+000041|U+2028|'\\u2028'|'\\u00e9'", nullptr, kDefault},
    {"{{printf \"%06x|% X|%#x|%# x\" \"hi\" \"hi\" \"hi\" \"hi\"}}",
     "006869|68 69|0x6869|0x68 0x69", nullptr, kDefault},
    {"{{printf \"%5v|%-5v|%.1v\" nil nil nil}}", "<nil>|<nil>|<nil>", nullptr, kDefault},
    {"{{printf \"%.[2]d|%[5]d|%[0]d|%[x]d\" 1 2}}", "2|%!d(BADINDEX)|%!d(BADINDEX)|%!d(BADINDEX)",
     nullptr, kDefault},
    {"{{\"x\" | printf}}", "x", nullptr, kDefault},
    {"{{nothing | printf}}", nullptr,
     "template: t:1:12: executing \"t\" at <printf>: invalid value; expected string", kDefault},
    {"{{printf .missing}}", nullptr,
     "template: t:1:9: executing \"t\" at <.missing>: invalid value; expected string", kDefault},
    {"{{$x=1}}", nullptr, "template: t:1: bad character U+003D '='", kDefault},
    {"{{.s\"a\"}}", nullptr, "template: t:1: bad character U+0022 '\"'", kDefault},
    {"{{#}}", nullptr, "template: t:1: unexpected \"#\" in command", kDefault},
    {"{{1+2i}}", nullptr, "template: t:1: bad number syntax: \"1+2i\"", kDefault},
    {"{{\n.x\n#}}", nullptr, "template: t:3: unexpected \"#\" in operand", kDefault},
    {"a\n{{- \n.s}}\n{{fail}}", nullptr,
     "template: t:4:2: executing \"t\" at <fail>: error calling fail: boom", kDefault},
    {"{{fail.x}}", nullptr, "template: t:1:2: executing \"t\" at <fail>: error calling fail: boom",
     kDefault},
    {"{{(echo 1).x}}", nullptr,
     "template: t:1:10: executing \"t\" at <(echo 1).x>: can't evaluate field x in type "
     "[]interface {}",
     kDefault},
    {"{{range $e := .s}}{{end}}", nullptr,
     "template: t:1:14: executing \"t\" at <.s>: range can't iterate over type string", kDefault},
};

TEST(TemplateTest, GoCompatibleTable) {
  const Value data = TestData();
  for (const auto& c : kCases) {
    const std::string got = RunTemplate(c.tmpl, c.mode, data);
    if (c.want != nullptr) {
      EXPECT_EQ(got, c.want) << "template: " << c.tmpl;
    } else {
      EXPECT_EQ(got, std::string("ERROR: ") + c.err) << "template: " << c.tmpl;
    }
  }
}

// Every error a template can provoke names template text, functions, kinds and keys only: a
// secret in the data never shows up, wherever it sits and however it is used.
TEST(TemplateTest, ErrorsNeverContainDataValues) {
  Map m;
  m["pw"] = "s3cr3t";
  m["num"] = 31337;
  m["fl"] = 2.718281828;
  m["list"] = List{"s3cr3t", 31337};
  m["map"] = Map{{"inner", "s3cr3t"}};
  m["bytes"] = Bytes{"s3cr3t"};
  const Value data(std::move(m));
  const char* kTemplates[] = {
      "{{fail .pw}}",
      "{{.pw | fail}}",
      "{{printf \"%s-%d\" .pw .num | fail}}",
      "{{.pw.x}}",
      "{{.num.x}}",
      "{{.map.inner.x}}",
      "{{.nokey}}",
      "{{.map.nokey}}",
      "{{index .list 7}}",
      "{{index .list .num}}",
      "{{index .pw .num}}",
      "{{index .map .num}}",
      "{{index .pw \"k\"}}",
      "{{slice .pw .num}}",
      "{{slice .list 1 0}}",
      "{{slice .pw 2 1}}",
      "{{eq .pw .num}}",
      "{{eq .list .list}}",
      "{{eq .bytes .bytes}}",
      "{{eq .map .map}}",
      "{{lt .pw .num}}",
      "{{lt .list .pw}}",
      "{{len .num}}",
      "{{len .fl}}",
      "{{range .pw}}{{end}}",
      "{{range .fl}}{{end}}",
      "{{range $i, $v := .num}}{{end}}",
      "{{printf .num}}",
      "{{printf .list}}",
      "{{.pw 1}}",
      "{{.map.inner 1}}",
      "{{$x := .pw}}{{$x.y}}",
      "{{$x := .pw}}{{$x 1}}",
      "{{with .map}}{{.inner.deeper}}{{end}}",
      "{{template \"missing\" .pw}}",
      "{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .pw}}",
      "{{not .pw .pw}}",
      "{{index .map \"inner\" 0 1}}",
  };
  for (const char* text : kTemplates) {
    for (bool strict : {true, false}) {
      ParseOptions options;
      options.missing_key_error = strict;
      auto t = Template::Parse("t", text, TestFunctions(), options);
      ASSERT_TRUE(t.ok()) << text << ": " << t.status().message();
      auto out = t->Execute(data);
      if (out.ok()) {
        EXPECT_FALSE(strict) << text << " should fail";
        continue;
      }
      const std::string& msg = out.status().message();
      EXPECT_EQ(msg.find("s3cr3t"), std::string::npos) << text;
      EXPECT_EQ(msg.find("31337"), std::string::npos) << text;
      EXPECT_EQ(msg.find("2.718"), std::string::npos) << text;
      EXPECT_EQ(msg.rfind("template: t:", 0), 0U) << msg;
    }
  }
}

TEST(TemplateTest, MissingKeyModes) {
  const Value data(Map{{"present", "x"}, {"nested", Map{{"a", 1}}}, {"null", Value()}});
  struct ModeCase {
    const char* text;
    const char* lenient;  // output with missing_key_error = false
    const char* strict;   // error with missing_key_error = true (nullptr: same output)
  };
  const ModeCase cases[] = {
      {"{{.present}}", "x", nullptr},
      {"{{.absent}}", "<no value>",
       "template: t:1:2: executing \"t\" at <.absent>: map has no entry for key \"absent\""},
      {"{{.nested.b}}", "<no value>",
       "template: t:1:9: executing \"t\" at <.nested.b>: map has no entry for key \"b\""},
      {"{{.absent.b}}", "<no value>",
       "template: t:1:9: executing \"t\" at <.absent.b>: map has no entry for key \"absent\""},
      {"{{.null}}", "<no value>", nullptr},
      {"{{index . \"absent\"}}", "<no value>", nullptr},
      {"{{if .absent}}y{{else}}n{{end}}", "n",
       "template: t:1:5: executing \"t\" at <.absent>: map has no entry for key \"absent\""},
      {"{{.absent | printf \"%v\"}}", "<nil>",
       "template: t:1:2: executing \"t\" at <.absent>: map has no entry for key \"absent\""},
  };
  for (const auto& c : cases) {
    ParseOptions lenient;
    lenient.missing_key_error = false;
    auto t1 = Template::Parse("t", c.text, TestFunctions(), lenient);
    ASSERT_TRUE(t1.ok()) << c.text;
    auto out1 = t1->Execute(data);
    ASSERT_TRUE(out1.ok()) << c.text << ": " << out1.status().message();
    EXPECT_EQ(*out1, c.lenient) << c.text;

    auto t2 = Template::Parse("t", c.text, TestFunctions());  // default: missingkey=error
    ASSERT_TRUE(t2.ok()) << c.text;
    auto out2 = t2->Execute(data);
    if (c.strict == nullptr) {
      ASSERT_TRUE(out2.ok()) << c.text << ": " << out2.status().message();
      EXPECT_EQ(*out2, c.lenient) << c.text;
    } else {
      ASSERT_FALSE(out2.ok()) << c.text;
      EXPECT_EQ(out2.status().message(), c.strict);
    }
  }
}

TEST(TemplateTest, NilData) {
  ParseOptions lenient;
  lenient.missing_key_error = false;
  auto t = Template::Parse("t", "{{.}}|{{.x}}|{{$}}", TestFunctions(), lenient);
  ASSERT_TRUE(t.ok());
  auto out = t->Execute(Value());
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, "<no value>|<no value>|<no value>");

  auto strict = Template::Parse("t", "{{.x}}", TestFunctions());
  ASSERT_TRUE(strict.ok());
  auto err = strict->Execute(Value());
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status().message(),
            "template: t:1:2: executing \"t\" at <.x>: nil data; no entry for key \"x\"");
}

TEST(TemplateTest, ExecuteNamed) {
  auto t = Template::Parse("main",
                           "main:{{template \"a\" .}}"
                           "{{define \"a\"}}a={{.v}}{{end}}"
                           "{{define \"b\"}}b={{.v}}{{template \"a\" .}}{{end}}",
                           TestFunctions());
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->name(), "main");
  const Value data(Map{{"v", 7}});
  EXPECT_EQ(*t->Execute(data), "main:a=7");
  EXPECT_EQ(*t->ExecuteNamed("a", data), "a=7");
  EXPECT_EQ(*t->ExecuteNamed("b", data), "b=7a=7");
  EXPECT_EQ(*t->ExecuteNamed("main", data), "main:a=7");
  auto missing = t->ExecuteNamed("zzz", data);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "template: no template \"zzz\" associated with template \"main\"");

  // Errors inside a defined template name it, with the location in the parsed text.
  auto bad = Template::Parse("main", "{{define \"d\"}}\n  {{fail}}{{end}}{{template \"d\"}}",
                             TestFunctions());
  ASSERT_TRUE(bad.ok());
  auto err = bad->Execute(Value());
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status().message(),
            "template: main:2:4: executing \"d\" at <fail>: error calling fail: boom");
}

TEST(TemplateTest, DefineReplacesEmptyMainTemplate) {
  auto t = Template::Parse("t", "  {{define \"t\"}}from define{{end}}\n", TestFunctions());
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(*t->Execute(Value()), "from define");
  auto dup = Template::Parse("t", "body{{define \"t\"}}other{{end}}", TestFunctions());
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(),
            "template: t:1: template: multiple definition of template \"t\"");
}

TEST(TemplateTest, FunctionMapOverridesBuiltins) {
  FunctionMap fns;
  fns.Add("len", [](std::span<const Value> args) -> Result<Value> {
    return Value("custom len of " + std::to_string(args.size()));
  });
  // A user "and" is an ordinary function: all its arguments are evaluated.
  fns.Add("and", [](std::span<const Value> args) -> Result<Value> {
    return Value(static_cast<std::int64_t>(args.size()));
  });
  auto t = Template::Parse("t", "{{len \"abc\"}}|{{and 0 1 2}}|{{printf \"%d\" 3}}", fns);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(*t->Execute(Value()), "custom len of 1|3|3");
}

TEST(TemplateTest, UnknownFunctionIsAParseError) {
  FunctionMap empty;
  auto t = Template::Parse("t", "ok\n{{upper .x}}", empty);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "template: t:2: function \"upper\" not defined");
}

TEST(TemplateTest, TemplateCopiesShareTheParsedTree) {
  auto t = Template::Parse("t", "{{.a}}-{{.b}}", TestFunctions());
  ASSERT_TRUE(t.ok());
  Template copy = *t;
  const Value data(Map{{"a", 1}, {"b", "two"}});
  EXPECT_EQ(*copy.Execute(data), "1-two");
  EXPECT_EQ(*t->Execute(data), "1-two");
}

TEST(TemplateTest, JsonData) {
  const Value data = Value::FromJson(nlohmann::json::parse(
      R"({"user":"admin","port":5432,"ratio":0.25,"tags":["a","b"],"on":true,"none":null,
          "big":12345678901234567890})"));
  auto t = Template::Parse("t",
                           "{{.user}}:{{.port}} {{.ratio}} {{.tags}} {{.on}} {{.none}} {{.big}} "
                           "{{range $i, $t := .tags}}{{$i}}{{$t}}{{end}} {{printf \"%05d\" .port}}",
                           TestFunctions());
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto out = t->Execute(data);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, "admin:5432 0.25 [a b] true <no value> 1.2345678901234567e+19 0a1b 05432");
}

TEST(TemplateTest, RangeOverInt) {  // Go 1.22
  auto t = Template::Parse("t",
                           "{{range 3}}{{.}}{{end}}|{{range $i := 2}}{{$i}}{{end}}|"
                           "{{range 0}}x{{else}}none{{end}}",
                           TestFunctions());
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(*t->Execute(Value()), "012|01|none");
  auto two = Template::Parse("t", "{{range $i, $v := 3}}{{end}}", TestFunctions());
  ASSERT_TRUE(two.ok());
  auto err = two->Execute(Value());
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status().message(),
            "template: t:1:18: executing \"t\" at <3>: can't use int to iterate over "
            "more than one variable");
}

TEST(TemplateTest, ElseWith) {  // Go 1.23
  auto t = Template::Parse("t", "{{with .a}}a={{.}}{{else with .b}}b={{.}}{{else}}none{{end}}",
                           TestFunctions());
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(*t->Execute(Value(Map{{"a", 1}, {"b", 2}})), "a=1");
  EXPECT_EQ(*t->Execute(Value(Map{{"a", 0}, {"b", 2}})), "b=2");
  EXPECT_EQ(*t->Execute(Value(Map{{"a", 0}, {"b", ""}})), "none");
}

TEST(TemplateTest, RecursionDepthIsLimited) {
  auto t = Template::Parse("t", "{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}",
                           TestFunctions());
  ASSERT_TRUE(t.ok());
  auto out = t->Execute(Value());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(),
            "template: t:1:25: executing \"r\" at <{{template \"r\" .}}>: exceeded maximum "
            "template depth (1000)");
}

TEST(TemplateTest, OutputSizeIsLimited) {
  List many(40, Value(1));
  auto t = Template::Parse("t", "{{range .}}{{printf \"%1000000d\" .}}{{end}}", TestFunctions());
  ASSERT_TRUE(t.ok());
  auto out = t->Execute(Value(many));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("output exceeds the limit of 16777216 bytes"),
            std::string::npos)
      << out.status().message();
}

TEST(TemplateTest, ValueSizeIsLimited) {
  // Doubling a string in a loop would need 2^40 bytes.
  auto t = Template::Parse(
      "t", "{{$s := \"xxxxxxxx\"}}{{range 40}}{{$s = printf \"%s%s\" $s $s}}{{end}}{{len $s}}",
      TestFunctions());
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto out = t->Execute(Value());
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("result of printf exceeds the limit of 16777216 bytes"),
            std::string::npos)
      << out.status().message();
}

TEST(TemplateTest, ExecutionStepsAreLimited) {
  // Each level calls the next twice: 2^40 calls without a limit.
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += "{{define \"l" + std::to_string(i) + "\"}}{{template \"l" + std::to_string(i + 1) +
            "\"}}{{template \"l" + std::to_string(i + 1) + "\"}}{{end}}";
  }
  text += "{{define \"l40\"}}{{end}}{{template \"l0\"}}";
  auto t = Template::Parse("t", text, TestFunctions());
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto out = t->Execute(Value());
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("execution exceeds the limit of"), std::string::npos)
      << out.status().message();
}

TEST(TemplateTest, ParseNestingIsLimited) {
  const std::string deep = "{{" + std::string(5000, '(') + "1" + std::string(5000, ')') + "}}";
  auto t = Template::Parse("t", deep, TestFunctions());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "template: t:1: max expression depth exceeded");
  std::string ifs;
  for (int i = 0; i < 5000; ++i) ifs += "{{if 1}}";
  auto t2 = Template::Parse("t", ifs, TestFunctions());
  ASSERT_FALSE(t2.ok());
  EXPECT_EQ(t2.status().message(), "template: t:1: max expression depth exceeded");
}

TEST(TemplateTest, ConcurrentExecutionsOfOneTemplate) {
  auto t = Template::Parse("t", "{{range $k, $v := .}}{{$k}}={{$v | printf \"%05d\"}};{{end}}",
                           TestFunctions());
  ASSERT_TRUE(t.ok());
  const Value data(Map{{"a", 1}, {"b", 22}, {"c", 333}});
  const std::string want = "a=00001;b=00022;c=00333;";
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 500; ++n) {
        auto out = t->Execute(data);
        if (!out.ok() || *out != want) ++mismatches[i];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace coffer::tmpl
