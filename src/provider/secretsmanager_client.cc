#include "provider/secretsmanager_client.h"

#include <cmath>
#include <memory>
#include <mutex>
#include <random>
#include <utility>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "sigv4/sigv4.h"

namespace coffer::provider {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxResponseBytes = 8 * 1024 * 1024;

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Sink {
  std::string body;
  bool overflow = false;
};

std::size_t Write(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t n = size * count;
  if (sink->body.size() + n > kMaxResponseBytes) {
    sink->overflow = true;
    return 0;  // aborts the transfer
  }
  sink->body.append(data, n);
  return n;
}

// "http://host:port/path" -> "host:port".
std::string HostOf(const std::string& endpoint) {
  std::string_view rest = endpoint;
  std::size_t scheme = rest.find("://");
  if (scheme != std::string_view::npos) rest.remove_prefix(scheme + 3);
  return std::string(rest.substr(0, rest.find('/')));
}

std::int64_t MillisFrom(const json& seconds) {
  if (!seconds.is_number()) return 0;
  return static_cast<std::int64_t>(std::llround(seconds.get<double>() * 1000.0));
}

std::string StringOr(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<json> ParseJson(const std::string& body, const char* action) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) {
    return Status::Unavailable(std::string("malformed ") + action + " response from the endpoint");
  }
  return parsed;
}

RemoteSecretDescription DescriptionFrom(const json& j) {
  RemoteSecretDescription d;
  d.arn = StringOr(j, "ARN");
  d.name = StringOr(j, "Name");
  if (auto tags = j.find("Tags"); tags != j.end() && tags->is_array()) {
    for (const json& t : *tags) {
      if (t.is_object()) d.tags.emplace_back(StringOr(t, "Key"), StringOr(t, "Value"));
    }
  }
  if (auto versions = j.find("VersionIdsToStages"); versions != j.end() && versions->is_object()) {
    for (const auto& [id, stages] : versions->items()) {
      std::vector<std::string> list;
      if (stages.is_array()) {
        for (const json& s : stages) {
          if (s.is_string()) list.push_back(s.get<std::string>());
        }
      }
      d.versions.emplace_back(id, std::move(list));
    }
  }
  if (auto it = j.find("DeletedDate"); it != j.end()) d.deleted_ms = MillisFrom(*it);
  if (auto it = j.find("LastChangedDate"); it != j.end()) d.last_changed_ms = MillisFrom(*it);
  return d;
}

}  // namespace

Status StatusFromAwsError(int http_status, const std::string& body) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string type;
  std::string message;
  if (parsed.is_object()) {
    type = StringOr(parsed, "__type");
    message = StringOr(parsed, "Message");
    if (message.empty()) message = StringOr(parsed, "message");
  }
  // "com.amazonaws.secretsmanager#ResourceNotFoundException" -> the part after '#'.
  if (std::size_t hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
  if (message.size() > 512) message = message.substr(0, 512) + "...";
  const std::string text = (type.empty() ? "HTTP " + std::to_string(http_status) : type) +
                           (message.empty() ? "" : ": " + message);
  if (type == "ResourceNotFoundException") return Status(StatusCode::kNotFound, text);
  if (type == "AccessDeniedException") return Status(StatusCode::kPermissionDenied, text);
  if (type == "UnrecognizedClientException" || type == "InvalidSignatureException" ||
      type == "IncompleteSignatureException" || type == "MissingAuthenticationTokenException" ||
      type == "ExpiredTokenException" || type == "InvalidClientTokenId") {
    return Status(StatusCode::kUnauthenticated, text);
  }
  if (type == "ThrottlingException" || http_status == 429) {
    return Status(StatusCode::kThrottled, text);
  }
  if (type == "InvalidRequestException") return Status(StatusCode::kFailedPrecondition, text);
  if (type == "DecryptionFailure") return Status(StatusCode::kDecryptionFailure, text);
  if (http_status >= 500 || http_status == 0) return Status(StatusCode::kUnavailable, text);
  return Status(StatusCode::kInvalidArgument, text);
}

