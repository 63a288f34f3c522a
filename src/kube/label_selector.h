#pragma once

// Kubernetes label selectors in their string form, as `kubectl get -l` and the apiserver's
// labelSelector parameter take them: comma-separated requirements, each one of
//   key=value, key==value, key!=value, key in (v1,v2), key notin (v1,v2), key, !key
// All requirements must hold (AND). The empty selector matches every label set.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace coffer::kube {

struct LabelRequirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kExists;
  std::vector<std::string> values;  // one for kEquals/kNotEquals; one or more for kIn/kNotIn
};

struct LabelSelector {
  std::vector<LabelRequirement> requirements;
  bool empty() const { return requirements.empty(); }
};

// kInvalidArgument "label selector: ..." naming the position and what was expected.
Result<LabelSelector> ParseLabelSelector(std::string_view text);

// Whether `labels` satisfy every requirement. A missing label satisfies != and notin, as in
// Kubernetes.
bool Matches(const LabelSelector& selector, const std::map<std::string, std::string>& labels);

}  // namespace coffer::kube
