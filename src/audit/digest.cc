#include "audit/digest.h"

#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "crypto/hash.h"
#include "crypto/wipe.h"

namespace coffer::audit {
namespace {

constexpr std::string_view kSignatureMarker = ",\"signature\":\"";

std::string Unsigned(const DigestLine& d) {
  std::string out = "{\"type\":\"";
  out += d.kind == DigestLine::Kind::kDigest ? "digest" : "retention";
  out += "\",";
  if (d.kind == DigestLine::Kind::kRetention) {
    out += "\"first_seq\":" + std::to_string(d.first_seq) + ",";
  }
  out += "\"seq\":" + std::to_string(d.seq);
  out += ",\"hash\":\"" + d.hash + "\"";
  out += ",\"time\":" + std::to_string(d.time_ms);
  out += ",\"key_version\":" + std::to_string(d.key_version);
  out += ",\"prev_digest\":\"" + d.prev_digest + "\"";
  return out;
}

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<std::string> DigestKey(crypto::Keyring& keyring, std::uint32_t version) {
  COFFER_ASSIGN_OR_RETURN(std::string master, keyring.Key(version));
  crypto::WipeOnExit wipe(master);
  return crypto::HmacSha256(master, kDigestKeyLabel);
}

std::string SignDigestLine(const DigestLine& line, std::string_view digest_key) {
  std::string text = Unsigned(line);
  std::string signature = HexEncode(crypto::HmacSha256(digest_key, text));
  text += kSignatureMarker;
  text += signature;
  text += "\"}";
  return text;
}

Result<DigestLine> ParseDigestLine(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::DataLoss("not valid JSON");
  try {
    DigestLine d;
    std::string type = j.at("type").get<std::string>();
    if (type == "digest") {
      d.kind = DigestLine::Kind::kDigest;
    } else if (type == "retention") {
      d.kind = DigestLine::Kind::kRetention;
      d.first_seq = j.at("first_seq").get<std::uint64_t>();
    } else {
      return Status::DataLoss("unknown type \"" + type + "\"");
    }
    d.seq = j.at("seq").get<std::uint64_t>();
    d.hash = j.at("hash").get<std::string>();
    d.time_ms = j.at("time").get<std::int64_t>();
    d.key_version = j.at("key_version").get<std::uint32_t>();
    d.prev_digest = j.at("prev_digest").get<std::string>();
    d.signature = j.at("signature").get<std::string>();
    if (!IsHex64(d.hash) || !IsHex64(d.prev_digest) || !IsHex64(d.signature)) {
      return Status::DataLoss("hash, prev_digest or signature is not 64 hex digits");
    }
    return d;
  } catch (const std::exception& e) {
    return Status::DataLoss(std::string("missing or mistyped field: ") + e.what());
  }
}

bool DigestSignatureValid(std::string_view text, std::string_view digest_key) {
  std::size_t pos = text.rfind(kSignatureMarker);
  if (pos == std::string_view::npos) return false;
  std::string_view rest = text.substr(pos + kSignatureMarker.size());
  if (rest.size() != 64 + 2 || rest.substr(64) != "\"}") return false;
  std::string expected = HexEncode(crypto::HmacSha256(digest_key, text.substr(0, pos)));
  return crypto::ConstantTimeEquals(expected, rest.substr(0, 64));
}

}  // namespace coffer::audit
