#pragma once

// Regexp: a compiled regular expression with Go's regexp semantics (RE2 syntax, leftmost-first
// matching, linear time), backed by Google RE2. The one place that talks to RE2: the operator's
// dataFrom.find name filters and dataFrom.rewrite use it, so they match what ESO's Go code does.
//
// Known differences from Go's regexp package: RE2 of Debian 12 does not know the `(?<name>...)`
// group spelling (only `(?P<name>...)`, which Go also accepts), and it accepts `\C` (any byte),
// which Go rejects.

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace re2 {
class RE2;
}

namespace coffer {

class Regexp {
 public:
  // Compiles `pattern` (Go syntax). InvalidArgument "invalid regular expression: <what>" where
  // <what> names the kind of error without quoting the pattern.
  static Result<Regexp> Compile(std::string_view pattern);

  // Go's MatchString: whether `text` contains a match anywhere (unanchored).
  bool PartialMatch(std::string_view text) const;

  // Go's ReplaceAllString: every non-overlapping match in `src` replaced by `replacement` with
  // Go's Expand rules: $1, ${1}, $name, ${name} (a name is the longest run of letters, digits and
  // '_'; unknown or unmatched groups expand to ""), $$ is a literal '$', and a malformed '$' is
  // kept as is. An empty match right after a previous match is not replaced.
  std::string ReplaceAll(std::string_view src, std::string_view replacement) const;

  // The number of capturing groups.
  int NumGroups() const;

 private:
  explicit Regexp(std::shared_ptr<const re2::RE2> re) : re_(std::move(re)) {}
  std::shared_ptr<const re2::RE2> re_;
};

}  // namespace coffer
