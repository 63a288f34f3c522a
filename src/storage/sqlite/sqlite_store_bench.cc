// Benchmarks of SqliteStore: hot-path reads and durable group commit.
//
// Not part of any CMake target (measured by hand). Build and run with an optimised library:
//   g++ -std=c++20 -O2 -DNDEBUG -Isrc src/storage/sqlite/sqlite_store_bench.cc \
//       src/storage/sqlite/{connection,schema,sqlite_store}.cc src/core/status.cc \
//       -lbenchmark -lsqlite3 -lpthread -o /tmp/sqlite_store_bench
//   COFFER_BENCH_DIR=/var/tmp /tmp/sqlite_store_bench
// COFFER_BENCH_DIR must be on the disk you care about (not tmpfs, where fsync is free).
// Figures from one run are in docs/design/storage-schema.md.

#include <algorithm>
#include <atomic>
#include <benchmark/benchmark.h>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unistd.h>

#include "storage/sqlite/sqlite_store.h"

namespace coffer::storage {
namespace {

constexpr int kSecrets = 1000;

std::string BenchDir() {
  const char* dir = std::getenv("COFFER_BENCH_DIR");
  return dir != nullptr ? dir : std::filesystem::temp_directory_path().string();
}

SecretRecord BenchSecret(const std::string& name) {
  SecretRecord s;
  s.arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + name + "-AbCdEf";
  s.region = "us-east-1";
  s.name = name;
  s.created_ms = 1;
  s.meta_json = R"({"Description":"benchmark","Tags":[{"Key":"team","Value":"platform"}]})";
  return s;
}

VersionRecord BenchVersion(const std::string& id, std::vector<std::string> stages) {
  VersionRecord v;
  v.version_id = id;
  v.stages = std::move(stages);
  v.created_ms = 2;
  v.ciphertext = std::string(120, 'c');  // about the envelope of a small secret string
  v.key_version = 1;
  return v;
}

// One store for the whole process, with kSecrets secrets of two versions each.
SqliteStore* SharedStore() {
  static const std::string path =
      BenchDir() + "/coffer-bench-" + std::to_string(::getpid()) + ".db";
  static SqliteStore* store = [] {
    std::atexit([] {
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    });
    +"/coffer-bench-" + std::to_string(::getpid()) + ".db";
    std::filesystem::remove(path);
    SqliteOptions options;
    options.path = path;
    Result<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(options);
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
      std::abort();
    }
    for (int i = 0; i < kSecrets; ++i) {
      Mutation m;
      m.secret = BenchSecret("read-" + std::to_string(i));
      m.new_versions = {BenchVersion("v1", {"AWSPREVIOUS"}), BenchVersion("v2", {"AWSCURRENT"})};
      if (!opened->get()->Commit(m).ok()) std::abort();
    }
    return opened->release();  // lives until exit
  }();
  return store;
}

void BM_GetSecretByArn(benchmark::State& state) {
  SqliteStore* store = SharedStore();
  int i = static_cast<int>(state.thread_index()) * 97;
  for (auto _ : state) {
    auto r = store->GetSecretByArn(BenchSecret("read-" + std::to_string(i++ % kSecrets)).arn);
    if (!r.ok() || !r->has_value()) state.SkipWithError("lookup failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetSecretByArn)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

void BM_GetSecretByName(benchmark::State& state) {
  SqliteStore* store = SharedStore();
  int i = static_cast<int>(state.thread_index()) * 97;
  for (auto _ : state) {
    auto r = store->GetSecretByName("us-east-1", "read-" + std::to_string(i++ % kSecrets));
    if (!r.ok() || !r->has_value()) state.SkipWithError("lookup failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetSecretByName)->Threads(1)->UseRealTime();

void BM_GetVersionByStage(benchmark::State& state) {
  SqliteStore* store = SharedStore();
  int i = static_cast<int>(state.thread_index()) * 97;
  for (auto _ : state) {
    auto r = store->GetVersionByStage(BenchSecret("read-" + std::to_string(i++ % kSecrets)).arn,
                                      "AWSCURRENT");
    if (!r.ok() || !r->has_value()) state.SkipWithError("lookup failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetVersionByStage)->Threads(1)->Threads(2)->Threads(4)->UseRealTime();

// PutSecretValue's write: a new AWSCURRENT version, the old one demoted, revision + 1. Each
// thread owns one secret, so every commit succeeds; throughput comes from group commit.
void BM_DurableCommit(benchmark::State& state) {
  SqliteStore* store = SharedStore();
  static std::atomic<int> run{0};
  SecretRecord s = BenchSecret("write-" + std::to_string(run++));
  Mutation create;
  create.secret = s;
  create.new_versions = {BenchVersion("v1", {"AWSCURRENT"})};
  if (!store->Commit(create).ok()) state.SkipWithError("create failed");
  std::int64_t revision = 1;
  const SqliteStore::WriterStats before = store->writer_stats();
  for (auto _ : state) {
    Mutation m;
    m.secret = s;
    m.expected_revision = revision;
    m.new_versions = {BenchVersion("v" + std::to_string(revision + 1), {"AWSCURRENT"})};
    m.version_updates.push_back(
        {"v" + std::to_string(revision), std::vector<std::string>{"AWSPREVIOUS"}, std::nullopt});
    if (revision > 1) {
      m.version_updates.push_back(
          {"v" + std::to_string(revision - 1), std::vector<std::string>{}, std::nullopt});
    }
    if (!store->Commit(m).ok()) {
      state.SkipWithError("commit failed");
      break;
    }
    ++revision;
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    // Mean operations per transaction (one fsync each) while this run went on.
    const SqliteStore::WriterStats after = store->writer_stats();
    state.counters["ops_per_fsync"] =
        static_cast<double>(after.operations - before.operations) /
        static_cast<double>(std::max<std::uint64_t>(1, after.transactions - before.transactions));
  }
}
BENCHMARK(BM_DurableCommit)->Threads(1)->Threads(8)->Threads(32)->UseRealTime();

}  // namespace
}  // namespace coffer::storage

BENCHMARK_MAIN();
