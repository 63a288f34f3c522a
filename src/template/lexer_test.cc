#include "template/lexer.h"

#include <string>

#include <gtest/gtest.h>

namespace coffer::tmpl {
namespace {

// Renders tokens compactly: text as [..], actions' tokens by kind letter and text.
std::string Render(const std::vector<Token>& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    switch (t.type) {
      case TokenType::kText:
        out += "[" + t.text + "]";
        break;
      case TokenType::kLeftDelim:
        out += "<";
        break;
      case TokenType::kRightDelim:
        out += ">";
        break;
      case TokenType::kEof:
        out += "$EOF";
        break;
      default:
        out += (t.space_before ? " " : "") + t.text;
        break;
    }
  }
  return out;
}

struct LexCase {
  const char* input;
  const char* left;
  const char* right;
  const char* want;
};

TEST(LexerTest, Tokens) {
  const LexCase cases[] = {
      {"", "", "", "$EOF"},
      {"plain text", "", "", "[plain text]$EOF"},
      {"a{{.}}b", "", "", "[a]<.>[b]$EOF"},
      {"{{.a.b $x := 3}}", "", "", "<.a.b $x := 3>$EOF"},
      {"{{$ | printf \"%d\" (len .l)}}", "", "", "<$ | printf \"%d\" (len .l)>$EOF"},
      {"{{`raw\n`}}", "", "", "<`raw\n`>$EOF"},
      {"{{-1.5e+3 0x1F 'c'}}", "", "", "<-1.5e+3 0x1F 'c'>$EOF"},
      {"{{$i, $v = .}}", "", "", "<$i, $v = .>$EOF"},
      {"x  \n {{- 1 -}} \n y", "", "", "[x]<1>[y]$EOF"},
      {"x {{-1}} y", "", "", "[x ]<-1>[ y]$EOF"},
      {"a {{/* c */}} b", "", "", "[a ][ b]$EOF"},
      {"a {{- /* c\n */ -}} b", "", "", "[a][b]$EOF"},
      {"<<.x>>{{.y}}", "<<", ">>", "<.x>[{{.y}}]$EOF"},
      {"{{(.a).b}}", "", "", "<(.a).b>$EOF"},
      {"{{\"a\\\"b\"}}", "", "", "<\"a\\\"b\">$EOF"},
      {"{{# @}}", "", "", "<# @>$EOF"},
  };
  for (const auto& c : cases) {
    auto tokens = Lex("t", c.input, c.left, c.right);
    ASSERT_TRUE(tokens.ok()) << c.input << ": " << tokens.status().message();
    EXPECT_EQ(Render(*tokens), c.want) << c.input;
  }
}

TEST(LexerTest, LineNumbers) {
  auto tokens = Lex("t", "a\nb\n{{.x\n.y}}", "", "");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 6U);
  EXPECT_EQ((*tokens)[1].line, 3);
  EXPECT_EQ((*tokens)[3].line, 4);
}

TEST(LexerTest, Errors) {
  struct ErrCase {
    const char* input;
    const char* want;
  };
  const ErrCase cases[] = {
      {"a\n{{.x", "template: t:2: unclosed action"},
      {"{{/* x", "template: t:1: unclosed comment"},
      {"{{/* x */ .y}}", "template: t:1: comment ends before closing delimiter"},
      {"{{\"abc}}", "template: t:1: unterminated quoted string"},
      {"{{`abc}}", "template: t:1: unterminated raw quoted string"},
      {"{{'a}}", "template: t:1: unterminated character constant"},
      {"{{)}}", "template: t:1: unexpected right paren"},
      {"{{: x}}", "template: t:1: expected :="},
      {"{{\x01}}", "template: t:1: unrecognized character in action: U+0001"},
      {"{{.x\x01}}", "template: t:1: bad character U+0001"},
      {"{{$x=1}}", "template: t:1: bad character U+003D '='"},
      {"{{1x}}", "template: t:1: bad number syntax: \"1x\""},
      {"{{0x1g}}", "template: t:1: bad number syntax: \"0x1g\""},
      {"{{1+2i}}", "template: t:1: bad number syntax: \"1+2i\""},
      {"{{0E++}}", "template: t:1: bad number syntax: \"0E++\""},
      {"a\n{{-\n.x", "template: t:3: unclosed action started at t:2"},
      {"{{\n.x\n", "template: t:3: unclosed action started at t:1"},
      {"{{\n.x\n\x02}}",
       "template: t:3: unrecognized character in action: U+0002 in action started at t:1"},
  };
  for (const auto& c : cases) {
    auto tokens = Lex("t", c.input, "", "");
    ASSERT_FALSE(tokens.ok()) << c.input;
    EXPECT_EQ(tokens.status().message(), c.want) << c.input;
  }
}

}  // namespace
}  // namespace coffer::tmpl
