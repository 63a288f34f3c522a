#include "audit/trail.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "audit/cloudtrail_json.h"
#include "audit/digest.h"
#include "audit/files.h"
#include "audit/test_util.h"
#include "audit/verify.h"

namespace coffer::audit {
namespace {

namespace fs = std::filesystem;
using testing::MakeRecord;
using testing::ReadAll;
using testing::ReadLines;
using testing::TempDir;

class TrailTest : public ::testing::Test {
 protected:
  TrailOptions Options() {
    TrailOptions o;
    o.dir = AuditDir(tmp_.path());
    o.digest_interval = std::chrono::milliseconds(0);  // digests only when asked, and on Close
    o.clock = &clock_;
    return o;
  }
  std::unique_ptr<Trail> OpenTrail(TrailOptions o) {
    auto trail = Trail::Open(std::move(o), keyring_.get());
    EXPECT_TRUE(trail.ok()) << trail.status().ToString();
    return trail.ok() ? std::move(trail).value() : nullptr;
  }
  std::vector<std::string> AllRecordLines() {
    std::vector<std::string> out;
    auto segments = ListSegments(AuditDir(tmp_.path()));
    for (const SegmentFile& s : *segments) {
      for (std::string& l : ReadLines(s.path)) out.push_back(std::move(l));
    }
    return out;
  }

