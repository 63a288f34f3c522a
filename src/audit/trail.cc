#include "audit/trail.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "audit/files.h"
#include "crypto/random.h"
#include "crypto/wipe.h"

namespace coffer::audit {
namespace {

constexpr std::int64_t kMillisPerDay = 24LL * 60 * 60 * 1000;

Status Errno(const std::string& what, int err) {
  return Status::Unavailable(what + ": " + std::strerror(err));
}

Result<std::uint64_t> FileSize(int fd, const std::string& what) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Errno("cannot stat " + what, errno);
  return static_cast<std::uint64_t>(st.st_size);
}

// Cuts a file back to `size` and syncs it.
Status TruncateTo(const std::string& path, std::uint64_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + path, errno);
  Status status;
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0 || ::fdatasync(fd) != 0) {
    status = Errno("cannot truncate " + path, errno);
  }
  ::close(fd);
  return status;
}

}  // namespace

Trail::Trail(TrailOptions options, crypto::Keyring* keyring)
    : options_(std::move(options)),
      keyring_(keyring),
      clock_(options_.clock != nullptr ? options_.clock : SystemClock::Get()),
      last_hash_(kGenesisHash),
      last_digest_hash_(kGenesisHash) {}

Result<std::unique_ptr<Trail>> Trail::Open(TrailOptions options, crypto::Keyring* keyring) {
  if (options.dir.empty()) return Status::InvalidArgument("audit trail: no directory given");
  if (keyring == nullptr) return Status::InvalidArgument("audit trail: a keyring is required");
  if (options.segment_max_bytes == 0) {
    return Status::InvalidArgument("audit trail: segment_max_bytes must be positive");
  }
  if (options.retention_days < 0) {
    return Status::InvalidArgument("audit trail: retention_days must not be negative");
  }
  COFFER_RETURN_IF_ERROR(EnsureDir(options.dir));
  if (!options.export_dir.empty()) COFFER_RETURN_IF_ERROR(EnsureDir(options.export_dir));
  std::unique_ptr<Trail> trail(new Trail(std::move(options), keyring));
  COFFER_RETURN_IF_ERROR(trail->Recover());
  if (!trail->options_.jsonl_sink_path.empty()) COFFER_RETURN_IF_ERROR(trail->ReopenSink());
  trail->bg_thread_ = std::thread([t = trail.get()] { t->BackgroundLoop(); });
  return trail;
}

Trail::~Trail() {
  Status status = Close();
  if (!status.ok()) spdlog::error("audit trail: closing: {}", status.ToString());
}

