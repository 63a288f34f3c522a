#include <atomic>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "crypto/envelope.h"
#include "crypto/random.h"

namespace coffer::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "coffer-keyring-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& Path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ASSERT_EQ(::fchmod(fd, mode), 0);
  ::close(fd);
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

std::string KeyJson(std::uint32_t version, const std::string& raw) {
  return R"({"version":)" + std::to_string(version) + R"(,"key":")" + Base64Encode(raw) + R"("})";
}

std::string KeyringJson(std::uint32_t active, const std::vector<std::string>& entries) {
  std::string keys;
  for (const auto& e : entries) keys += (keys.empty() ? "" : ",") + e;
  return R"({"format":"coffer-keyring-v1","active":)" + std::to_string(active) + R"(,"keys":[)" +
         keys + "]}";
}

class FileKeyringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.Path().empty());
    path_ = dir_.Path() + "/keyring.json";
  }
  TempDir dir_;
  std::string path_;
};

TEST_F(FileKeyringTest, CreatesMode0600FileWithOneRandomKey) {
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, /*create_if_missing=*/true);
  ASSERT_TRUE(keyring.ok()) << keyring.status().ToString();
  EXPECT_EQ(ModeOf(path_), 0600u);
  EXPECT_EQ((*keyring)->ActiveVersion(), 1u);
  Result<std::string> key = (*keyring)->Key(1);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->size(), kMasterKeyBytes);

  const nlohmann::json doc = nlohmann::json::parse(ReadAll(path_));
  EXPECT_EQ(doc["format"], "coffer-keyring-v1");
  EXPECT_EQ(doc["active"], 1);
  ASSERT_EQ(doc["keys"].size(), 1u);
  EXPECT_EQ(doc["keys"][0]["version"], 1);
  EXPECT_EQ(Base64Decode(doc["keys"][0]["key"].get<std::string>()), *key);
  EXPECT_THAT(doc["keys"][0]["created"].get<std::string>(),
              ::testing::MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"));

  // Opening again reads the same key rather than making a new one.
  Result<std::unique_ptr<Keyring>> again = OpenFileKeyring(path_, true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->Key(1), *key);
}

TEST_F(FileKeyringTest, CreatedFileIs0600EvenUnderAPermissiveUmask) {
  const mode_t old = ::umask(0);
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, true);
  ::umask(old);
  ASSERT_TRUE(keyring.ok());
  EXPECT_EQ(ModeOf(path_), 0600u);
}

TEST_F(FileKeyringTest, TwoCreatedKeyringsHaveDifferentKeys) {
  Result<std::unique_ptr<Keyring>> a = OpenFileKeyring(path_, true);
  Result<std::unique_ptr<Keyring>> b = OpenFileKeyring(dir_.Path() + "/other.json", true);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*(*a)->Key(1), *(*b)->Key(1));
}

TEST_F(FileKeyringTest, MissingFileWithoutCreateIsNotFound) {
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, false);
  ASSERT_FALSE(keyring.ok());
  EXPECT_EQ(keyring.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(keyring.status().message(), HasSubstr(path_));
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(FileKeyringTest, MissingDirectoryFailsToCreate) {
  Result<std::unique_ptr<Keyring>> keyring =
      OpenFileKeyring(dir_.Path() + "/no/such/dir/keyring.json", true);
  ASSERT_FALSE(keyring.ok());
  EXPECT_EQ(keyring.status().code(), StatusCode::kUnavailable);
}

TEST_F(FileKeyringTest, RefusesFilesReadableByGroupOrOthers) {
  const std::string raw = RandomBytes(32);
  for (mode_t mode : {0644, 0640, 0604, 0660, 0601, 0610, 0666, 0777}) {
    SCOPED_TRACE(mode);
    WriteFile(path_, KeyringJson(1, {KeyJson(1, raw)}), mode);
    for (bool create : {false, true}) {
      Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, create);
      ASSERT_FALSE(keyring.ok());
      EXPECT_EQ(keyring.status().code(), StatusCode::kFailedPrecondition);
      EXPECT_THAT(keyring.status().message(), HasSubstr(path_));
      char octal[8];
      std::snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(mode));
      EXPECT_THAT(keyring.status().message(), HasSubstr(octal));
      EXPECT_THAT(keyring.status().message(), HasSubstr("0600"));
    }
    EXPECT_EQ(ModeOf(path_), mode);  // never "fixed" behind the operator's back
  }
}

