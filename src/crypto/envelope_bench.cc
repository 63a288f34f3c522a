// Seal/Open throughput of the envelope (measured by hand, not a timed test). Build e.g.:
//   g++ -O2 -std=c++20 -Isrc src/crypto/envelope_bench.cc build/src/crypto/libcoffer_crypto.a \
//       build/src/core/libcoffer_core.a \
//       -lbenchmark -lcrypto -lpthread -o envelope_bench

#include <benchmark/benchmark.h>
#include <cstdlib>
#include <string>

#include "core/encoding.h"
#include "crypto/envelope.h"
#include "crypto/random.h"

namespace coffer::crypto {
namespace {

constexpr std::string_view kAad =
    "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf\n"
    "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111";

std::unique_ptr<Keyring> BenchKeyring() {
  Result<std::unique_ptr<Keyring>> keyring = KeyringFromText(Base64Encode(RandomBytes(32)));
  if (!keyring.ok()) std::abort();
  return std::move(keyring).value();
}

void BM_Seal(benchmark::State& state) {
  std::unique_ptr<Keyring> keyring = BenchKeyring();
  Envelope envelope(keyring.get());
  const std::string value = RandomBytes(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    Result<std::string> blob = envelope.Seal(value, kAad);
    if (!blob.ok()) state.SkipWithError("seal failed");
    benchmark::DoNotOptimize(blob);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Seal)->Arg(100)->Arg(64 * 1024);

void BM_Open(benchmark::State& state) {
  std::unique_ptr<Keyring> keyring = BenchKeyring();
  Envelope envelope(keyring.get());
  const std::string value = RandomBytes(static_cast<std::size_t>(state.range(0)));
  Result<std::string> blob = envelope.Seal(value, kAad);
  if (!blob.ok()) std::abort();
  for (auto _ : state) {
    Result<std::string> opened = envelope.Open(*blob, kAad);
    if (!opened.ok()) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(opened);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Open)->Arg(100)->Arg(64 * 1024);

void BM_Rewrap(benchmark::State& state) {
  std::unique_ptr<Keyring> old_keyring = BenchKeyring();
  const std::string value = RandomBytes(static_cast<std::size_t>(state.range(0)));
  Result<std::string> blob = Envelope(old_keyring.get()).Seal(value, kAad);
  if (!blob.ok()) std::abort();
  // Version 1 is the old key, version 2 the new active one.
  const std::string text =
      R"({"format":"coffer-keyring-v1","active":2,"keys":[{"version":1,"key":")" +
      Base64Encode(*old_keyring->Key(1)) + R"("},{"version":2,"key":")" +
      Base64Encode(RandomBytes(32)) + R"("}]})";
  Result<std::unique_ptr<Keyring>> keyring = KeyringFromText(text);
  if (!keyring.ok()) std::abort();
  Envelope envelope(keyring->get());
  for (auto _ : state) {
    Result<std::string> rewrapped = envelope.Rewrap(*blob, kAad);
    if (!rewrapped.ok()) state.SkipWithError("rewrap failed");
    benchmark::DoNotOptimize(rewrapped);
  }
}
BENCHMARK(BM_Rewrap)->Arg(100);

}  // namespace
}  // namespace coffer::crypto

BENCHMARK_MAIN();
