// Keyrings: the in-memory one behind COFFER_MASTER_KEY, and the key file (read, create, rotate,
// reload on change). The JSON form is in internal/keyring_json.{h,cc}.

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <sys/file.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>

#include <climits>

#include "core/clock.h"
#include "core/encoding.h"
#include "crypto/envelope.h"
#include "crypto/internal/keyring_json.h"
#include "crypto/random.h"
#include "crypto/wipe.h"

namespace coffer::crypto {
namespace {

using internal::KeyringContents;
using internal::MasterKeyEntry;

// A key file is a few hundred bytes per version; anything near this is not a key file.
constexpr std::size_t kMaxKeyFileBytes = 1 << 20;

std::string ErrnoText(int err) { return std::generic_category().message(err); }

Status IoError(std::string_view what, const std::string& path, int err) {
  return Status::Unavailable(std::string(what) + " " + path + ": " + ErrnoText(err));
}

class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int Get() const { return fd_; }
  bool IsValid() const { return fd_ >= 0; }
  // Closes now, reporting the error (a close after write can report a failed write-back).
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// What Reload() compares to decide whether the file changed. A rotation renames a new file into
// place, so the inode alone would do; size and mtime catch an in-place edit.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_sec = 0;
  std::int64_t mtime_nsec = 0;
  bool operator==(const FileId&) const = default;
};

FileId IdOf(const struct stat& st) {
  return FileId{st.st_dev, st.st_ino, st.st_size, static_cast<std::int64_t>(st.st_mtim.tv_sec),
                static_cast<std::int64_t>(st.st_mtim.tv_nsec)};
}

std::string OctalMode(mode_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string DirOf(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

struct KeyFile {
  KeyringContents contents;
  FileId id;
};

// Opens, checks (regular file, no group/other permission) and parses the key file.
Result<KeyFile> ReadKeyFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO planted at the path must not hang; it is refused below.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.IsValid()) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound("key file " + path + " does not exist");
    return IoError("cannot open key file", path, err);
  }
  // fstat on the open descriptor: the checks apply to exactly the file that is read.
  struct stat st {};
  if (::fstat(fd.Get(), &st) != 0) return IoError("cannot stat key file", path, errno);
  if (!S_ISREG(st.st_mode)) {
    return Status::FailedPrecondition("key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return Status::FailedPrecondition(
        "key file " + path + " has mode " + OctalMode(st.st_mode) +
        ", which grants access to group or others; refusing to use it. It must be mode 0600 or "
        "stricter (chmod 600 " +
        path + ")");
  }
  if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) > kMaxKeyFileBytes) {
    return Status::InvalidArgument("key file " + path + " is too large to be a key file");
  }
  // One allocation of the final size (+1 to notice growth), so no unwiped copy is left behind by
  // a reallocation.
  std::string text(static_cast<std::size_t>(st.st_size) + 1, '\0');
  WipeOnExit wipe_text(text);
  std::size_t used = 0;
  while (used < text.size()) {
    const ssize_t n = ::read(fd.Get(), text.data() + used, text.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot read key file", path, errno);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used == text.size()) {
    return Status::Unavailable("key file " + path + " changed while it was being read");
  }
  COFFER_ASSIGN_OR_RETURN(
      KeyringContents contents,
      internal::ParseKeyringJson(std::string_view(text.data(), used), "key file " + path));
  return KeyFile{std::move(contents), IdOf(st)};
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write", path, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.IsValid()) return IoError("cannot open directory", dir, errno);
  if (::fsync(fd.Get()) != 0) return IoError("cannot fsync directory", dir, errno);
  return Status::Ok();
}

// Creates `path` (O_EXCL, mode 0600) holding `text`, and makes it durable: the file is fsynced,
// then its directory. Unlinks the file again if anything fails. errno EEXIST is reported as
// kAlreadyExists.
Status CreateExclusive(const std::string& path, std::string_view text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.IsValid()) {
    const int err = errno;
    if (err == EEXIST) return Status::AlreadyExists(path + " already exists");
    return IoError("cannot create", path, err);
  }
  auto fail = [&](Status s) {
    ::unlink(path.c_str());
    return s;
  };
  // The umask can only remove bits from 0600, but be explicit about the result.
  if (::fchmod(fd.Get(), 0600) != 0) return fail(IoError("cannot chmod", path, errno));
  Status s = WriteAll(fd.Get(), text, path);
  if (!s.ok()) return fail(s);
  if (::fsync(fd.Get()) != 0) return fail(IoError("cannot fsync", path, errno));
  if (fd.Close() != 0) return fail(IoError("cannot close", path, errno));
  return Status::Ok();
}