TEST_F(FileKeyringTest, AcceptsOwnerOnlyModes) {
  const std::string raw = RandomBytes(32);
  for (mode_t mode : {0600, 0400, 0700}) {
    SCOPED_TRACE(mode);
    WriteFile(path_, KeyringJson(1, {KeyJson(1, raw)}), mode);
    Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, false);
    ASSERT_TRUE(keyring.ok()) << keyring.status().ToString();
    EXPECT_EQ(*(*keyring)->Key(1), raw);
  }
}

TEST_F(FileKeyringTest, RefusesNonRegularFiles) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, true);
  ASSERT_FALSE(keyring.ok());
  EXPECT_EQ(keyring.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(keyring.status().message(), HasSubstr("not a regular file"));

  const std::string fifo = dir_.Path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  keyring = OpenFileKeyring(fifo, false);  // must not block waiting for a writer
  ASSERT_FALSE(keyring.ok());
  EXPECT_EQ(keyring.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(FileKeyringTest, FollowsSymlinksButChecksTheTarget) {
  const std::string raw = RandomBytes(32);
  const std::string target = dir_.Path() + "/real.json";
  WriteFile(target, KeyringJson(1, {KeyJson(1, raw)}), 0600);
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, false);
  ASSERT_TRUE(keyring.ok()) << keyring.status().ToString();
  EXPECT_EQ(*(*keyring)->Key(1), raw);

  ASSERT_EQ(::chmod(target.c_str(), 0644), 0);
  keyring = OpenFileKeyring(path_, false);
  ASSERT_FALSE(keyring.ok());
  EXPECT_EQ(keyring.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(FileKeyringTest, DoesNotCreateThroughADanglingSymlink) {
  const std::string target = dir_.Path() + "/elsewhere.json";
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, true);
  ASSERT_FALSE(keyring.ok());
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(FileKeyringTest, RotateAddsAnActiveVersionAndKeepsTheOldOnes) {
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, true);
  ASSERT_TRUE(keyring.ok());
  const std::string key1 = *(*keyring)->Key(1);

  Result<std::uint32_t> v2 = RotateFileKeyring(path_);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(*v2, 2u);
  EXPECT_EQ(ModeOf(path_), 0600u);
  Result<std::uint32_t> v3 = RotateFileKeyring(path_);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(*v3, 3u);

  Result<std::unique_ptr<Keyring>> reopened = OpenFileKeyring(path_, false);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->ActiveVersion(), 3u);
  EXPECT_EQ(*(*reopened)->Key(1), key1);
  EXPECT_NE(*(*reopened)->Key(2), key1);
  EXPECT_NE(*(*reopened)->Key(3), *(*reopened)->Key(2));

  // No temporary files are left beside the key file.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_.Path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_THAT(names, ::testing::UnorderedElementsAre("keyring.json", "keyring.json.lock"));
}

TEST_F(FileKeyringTest, RotatePreservesCreationTimesAndVersionGaps) {
  const std::string a = RandomBytes(32), b = RandomBytes(32);
  WriteFile(path_,
            R"({"format":"coffer-keyring-v1","active":5,"keys":[)"
            R"({"version":2,"key":")" +
                Base64Encode(a) +
                R"(","created":"2020-01-01T00:00:00Z"},)"
                R"({"version":5,"key":")" +
                Base64Encode(b) + R"("}]})",
            0600);
  Result<std::uint32_t> v = RotateFileKeyring(path_);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 6u);
  const nlohmann::json doc = nlohmann::json::parse(ReadAll(path_));
  EXPECT_EQ(doc["active"], 6);
  ASSERT_EQ(doc["keys"].size(), 3u);
  EXPECT_EQ(doc["keys"][0]["version"], 2);
  EXPECT_EQ(doc["keys"][0]["created"], "2020-01-01T00:00:00Z");
  EXPECT_EQ(Base64Decode(doc["keys"][0]["key"].get<std::string>()), a);
  EXPECT_EQ(Base64Decode(doc["keys"][1]["key"].get<std::string>()), b);
}

