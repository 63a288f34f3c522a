#include "secrets/service.h"

#include <chrono>

#include "secrets/authorize.h"
#include "secrets/messages.h"
#include "secrets/meta.h"
#include "secrets/op_util.h"
#include "secrets/secret_id.h"
#include "secrets/validate.h"

namespace coffer::secrets {

using internal::CheckNotDeleted;
using internal::Loaded;
using internal::RetryOnConflict;
using internal::UpdateOf;

namespace {

AccessRecorderOptions RecorderOptions(const ServiceOptions& options) {
  AccessRecorderOptions out;
  out.flush_interval = std::chrono::milliseconds(options.access_flush_interval_ms);
  out.flush_threshold = options.access_flush_threshold;
  out.commit_retries = options.commit_retries;
  return out;
}

}  // namespace

Service::Service(storage::SecretStore* store, const crypto::Envelope* envelope, const Clock* clock,
                 ServiceOptions options)
    : store_(store),
      envelope_(envelope),
      clock_(clock),
      options_(options),
      access_(store, &locks_, RecorderOptions(options)) {}

Service::~Service() { access_.Stop(/*flush=*/false); }

void Service::Shutdown() { access_.Stop(/*flush=*/true); }

void Service::FlushAccessRecords() { access_.Flush(); }

std::unique_lock<std::mutex> Service::LockSecret(const CallContext& ctx,
                                                 std::string_view secret_id) {
  // A plain name is (ctx.region, name) as FindSecret resolves it.
  if (!secret_id.starts_with("arn:")) return locks_.Lock(ctx.region, secret_id);
  auto found = FindSecret(*store_, ctx, secret_id);
  if (!found.ok() || !*found) return {};
  return locks_.Lock((*found)->region, (*found)->name);
}

Result<std::vector<SecretGaugeRow>> Service::SecretGauges() {
  COFFER_ASSIGN_OR_RETURN(auto records, store_->ListAllSecrets());
  std::vector<SecretGaugeRow> rows;
  rows.reserve(records.size());
  for (const auto& record : records) {
    COFFER_ASSIGN_OR_RETURN(SecretMeta meta, ParseMeta(record.meta_json));
    rows.push_back({record.name, record.region, record.created_ms, meta.last_rotated_ms,
                    record.deletion_date_ms.has_value()});
  }
  return rows;
}

Result<std::vector<storage::VersionRecord>> Service::ListVersionsSeen(const std::string& arn) {
  COFFER_ASSIGN_OR_RETURN(auto versions, store_->ListVersions(arn));
  access_.Overlay(arn, versions);
  return versions;
}

Result<storage::SecretRecord> Service::EditMeta(const CallContext& ctx, std::string_view action,
                                                const std::string& secret_id,
                                                const internal::AuthExtras* extras,
                                                const std::function<Status(SecretMeta&)>& edit) {
  auto lock = LockSecret(ctx, secret_id);
  return RetryOnConflict(options_.commit_retries, [&]() -> Result<storage::SecretRecord> {
    COFFER_ASSIGN_OR_RETURN(Loaded secret, LoadAuthorized(ctx, secret_id, action, extras));
    COFFER_RETURN_IF_ERROR(CheckNotDeleted(secret.record));
    COFFER_RETURN_IF_ERROR(edit(secret.meta));
    secret.meta.last_changed_ms = clock_->NowMillis();
    storage::Mutation m = UpdateOf(secret);
    COFFER_RETURN_IF_ERROR(store_->Commit(m));
    return m.secret;
  });
}

}  // namespace coffer::secrets
