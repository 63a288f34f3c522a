#pragma once

// The tamper-evident audit trail: an append-only, hash-chained sequence of records in segment
// files under <data-dir>/audit, sealed by signed digests (audit/digest.h).
//
//   Trail::Open(options, keyring) -> Append(record) from any thread -> Close() (or destruction).
//
// Durability and fail-closed behaviour:
//  - Append writes the record's line with one write(2) on an O_APPEND descriptor before it
//    returns, so an acknowledged record survives kill -9 of the process (it is in the page cache;
//    a power loss may lose the records since the last fdatasync, which happens for a segment
//    closed by rotation (on the background thread, so no request waits for it), before every
//    digest and on Close; fsync_on_append makes every record durable at a large cost).
//  - When the line cannot be written (EIO, ENOSPC, a short write, ...), Append returns
//    kUnavailable, increments write_failures(), and the record is not counted: its seq is reused
//    by the next record. A partly written line is cut off again with ftruncate; if even that
//    fails, every later Append fails until a repair succeeds. The caller must then fail the
//    request (InternalServiceError): nothing is served unaudited.
//  - Open() cuts off a last line without '\n' (never acknowledged) and resumes seq and prev from
//    the last record on disk.
//
// The optional JSON-lines sink (for a log shipper) gets each record's CloudTrail event JSON. It is
// a copy, not the record of truth: a sink write failure is counted (sink_failures()) and logged,
// never fatal, and the sink may miss or (after a failure) hold a partial line.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <vector>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "audit/digest.h"
#include "audit/files.h"  // AuditDir()
#include "audit/lookup.h"
#include "audit/record.h"
#include "core/clock.h"
#include "core/status.h"
#include "crypto/envelope.h"

namespace coffer::audit {

struct TrailOptions {
  // Default: none (required). The audit directory, normally AuditDir(<data-dir>) =
  // <data-dir>/audit. Created with mode 0700 when missing (its parent must exist); files 0600.
  std::string dir;
  // Default: 64 MiB. A segment that would grow past this is closed and a new one started. Every
  // Open() also starts a new segment (unless the newest one is still empty).
  std::uint64_t segment_max_bytes = 64ull * 1024 * 1024;
  // Default: 60 s. How often the background thread seals new records with a signed digest. Close()
  // seals too. Zero disables the periodic digests (Close still seals).
  std::chrono::milliseconds digest_interval = std::chrono::seconds(60);
  // Default: 0 = keep forever. Closed segments whose newest record is older than this many days
  // are removed (after export, when export_dir is set); a signed "retention" line in
  // digests.jsonl records the dropped range. The newest segment holding records is never removed.
  int retention_days = 0;
  // Default: none. When set, every segment closed by rotation (and digests.jsonl with it) is copied
  // there, and a segment is copied before retention removes it.
  std::string export_dir;
  // Default: none. When set, each record's CloudTrail event JSON is appended there as one line
  // (O_APPEND, mode 0600). ReopenSink() reopens it after logrotate moved it.
  std::string jsonl_sink_path;
  // Default: false. fdatasync after every record (durable against power loss; slow).
  bool fsync_on_append = false;
  // Default: SystemClock. Fills Record::time_ms when 0, stamps digests, judges retention.
  const Clock* clock = nullptr;
  // Default: ::write. A seam for tests that inject write failures (EIO, ENOSPC, short writes).
  std::function<ssize_t(int fd, const void* data, std::size_t size)> write_fn;
};

class Trail {
 public:
  // Opens (creating) the trail in options.dir. `keyring` is required (not owned; must outlive
  // the Trail): digests are signed with a key derived from its active master key.
  // kInvalidArgument for a missing dir or keyring; kDataLoss when the last record on disk is not
  // a record (run `coffer audit verify`); kUnavailable for I/O errors.
  static Result<std::unique_ptr<Trail>> Open(TrailOptions options, crypto::Keyring* keyring);

  ~Trail();
  Trail(const Trail&) = delete;
  Trail& operator=(const Trail&) = delete;

  // Appends one record (thread-safe). Fills an empty event_id and a zero time_ms. OK only once
  // the line has been written; kUnavailable otherwise (see the header comment).
  Status Append(Record record);

  // Writes a digest now if records were added since the last one. Thread-safe.
  Status Seal();

  // Applies retention now (the background thread does so on every digest tick). Thread-safe.
  Status ApplyRetention();

  // Reopens the JSON-lines sink (after logrotate renamed it). No-op without a sink.
  Status ReopenSink();

  // Seals, syncs and closes; Append fails afterwards. Idempotent; the destructor calls it.
  Status Close();

  // LookupEvents over this trail's files (audit/lookup.h).
  Result<LookupPage> Lookup(const LookupQuery& query) const;

  const std::string& dir() const { return options_.dir; }
  std::uint64_t last_seq() const;
  std::uint64_t last_sealed_seq() const;
  // For metrics: records that could not be written (each failed an Append).
  std::uint64_t write_failures() const { return write_failures_.load(); }
  // For metrics: sink lines that could not be written (not fatal).
  std::uint64_t sink_failures() const { return sink_failures_.load(); }
  // For metrics: digest or retention runs that failed (logged).
  std::uint64_t digest_failures() const { return digest_failures_.load(); }

 private:
  Trail(TrailOptions options, crypto::Keyring* keyring);

  Status Recover();
  Status OpenSegmentLocked(std::uint64_t first_seq);
  Status RotateLocked();
  Status SyncClosedSegmentsUnderDigestLock();
  Status RepairLocked();
  ssize_t DoWrite(int fd, const void* data, std::size_t size);
  Status WriteLineLocked(const std::string& line);
  Status AppendDigestLine(DigestLine line);  // under digest_mu_
  Status SealUnderDigestLock();
  Status ExportSegment(const std::string& name);
  void BackgroundLoop();
  void WriteSink(const std::string& line);

  TrailOptions options_;
  crypto::Keyring* keyring_;
  const Clock* clock_;

  // Hot path state.
  mutable std::mutex mu_;
  int segment_fd_ = -1;
  std::string segment_name_;
  std::uint64_t segment_size_ = 0;  // bytes of complete, counted lines
  std::uint64_t last_seq_ = 0;
  std::string last_hash_;           // hex hash of record last_seq_ (kGenesisHash when none)
  bool needs_repair_ = false;       // a partial line may be on disk past segment_size_
  bool closed_ = false;

  // Digests, retention, export.
  mutable std::mutex digest_mu_;
  int digests_fd_ = -1;
  std::string last_digest_hash_;
  std::uint64_t last_sealed_seq_ = 0;
  std::mutex retention_mu_;  // one retention run at a time

  // JSON-lines sink.
  std::mutex sink_mu_;
  int sink_fd_ = -1;

  // Background thread.
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool bg_stop_ = false;
  struct ClosedSegment {
    int fd;
    std::string name;
  };
  std::deque<ClosedSegment> pending_sync_;  // closed by rotation, not yet fdatasync'ed
  std::deque<std::string> export_queue_;    // synced, to be copied to export_dir
  std::thread bg_thread_;

  std::mutex close_mu_;
  bool close_done_ = false;

  std::atomic<std::uint64_t> write_failures_{0};
  std::atomic<std::uint64_t> sink_failures_{0};
  std::atomic<std::uint64_t> digest_failures_{0};
};

}  // namespace coffer::audit
