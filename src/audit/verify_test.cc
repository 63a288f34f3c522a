#include "audit/verify.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "audit/files.h"
#include "audit/test_util.h"
#include "audit/trail.h"

namespace coffer::audit {
namespace {

using testing::MakeRecord;
using testing::ReadLines;
using testing::TempDir;
using testing::WriteLines;

// A trail of 10 records in one segment, sealed after record 4 and after record 10 (on Close).
class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TrailOptions o;
    o.dir = dir_;
    o.digest_interval = std::chrono::milliseconds(0);
    auto trail = Trail::Open(o, keyring_.get());
    ASSERT_TRUE(trail.ok()) << trail.status().ToString();
    for (int i = 1; i <= 10; ++i) {
      ASSERT_TRUE((*trail)->Append(MakeRecord(i)).ok());
      if (i == 4) {
        ASSERT_TRUE((*trail)->Seal().ok());
      }
    }
    ASSERT_TRUE((*trail)->Close().ok());
    lines_ = ReadLines(segment_);
    ASSERT_EQ(lines_.size(), 10u);
    VerifyReport clean = Verify(dir_, keyring_.get());
    ASSERT_TRUE(clean.ok) << clean.error;
  }

  // Replaces `field`'s first value in a line (a JSON string member) with `value`.
  static std::string Edit(std::string line, const std::string& from, const std::string& to) {
    std::size_t pos = line.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    return line.replace(pos, from.size(), to);
  }

  VerifyReport Tampered(const std::vector<std::string>& lines) {
    WriteLines(segment_, lines);
    return Verify(dir_, keyring_.get());
  }

  // Rewrites every prev from record `from` on, as an attacker without the master key can.
  static void Rechain(std::vector<std::string>& lines, std::size_t from_index) {
    for (std::size_t i = from_index; i < lines.size(); ++i) {
      auto parsed = ParseLine(lines[i]);
      ASSERT_TRUE(parsed.ok());
      std::string prev = i == 0 ? std::string(kGenesisHash) : LineHash(lines[i - 1]);
      lines[i] = ComposeLine(parsed->seq, prev, SerializeBody(parsed->record));
    }
  }

  TempDir tmp_;
  std::string dir_ = AuditDir(tmp_.path());
  std::string segment_ = dir_ + "/audit-00000000000000000001.jsonl";
  std::string digests_ = dir_ + "/digests.jsonl";
  std::unique_ptr<crypto::Keyring> keyring_ = testing::TestKeyring();
  std::vector<std::string> lines_;
};

TEST_F(VerifyTest, CleanTrailReportsCounts) {
  VerifyReport r = Verify(dir_, keyring_.get());
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.records, 10u);
  EXPECT_EQ(r.segments, 1u);
  EXPECT_EQ(r.first_seq, 1u);
  EXPECT_EQ(r.last_seq, 10u);
  EXPECT_EQ(r.last_sealed_seq, 10u);
  EXPECT_EQ(r.digests, 2u);
  EXPECT_TRUE(r.warnings.empty());
}

TEST_F(VerifyTest, EditedFieldNamesTheEditedRecord) {
  std::vector<std::string> lines = lines_;
  lines[6] = Edit(lines[6], "\"source_ip\":\"127.0.0.1\"", "\"source_ip\":\"10.9.9.9\"");
  VerifyReport r = Tampered(lines);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 7u) << r.error;
  EXPECT_EQ(r.error,
            "record 7 (audit-00000000000000000001.jsonl line 7): edited: its hash does not match "
            "the prev of record 8 (audit-00000000000000000001.jsonl line 8)");
}

TEST_F(VerifyTest, EditedLastRecordIsCaughtByTheDigest) {
  std::vector<std::string> lines = lines_;
  lines[9] = Edit(lines[9], "\"read_only\":true", "\"read_only\":false");
  VerifyReport r = Tampered(lines);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 10u) << r.error;
  EXPECT_NE(r.error.find("does not match digests.jsonl line 2"), std::string::npos) << r.error;
}

