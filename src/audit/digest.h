#pragma once

// Signed lines of <audit dir>/digests.jsonl. Two kinds, each one JSON line:
//
//   {"type":"digest","seq":S,"hash":H,"time":T,"key_version":V,"prev_digest":P,"signature":G}
//     seals records 1..S: H is the hash of record S's line (which, through the chain, commits to
//     every record before it).
//   {"type":"retention","first_seq":A,"seq":B,"hash":H,"time":T,"key_version":V,
//    "prev_digest":P,"signature":G}
//     records A..B were removed by retention; H is the hash of record B's line, i.e. the "prev"
//     that record B+1 must carry (the anchor of the retained trail).
//
// P is the hash of the previous line of digests.jsonl (kGenesisHash for the first), so digest
// lines are chained too. G = hex HMAC-SHA256(digest key, the line's bytes before
// `,"signature":"`); the digest key = HMAC-SHA256(master key version V, "coffer audit digest v1").
// Without the master key nobody can write a line that verifies.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/envelope.h"

namespace coffer::audit {

inline constexpr std::string_view kDigestKeyLabel = "coffer audit digest v1";

// The raw 32-byte digest key derived from master-key `version`. Errors of Keyring::Key().
Result<std::string> DigestKey(crypto::Keyring& keyring, std::uint32_t version);

struct DigestLine {
  enum class Kind { kDigest, kRetention };
  Kind kind = Kind::kDigest;
  std::uint64_t first_seq = 0;  // retention only
  std::uint64_t seq = 0;
  std::string hash;
  std::int64_t time_ms = 0;
  std::uint32_t key_version = 0;
  std::string prev_digest;
  std::string signature;  // hex; set by Sign / ParseDigestLine
};

// The signed line (no '\n') for `line` (its signature member is ignored).
std::string SignDigestLine(const DigestLine& line, std::string_view digest_key);

// Parses a line of digests.jsonl; kDataLoss with a reason when malformed.
Result<DigestLine> ParseDigestLine(std::string_view text);

// Whether `text` (a whole line) carries a valid signature under `digest_key`.
bool DigestSignatureValid(std::string_view text, std::string_view digest_key);

}  // namespace coffer::audit