SecretsManagerClient::SecretsManagerClient(SecretsManagerOptions options,
                                           AwsCredentials credentials)
    : options_(std::move(options)), credentials_(std::move(credentials)) {
  GlobalInitOnce();
  if (options_.clock == nullptr) options_.clock = SystemClock::Get();
  endpoint_ = options_.endpoint.empty()
                  ? "https://secretsmanager." + options_.region + ".amazonaws.com"
                  : options_.endpoint;
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  host_ = HostOf(endpoint_);
}

Result<std::string> SecretsManagerClient::Call(const std::string& action,
                                               const std::string& body) const {
  sigv4::HeaderList headers = {{"Host", host_},
                               {"Content-Type", "application/x-amz-json-1.1"},
                               {"X-Amz-Target", "secretsmanager." + action}};
  if (!credentials_.session_token.empty()) {
    headers.emplace_back("X-Amz-Security-Token", credentials_.session_token);
  }
  sigv4::SignRequest("POST", "/", headers, body, credentials_.access_key_id,
                     credentials_.secret_access_key, options_.region, "secretsmanager",
                     options_.clock->NowMillis());

  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Status::Unavailable("cannot create a curl handle");
  std::unique_ptr<curl_slist, SlistDeleter> list;
  for (const auto& [name, value] : headers) {
    std::string line = name + ": " + value;
    curl_slist* appended = curl_slist_append(list.get(), line.c_str());
    if (appended == nullptr) return Status::Unavailable("cannot build the request headers");
    list.release();
    list.reset(appended);
  }
  // curl adds "Expect: 100-continue" for large bodies; it is not signed and not wanted.
  list.reset(curl_slist_append(list.release(), "Expect:"));

  Sink sink;
  const std::string url = endpoint_ + "/";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());

  CURLcode rc = curl_easy_perform(c);
  if (sink.overflow) return Status::Unavailable(action + ": response larger than 8 MiB");
  if (rc != CURLE_OK) {
    return Status::Unavailable(action + " to " + endpoint_ + " failed: " + curl_easy_strerror(rc));
  }
  long http_status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http_status);
  if (http_status != 200) {
    return StatusFromAwsError(static_cast<int>(http_status), sink.body)
        .WithContext(action + " on " + endpoint_);
  }
  return std::move(sink.body);
}

Result<RemoteSecretValue> SecretsManagerClient::GetSecretValue(
    const std::string& secret_id, const std::string& version_id,
    const std::string& version_stage) const {
  json request = {{"SecretId", secret_id}};
  if (!version_id.empty()) request["VersionId"] = version_id;
  if (!version_stage.empty()) request["VersionStage"] = version_stage;
  COFFER_ASSIGN_OR_RETURN(std::string body, Call("GetSecretValue", request.dump()));
  COFFER_ASSIGN_OR_RETURN(json j, ParseJson(body, "GetSecretValue"));
  RemoteSecretValue out;
  out.arn = StringOr(j, "ARN");
  out.name = StringOr(j, "Name");
  out.version_id = StringOr(j, "VersionId");
  if (auto stages = j.find("VersionStages"); stages != j.end() && stages->is_array()) {
    for (const json& s : *stages) {
      if (s.is_string()) out.version_stages.push_back(s.get<std::string>());
    }
  }
  if (auto s = j.find("SecretString"); s != j.end() && s->is_string()) {
    out.string = s->get<std::string>();
  }
  if (auto b = j.find("SecretBinary"); b != j.end() && b->is_string()) {
    std::optional<std::string> raw = Base64Decode(b->get<std::string>());
    if (!raw.has_value()) return Status::Unavailable("GetSecretValue: SecretBinary is not base64");
    out.binary = std::move(raw);
  }
  if (auto it = j.find("CreatedDate"); it != j.end()) out.created_ms = MillisFrom(*it);
  return out;
}

Result<RemoteSecretDescription> SecretsManagerClient::DescribeSecret(
    const std::string& secret_id) const {
  COFFER_ASSIGN_OR_RETURN(std::string body,
                          Call("DescribeSecret", json{{"SecretId", secret_id}}.dump()));
  COFFER_ASSIGN_OR_RETURN(json j, ParseJson(body, "DescribeSecret"));
  return DescriptionFrom(j);
}