Status Trail::Recover() {
  const std::string& dir = options_.dir;
  COFFER_ASSIGN_OR_RETURN(std::vector<SegmentFile> segments, ListSegments(dir));

  // The last record on disk, searching from the newest segment. Only the newest segment can
  // have a torn last line (records are only ever appended to it).
  bool found = false;
  for (std::size_t i = segments.size(); i-- > 0 && !found;) {
    ReverseLineReader reader;
    COFFER_RETURN_IF_ERROR(reader.Open(segments[i].path));
    if (reader.skipped_partial_tail()) {
      spdlog::warn("audit trail: cutting off the unacknowledged partial last line of {}",
                   segments[i].path);
      COFFER_RETURN_IF_ERROR(TruncateTo(segments[i].path, reader.complete_end()));
    }
    std::string line;
    std::uint64_t offset = 0;
    COFFER_ASSIGN_OR_RETURN(bool has_line, reader.Next(&line, &offset));
    if (!has_line) continue;
    auto parsed = ParseLine(line);
    if (!parsed.ok()) {
      return Status::DataLoss("audit trail: the last line of " + segments[i].path +
                              " is not a record (" + parsed.status().message() +
                              "); run `coffer audit verify`");
    }
    last_seq_ = parsed->seq;
    last_hash_ = LineHash(line);
    found = true;
  }

  // Digests: the chain of digest lines, the last sealed seq, and the retention anchor.
  const std::string digests_path = dir + "/" + std::string(kDigestsFileName);
  digests_fd_ = ::open(digests_path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (digests_fd_ < 0) return Errno("cannot open " + digests_path, errno);
  {
    ReverseLineReader reader;
    COFFER_RETURN_IF_ERROR(reader.Open(digests_path));
    if (reader.skipped_partial_tail()) {
      spdlog::warn("audit trail: cutting off the partial last line of {}", digests_path);
      COFFER_RETURN_IF_ERROR(TruncateTo(digests_path, reader.complete_end()));
    }
    std::string line;
    std::uint64_t offset = 0;
    bool first = true;
    bool have_sealed = false;
    while (!have_sealed) {
      COFFER_ASSIGN_OR_RETURN(bool has_line, reader.Next(&line, &offset));
      if (!has_line) break;
      if (first) {
        last_digest_hash_ = LineHash(line);
        first = false;
      }
      auto d = ParseDigestLine(line);
      if (!d.ok()) {
        return Status::DataLoss("audit trail: " + digests_path + " holds a line that is not a " +
                                "digest (" + d.status().message() + "); run `coffer audit verify`");
      }
      if (d->kind == DigestLine::Kind::kDigest) {
        last_sealed_seq_ = d->seq;
        have_sealed = true;
      }
    }
  }
  if (last_sealed_seq_ > last_seq_) {
    return Status::DataLoss("audit trail: records end at seq " + std::to_string(last_seq_) +
                            " but a digest seals seq " + std::to_string(last_sealed_seq_) +
                            ": sealed records are missing; run `coffer audit verify`");
  }

  // Start a new segment (reusing the newest one when it is still empty, i.e. named last_seq_+1);
  // other empty segments are leftovers of an interrupted rotation and are removed.
  const std::uint64_t next = last_seq_ + 1;
  for (const SegmentFile& s : segments) {
    struct stat st {};
    if (s.first_seq == next || ::stat(s.path.c_str(), &st) != 0 || st.st_size != 0) continue;
    if (::unlink(s.path.c_str()) != 0) {
      return Errno("cannot remove empty segment " + s.path, errno);
    }
  }
  // OpenSegmentLocked opens without O_EXCL and insists on an empty file, so an empty newest
  // segment named `next` is reused and a missing one created.
  std::lock_guard<std::mutex> lock(mu_);
  return OpenSegmentLocked(next);
}

Status Trail::OpenSegmentLocked(std::uint64_t first_seq) {
  const std::string name = SegmentFileName(first_seq);
  const std::string path = options_.dir + "/" + name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create audit segment " + path, errno);
  auto size = FileSize(fd, path);
  if (!size.ok() || *size != 0) {
    ::close(fd);
    if (!size.ok()) return size.status();
    return Status::Internal("audit segment " + path + " already holds records");
  }
  Status synced = SyncDir(options_.dir);
  if (!synced.ok()) {
    ::close(fd);
    return synced;
  }
  segment_fd_ = fd;
  segment_name_ = name;
  segment_size_ = 0;
  return Status::Ok();
}

Status Trail::RotateLocked() {
  const int old_fd = segment_fd_;
  const std::string old_name = segment_name_;
  const std::uint64_t old_size = segment_size_;
  Status opened = OpenSegmentLocked(last_seq_ + 1);
  if (!opened.ok()) {
    segment_fd_ = old_fd;
    segment_name_ = old_name;
    segment_size_ = old_size;
    return opened;
  }
  // Syncing up to 64 MiB would stall every request: the background thread (or the next Seal,
  // which must not vouch for records that are not durable) does it.
  {
    std::lock_guard<std::mutex> lock(bg_mu_);
    pending_sync_.push_back({old_fd, old_name});
  }
  bg_cv_.notify_one();
  return Status::Ok();
}

Status Trail::SyncClosedSegmentsUnderDigestLock() {
  std::deque<ClosedSegment> closed;
  {
    std::lock_guard<std::mutex> lock(bg_mu_);
    closed.swap(pending_sync_);
  }
  Status status;
  std::vector<std::string> synced;
  while (!closed.empty()) {
    ClosedSegment& c = closed.front();
    if (::fdatasync(c.fd) != 0) {
      status = Errno("cannot sync audit segment " + c.name, errno);
      break;
    }
    ::close(c.fd);
    synced.push_back(std::move(c.name));
    closed.pop_front();
  }
  std::lock_guard<std::mutex> lock(bg_mu_);
  // What could not be synced goes back to the front, to be retried.
  while (!closed.empty()) {
    pending_sync_.push_front(std::move(closed.back()));
    closed.pop_back();
  }
  if (!options_.export_dir.empty()) {
    for (std::string& name : synced) export_queue_.push_back(std::move(name));
  }
  return status;
}

ssize_t Trail::DoWrite(int fd, const void* data, std::size_t size) {
  if (options_.write_fn) return options_.write_fn(fd, data, size);
  return ::write(fd, data, size);
}

Status Trail::RepairLocked() {
  auto size = FileSize(segment_fd_, segment_name_);
  if (!size.ok()) return size.status();
  if (*size != segment_size_) {
    if (::ftruncate(segment_fd_, static_cast<off_t>(segment_size_)) != 0) {
      return Errno("cannot cut a partial record off audit segment " + segment_name_, errno);
    }
  }
  needs_repair_ = false;
  return Status::Ok();
}

Status Trail::WriteLineLocked(const std::string& line) {
  ssize_t n;
  do {
    n = DoWrite(segment_fd_, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  Status status;
  if (n < 0) {
    status = Errno("cannot write audit segment " + segment_name_, errno);
  } else if (static_cast<std::size_t>(n) != line.size()) {
    status = Status::Unavailable("short write to audit segment " + segment_name_ + " (" +
                                 std::to_string(n) + " of " + std::to_string(line.size()) +
                                 " bytes)");
  } else if (options_.fsync_on_append && ::fdatasync(segment_fd_) != 0) {
    status = Errno("cannot sync audit segment " + segment_name_, errno);
  }
  if (status.ok()) return status;
  // Whatever part of the line reached the file must not stay: it was never acknowledged.
  needs_repair_ = true;
  Status repaired = RepairLocked();
  if (!repaired.ok()) spdlog::error("audit trail: {}", repaired.ToString());
  return status;
}

Status Trail::Append(Record record) {
  if (record.time_ms == 0) record.time_ms = clock_->NowMillis();
  if (record.event_id.empty()) record.event_id = crypto::RandomUuid();
  // Formatting needs no lock: only the chain fields depend on the trail's state.
  const std::string body = SerializeBody(record);
  std::string sink_line;
  if (!options_.jsonl_sink_path.empty()) {
    sink_line = CloudTrailEventJson(record);
    sink_line.push_back('\n');
  }

  Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) {
      status = Status::Unavailable("the audit trail is closed");
    } else if (needs_repair_) {
      status = RepairLocked();
    }
    if (status.ok()) {
      std::string line = ComposeLine(last_seq_ + 1, last_hash_, body);
      std::string hash = LineHash(line);
      line.push_back('\n');
      if (segment_size_ > 0 && segment_size_ + line.size() > options_.segment_max_bytes) {
        status = RotateLocked();
      }
      if (status.ok()) status = WriteLineLocked(line);
      if (status.ok()) {
        ++last_seq_;
        last_hash_ = std::move(hash);
        segment_size_ += line.size();
      }
    }
  }
  if (!status.ok()) {
    std::uint64_t failures = write_failures_.fetch_add(1) + 1;
    if (failures <= 10 || failures % 1000 == 0) {
      spdlog::error("audit trail: record not written (failure {}): {}", failures,
                    status.ToString());
    }
    return status;
  }
  if (!sink_line.empty()) WriteSink(sink_line);
  return Status::Ok();
}

void Trail::WriteSink(const std::string& line) {
  Status status;
  {
    std::lock_guard<std::mutex> lock(sink_mu_);
    if (sink_fd_ < 0) {
      status = Status::Unavailable("the JSON-lines sink is not open");
    } else {
      std::size_t written = 0;
      status = WriteOnce(sink_fd_, line, options_.jsonl_sink_path, &written);
    }
  }
  if (!status.ok()) {
    std::uint64_t failures = sink_failures_.fetch_add(1) + 1;
    if (failures <= 10 || failures % 1000 == 0) {
      spdlog::warn("audit trail: JSON-lines sink write failed (failure {}): {}", failures,
                   status.ToString());
    }
  }
}

Status Trail::ReopenSink() {
  if (options_.jsonl_sink_path.empty()) return Status::Ok();
  int fd = ::open(options_.jsonl_sink_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                  0600);
  if (fd < 0) return Errno("cannot open JSON-lines sink " + options_.jsonl_sink_path, errno);
  int old;
  {
    std::lock_guard<std::mutex> lock(sink_mu_);
    old = sink_fd_;
    sink_fd_ = fd;
  }
  if (old >= 0) ::close(old);
  return Status::Ok();
}

Status Trail::AppendDigestLine(DigestLine line) {
  // digest_mu_ is held by the caller.
  const std::uint32_t version = keyring_->ActiveVersion();
  COFFER_ASSIGN_OR_RETURN(std::string key, DigestKey(*keyring_, version));
  crypto::WipeOnExit wipe(key);
  line.time_ms = clock_->NowMillis();
  line.key_version = version;
  line.prev_digest = last_digest_hash_;
  std::string text = SignDigestLine(line, key);
  std::string hash = LineHash(text);
  text.push_back('\n');
  const std::string what = options_.dir + "/" + std::string(kDigestsFileName);
  COFFER_ASSIGN_OR_RETURN(std::uint64_t size_before, FileSize(digests_fd_, what));
  std::size_t written = 0;
  Status status = WriteOnce(digests_fd_, text, what, &written);
  if (status.ok() && ::fdatasync(digests_fd_) != 0) status = Errno("cannot sync " + what, errno);
  if (!status.ok()) {
    if (::ftruncate(digests_fd_, static_cast<off_t>(size_before)) != 0) {
      spdlog::error("audit trail: cannot cut a partial line off {}: {}", what,
                    std::strerror(errno));
    }
    return status;
  }
  last_digest_hash_ = std::move(hash);
  if (line.kind == DigestLine::Kind::kDigest) last_sealed_seq_ = line.seq;
  return Status::Ok();
}

Status Trail::Seal() {
  std::lock_guard<std::mutex> digest_lock(digest_mu_);
  return SealUnderDigestLock();
}

Status Trail::SealUnderDigestLock() {
  COFFER_RETURN_IF_ERROR(SyncClosedSegmentsUnderDigestLock());
  std::uint64_t seq;
  std::string hash;
  int fd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seq = last_seq_;
    hash = last_hash_;
    if (seq == last_sealed_seq_ || segment_fd_ < 0) return Status::Ok();
    fd = ::dup(segment_fd_);
    if (fd < 0) return Errno("cannot dup the audit segment descriptor", errno);
  }
  // The sealed records must be durable before a digest vouches for them. Segments closed by
  // rotation were synced above; one closed since the snapshot is still in pending_sync_ and is
  // synced here too.
  int rc = ::fdatasync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Errno("cannot sync the audit segment", err);
  COFFER_RETURN_IF_ERROR(SyncClosedSegmentsUnderDigestLock());
  DigestLine line;
  line.kind = DigestLine::Kind::kDigest;
  line.seq = seq;
  line.hash = hash;
  return AppendDigestLine(std::move(line));
}

