#include "api/ops/operations.h"

#include <unordered_map>

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

}  // namespace coffer::api::ops
