#include "audit/files.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace coffer::audit {
namespace {

constexpr std::string_view kSegmentPrefix = "audit-";
constexpr std::string_view kSegmentSuffix = ".jsonl";
constexpr std::size_t kSeqDigits = 20;
constexpr std::size_t kChunk = 64 * 1024;

Status Errno(const std::string& what, int err) {
  return Status::Unavailable(what + ": " + std::strerror(err));
}

}  // namespace

std::string AuditDir(const std::string& data_dir) { return data_dir + "/audit"; }

std::string SegmentFileName(std::uint64_t first_seq) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "audit-%020llu.jsonl",
                static_cast<unsigned long long>(first_seq));
  return buf;
}

std::optional<std::uint64_t> ParseSegmentFileName(std::string_view name) {
  if (name.size() != kSegmentPrefix.size() + kSeqDigits + kSegmentSuffix.size()) return {};
  if (name.substr(0, kSegmentPrefix.size()) != kSegmentPrefix) return {};
  if (name.substr(name.size() - kSegmentSuffix.size()) != kSegmentSuffix) return {};
  std::string_view digits = name.substr(kSegmentPrefix.size(), kSeqDigits);
  std::uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return {};
    std::uint64_t next = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (next / 10 != value) return {};  // overflow
    value = next;
  }
  return value;
}

Result<std::vector<SegmentFile>> ListSegments(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("no audit directory at " + dir);
    return Errno("cannot open directory " + dir, err);
  }
  std::vector<SegmentFile> out;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (auto seq = ParseSegmentFileName(name)) {
      out.push_back({*seq, std::string(name), dir + "/" + std::string(name)});
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.first_seq < b.first_seq; });
  return out;
}

ReverseLineReader::~ReverseLineReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status ReverseLineReader::Open(const std::string& path, std::int64_t end_offset) {
  if (fd_ >= 0) ::close(fd_);
  path_ = path;
  buf_.clear();
  skipped_partial_tail_ = false;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("no file " + path);
    return Errno("cannot open " + path, err);
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return Errno("cannot stat " + path, errno);
  std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  end_ = end_offset < 0 ? size : std::min<std::uint64_t>(size, end_offset);
  buf_start_ = end_;
  // Drop bytes after the last '\n' (a line being written, or torn).
  while (true) {
    std::size_t nl = buf_.rfind('\n');
    if (nl != std::string::npos) {
      std::uint64_t complete = buf_start_ + nl + 1;
      if (complete != end_) skipped_partial_tail_ = true;
      buf_.resize(nl + 1);
      end_ = complete;
      break;
    }
    if (buf_start_ == 0) {
      if (end_ != 0) skipped_partial_tail_ = true;
      buf_.clear();
      end_ = 0;
      break;
    }
    COFFER_RETURN_IF_ERROR(Fill());
  }
  complete_end_ = end_;
  return Status::Ok();
}

Status ReverseLineReader::Fill() {
  std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, buf_start_));
  std::string chunk(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd_, chunk.data() + got, n - got,
                        static_cast<off_t>(buf_start_ - n + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot read " + path_, errno);
    }
    if (r == 0) return Status::Unavailable("unexpected end of file reading " + path_);
    got += static_cast<std::size_t>(r);
  }
  buf_start_ -= n;
  chunk.append(buf_);
  buf_ = std::move(chunk);
  return Status::Ok();
}

Result<bool> ReverseLineReader::Next(std::string* line, std::uint64_t* start_offset) {
  if (fd_ < 0 || end_ == 0) return false;
  // buf_ holds [buf_start_, end_), ending with the '\n' of the line to return.
  while (true) {
    std::size_t last = static_cast<std::size_t>(end_ - buf_start_) - 1;  // its '\n'
    std::size_t nl = last == 0 ? std::string::npos : buf_.rfind('\n', last - 1);
    if (nl != std::string::npos || buf_start_ == 0) {
      std::size_t begin = nl == std::string::npos ? 0 : nl + 1;
      line->assign(buf_, begin, last - begin);
      *start_offset = buf_start_ + begin;
      end_ = buf_start_ + begin;
      buf_.resize(begin);
      return true;
    }
    COFFER_RETURN_IF_ERROR(Fill());
  }
}

Status WriteOnce(int fd, std::string_view bytes, const std::string& what, std::size_t* written) {
  *written = 0;
  while (true) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write " + what, errno);
    }
    *written = static_cast<std::size_t>(n);
    if (*written != bytes.size()) {
      return Status::Unavailable("short write to " + what + " (" + std::to_string(n) + " of " +
                                 std::to_string(bytes.size()) + " bytes)");
    }
    return Status::Ok();
  }
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory " + dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Errno("cannot fsync directory " + dir, err);
  return Status::Ok();
}

Status CopyFileDurably(const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno("cannot open " + from, errno);
  const std::string tmp = to + ".tmp";
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    int err = errno;
    ::close(in);
    return Errno("cannot create " + tmp, err);
  }
  Status status;
  std::string buf(kChunk, '\0');
  while (status.ok()) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      status = Errno("cannot read " + from, errno);
      break;
    }
    if (n == 0) break;
    std::size_t off = 0;
    while (off < static_cast<std::size_t>(n)) {
      ssize_t w = ::write(out, buf.data() + off, static_cast<std::size_t>(n) - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        status = Errno("cannot write " + tmp, errno);
        break;
      }
      off += static_cast<std::size_t>(w);
    }
  }
  if (status.ok() && ::fdatasync(out) != 0) status = Errno("cannot sync " + tmp, errno);
  ::close(in);
  if (::close(out) != 0 && status.ok()) status = Errno("cannot close " + tmp, errno);
  if (status.ok() && ::rename(tmp.c_str(), to.c_str()) != 0) {
    status = Errno("cannot rename " + tmp, errno);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  std::string dir = to.substr(0, to.find_last_of('/'));
  return SyncDir(dir.empty() ? "/" : dir);
}

Status EnsureDir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Status::FailedPrecondition(dir + " is not a directory");
    return Status::Ok();
  }
  if (errno != ENOENT) return Errno("cannot stat " + dir, errno);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno("cannot create directory " + dir, errno);
  }
  return Status::Ok();
}

}  // namespace coffer::audit