TEST_F(VerifyTest, EditedPrevNamesTheRecord) {
  std::vector<std::string> lines = lines_;
  // Record 5 (sealed neighbour 4) gets a forged prev.
  auto parsed = ParseLine(lines[4]);
  lines[4] = ComposeLine(5, std::string(64, 'a'), SerializeBody(parsed->record));
  VerifyReport r = Tampered(lines);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 5u) << r.error;
  EXPECT_NE(r.error.find("record 5 (audit-00000000000000000001.jsonl line 5)"),
            std::string::npos)
      << r.error;
}

TEST_F(VerifyTest, DeletedLineNamesTheMissingRecord) {
  std::vector<std::string> lines = lines_;
  lines.erase(lines.begin() + 5);  // record 6
  VerifyReport r = Tampered(lines);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 6u) << r.error;
  EXPECT_EQ(r.error,
            "record 7 (audit-00000000000000000001.jsonl line 6): seq 7 follows 5: record 6 "
            "missing (deleted)");
}

TEST_F(VerifyTest, DeletedSealedTailIsCaughtByTheDigest) {
  std::vector<std::string> lines = lines_;
  lines.resize(8);
  VerifyReport r = Tampered(lines);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 9u) << r.error;
  EXPECT_EQ(r.error,
            "digests.jsonl line 2 seals record 10, but the trail ends at record 8: records 9..10 "
            "deleted");
}

TEST_F(VerifyTest, InsertedWellFormedForgeryIsNamed) {
  // A forged record 6 that links correctly to record 5, placed before the real record 6.
  std::vector<std::string> lines = lines_;
  Record forged = MakeRecord(6);
  forged.event_name = "DeleteSecret";
  forged.read_only = false;
  lines.insert(lines.begin() + 5, ComposeLine(6, LineHash(lines[4]), SerializeBody(forged)));
  VerifyReport r = Tampered(lines);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 6u) << r.error;
  EXPECT_EQ(r.error.rfind("audit-00000000000000000001.jsonl line 6 (claims record 6): inserted",
                          0),
            0u)
      << r.error;
}

TEST_F(VerifyTest, InsertedNaiveForgeryIsNamed) {
  std::vector<std::string> lines = lines_;
  lines.insert(lines.begin() + 3,
               ComposeLine(99, std::string(64, 'b'), SerializeBody(MakeRecord(99))));
  VerifyReport r = Tampered(lines);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 99u) << r.error;
  EXPECT_EQ(r.error.rfind("audit-00000000000000000001.jsonl line 4 (claims record 99): inserted",
                          0),
            0u)
      << r.error;
}

TEST_F(VerifyTest, SwappedLinesAreReordered) {
  std::vector<std::string> lines = lines_;
  std::swap(lines[5], lines[6]);  // records 6 and 7
  VerifyReport r = Tampered(lines);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 7u) << r.error;
  EXPECT_EQ(r.error,
            "record 7 (audit-00000000000000000001.jsonl line 6): reordered: it comes before "
            "record 6 (audit-00000000000000000001.jsonl line 7)");
}

TEST_F(VerifyTest, MovedLineIsReordered) {
  std::vector<std::string> lines = lines_;
  std::string moved = lines[2];  // record 3 moved after record 8
  lines.erase(lines.begin() + 2);
  lines.insert(lines.begin() + 7, moved);
  VerifyReport r = Tampered(lines);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 4u) << r.error;
  EXPECT_NE(r.error.find("reordered: it comes before record 3 "
                         "(audit-00000000000000000001.jsonl line 8)"),
            std::string::npos)
      << r.error;
}

TEST_F(VerifyTest, EditedSeqIsNamed) {
  std::vector<std::string> lines = lines_;
  lines[5] = Edit(lines[5], "{\"seq\":6,", "{\"seq\":60,");
  VerifyReport r = Tampered(lines);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 6u) << r.error;
  EXPECT_NE(r.error.find("record 6 (audit-00000000000000000001.jsonl line 6): edited"),
            std::string::npos)
      << r.error;
}

TEST_F(VerifyTest, GarbledLineIsNamed) {
  std::vector<std::string> lines = lines_;
  lines[2] = "garbage";
  VerifyReport r = Tampered(lines);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 3u);
  EXPECT_EQ(r.error,
            "audit-00000000000000000001.jsonl line 3 (expected record 3): not a valid record: not "
            "valid JSON");
}