TEST_F(FileKeyringTest, RotateRefusesALooseOrBrokenFile) {
  WriteFile(path_, KeyringJson(1, {KeyJson(1, RandomBytes(32))}), 0644);
  Result<std::uint32_t> v = RotateFileKeyring(path_);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kFailedPrecondition);

  WriteFile(path_, "{not json", 0600);
  v = RotateFileKeyring(path_);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadAll(path_), "{not json");

  EXPECT_EQ(RotateFileKeyring(dir_.Path() + "/missing.json").status().code(),
            StatusCode::kNotFound);
}

TEST_F(FileKeyringTest, RotateThroughASymlinkReplacesTheTarget) {
  const std::string target = dir_.Path() + "/real.json";
  WriteFile(target, KeyringJson(1, {KeyJson(1, RandomBytes(32))}), 0600);
  ASSERT_EQ(::symlink("real.json", path_.c_str()), 0);
  ASSERT_TRUE(RotateFileKeyring(path_).ok());
  EXPECT_TRUE(fs::is_symlink(path_));
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, false);
  ASSERT_TRUE(keyring.ok());
  EXPECT_EQ((*keyring)->ActiveVersion(), 2u);
}

TEST_F(FileKeyringTest, ExistingInstancePicksUpARotationByAnotherProcess) {
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, true);
  ASSERT_TRUE(keyring.ok());
  Keyring& server = **keyring;
  EXPECT_EQ(server.ActiveVersion(), 1u);

  // `coffer keys rotate` in another process.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Result<std::uint32_t> v = RotateFileKeyring(path_);
    ::_exit(v.ok() && *v == 2 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  // Nothing has noticed yet: the active version is still the old one.
  EXPECT_EQ(server.ActiveVersion(), 1u);
  // A blob wrapped with version 2 arrives: Key(2) reloads once and finds it.
  Result<std::string> key2 = server.Key(2);
  ASSERT_TRUE(key2.ok()) << key2.status().ToString();
  EXPECT_EQ(key2->size(), kMasterKeyBytes);
  EXPECT_EQ(server.ActiveVersion(), 2u);

  // And what the other process wrote opens with this instance.
  Result<std::unique_ptr<Keyring>> fresh = OpenFileKeyring(path_, false);
  ASSERT_TRUE(fresh.ok());
  Result<std::string> blob = Envelope(fresh->get()).Seal("Qv4l", "aad");
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(*Envelope(&server).Open(*blob, "aad"), "Qv4l");
}

TEST_F(FileKeyringTest, ReloadPicksUpRotationAndIgnoresUnchangedFile) {
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, true);
  ASSERT_TRUE(keyring.ok());
  EXPECT_TRUE((*keyring)->Reload().ok());
  EXPECT_EQ((*keyring)->ActiveVersion(), 1u);
  ASSERT_TRUE(RotateFileKeyring(path_).ok());
  EXPECT_TRUE((*keyring)->Reload().ok());
  EXPECT_EQ((*keyring)->ActiveVersion(), 2u);
}

TEST_F(FileKeyringTest, UnknownVersionFailsAfterOneReload) {
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, true);
  ASSERT_TRUE(keyring.ok());
  Result<std::string> key = (*keyring)->Key(9);
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kDecryptionFailure);
  EXPECT_THAT(key.status().message(), HasSubstr("version 9"));
  EXPECT_THAT(key.status().message(), HasSubstr(path_));
}