Status Trail::ExportSegment(const std::string& name) {
  if (options_.export_dir.empty()) return Status::Ok();
  const std::string from = options_.dir + "/" + name;
  const std::string to = options_.export_dir + "/" + name;
  struct stat a {}, b {};
  if (::stat(from.c_str(), &a) != 0) return Errno("cannot stat " + from, errno);
  if (::stat(to.c_str(), &b) != 0 || a.st_size != b.st_size) {
    COFFER_RETURN_IF_ERROR(CopyFileDurably(from, to));
  }
  // The digests that cover it (digests.jsonl is append-only, so the latest copy covers all).
  std::lock_guard<std::mutex> digest_lock(digest_mu_);
  return CopyFileDurably(options_.dir + "/" + std::string(kDigestsFileName),
                         options_.export_dir + "/" + std::string(kDigestsFileName));
}

Status Trail::ApplyRetention() {
  if (options_.retention_days <= 0) return Status::Ok();
  std::lock_guard<std::mutex> retention_lock(retention_mu_);
  const std::int64_t cutoff = clock_->NowMillis() - options_.retention_days * kMillisPerDay;
  COFFER_ASSIGN_OR_RETURN(std::vector<SegmentFile> segments, ListSegments(options_.dir));
  std::string current;
  bool current_has_records;
  {
    std::lock_guard<std::mutex> lock(mu_);
    current = segment_name_;
    current_has_records = segment_size_ > 0;
  }
  // Candidates: closed segments, oldest first, but never the newest one holding records (it
  // anchors the chain for the next Open).
  std::size_t candidates = 0;
  while (candidates < segments.size() && segments[candidates].name != current) ++candidates;
  if (!current_has_records && candidates > 0) --candidates;

  for (std::size_t i = 0; i < candidates; ++i) {
    const SegmentFile& seg = segments[i];
    ReverseLineReader reader;
    COFFER_RETURN_IF_ERROR(reader.Open(seg.path));
    std::string line;
    std::uint64_t offset = 0;
    COFFER_ASSIGN_OR_RETURN(bool has_line, reader.Next(&line, &offset));
    if (!has_line) continue;  // an empty leftover; Open removes those
    auto parsed = ParseLine(line);
    if (!parsed.ok()) {
      return Status::DataLoss("audit retention: the last line of " + seg.path +
                              " is not a record; run `coffer audit verify`");
    }
    if (parsed->record.time_ms >= cutoff) break;  // this one and all newer ones stay
    COFFER_RETURN_IF_ERROR(ExportSegment(seg.name));
    {
      std::lock_guard<std::mutex> digest_lock(digest_mu_);
      DigestLine retention;
      retention.kind = DigestLine::Kind::kRetention;
      retention.first_seq = seg.first_seq;
      retention.seq = parsed->seq;
      retention.hash = LineHash(line);
      COFFER_RETURN_IF_ERROR(AppendDigestLine(std::move(retention)));
    }
    if (::unlink(seg.path.c_str()) != 0) return Errno("cannot remove " + seg.path, errno);
    COFFER_RETURN_IF_ERROR(SyncDir(options_.dir));
    spdlog::info("audit retention: removed {} (records {}..{})", seg.name, seg.first_seq,
                 parsed->seq);
    if (!options_.export_dir.empty()) {
      // The export's digests.jsonl now holds the retention line as well.
      std::lock_guard<std::mutex> digest_lock(digest_mu_);
      COFFER_RETURN_IF_ERROR(
          CopyFileDurably(options_.dir + "/" + std::string(kDigestsFileName),
                          options_.export_dir + "/" + std::string(kDigestsFileName)));
    }
  }
  return Status::Ok();
}

