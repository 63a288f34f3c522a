#pragma once

// File-level helpers shared by the trail, the verifier and the lookup: segment names, listing,
// reading lines backwards, durable writes and copies. Errors are kUnavailable with the path and
// strerror; nothing here ever sees secret bytes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace coffer::audit {

inline constexpr std::string_view kDigestsFileName = "digests.jsonl";

// <data-dir>/audit.
std::string AuditDir(const std::string& data_dir);

// "audit-00000000000000000001.jsonl" for first_seq 1.
std::string SegmentFileName(std::uint64_t first_seq);
// The first seq a segment file name stands for; nullopt for other names.
std::optional<std::uint64_t> ParseSegmentFileName(std::string_view name);

struct SegmentFile {
  std::uint64_t first_seq = 0;
  std::string name;  // file name only
  std::string path;  // dir + "/" + name
};

// The segments in `dir`, oldest first. kNotFound when the directory does not exist.
Result<std::vector<SegmentFile>> ListSegments(const std::string& dir);

// Reads complete lines of a file from a given end offset towards its start, in 64 KiB chunks,
// so that the newest lines of a large file cost only the bytes read. Lines are returned without
// their '\n'. Bytes after the last '\n' before the end offset (a line still being written, or a
// torn one) are skipped and reported by skipped_partial_tail().
class ReverseLineReader {
 public:
  ReverseLineReader() = default;
  ~ReverseLineReader();
  ReverseLineReader(const ReverseLineReader&) = delete;
  ReverseLineReader& operator=(const ReverseLineReader&) = delete;

  // `end_offset` < 0: the current end of the file. kNotFound when the file does not exist.
  Status Open(const std::string& path, std::int64_t end_offset = -1);
  // The next line towards the start: true and `line`/`start_offset` set, or false at the start.
  Result<bool> Next(std::string* line, std::uint64_t* start_offset);
  bool skipped_partial_tail() const { return skipped_partial_tail_; }
  // Offset just past the last complete line (after its '\n'), as of Open().
  std::uint64_t complete_end() const { return complete_end_; }

 private:
  Status Fill();  // prepends up to one chunk before buf_start_

  int fd_ = -1;
  std::string path_;
  std::string buf_;             // file bytes [buf_start_, end_)
  std::uint64_t buf_start_ = 0;
  std::uint64_t end_ = 0;       // start of the last returned line (or the complete end)
  std::uint64_t complete_end_ = 0;
  bool skipped_partial_tail_ = false;
};

// write(2) of all bytes as one call (retried on EINTR only). A short write is an error: the
// caller decides how to repair. `written` gets the bytes that did reach the file.
Status WriteOnce(int fd, std::string_view bytes, const std::string& what, std::size_t* written);

// fsync of a directory, so that entries created or removed in it are durable.
Status SyncDir(const std::string& dir);

// Copies `from` to `to` via "<to>.tmp", fdatasync and rename, mode 0600. Overwrites `to`.
Status CopyFileDurably(const std::string& from, const std::string& to);

// Creates `dir` with mode 0700 when missing (the parent must exist); refuses a non-directory.
Status EnsureDir(const std::string& dir);

}  // namespace coffer::audit