TEST_F(FileKeyringTest, ABrokenFileOnReloadKeepsTheLoadedKeys) {
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, true);
  ASSERT_TRUE(keyring.ok());
  const std::string key1 = *(*keyring)->Key(1);

  WriteFile(path_, "{\"format\": truncated", 0600);
  Status s = (*keyring)->Reload();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*keyring)->Reload().code(), StatusCode::kInvalidArgument);  // cached until it changes
  EXPECT_EQ(*(*keyring)->Key(1), key1);
  EXPECT_EQ((*keyring)->ActiveVersion(), 1u);
  Result<std::string> missing = (*keyring)->Key(2);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("reload failed"));

  ASSERT_EQ(::unlink(path_.c_str()), 0);
  EXPECT_EQ((*keyring)->Reload().code(), StatusCode::kUnavailable);
  EXPECT_EQ(*(*keyring)->Key(1), key1);

  // Fixed: the next reload loads it.
  const std::string raw = RandomBytes(32);
  WriteFile(path_, KeyringJson(4, {KeyJson(1, key1), KeyJson(4, raw)}), 0600);
  EXPECT_TRUE((*keyring)->Reload().ok());
  EXPECT_EQ((*keyring)->ActiveVersion(), 4u);
  EXPECT_EQ(*(*keyring)->Key(4), raw);
}

TEST_F(FileKeyringTest, ConcurrentReadersDuringRotation) {
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, true);
  ASSERT_TRUE(keyring.ok());
  Envelope envelope(keyring->get());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(3);
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        (void)(*keyring)->Reload();
        Result<std::string> blob = envelope.Seal("Qv4l", "row");
        if (!blob.ok()) {
          ++failures;
          continue;
        }
        Result<std::string> opened = envelope.Open(*blob, "row");
        if (!opened.ok() || *opened != "Qv4l") ++failures;
      }
    });
  }
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(RotateFileKeyring(path_).ok());
  stop.store(true);
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE((*keyring)->Reload().ok());
  EXPECT_EQ((*keyring)->ActiveVersion(), 11u);
}

TEST_F(FileKeyringTest, ConcurrentRotationsNeverLoseAVersion) {
  ASSERT_TRUE(OpenFileKeyring(path_, true).ok());
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      bool ok = true;
      for (int j = 0; j < 5; ++j) ok = ok && RotateFileKeyring(path_).ok();
      ::_exit(ok ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, false);
  ASSERT_TRUE(keyring.ok());
  EXPECT_EQ((*keyring)->ActiveVersion(), 21u);
  for (std::uint32_t v = 1; v <= 21; ++v) EXPECT_TRUE((*keyring)->Key(v).ok()) << v;
}

// ---- The JSON format, through the env-var path and the file path ----

struct MalformedCase {
  const char* name;
  std::string text;
  const char* message_part;
};

