// libFuzzer target for the AWS JSON 1.1 request decoders (src/api/json_codec.h).
//
// Input: the first byte picks an operation, the rest is that operation's JSON body. Each decoder
// must either succeed or fail with kSerialization (never crash, never another code). A decoded
// request is encoded again, decoded again and re-encoded: both encodings must be identical, so the
// request encoders stay exact inverses of the decoders.
//
// Build by hand (clang), all on one line:
//   clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -I src fuzz/api_decode_fuzz.cc
//   src/api/json_codec.cc src/api/json_codec_requests.cc src/api/json_codec_responses.cc
//   src/api/internal/json_io.cc src/core/status.cc src/core/encoding.cc -lcrypto -o /tmp/api_fuzz
// The integrator's CMake wiring needs the same sources (or coffer::api, which holds them).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/json_codec.h"

namespace {

using namespace coffer;       // NOLINT(google-build-using-namespace): test code
using namespace coffer::api;  // NOLINT(google-build-using-namespace)

[[noreturn]] void Die(const char* what, const std::string& detail) {
  std::fprintf(stderr, "api_decode_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

template <typename T, typename Decode, typename Encode>
void Check(std::string_view body, Decode decode, Encode encode) {
  Result<T> first = decode(body);
  if (!first.ok()) {
    if (first.status().code() != StatusCode::kSerialization) {
      Die("decoder failed with a code other than kSerialization", first.status().ToString());
    }
    return;
  }
  Result<std::string> text = encode(*first);
  if (!text.ok()) Die("encoding a decoded request failed", text.status().ToString());
  Result<T> second = decode(*text);
  if (!second.ok()) Die("decoding an encoded request failed", second.status().ToString());
  Result<std::string> again = encode(*second);
  if (!again.ok()) Die("re-encoding failed", again.status().ToString());
  if (*text != *again) Die("round trip is not stable", *text + " vs " + *again);
}

// Decoders without a request encoder: only "no crash, kSerialization or OK".
template <typename T, typename Decode>
void CheckDecodeOnly(std::string_view body, Decode decode) {
  Result<T> r = decode(body);
  if (!r.ok() && r.status().code() != StatusCode::kSerialization) {
    Die("decoder failed with a code other than kSerialization", r.status().ToString());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  namespace s = coffer::secrets;
  switch (selector % 18) {
    case 0: Check<s::CreateSecretRequest>(body, DecodeCreateSecretRequest, EncodeCreateSecretRequest); break;
    case 1: Check<s::GetSecretValueRequest>(body, DecodeGetSecretValueRequest, EncodeGetSecretValueRequest); break;
    case 2: Check<s::BatchGetSecretValueRequest>(body, DecodeBatchGetSecretValueRequest, EncodeBatchGetSecretValueRequest); break;
    case 3: Check<s::PutSecretValueRequest>(body, DecodePutSecretValueRequest, EncodePutSecretValueRequest); break;
    case 4: Check<s::UpdateSecretRequest>(body, DecodeUpdateSecretRequest, EncodeUpdateSecretRequest); break;
    case 5: Check<s::DescribeSecretRequest>(body, DecodeDescribeSecretRequest, EncodeDescribeSecretRequest); break;
    case 6: Check<s::ListSecretsRequest>(body, DecodeListSecretsRequest, EncodeListSecretsRequest); break;
    case 7: Check<s::ListSecretVersionIdsRequest>(body, DecodeListSecretVersionIdsRequest, EncodeListSecretVersionIdsRequest); break;
    case 8: Check<s::UpdateSecretVersionStageRequest>(body, DecodeUpdateSecretVersionStageRequest, EncodeUpdateSecretVersionStageRequest); break;
    case 9: Check<s::DeleteSecretRequest>(body, DecodeDeleteSecretRequest, EncodeDeleteSecretRequest); break;
    case 10: Check<s::SecretIdRequest>(body, DecodeSecretIdRequest, EncodeSecretIdRequest); break;
    case 11: Check<s::TagResourceRequest>(body, DecodeTagResourceRequest, EncodeTagResourceRequest); break;
    case 12: Check<s::UntagResourceRequest>(body, DecodeUntagResourceRequest, EncodeUntagResourceRequest); break;
    case 13: Check<s::GetRandomPasswordRequest>(body, DecodeGetRandomPasswordRequest, EncodeGetRandomPasswordRequest); break;
    case 14: Check<s::PutResourcePolicyRequest>(body, DecodePutResourcePolicyRequest, EncodePutResourcePolicyRequest); break;
    case 15: Check<s::ValidateResourcePolicyRequest>(body, DecodeValidateResourcePolicyRequest, EncodeValidateResourcePolicyRequest); break;
    case 16: Check<s::RotateSecretRequest>(body, DecodeRotateSecretRequest, EncodeRotateSecretRequest); break;
    case 17: CheckDecodeOnly<ReplicationRequest>(body, DecodeReplicationRequest); break;
  }
  return 0;
}