void Trail::BackgroundLoop() {
  auto report = [this](const Status& status, const char* what) {
    if (status.ok()) return;
    digest_failures_.fetch_add(1);
    spdlog::error("audit trail: {}: {}", what, status.ToString());
  };
  report(ApplyRetention(), "retention");
  const bool periodic = options_.digest_interval.count() > 0;
  auto next_tick = std::chrono::steady_clock::now() + options_.digest_interval;
  std::unique_lock<std::mutex> lock(bg_mu_);
  while (true) {
    auto ready = [this] {
      return bg_stop_ || !pending_sync_.empty() || !export_queue_.empty();
    };
    if (periodic) {
      bg_cv_.wait_until(lock, next_tick, ready);
    } else {
      bg_cv_.wait(lock, ready);
    }
    if (bg_stop_) return;  // Close() finishes what is queued
    if (!pending_sync_.empty()) {
      lock.unlock();
      {
        std::lock_guard<std::mutex> digest_lock(digest_mu_);
        report(SyncClosedSegmentsUnderDigestLock(), "sync");
      }
      lock.lock();
    }
    while (!export_queue_.empty() && !bg_stop_) {
      std::string name = std::move(export_queue_.front());
      export_queue_.pop_front();
      lock.unlock();
      report(ExportSegment(name), "export");
      lock.lock();
    }
    if (bg_stop_) return;
    if (periodic && std::chrono::steady_clock::now() >= next_tick) {
      lock.unlock();
      report(Seal(), "digest");
      report(ApplyRetention(), "retention");
      lock.lock();
      next_tick = std::chrono::steady_clock::now() + options_.digest_interval;
    }
  }
}