std::vector<MalformedCase> MalformedCases(const std::string& k1, const std::string& k2) {
  const std::string b1 = Base64Encode(k1);
  const std::string fmt = R"("format":"coffer-keyring-v1")";
  return {
      {"not_json", "{format: 1}", "not valid JSON"},
      {"trailing_garbage", KeyringJson(1, {KeyJson(1, k1)}) + " x", "not valid JSON"},
      {"syntax_error_after_key",
       "{" + fmt + R"(,"active":1,"keys":[{"version":1,"key":")" + b1 + R"(" "x"}]})",
       "not valid JSON"},
      {"array", "[1,2]", "must be a JSON object"},
      {"missing_format", R"({"active":1,"keys":[)" + KeyJson(1, k1) + "]}", "\"format\""},
      {"wrong_format",
       R"({"format":"coffer-keyring-v2","active":1,"keys":[)" + KeyJson(1, k1) + "]}",
       "unsupported format \"coffer-keyring-v2\""},
      {"format_not_string", R"({"format":1,"active":1,"keys":[)" + KeyJson(1, k1) + "]}",
       "\"format\""},
      {"missing_active", "{" + fmt + R"(,"keys":[)" + KeyJson(1, k1) + "]}", "\"active\""},
      {"active_zero", KeyringJson(0, {KeyJson(1, k1)}), "out of range"},
      {"active_negative", "{" + fmt + R"(,"active":-1,"keys":[)" + KeyJson(1, k1) + "]}",
       "positive integer"},
      {"active_float", "{" + fmt + R"(,"active":1.5,"keys":[)" + KeyJson(1, k1) + "]}",
       "positive integer"},
      {"active_string", "{" + fmt + R"(,"active":"1","keys":[)" + KeyJson(1, k1) + "]}",
       "positive integer"},
      {"active_too_big", "{" + fmt + R"(,"active":4294967296,"keys":[)" + KeyJson(1, k1) + "]}",
       "out of range"},
      {"active_not_listed", KeyringJson(2, {KeyJson(1, k1)}), "active version 2 is not in"},
      {"missing_keys", "{" + fmt + R"(,"active":1})", "\"keys\""},
      {"keys_empty", KeyringJson(1, {}), "non-empty array"},
      {"keys_object", "{" + fmt + R"(,"active":1,"keys":{}})", "non-empty array"},
      {"entry_not_object", KeyringJson(1, {"1"}), "keys[0] must be an object"},
      {"version_missing", KeyringJson(1, {R"({"key":")" + b1 + R"("})"}), "\"version\""},
      {"version_zero", KeyringJson(1, {KeyJson(0, k1)}), "out of range"},
      {"duplicate_version", KeyringJson(1, {KeyJson(1, k1), KeyJson(1, k2)}),
       "version 1 appears more than once"},
      {"key_missing", KeyringJson(1, {R"({"version":1})"}), "base64 string"},
      {"key_not_string", KeyringJson(1, {R"({"version":1,"key":5})"}), "base64 string"},
      {"bad_base64", KeyringJson(1, {R"({"version":1,"key":"!!notbase64!!"})"}),
       "not valid base64"},
      {"base64_with_space", KeyringJson(1, {R"({"version":1,"key":" )" + b1 + R"("})"}),
       "not valid base64"},
      {"short_key", KeyringJson(1, {KeyJson(1, k1.substr(0, 31))}), "31 bytes, not 32"},
      {"long_key", KeyringJson(1, {KeyJson(1, k1 + "x")}), "33 bytes, not 32"},
      {"created_not_string", KeyringJson(1, {R"({"version":1,"key":")" + b1 + R"(","created":1})"}),
       "\"created\" must be a string"},
      {"unknown_top_field",
       "{" + fmt + R"(,"active":1,"extra":true,"keys":[)" + KeyJson(1, k1) + "]}",
       "unknown field \"extra\""},
      {"unknown_entry_field",
       KeyringJson(1, {R"({"version":1,"key":")" + b1 + R"(","algorithm":"aes"})"}),
       "unknown field \"algorithm\""},
      {"key_as_field_name",
       "{" + fmt + R"(,"active":1,")" + b1 + R"(":1,"keys":[)" + KeyJson(1, k1) + "]}",
       "field name that is not shown"},
      {"duplicate_field", "{" + fmt + R"(,"active":1,"active":1,"keys":[)" + KeyJson(1, k1) + "]}",
       "duplicate field"},
  };
}

void ExpectNoKeyMaterial(const Status& s, const std::string& k1, const std::string& k2) {
  for (const std::string& k : {k1, k2}) {
    const std::string b64 = Base64Encode(k);
    // No 6-character run of a key's base64 (or 4 raw bytes) in the message.
    for (std::size_t i = 0; i + 6 <= b64.size(); ++i) {
      EXPECT_THAT(s.message(), Not(HasSubstr(b64.substr(i, 6))));
    }
    EXPECT_THAT(s.message(), Not(HasSubstr(k.substr(0, 4))));
  }
}

