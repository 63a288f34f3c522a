// `coffer keys rotate`: master-key rotation while the server keeps serving.
//
//  1. RotateFileKeyring adds a new version to the key file and makes it active (atomic rename).
//     A running server re-reads the file every keyring_reload_seconds, so new writes soon use it.
//  2. Every row whose data key is wrapped by an older version is rewrapped (Envelope::Rewrap: the
//     value ciphertext is untouched) and replaced with a compare-and-swap, so a concurrent write
//     of the same row is never overwritten.
//  3. After keyring_reload_seconds + 1 s, another pass catches rows written by a server that had
//     not reloaded yet. Passes repeat until one finds nothing (at most a few times).

#include <chrono>
#include <cstdio>
#include <set>
#include <sys/stat.h>
#include <thread>

#include <spdlog/spdlog.h>

#include "cmd/commands.h"
#include "cmd/common.h"
#include "crypto/envelope.h"
#include "iam/iam_service.h"
#include "secrets/value_codec.h"
#include "storage/store.h"

namespace coffer::cmd {
namespace {

constexpr std::size_t kBatch = 256;
constexpr int kMaxPasses = 5;

struct RewrapStats {
  std::size_t versions = 0;
  std::size_t access_keys = 0;
  std::size_t conflicts = 0;  // rows changed under us; re-listed if still stale
  std::size_t failures = 0;   // rows that could not be rewrapped (damaged or unknown key)
};

std::string AadOf(const storage::WrappedRef& ref) {
  if (ref.kind == storage::WrappedRef::Kind::kAccessKey) {
    return iam::AccessKeyAad(ref.access_key_id);
  }
  return secrets::VersionAad(ref.arn, ref.version_id);
}

std::string NameOf(const storage::WrappedRef& ref) {
  if (ref.kind == storage::WrappedRef::Kind::kAccessKey) return "access key " + ref.access_key_id;
  return "version " + ref.version_id + " of " + ref.arn;
}

// Rewraps stale rows until none are left (or only ones that fail). Returns rows rewrapped.
Result<std::size_t> RewrapPass(storage::SecretStore* store, const crypto::Envelope& envelope,
                               std::uint32_t version, RewrapStats& stats) {
  std::size_t rewrapped = 0;
  std::set<std::string> failed;  // rows that failed once are not retried in this pass
  while (true) {
    COFFER_ASSIGN_OR_RETURN(std::vector<storage::WrappedRef> refs,
                            store->ListStaleWrapped(version, kBatch));
    std::size_t progress = 0;
    for (const storage::WrappedRef& ref : refs) {
      std::string name = NameOf(ref);
      if (failed.count(name) != 0) continue;
      auto rewrapped_blob = envelope.Rewrap(ref.ciphertext, AadOf(ref));
      if (!rewrapped_blob.ok()) {
        spdlog::error("cannot rewrap {}: {}", name, rewrapped_blob.status().ToString());
        failed.insert(name);
        ++stats.failures;
        continue;
      }
      COFFER_ASSIGN_OR_RETURN(bool replaced, store->ReplaceWrapped(ref, *rewrapped_blob, version));
      ++progress;
      if (!replaced) {
        ++stats.conflicts;
        continue;
      }
      ++rewrapped;
      if (ref.kind == storage::WrappedRef::Kind::kAccessKey) {
        ++stats.access_keys;
      } else {
        ++stats.versions;
      }
    }
    // Done when nothing is stale, or everything still stale is a row that failed.
    if (refs.empty() || progress == 0) break;
  }
  return rewrapped;
}

}  // namespace

int RunKeysRotate(const config::RawValues& flags) {
  auto env = config::ProcessEnvironment();
  if (auto it = env.find("COFFER_MASTER_KEY"); it != env.end() && !it->second.empty()) {
    std::fprintf(stderr,
                 "coffer keys rotate: the master key comes from COFFER_MASTER_KEY, not from a key "
                 "file, so there is no file to rotate.\n"
                 "To rotate an environment key, add a new version to the JSON keyring in "
                 "COFFER_MASTER_KEY, make it active, and restart the server; unset "
                 "COFFER_MASTER_KEY to rotate the key file instead.\n");
    return 2;
  }
  auto cfg = config::LoadServerConfig(flags, env, /*require_data_dir=*/true);
  if (!cfg.ok()) {
    std::fprintf(stderr, "coffer keys rotate: %s\n", cfg.status().message().c_str());
    return 2;
  }
  SetUpLogging(cfg->log_level);

  struct stat st {};
  const std::string db_path = DatabasePath(cfg->data_dir);
  if (::stat(db_path.c_str(), &st) != 0) {
    std::fprintf(stderr, "coffer keys rotate: no database at %s (is --data-dir right?)\n",
                 db_path.c_str());
    return 2;
  }
  const std::string key_file = cfg->MasterKeyFile();
  if (::stat(key_file.c_str(), &st) != 0) {
    std::fprintf(stderr, "coffer keys rotate: no master key file at %s\n", key_file.c_str());
    return 2;
  }

  auto version = crypto::RotateFileKeyring(key_file);
  if (!version.ok()) {
    std::fprintf(stderr, "coffer keys rotate: %s\n", version.status().ToString().c_str());
    return 1;
  }
  std::printf("master key version %u is now active in %s\n", *version, key_file.c_str());
  std::fflush(stdout);

  auto keyring = crypto::OpenFileKeyring(key_file, /*create_if_missing=*/false);
  if (!keyring.ok()) {
    std::fprintf(stderr, "coffer keys rotate: %s\n", keyring.status().ToString().c_str());
    return 1;
  }
  if ((*keyring)->ActiveVersion() != *version) {
    std::fprintf(stderr, "coffer keys rotate: the key file changed during rotation; run again\n");
    return 1;
  }
  crypto::Envelope envelope(keyring->get());
  auto store = OpenStore(cfg->data_dir);
  if (!store.ok()) {
    std::fprintf(stderr, "coffer keys rotate: %s\n", store.status().ToString().c_str());
    return 1;
  }

  RewrapStats stats;
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    if (pass > 0) {
      // Give a running server time to reload the key file, then catch what it sealed meanwhile.
      std::this_thread::sleep_for(std::chrono::seconds(cfg->keyring_reload_seconds + 1));
    }
    auto rewrapped = RewrapPass(store->get(), envelope, *version, stats);
    if (!rewrapped.ok()) {
      std::fprintf(stderr, "coffer keys rotate: %s\n", rewrapped.status().ToString().c_str());
      return 1;
    }
    if (pass > 0 && *rewrapped == 0) break;
  }

  std::printf("rewrapped %zu data key(s): %zu secret version(s), %zu access key(s)\n",
              stats.versions + stats.access_keys, stats.versions, stats.access_keys);
  if (stats.failures > 0) {
    std::printf(
        "%zu row(s) could not be rewrapped (see the log); they still use older key "
        "versions, so keep those in the key file\n",
        stats.failures);
    return 1;
  }
  return 0;
}

}  // namespace coffer::cmd