Status Trail::Close() {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  if (close_done_) return Status::Ok();
  close_done_ = true;
  {
    std::lock_guard<std::mutex> lock(bg_mu_);
    bg_stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_thread_.joinable()) bg_thread_.join();

  Status status;
  auto keep_first = [&status](Status s) {
    if (status.ok() && !s.ok()) status = std::move(s);
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;  // Append fails from here on
  }
  keep_first(Seal());  // also syncs the segments closed by rotation
  {
    std::lock_guard<std::mutex> digest_lock(digest_mu_);
    keep_first(SyncClosedSegmentsUnderDigestLock());  // in case Seal stopped early
  }
  std::deque<std::string> exports;
  {
    std::lock_guard<std::mutex> lock(bg_mu_);
    exports.swap(export_queue_);
  }
  for (const std::string& name : exports) keep_first(ExportSegment(name));
  {
    std::lock_guard<std::mutex> lock(bg_mu_);
    for (ClosedSegment& c : pending_sync_) ::close(c.fd);  // only left after a sync error
    pending_sync_.clear();
  }
  std::string last_segment;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (segment_fd_ >= 0) {
      if (::fdatasync(segment_fd_) != 0) keep_first(Errno("cannot sync " + segment_name_, errno));
      ::close(segment_fd_);
      segment_fd_ = -1;
      // The next Open starts a new segment, so this one is closed for good: export it too.
      if (segment_size_ > 0) last_segment = segment_name_;
    }
  }
  if (!last_segment.empty()) keep_first(ExportSegment(last_segment));
  {
    std::lock_guard<std::mutex> lock(digest_mu_);
    if (digests_fd_ >= 0) ::close(digests_fd_);
    digests_fd_ = -1;
  }
  {
    std::lock_guard<std::mutex> lock(sink_mu_);
    if (sink_fd_ >= 0) ::close(sink_fd_);
    sink_fd_ = -1;
  }
  return status;
}

Result<LookupPage> Trail::Lookup(const LookupQuery& query) const {
  return LookupEvents(options_.dir, query);
}

std::uint64_t Trail::last_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_seq_;
}

std::uint64_t Trail::last_sealed_seq() const {
  std::lock_guard<std::mutex> lock(digest_mu_);
  return last_sealed_seq_;
}

}  // namespace coffer::audit