std::string NowIso8601() { return FormatIso8601(SystemClock::Get()->NowMillis()); }

// Writes a new key file with one random key, version 1. Ok if another process created the file
// first (the caller then reads that one).
Status CreateKeyFile(const std::string& path) {
  KeyringContents contents;
  contents.active = 1;
  contents.keys[1] = MasterKeyEntry{RandomBytes(kMasterKeyBytes), NowIso8601()};
  std::string text = internal::SerializeKeyringJson(contents);
  WipeOnExit wipe_text(text);
  Status s = CreateExclusive(path, text);
  if (s.code() == StatusCode::kAlreadyExists) return Status::Ok();
  COFFER_RETURN_IF_ERROR(s.WithContext("creating key file"));
  return SyncDir(DirOf(path));
}

Status KeyNotFound(std::uint32_t version, std::string_view where) {
  return Status(StatusCode::kDecryptionFailure, "master key version " + std::to_string(version) +
                                                    " is not in " + std::string(where));
}

// A fixed keyring, from text (the env var). Immutable after construction, so lock-free.
class StaticKeyring final : public Keyring {
 public:
  explicit StaticKeyring(KeyringContents contents) : contents_(std::move(contents)) {}

  std::uint32_t ActiveVersion() const override { return contents_.active; }

  Result<std::string> Key(std::uint32_t version) override {
    auto it = contents_.keys.find(version);
    if (it == contents_.keys.end())
      return KeyNotFound(version, "the master key from the environment");
    return it->second.key;
  }

  Status Reload() override { return Status::Ok(); }

 private:
  const KeyringContents contents_;
};

class FileKeyring final : public Keyring {
 public:
  FileKeyring(std::string path, KeyFile initial)
      : path_(std::move(path)),
        id_(initial.id),
        contents_(std::move(initial.contents)),
        active_(contents_.active) {}

  std::uint32_t ActiveVersion() const override { return active_.load(std::memory_order_acquire); }

  Result<std::string> Key(std::uint32_t version) override {
    if (std::optional<std::string> key = Find(version)) return std::move(*key);
    // Perhaps another process rotated the file and a blob wrapped with the new version arrived
    // before we noticed.
    Status reloaded = Reload();
    if (std::optional<std::string> key = Find(version)) return std::move(*key);
    Status missing = KeyNotFound(version, "key file " + path_);
    if (!reloaded.ok()) {
      return Status(missing.code(),
                    missing.message() + " (reload failed: " + reloaded.message() + ")");
    }
    return missing;
  }

  Status Reload() override {
    std::lock_guard<std::mutex> reload_lock(reload_mu_);
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
      // Keep serving with the keys we have; the caller decides whether this matters.
      return IoError("cannot stat key file", path_, errno);
    }
    const FileId seen = IdOf(st);
    if (seen == id_) return Status::Ok();
    // A file that failed to load is not re-read until it changes again: Reload stays a stat.
    if (failed_id_ && seen == *failed_id_) return failed_status_;
    Result<KeyFile> read = ReadKeyFile(path_);
    if (!read.ok()) {
      failed_id_ = seen;
      failed_status_ = read.status();
      return failed_status_;
    }
    KeyFile file = std::move(read).value();
    failed_id_.reset();
    {
      std::unique_lock<std::shared_mutex> lock(mu_);
      contents_ = std::move(file.contents);
      active_.store(contents_.active, std::memory_order_release);
    }
    id_ = file.id;
    return Status::Ok();
  }

 private:
  std::optional<std::string> Find(std::uint32_t version) const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = contents_.keys.find(version);
    if (it == contents_.keys.end()) return std::nullopt;
    return it->second.key;
  }

  const std::string path_;
  std::mutex reload_mu_;             // serialises Reload(); guards id_, failed_id_, failed_status_
  FileId id_;                        // the file the keys came from
  std::optional<FileId> failed_id_;  // the file last seen that could not be loaded
  Status failed_status_;
  mutable std::shared_mutex mu_;  // guards contents_
  KeyringContents contents_;
  // A copy of contents_.active that ActiveVersion() reads without locking.
  std::atomic<std::uint32_t> active_;
};

