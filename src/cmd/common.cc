#include "cmd/common.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace coffer::cmd {

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("coffer");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

void DisableCoreDumps() {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
}

std::string PathOnly(const std::string& target) {
  std::size_t q = target.find('?');
  return q == std::string::npos ? target : target.substr(0, q);
}

Status EnsureDataDir(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return Status::FailedPrecondition("data dir " + path + " exists and is not a directory");
    }
    if ((st.st_mode & 077) != 0) {
      spdlog::warn("data dir {} is accessible to other users (mode {:o}); 0700 is recommended",
                   path, st.st_mode & 0777);
    }
    return Status::Ok();
  }
  std::error_code ec;
  std::filesystem::path p(path);
  if (p.has_parent_path() && !p.parent_path().empty()) {
    std::filesystem::create_directories(p.parent_path(), ec);
    if (ec) {
      return Status::Unavailable("cannot create the parent of data dir " + path + ": " +
                                 ec.message());
    }
  }
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Unavailable("cannot create data dir " + path + ": " + std::strerror(errno));
  }
  ::chmod(path.c_str(), 0700);  // mkdir's mode is filtered by the umask; make it exact
  return Status::Ok();
}

Result<std::unique_ptr<crypto::Keyring>> OpenKeyring(const config::ServerConfig& config) {
  if (!config.master_key.empty()) return crypto::KeyringFromText(config.master_key);
  return crypto::OpenFileKeyring(config.MasterKeyFile(), /*create_if_missing=*/true);
}

std::string DatabasePath(const std::string& data_dir) { return data_dir + "/coffer.db"; }

Result<std::unique_ptr<storage::SqliteStore>> OpenStore(const std::string& data_dir) {
  storage::SqliteOptions options;
  options.path = DatabasePath(data_dir);
  return storage::SqliteStore::Open(options);
}

}  // namespace coffer::cmd
