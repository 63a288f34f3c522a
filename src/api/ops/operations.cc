#include "api/ops/operations.h"

#include <array>
#include <unordered_map>

#include "api/pipeline.h"

namespace coffer::api::ops {
namespace {

struct Table {
  std::vector<Operation> list;
  std::unordered_map<std::string_view, Handler> by_action;

  Table() {
    AddSecretOps(list);
    AddListOps(list);
    AddStageOps(list);
    AddTagOps(list);
    AddPolicyOps(list);
    AddRotationOps(list);
    AddPasswordOps(list);
    AddReplicationOps(list);
    for (const Operation& op : list) by_action.emplace(op.action, op.handler);
  }
};

const Table& GetTable() {
  static const Table table;  // built once, thread-safe (magic static)
  return table;
}

}  // namespace

Handler FindHandler(std::string_view action) {
  const auto& map = GetTable().by_action;
  auto it = map.find(action);
  return it == map.end() ? nullptr : it->second;
}

const std::vector<Operation>& AllOperations() { return GetTable().list; }

bool IsReadOnlyTarget(std::string_view x_amz_target) {
  static constexpr std::array<std::string_view, 7> kReadOnlyActions = {
      "GetSecretValue",       "BatchGetSecretValue", "DescribeSecret",   "ListSecrets",
      "ListSecretVersionIds", "GetResourcePolicy",   "GetRandomPassword",
  };
  if (!x_amz_target.starts_with(kSecretsManagerTargetPrefix)) return false;
  x_amz_target.remove_prefix(kSecretsManagerTargetPrefix.size());
  for (std::string_view action : kReadOnlyActions) {
    if (x_amz_target == action) return true;
  }
  return false;
}

}  // namespace coffer::api::ops