Result<ListSecretsPage> SecretsManagerClient::ListSecrets(const std::vector<ListFilter>& filters,
                                                          const std::string& next_token,
                                                          int max_results) const {
  json request = {{"MaxResults", max_results}};
  if (!next_token.empty()) request["NextToken"] = next_token;
  if (!filters.empty()) {
    json list = json::array();
    for (const ListFilter& f : filters) list.push_back({{"Key", f.key}, {"Values", f.values}});
    request["Filters"] = std::move(list);
  }
  COFFER_ASSIGN_OR_RETURN(std::string body, Call("ListSecrets", request.dump()));
  COFFER_ASSIGN_OR_RETURN(json j, ParseJson(body, "ListSecrets"));
  ListSecretsPage page;
  if (auto list = j.find("SecretList"); list != j.end() && list->is_array()) {
    for (const json& s : *list) {
      if (s.is_object()) page.secrets.push_back(DescriptionFrom(s));
    }
  }
  page.next_token = StringOr(j, "NextToken");
  return page;
}

Status SecretsManagerClient::CheckCredentials() const {
  Result<ListSecretsPage> page = ListSecrets({}, "", 1);
  // Denied means the signature and key were accepted: the credentials are valid, and what they
  // may read is decided per secret.
  if (page.ok() || page.status().code() == StatusCode::kPermissionDenied) return Status::Ok();
  return page.status();
}

// --- Writes (PushSecret) -------------------------------------------------------------------------

namespace {

// A random (version 4) UUID for ClientRequestToken: unique per call, so every write is a new
// request (AWS would answer a reused token with the earlier result).
std::string NewRequestToken() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string h;
  for (int i = 0; i < 2; ++i) {
    const std::uint64_t r = rng();
    h += HexEncode(std::string(reinterpret_cast<const char*>(&r), sizeof(r)));
  }
  h[12] = '4';                                            // version 4
  h[16] = "89ab"[static_cast<unsigned char>(h[16]) % 4];  // variant 10
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

void SetValue(json& request, const std::optional<std::string>& string,
              const std::optional<std::string>& binary) {
  if (binary) {
    request["SecretBinary"] = Base64Encode(*binary);
  } else {
    request["SecretString"] = string.value_or("");
  }
}

json TagList(const std::vector<std::pair<std::string, std::string>>& tags) {
  json list = json::array();
  for (const auto& [k, v] : tags) list.push_back({{"Key", k}, {"Value", v}});
  return list;
}

}  // namespace

Result<std::string> SecretsManagerClient::CreateSecret(
    const std::string& name, const std::optional<std::string>& string,
    const std::optional<std::string>& binary, const std::string& description,
    const std::string& kms_key_id,
    const std::vector<std::pair<std::string, std::string>>& tags) const {
  json request = {{"Name", name}, {"ClientRequestToken", NewRequestToken()}};
  SetValue(request, string, binary);
  if (!description.empty()) request["Description"] = description;
  if (!kms_key_id.empty()) request["KmsKeyId"] = kms_key_id;
  if (!tags.empty()) request["Tags"] = TagList(tags);
  COFFER_ASSIGN_OR_RETURN(std::string body, Call("CreateSecret", request.dump()));
  COFFER_ASSIGN_OR_RETURN(json j, ParseJson(body, "CreateSecret"));
  return StringOr(j, "VersionId");
}

Result<std::string> SecretsManagerClient::PutSecretValue(
    const std::string& secret_id, const std::optional<std::string>& string,
    const std::optional<std::string>& binary) const {
  json request = {{"SecretId", secret_id}, {"ClientRequestToken", NewRequestToken()}};
  SetValue(request, string, binary);
  COFFER_ASSIGN_OR_RETURN(std::string body, Call("PutSecretValue", request.dump()));
  COFFER_ASSIGN_OR_RETURN(json j, ParseJson(body, "PutSecretValue"));
  return StringOr(j, "VersionId");
}

Status SecretsManagerClient::DeleteSecret(const std::string& secret_id,
                                          bool force_delete_without_recovery,
                                          std::optional<int> recovery_window_in_days) const {
  json request = {{"SecretId", secret_id}};
  if (force_delete_without_recovery) {
    request["ForceDeleteWithoutRecovery"] = true;
  } else if (recovery_window_in_days) {
    request["RecoveryWindowInDays"] = *recovery_window_in_days;
  }
  return Call("DeleteSecret", request.dump()).status();
}