TEST_F(VerifyTest, RecomputedChainWithoutTheKeyIsCaughtByTheDigest) {
  std::vector<std::string> lines = lines_;
  lines[5] = Edit(lines[5], "\"event_name\":\"GetSecretValue\"", "\"event_name\":\"ListSecrets\"");
  Rechain(lines, 6);
  VerifyReport r = Tampered(lines);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 10u) << r.error;
  EXPECT_EQ(r.error,
            "record 10 (audit-00000000000000000001.jsonl line 10) does not match digests.jsonl "
            "line 2, which sealed it: records 5..10 were altered after sealing (the hash chain "
            "was rewritten without the master key)");
}

TEST_F(VerifyTest, EditedDigestFailsItsSignature) {
  std::vector<std::string> digests = ReadLines(digests_);
  ASSERT_EQ(digests.size(), 2u);
  // Make the digest vouch for a rewritten chain: replace its hash.
  std::vector<std::string> lines = lines_;
  lines[5] = Edit(lines[5], "\"event_name\":\"GetSecretValue\"", "\"event_name\":\"ListSecrets\"");
  Rechain(lines, 6);
  WriteLines(segment_, lines);
  auto d = ParseDigestLine(digests[1]);
  digests[1] = Edit(digests[1], d->hash, LineHash(lines[9]));
  WriteLines(digests_, digests);
  VerifyReport r = Verify(dir_, keyring_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error,
            "digests.jsonl line 2: the signature does not verify: the line was edited, or forged "
            "without the master key");
}

TEST_F(VerifyTest, DigestSignedWithAnotherKeyFails) {
  auto other = testing::TestKeyring('z');
  VerifyReport r = Verify(dir_, other.get());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("digests.jsonl line 1: the signature does not verify"),
            std::string::npos);
  VerifyReport unkeyed = Verify(dir_, nullptr);
  EXPECT_TRUE(unkeyed.ok);
  ASSERT_EQ(unkeyed.warnings.size(), 1u);
  EXPECT_NE(unkeyed.warnings[0].find("not checked"), std::string::npos);
}

TEST_F(VerifyTest, RemovedDigestLineBreaksTheDigestChain) {
  std::vector<std::string> digests = ReadLines(digests_);
  // A third digest, then the middle one removed.
  {
    TrailOptions o;
    o.dir = dir_;
    o.digest_interval = std::chrono::milliseconds(0);
    auto trail = Trail::Open(o, keyring_.get());
    ASSERT_TRUE((*trail)->Append(MakeRecord(11)).ok());
  }
  digests = ReadLines(digests_);
  ASSERT_EQ(digests.size(), 3u);
  digests.erase(digests.begin() + 1);
  WriteLines(digests_, digests);
  VerifyReport r = Verify(dir_, keyring_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error,
            "digests.jsonl line 2: prev_digest does not match the line before: a digest line was "
            "edited, removed, inserted or reordered");
}

TEST_F(VerifyTest, UnsealedRecordsAndPartialLineAreWarnings) {
  std::vector<std::string> lines = lines_;
  Record extra = MakeRecord(11);
  lines.push_back(ComposeLine(11, LineHash(lines[9]), SerializeBody(extra)));
  WriteLines(segment_, lines);
  {
    std::ofstream out(segment_, std::ios::binary | std::ios::app);
    out << "{\"seq\":12,\"pr";
  }
  VerifyReport r = Verify(dir_, keyring_.get());
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.last_seq, 11u);
  EXPECT_EQ(r.last_sealed_seq, 10u);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_NE(r.warnings[0].find("line 12 has no newline"), std::string::npos) << r.warnings[0];
  EXPECT_EQ(r.warnings[1], "record 11 not yet sealed by a digest");
}

TEST_F(VerifyTest, RenamedSegmentIsNamed) {
  std::filesystem::rename(segment_, dir_ + "/audit-00000000000000000002.jsonl");
  VerifyReport r = Verify(dir_, keyring_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error,
            "audit-00000000000000000002.jsonl line 1: the segment is named for record 2 but starts "
            "with record 1 (renamed?)");
}

TEST_F(VerifyTest, MissingDirectoryFails) {
  VerifyReport r = Verify(tmp_.Sub("nope"), keyring_.get());
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("no audit directory"), std::string::npos);
}

}  // namespace
}  // namespace coffer::audit
