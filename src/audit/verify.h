#pragma once

// Offline verification of an audit trail directory (what `coffer audit verify` runs). Read-only:
// safe while a server appends to the same trail.
//
// Checks, in order:
//  1. digests.jsonl: every line parses, its prev_digest is the hash of the line before, its
//     signature verifies under the digest key of its master-key version, and sealed seqs never go
//     backwards.
//  2. The records, segment by segment in seq order: every line parses; seqs are consecutive;
//     each "prev" is the hash of the line before; the oldest retained record is anchored by
//     kGenesisHash (record 1) or by a signed retention line; each segment's name matches its
//     first record; every digest's hash equals the hash of the record it seals; no digest seals
//     a record the trail no longer has.
// The first problem found is reported, classified where the evidence allows: a record edited,
// deleted (missing), inserted, or reordered, a digest line edited or forged, or sealed records
// rewritten (a chain recomputed without the master key).
//
// Not failures (warnings): records after the last digest ("not yet sealed"), and a last line
// without '\n' in the newest segment (a record being written, or torn and never acknowledged).
// Deleting unsealed records from the end of the trail cannot be detected: that window is bounded
// by the digest interval.

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/envelope.h"

namespace coffer::audit {

struct VerifyReport {
  bool ok = false;
  std::uint64_t records = 0;   // records read (up to the first problem)
  std::uint64_t segments = 0;  // segment files
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t last_sealed_seq = 0;  // the highest seq a valid digest seals (0: none)
  std::uint64_t digests = 0;          // lines in digests.jsonl
  // The first problem, e.g. "record 1234 (audit-00000000000000000001.jsonl line 1234): edited:
  // its hash does not match the prev of record 1235".
  std::string error;
  // The seq of the first bad record when the problem is a record (0 otherwise).
  std::uint64_t bad_seq = 0;
  std::vector<std::string> warnings;
};

// Verifies the trail in `dir` (<data-dir>/audit). Without a keyring the digests' signatures are
// not checked (a warning says so).
VerifyReport Verify(const std::string& dir, crypto::Keyring* keyring);

}  // namespace coffer::audit