Status SecretsManagerClient::TagResource(
    const std::string& secret_id,
    const std::vector<std::pair<std::string, std::string>>& tags) const {
  return Call("TagResource", json{{"SecretId", secret_id}, {"Tags", TagList(tags)}}.dump())
      .status();
}

// --- Finding secrets (dataFrom.find) -------------------------------------------------------------

namespace {

// A SecretValues entry; the same shape GetSecretValue answers.
Result<RemoteSecretValue> BatchValueFrom(const json& j) {
  RemoteSecretValue out;
  out.arn = StringOr(j, "ARN");
  out.name = StringOr(j, "Name");
  out.version_id = StringOr(j, "VersionId");
  if (auto stages = j.find("VersionStages"); stages != j.end() && stages->is_array()) {
    for (const json& s : *stages) {
      if (s.is_string()) out.version_stages.push_back(s.get<std::string>());
    }
  }
  if (auto s = j.find("SecretString"); s != j.end() && s->is_string()) {
    out.string = s->get<std::string>();
  }
  if (auto b = j.find("SecretBinary"); b != j.end() && b->is_string()) {
    std::optional<std::string> raw = Base64Decode(b->get<std::string>());
    if (!raw.has_value()) {
      return Status::Unavailable("BatchGetSecretValue: SecretBinary is not base64");
    }
    out.binary = std::move(raw);
  }
  if (auto it = j.find("CreatedDate"); it != j.end()) out.created_ms = MillisFrom(*it);
  return out;
}

Result<BatchGetSecretValuePage> BatchPageFrom(const std::string& body) {
  COFFER_ASSIGN_OR_RETURN(json j, ParseJson(body, "BatchGetSecretValue"));
  BatchGetSecretValuePage page;
  if (auto list = j.find("SecretValues"); list != j.end() && list->is_array()) {
    for (const json& v : *list) {
      if (!v.is_object()) continue;
      COFFER_ASSIGN_OR_RETURN(RemoteSecretValue value, BatchValueFrom(v));
      page.values.push_back(std::move(value));
    }
  }
  if (auto list = j.find("Errors"); list != j.end() && list->is_array()) {
    for (const json& e : *list) {
      if (!e.is_object()) continue;
      std::string code = StringOr(e, "ErrorCode");
      if (std::size_t hash = code.rfind('#'); hash != std::string::npos)
        code = code.substr(hash + 1);
      std::string message = StringOr(e, "Message");
      if (message.size() > 512) message = message.substr(0, 512) + "...";
      page.errors.push_back({StringOr(e, "SecretId"), std::move(code), std::move(message)});
    }
  }
  page.next_token = StringOr(j, "NextToken");
  return page;
}

}  // namespace

Result<BatchGetSecretValuePage> SecretsManagerClient::BatchGetSecretValue(
    const std::vector<std::string>& secret_ids) const {
  if (secret_ids.empty() || secret_ids.size() > 20) {
    return Status::InvalidArgument("BatchGetSecretValue takes 1 to 20 secret ids");
  }
  COFFER_ASSIGN_OR_RETURN(std::string body,
                          Call("BatchGetSecretValue", json{{"SecretIdList", secret_ids}}.dump()));
  return BatchPageFrom(body);
}

Result<BatchGetSecretValuePage> SecretsManagerClient::BatchGetSecretValueFiltered(
    const std::vector<ListFilter>& filters, const std::string& next_token, int max_results) const {
  if (filters.empty()) return Status::InvalidArgument("BatchGetSecretValue needs a filter");
  json list = json::array();
  for (const ListFilter& f : filters) list.push_back({{"Key", f.key}, {"Values", f.values}});
  json request = {{"Filters", std::move(list)}, {"MaxResults", max_results}};
  if (!next_token.empty()) request["NextToken"] = next_token;
  COFFER_ASSIGN_OR_RETURN(std::string body, Call("BatchGetSecretValue", request.dump()));
  return BatchPageFrom(body);
}

}  // namespace coffer::provider