TEST(KeyringTextTest, RejectsMalformedJson) {
  const std::string k1 = RandomBytes(32), k2 = RandomBytes(32);
  for (const MalformedCase& c : MalformedCases(k1, k2)) {
    SCOPED_TRACE(c.name);
    Result<std::unique_ptr<Keyring>> keyring = KeyringFromText(c.text);
    ASSERT_FALSE(keyring.ok());
    EXPECT_EQ(keyring.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(keyring.status().message(), HasSubstr(c.message_part));
    EXPECT_THAT(keyring.status().message(), HasSubstr("master key text"));
    ExpectNoKeyMaterial(keyring.status(), k1, k2);
  }
}

TEST_F(FileKeyringTest, RejectsMalformedKeyFiles) {
  const std::string k1 = RandomBytes(32), k2 = RandomBytes(32);
  for (const MalformedCase& c : MalformedCases(k1, k2)) {
    SCOPED_TRACE(c.name);
    WriteFile(path_, c.text, 0600);
    Result<std::unique_ptr<Keyring>> keyring = OpenFileKeyring(path_, true);
    ASSERT_FALSE(keyring.ok());
    EXPECT_EQ(keyring.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(keyring.status().message(), HasSubstr(c.message_part));
    EXPECT_THAT(keyring.status().message(), HasSubstr(path_));
    ExpectNoKeyMaterial(keyring.status(), k1, k2);
    EXPECT_EQ(ReadAll(path_), c.text);  // a broken file is never overwritten
  }
  WriteFile(path_, "", 0600);
  EXPECT_EQ(OpenFileKeyring(path_, true).status().code(), StatusCode::kInvalidArgument);
}

TEST(KeyringTextTest, BareBase64KeyIsVersionOne) {
  const std::string raw = RandomBytes(32);
  for (const std::string& text :
       {Base64Encode(raw), Base64Encode(raw) + "\n", "  " + Base64Encode(raw) + " \r\n"}) {
    Result<std::unique_ptr<Keyring>> keyring = KeyringFromText(text);
    ASSERT_TRUE(keyring.ok()) << keyring.status().ToString();
    EXPECT_EQ((*keyring)->ActiveVersion(), 1u);
    EXPECT_EQ(*(*keyring)->Key(1), raw);
    EXPECT_TRUE((*keyring)->Reload().ok());
    Result<std::string> other = (*keyring)->Key(2);
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.status().code(), StatusCode::kDecryptionFailure);
  }
}

TEST(KeyringTextTest, JsonFormWithSeveralVersions) {
  const std::string k1 = RandomBytes(32), k3 = RandomBytes(32);
  Result<std::unique_ptr<Keyring>> keyring =
      KeyringFromText("\n" + KeyringJson(3, {KeyJson(1, k1), KeyJson(3, k3)}) + "\n");
  ASSERT_TRUE(keyring.ok()) << keyring.status().ToString();
  EXPECT_EQ((*keyring)->ActiveVersion(), 3u);
  EXPECT_EQ(*(*keyring)->Key(1), k1);
  EXPECT_EQ(*(*keyring)->Key(3), k3);
  EXPECT_FALSE((*keyring)->Key(2).ok());
}

TEST(KeyringTextTest, RejectsBadBareKeys) {
  const std::string raw = RandomBytes(32);
  for (const std::string& text :
       {std::string(), std::string("   \n"), std::string("not base64!"),
        Base64Encode(raw.substr(0, 16)), Base64Encode(raw + raw), HexEncode(raw)}) {
    Result<std::unique_ptr<Keyring>> keyring = KeyringFromText(text);
    ASSERT_FALSE(keyring.ok()) << text;
    EXPECT_EQ(keyring.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(keyring.status().message(), Not(HasSubstr(HexEncode(raw).substr(0, 8))));
    EXPECT_THAT(keyring.status().message(), Not(HasSubstr(Base64Encode(raw).substr(0, 8))));
  }
}

TEST_F(FileKeyringTest, KeyFileTextIsAlsoValidEnvText) {
  Result<std::unique_ptr<Keyring>> from_file = OpenFileKeyring(path_, true);
  ASSERT_TRUE(from_file.ok());
  ASSERT_TRUE(RotateFileKeyring(path_).ok());
  Result<std::unique_ptr<Keyring>> from_text = KeyringFromText(ReadAll(path_));
  ASSERT_TRUE(from_text.ok()) << from_text.status().ToString();
  EXPECT_EQ((*from_text)->ActiveVersion(), 2u);
  EXPECT_EQ(*(*from_text)->Key(1), *(*from_file)->Key(1));
  EXPECT_EQ(*(*from_text)->Key(2), *(*from_file)->Key(2));
}

}  // namespace
}  // namespace coffer::crypto