std::string_view TrimSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  const auto end = s.find_last_not_of(kSpace);
  return s.substr(begin, end - begin + 1);
}

// Locks "<path>.lock" for the life of the object (flock, exclusive).
class KeyFileLock {
 public:
  static Result<KeyFileLock> Acquire(const std::string& path) {
    const std::string lock_path = path + ".lock";
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return IoError("cannot open lock file", lock_path, errno);
    KeyFileLock lock(fd);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) return IoError("cannot lock", lock_path, errno);
    }
    return lock;
  }
  KeyFileLock(KeyFileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  KeyFileLock& operator=(KeyFileLock&&) = delete;
  ~KeyFileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
  }

 private:
  explicit KeyFileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

Result<std::unique_ptr<Keyring>> OpenFileKeyring(const std::string& path, bool create_if_missing) {
  if (path.empty()) return Status::InvalidArgument("the key file path is empty");
  if (create_if_missing) {
    struct stat st {};
    // lstat: a dangling symlink is not "missing"; creating through it is refused below.
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno != ENOENT) return IoError("cannot stat key file", path, errno);
      COFFER_RETURN_IF_ERROR(CreateKeyFile(path));
    }
  }
  COFFER_ASSIGN_OR_RETURN(KeyFile file, ReadKeyFile(path));
  return std::unique_ptr<Keyring>(std::make_unique<FileKeyring>(path, std::move(file)));
}

Result<std::unique_ptr<Keyring>> KeyringFromText(std::string_view text) {
  const std::string_view trimmed = TrimSpace(text);
  if (trimmed.empty()) return Status::InvalidArgument("the master key text is empty");
  // Base64 never starts with a bracket, so anything that does is meant as JSON.
  if (trimmed.front() == '{' || trimmed.front() == '[') {
    COFFER_ASSIGN_OR_RETURN(KeyringContents contents,
                            internal::ParseKeyringJson(trimmed, "the master key text"));
    return std::unique_ptr<Keyring>(std::make_unique<StaticKeyring>(std::move(contents)));
  }
  std::optional<std::string> raw = Base64Decode(trimmed);
  if (!raw || raw->size() != kMasterKeyBytes) {
    if (raw) Wipe(*raw);
    return Status::InvalidArgument(
        "the master key text is neither a keyring JSON object nor the base64 encoding of a "
        "32-byte key");
  }
  KeyringContents contents;
  contents.active = 1;
  contents.keys[1] = MasterKeyEntry{std::move(*raw), ""};
  return std::unique_ptr<Keyring>(std::make_unique<StaticKeyring>(std::move(contents)));
}

Result<std::uint32_t> RotateFileKeyring(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("the key file path is empty");
  // Rotate the file a symlink points at, not the link (the link stays valid).
  std::string target = path;
  if (char* resolved = ::realpath(path.c_str(), nullptr)) {
    target = resolved;
    std::free(resolved);
  }
  COFFER_ASSIGN_OR_RETURN(KeyFileLock lock, KeyFileLock::Acquire(target));
  COFFER_ASSIGN_OR_RETURN(KeyFile file, ReadKeyFile(target));
  KeyringContents& contents = file.contents;

  const std::uint32_t newest = contents.keys.rbegin()->first;
  if (newest == std::numeric_limits<std::uint32_t>::max()) {
    return Status::FailedPrecondition("key file " + path + " has no key version left");
  }
  const std::uint32_t next = newest + 1;
  contents.keys[next] = MasterKeyEntry{RandomBytes(kMasterKeyBytes), NowIso8601()};
  contents.active = next;

  std::string text = internal::SerializeKeyringJson(contents);
  WipeOnExit wipe_text(text);
  // Write beside the target and rename over it, so a reader sees the old file or the new one,
  // never a mix.
  const std::string tmp = target + ".tmp-" + HexEncode(RandomBytes(6));
  COFFER_RETURN_IF_ERROR(CreateExclusive(tmp, text).WithContext("rotating key file"));
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return IoError("cannot rename the new key file over", target, err);
  }
  COFFER_RETURN_IF_ERROR(SyncDir(DirOf(target)));
  return next;
}

}  // namespace coffer::crypto