  TempDir tmp_;
  FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<crypto::Keyring> keyring_ = testing::TestKeyring();
};

TEST_F(TrailTest, AppendsChainedLinesAndResumesAfterReopen) {
  {
    auto trail = OpenTrail(Options());
    ASSERT_TRUE(trail);
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE(trail->Append(MakeRecord(i)).ok());
    EXPECT_EQ(trail->last_seq(), 5u);
  }
  struct stat st {};
  ASSERT_EQ(::stat(AuditDir(tmp_.path()).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  {
    auto trail = OpenTrail(Options());
    ASSERT_TRUE(trail);
    EXPECT_EQ(trail->last_seq(), 5u);
    EXPECT_EQ(trail->last_sealed_seq(), 5u);  // Close sealed
    for (int i = 6; i <= 8; ++i) ASSERT_TRUE(trail->Append(MakeRecord(i)).ok());
  }
  auto segments = ListSegments(AuditDir(tmp_.path()));
  ASSERT_TRUE(segments.ok());
  ASSERT_EQ(segments->size(), 2u);  // rotated at start-up
  EXPECT_EQ((*segments)[0].name, "audit-00000000000000000001.jsonl");
  EXPECT_EQ((*segments)[1].name, "audit-00000000000000000006.jsonl");
  ASSERT_EQ(::stat((*segments)[1].path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::vector<std::string> lines = AllRecordLines();
  ASSERT_EQ(lines.size(), 8u);
  std::string prev(kGenesisHash);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    auto parsed = ParseLine(lines[i]);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->seq, i + 1);
    EXPECT_EQ(parsed->prev, prev);
    EXPECT_EQ(parsed->record.request_id, "req-" + std::to_string(i + 1));
    EXPECT_EQ(parsed->record.event_id.size(), 36u);  // filled with a UUID
    prev = LineHash(lines[i]);
  }
  VerifyReport report = Verify(AuditDir(tmp_.path()), keyring_.get());
  EXPECT_TRUE(report.ok) << report.error;
  EXPECT_EQ(report.records, 8u);
  EXPECT_EQ(report.last_sealed_seq, 8u);
  EXPECT_TRUE(report.warnings.empty());
}

TEST_F(TrailTest, EmptyNewestSegmentIsReusedOnReopen) {
  { ASSERT_TRUE(OpenTrail(Options())); }
  { ASSERT_TRUE(OpenTrail(Options())); }
  auto segments = ListSegments(AuditDir(tmp_.path()));
  ASSERT_EQ(segments->size(), 1u);
  EXPECT_EQ((*segments)[0].first_seq, 1u);
}

TEST_F(TrailTest, TornLastLineIsCutOffOnOpen) {
  {
    auto trail = OpenTrail(Options());
    for (int i = 1; i <= 3; ++i) ASSERT_TRUE(trail->Append(MakeRecord(i)).ok());
  }
  const std::string seg = AuditDir(tmp_.path()) + "/audit-00000000000000000001.jsonl";
  const std::string good = ReadAll(seg);
  {
    std::ofstream out(seg, std::ios::binary | std::ios::app);
    out << "{\"seq\":4,\"prev\":\"abc";  // a write cut short by a crash
  }
  {
    auto trail = OpenTrail(Options());
    ASSERT_TRUE(trail);
    EXPECT_EQ(trail->last_seq(), 3u);
    EXPECT_EQ(ReadAll(seg), good);
    ASSERT_TRUE(trail->Append(MakeRecord(4)).ok());
  }
  VerifyReport report = Verify(AuditDir(tmp_.path()), keyring_.get());
  EXPECT_TRUE(report.ok) << report.error;
  EXPECT_EQ(report.records, 4u);
}

TEST_F(TrailTest, ConcurrentAppendsKeepOneValidChain) {
  TrailOptions o = Options();
  o.segment_max_bytes = 256 * 1024;  // rotate while threads append
  o.digest_interval = std::chrono::milliseconds(5);
  auto trail = OpenTrail(o);
  ASSERT_TRUE(trail);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Record r = MakeRecord(t * kPerThread + i);
        if (!trail->Append(std::move(r)).ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(trail->last_seq(), static_cast<std::uint64_t>(kThreads * kPerThread));
  ASSERT_TRUE(trail->Close().ok());

  std::vector<std::string> lines = AllRecordLines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::set<std::string> request_ids;
  for (const std::string& l : lines) request_ids.insert(ParseLine(l)->record.request_id);
  EXPECT_EQ(request_ids.size(), lines.size());  // every record exactly once
  EXPECT_GT(ListSegments(AuditDir(tmp_.path()))->size(), 10u);

  VerifyReport report = Verify(AuditDir(tmp_.path()), keyring_.get());
  EXPECT_TRUE(report.ok) << report.error;
  EXPECT_EQ(report.records, lines.size());
  EXPECT_EQ(report.last_sealed_seq, lines.size());
  EXPECT_GT(report.digests, 1u);
}

TEST_F(TrailTest, FailedWritesFailTheAppendAndAreNotCounted) {
  enum class Mode { kOk, kEnospc, kEio, kShort };
  std::atomic<Mode> mode{Mode::kOk};
  TrailOptions o = Options();
  o.write_fn = [&mode](int fd, const void* data, std::size_t size) -> ssize_t {
    switch (mode.load()) {
      case Mode::kOk: return ::write(fd, data, size);
      case Mode::kEnospc: errno = ENOSPC; return -1;
      case Mode::kEio: errno = EIO; return -1;
      case Mode::kShort: return ::write(fd, data, size / 2);  // a torn line reaches the file
    }
    return -1;
  };
  auto trail = OpenTrail(o);
  ASSERT_TRUE(trail);
  ASSERT_TRUE(trail->Append(MakeRecord(1)).ok());

  mode = Mode::kEnospc;
  Status s = trail->Append(MakeRecord(2));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("No space left"), std::string::npos) << s.message();
  EXPECT_EQ(trail->write_failures(), 1u);
  mode = Mode::kEio;
  EXPECT_FALSE(trail->Append(MakeRecord(3)).ok());
  mode = Mode::kShort;
  EXPECT_FALSE(trail->Append(MakeRecord(4)).ok());
  EXPECT_EQ(trail->write_failures(), 3u);
  EXPECT_EQ(trail->last_seq(), 1u);

  mode = Mode::kOk;
  ASSERT_TRUE(trail->Append(MakeRecord(5)).ok());
  EXPECT_EQ(trail->last_seq(), 2u);
  ASSERT_TRUE(trail->Close().ok());

  // The half line was cut off again; record 5 took seq 2 and the chain is whole.
  std::vector<std::string> lines = AllRecordLines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(ParseLine(lines[1])->record.request_id, "req-5");
  VerifyReport report = Verify(AuditDir(tmp_.path()), keyring_.get());
  EXPECT_TRUE(report.ok) << report.error;
}

TEST_F(TrailTest, WritesToAFullDeviceFail) {
  // The segment descriptor is pointed at /dev/full: every write(2) fails with ENOSPC, as on a
  // full disk (works as root, where chmod would not stop writes).
  auto trail = OpenTrail(Options());
  ASSERT_TRUE(trail);
  ASSERT_TRUE(trail->Append(MakeRecord(1)).ok());
  int full = ::open("/dev/full", O_WRONLY);
  if (full < 0) GTEST_SKIP() << "no /dev/full";
  TrailOptions o = Options();
  o.write_fn = [full](int, const void* data, std::size_t size) {
    return ::write(full, data, size);
  };
  trail.reset();
  auto failing = OpenTrail(o);
  ASSERT_TRUE(failing);
  EXPECT_EQ(failing->Append(MakeRecord(2)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(failing->write_failures(), 1u);
  EXPECT_EQ(failing->last_seq(), 1u);
  ::close(full);
}

TEST_F(TrailTest, UnwritableDirectoryFailsRotation) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores permissions (see WritesToAFullDeviceFail)";
  TrailOptions o = Options();
  o.segment_max_bytes = 1;  // every append after the first rotates
  auto trail = OpenTrail(o);
  ASSERT_TRUE(trail);
  ASSERT_TRUE(trail->Append(MakeRecord(1)).ok());
  ASSERT_EQ(::chmod(o.dir.c_str(), 0500), 0);
  EXPECT_FALSE(trail->Append(MakeRecord(2)).ok());
  EXPECT_EQ(trail->write_failures(), 1u);
  ASSERT_EQ(::chmod(o.dir.c_str(), 0700), 0);
  EXPECT_TRUE(trail->Append(MakeRecord(3)).ok());
  EXPECT_EQ(trail->last_seq(), 2u);
}

TEST_F(TrailTest, ClosedTrailRefusesAppends) {
  auto trail = OpenTrail(Options());
  ASSERT_TRUE(trail->Close().ok());
  EXPECT_EQ(trail->Append(MakeRecord(1)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(trail->write_failures(), 1u);
  EXPECT_TRUE(trail->Close().ok());  // idempotent
}

TEST_F(TrailTest, RequiresKeyringAndDirectory) {
  TrailOptions o = Options();
  EXPECT_EQ(Trail::Open(o, nullptr).status().code(), StatusCode::kInvalidArgument);
  o.dir.clear();
  EXPECT_EQ(Trail::Open(o, keyring_.get()).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TrailTest, DigestsAreSignedChainedAndPeriodic) {
  TrailOptions o = Options();
  o.digest_interval = std::chrono::milliseconds(20);
  auto trail = OpenTrail(o);
  ASSERT_TRUE(trail->Append(MakeRecord(1)).ok());
  for (int i = 0; i < 200 && trail->last_sealed_seq() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(trail->last_sealed_seq(), 1u);
  ASSERT_TRUE(trail->Append(MakeRecord(2)).ok());
  ASSERT_TRUE(trail->Seal().ok());
  EXPECT_EQ(trail->last_sealed_seq(), 2u);
  ASSERT_TRUE(trail->Close().ok());

  std::vector<std::string> digests = ReadLines(o.dir + "/digests.jsonl");
  ASSERT_EQ(digests.size(), 2u);  // no digest without new records
  std::vector<std::string> records = AllRecordLines();
  auto key = DigestKey(*keyring_, 1);
  ASSERT_TRUE(key.ok());
  std::string prev(kGenesisHash);
  for (std::size_t i = 0; i < digests.size(); ++i) {
    auto d = ParseDigestLine(digests[i]);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->seq, i + 1);
    EXPECT_EQ(d->hash, LineHash(records[i]));
    EXPECT_EQ(d->key_version, 1u);
    EXPECT_EQ(d->prev_digest, prev);
    EXPECT_TRUE(DigestSignatureValid(digests[i], *key));
    prev = LineHash(digests[i]);
  }
  auto other = testing::TestKeyring('x');
  EXPECT_FALSE(DigestSignatureValid(digests[0], *DigestKey(*other, 1)));
}

TEST_F(TrailTest, RotatesBySize) {
  TrailOptions o = Options();
  o.segment_max_bytes = 2000;
  auto trail = OpenTrail(o);
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(trail->Append(MakeRecord(i)).ok());
  ASSERT_TRUE(trail->Close().ok());
  auto segments = ListSegments(o.dir);
  ASSERT_GT(segments->size(), 3u);
  for (const SegmentFile& s : *segments) {
    EXPECT_LE(fs::file_size(s.path), 2000u) << s.name;
    auto first = ParseLine(ReadLines(s.path).at(0));
    EXPECT_EQ(first->seq, s.first_seq);
  }
  EXPECT_TRUE(Verify(o.dir, keyring_.get()).ok);
}

TEST_F(TrailTest, RetentionRemovesOldSegmentsAfterExportingThem) {
  TempDir export_dir;
  TrailOptions o = Options();
  o.export_dir = export_dir.path();
  o.retention_days = 30;
  const std::int64_t day = 24LL * 3600 * 1000;
  const std::int64_t t0 = clock_.NowMillis();
  // Three start-ups, 20 days apart: three segments (kept: no retention yet).
  TrailOptions keep = o;
  keep.retention_days = 0;
  for (int round = 0; round < 3; ++round) {
    clock_.SetMillis(t0 + round * 20 * day);
    auto trail = OpenTrail(keep);
    for (int i = 0; i < 3; ++i) {
      Record r = MakeRecord(round * 3 + i);
      r.time_ms = 0;  // stamped by the trail's clock
      ASSERT_TRUE(trail->Append(std::move(r)).ok());
    }
    ASSERT_TRUE(trail->Close().ok());
  }
  ASSERT_EQ(ListSegments(o.dir)->size(), 3u);
  clock_.SetMillis(t0 + 45 * day);  // segment 1 is 45 days old, segment 2 is 25
  {
    auto trail = OpenTrail(o);
    ASSERT_TRUE(trail->ApplyRetention().ok());
    auto segments = ListSegments(o.dir);
    ASSERT_EQ(segments->size(), 3u);  // 4..6, 7..9 and the new empty one
    EXPECT_EQ((*segments)[0].first_seq, 4u);
    ASSERT_TRUE(trail->Append(MakeRecord(10)).ok());
  }
  // The removed segment and the digests went to the export directory first.
  const std::string exported = export_dir.Sub("audit-00000000000000000001.jsonl");
  ASSERT_TRUE(fs::exists(exported));
  EXPECT_EQ(ReadLines(exported).size(), 3u);
  std::string digests = ReadAll(export_dir.Sub("digests.jsonl"));
  EXPECT_NE(digests.find("\"type\":\"retention\",\"first_seq\":1,\"seq\":3"), std::string::npos);

  VerifyReport report = Verify(o.dir, keyring_.get());
  EXPECT_TRUE(report.ok) << report.error;
  EXPECT_EQ(report.first_seq, 4u);
  EXPECT_EQ(report.last_seq, 10u);

  // Far in the future everything but the newest segment holding records goes.
  clock_.SetMillis(t0 + 400 * day);
  {
    auto trail = OpenTrail(o);
    ASSERT_TRUE(trail->ApplyRetention().ok());
  }
  auto segments = ListSegments(o.dir);
  ASSERT_GE(segments->size(), 1u);
  EXPECT_EQ((*segments)[0].first_seq, 10u);
  report = Verify(o.dir, keyring_.get());
  EXPECT_TRUE(report.ok) << report.error;
  EXPECT_EQ(report.first_seq, 10u);
  {
    auto trail = OpenTrail(keep);  // resumes after retention
    EXPECT_EQ(trail->last_seq(), 10u);
    ASSERT_TRUE(trail->Append(MakeRecord(11)).ok());
  }
  EXPECT_TRUE(Verify(o.dir, keyring_.get()).ok);

  // Deleting the oldest segment by hand is not retention: verify names the gap.
  fs::remove((*segments)[0].path);
  report = Verify(o.dir, keyring_.get());
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.error.find("record 10: missing"), std::string::npos) << report.error;
  EXPECT_EQ(report.bad_seq, 10u);
}

TEST_F(TrailTest, RotationExportsClosedSegments) {
  TempDir export_dir;
  TrailOptions o = Options();
  o.export_dir = export_dir.path();
  o.segment_max_bytes = 1500;
  {
    auto trail = OpenTrail(o);
    for (int i = 1; i <= 10; ++i) ASSERT_TRUE(trail->Append(MakeRecord(i)).ok());
  }
  auto segments = ListSegments(o.dir);
  ASSERT_GT(segments->size(), 2u);
  // Every closed segment was copied: by rotation, and the newest one by Close.
  for (std::size_t i = 0; i < segments->size(); ++i) {
    EXPECT_EQ(ReadAll(export_dir.Sub((*segments)[i].name)), ReadAll((*segments)[i].path));
  }
  EXPECT_TRUE(fs::exists(export_dir.Sub("digests.jsonl")));
}

TEST_F(TrailTest, JsonLinesSinkGetsCloudTrailEventsAndReopens) {
  TrailOptions o = Options();
  o.jsonl_sink_path = tmp_.Sub("sink.jsonl");
  auto trail = OpenTrail(o);
  ASSERT_TRUE(trail->Append(MakeRecord(1)).ok());
  ASSERT_TRUE(trail->Append(MakeRecord(2)).ok());
  std::vector<std::string> lines = ReadLines(o.jsonl_sink_path);
  ASSERT_EQ(lines.size(), 2u);
  auto e = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(e["eventVersion"], "1.08");
  EXPECT_EQ(e["requestID"], "req-2");

  // logrotate: move the file away, then ReopenSink.
  fs::rename(o.jsonl_sink_path, tmp_.Sub("sink.jsonl.1"));
  ASSERT_TRUE(trail->Append(MakeRecord(3)).ok());  // still goes to the moved file
  ASSERT_TRUE(trail->ReopenSink().ok());
  ASSERT_TRUE(trail->Append(MakeRecord(4)).ok());
  EXPECT_EQ(ReadLines(tmp_.Sub("sink.jsonl.1")).size(), 3u);
  lines = ReadLines(o.jsonl_sink_path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["requestID"], "req-4");
  EXPECT_EQ(trail->sink_failures(), 0u);
}

TEST_F(TrailTest, SinkFailuresAreCountedNotFatal) {
  TrailOptions o = Options();
  o.jsonl_sink_path = "/dev/full";
  auto trail = OpenTrail(o);
  ASSERT_TRUE(trail);
  EXPECT_TRUE(trail->Append(MakeRecord(1)).ok());
  EXPECT_EQ(trail->sink_failures(), 1u);
  EXPECT_EQ(trail->write_failures(), 0u);
  EXPECT_EQ(trail->last_seq(), 1u);
}

TEST_F(TrailTest, CanarySecretValueNeverReachesTheTrail) {
  const std::string canary = "CANARY-s3cr3t-VALUE-7f1d2a";
  // A CreateSecret request that carried the canary: only its metadata becomes the record.
  const std::string request_body =
      "{\"Name\":\"ml-platform/mlflow/database\",\"SecretString\":\"" + canary + "\"}";
  auto body = nlohmann::json::parse(request_body);
  Record r;
  r.request_id = "req-canary";
  r.account_id = "000000000000";
  r.region = "us-east-1";
  r.principal_arn = "arn:aws:iam::000000000000:user/alice";
  r.principal_type = "IAMUser";
  r.user_name = "alice";
  r.access_key_id = "AKIAALICE0000000001";
  r.source_ip = "127.0.0.1";
  r.user_agent = "aws-cli/2.15.0";
  r.event_source = std::string(kSecretsManagerSource);
  r.event_name = "CreateSecret";
  r.resources.push_back({std::string(kSecretType), "", body["Name"].get<std::string>()});

  TrailOptions o = Options();
  o.jsonl_sink_path = tmp_.Sub("sink.jsonl");
  auto trail = OpenTrail(o);
  ASSERT_TRUE(trail->Append(r).ok());
  EXPECT_EQ(SerializeBody(r).find(canary), std::string::npos);
  EXPECT_EQ(CloudTrailEventJson(r).find(canary), std::string::npos);
  auto response = HandleLookupEvents(*trail, "{}");
  ASSERT_TRUE(response.ok());
  EXPECT_NE(response->find("req-canary"), std::string::npos);
  EXPECT_EQ(response->find(canary), std::string::npos);
  ASSERT_TRUE(trail->Close().ok());
  for (const auto& entry : fs::recursive_directory_iterator(tmp_.path())) {
    if (!entry.is_regular_file()) continue;
    EXPECT_EQ(ReadAll(entry.path().string()).find(canary), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace coffer::audit
