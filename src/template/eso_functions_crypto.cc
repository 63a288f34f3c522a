// The crypto part of the ESO function library: Sprig's hashes, bcrypt and htpasswd, and ESO's PEM
// and PKCS#12 helpers (filterPEM, filterCertChain, certSANs, pkcs12key/cert[Pass],
// pemToPkcs12[Pass], fullPemToPkcs12[Pass]), on OpenSSL 3 and libxcrypt.
//
// Errors name the function and what went wrong; never key material, passwords or input text.

#include <algorithm>
#include <arpa/inet.h>
#include <crypt.h>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "template/eso_functions_internal.h"

namespace coffer::tmpl::eso_internal {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct Pkcs12Free {
  void operator()(PKCS12* p) const { PKCS12_free(p); }
};
struct X509StackFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Pkcs12Ptr = std::unique_ptr<PKCS12, Pkcs12Free>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// ---------------------------------------------------------------------------------------------
// Hashes

std::string Digest(const EVP_MD* md, std::string_view in) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(in.data(), in.size(), out, &len, md, nullptr) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

// bcrypt with the "$2a$" prefix and cost 10, as Go's bcrypt.GenerateFromPassword(DefaultCost).
Result<std::string> Bcrypt(std::string_view fn, std::string_view password) {
  if (password.size() > 72) return FnError(fn, "the password is longer than 72 bytes");
  if (password.find('\0') != std::string_view::npos) {
    return FnError(fn, "the password contains a NUL byte");
  }
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2a$", 10, nullptr, 0, setting, sizeof(setting)) == nullptr) {
    return Status::Internal(std::string(fn) + ": generating a bcrypt salt failed");
  }
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const std::string pw(password);
  const char* hash = crypt_rn(pw.c_str(), setting, data.get(), sizeof(crypt_data));
  if (hash == nullptr || hash[0] == '*') {
    return Status::Internal(std::string(fn) + ": bcrypt hashing failed");
  }
  std::string out(hash);
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return out;
}

// ---------------------------------------------------------------------------------------------
// PEM, parsed as Go's encoding/pem does.

struct PemBlock {
  std::string type;
  std::map<std::string, std::string> headers;
  std::string der;
};

std::string_view TrimLineEnd(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// All PEM blocks of `in` in order. Text around blocks is skipped; `rest` is what follows the last
// block (the whole input when there is none).
std::vector<PemBlock> ParsePem(std::string_view in, std::string_view* rest) {
  static constexpr std::string_view kBegin = "-----BEGIN ";
  std::vector<PemBlock> blocks;
  std::size_t rest_start = 0;
  std::size_t pos = 0;
  while (true) {
    std::size_t b = in.find(kBegin, pos);
    while (b != std::string_view::npos && b != 0 && in[b - 1] != '\n') {
      b = in.find(kBegin, b + 1);
    }
    if (b == std::string_view::npos) break;
    pos = b + 1;  // where to look next if this block turns out malformed
    std::size_t eol = in.find('\n', b);
    if (eol == std::string_view::npos) break;
    std::string_view type_line = TrimLineEnd(in.substr(b + kBegin.size(), eol - b - kBegin.size()));
    if (!type_line.ends_with("-----")) continue;
    PemBlock block;
    block.type = std::string(type_line.substr(0, type_line.size() - 5));
    const std::string end_marker = "-----END " + block.type + "-----";
    std::size_t body_start = eol + 1;
    // The END line must start a line.
    std::size_t e = in.find(end_marker, body_start);
    while (e != std::string_view::npos && e != body_start && in[e - 1] != '\n') {
      e = in.find(end_marker, e + 1);
    }
    if (e == std::string_view::npos) continue;
    std::string_view body = in.substr(body_start, e - body_start);
    // Headers: "Key: value" lines before the base64 text.
    while (!body.empty()) {
      const std::size_t nl = body.find('\n');
      std::string_view line = body.substr(0, nl);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) break;
      auto trim = [](std::string_view s) {
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
        return TrimLineEnd(s);
      };
      block.headers[std::string(trim(line.substr(0, colon)))] =
          std::string(trim(line.substr(colon + 1)));
      if (nl == std::string_view::npos) {
        body = {};
      } else {
        body.remove_prefix(nl + 1);
      }
    }
    std::string b64;
    for (char c : body) {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') b64 += c;
    }
    std::size_t bad = 0;
    if (!Base64StdDecode(b64, &block.der, &bad)) continue;
    // The END line's remainder must be white space.
    std::size_t end_eol = in.find('\n', e);
    std::string_view end_tail =
        in.substr(e + end_marker.size(),
                  end_eol == std::string_view::npos ? in.npos : end_eol - e - end_marker.size());
    if (!TrimLineEnd(end_tail).empty()) continue;
    blocks.push_back(std::move(block));
    pos = end_eol == std::string_view::npos ? in.size() : end_eol + 1;
    rest_start = pos;
  }
  *rest = in.substr(std::min(rest_start, in.size()));
  return blocks;
}

// pem.Encode: Proc-Type first, then the other headers sorted, base64 in lines of 64.
std::string EncodePem(std::string_view type, std::string_view der,
                      const std::map<std::string, std::string>& headers = {}) {
  std::string out = "-----BEGIN " + std::string(type) + "-----\n";
  if (!headers.empty()) {
    if (auto it = headers.find("Proc-Type"); it != headers.end()) {
      out += it->first + ": " + it->second + "\n";
    }
    for (const auto& [k, v] : headers) {
      if (k != "Proc-Type") out += k + ": " + v + "\n";
    }
    out += "\n";
  }
  const std::string b64 = Base64StdEncode(der);
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    out += b64.substr(i, 64);
    out += '\n';
  }
  out += "-----END " + std::string(type) + "-----\n";
  return out;
}

bool EqualFoldAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// ESO's filterPEM: the blocks of `type` (case-insensitive), re-encoded and concatenated.
Result<std::string> FilterPem(std::string_view type, std::string_view input) {
  if (auto begin = input.find("-----BEGIN"); begin != std::string_view::npos) {
    input.remove_prefix(begin);
  }
  std::string_view rest;
  const auto blocks = ParsePem(input, &rest);
  std::string out;
  for (const auto& b : blocks) {
    if (EqualFoldAscii(b.type, type)) out += EncodePem(b.type, b.der, b.headers);
  }
  if (out.empty() && !rest.empty()) return FnError("filterPEM", "error filtering pem: found junk");
  return out;
}

std::string Der(X509* cert) {
  unsigned char* buf = nullptr;
  const int len = i2d_X509(cert, &buf);
  if (len <= 0) return {};
  std::string der(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  return der;
}

X509Ptr ParseDerCert(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (cert && p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) cert.reset();
  return cert;
}

// Key identifiers as Go exposes them: empty when the extension is absent.
std::string SubjectKeyId(X509* cert) {
  const ASN1_OCTET_STRING* id = X509_get0_subject_key_id(cert);
  if (id == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(id)),
                     static_cast<std::size_t>(ASN1_STRING_length(id)));
}
std::string AuthorityKeyId(X509* cert) {
  const ASN1_OCTET_STRING* id = X509_get0_authority_key_id(cert);
  if (id == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(id)),
                     static_cast<std::size_t>(ASN1_STRING_length(id)));
}

struct ChainCert {
  X509Ptr cert;
  std::string skid;
  std::string akid;
};

// The certificates of `input`. Blocks of other types (keys, parameters) are skipped, so a whole
// bundle can be given (ESO fails on them); a CERTIFICATE block that does not parse is an error.
Result<std::vector<ChainCert>> ParseCertBlocks(std::string_view fn, std::string_view input) {
  std::string_view rest;
  std::vector<ChainCert> certs;
  for (const auto& b : ParsePem(input, &rest)) {
    if (b.type != "CERTIFICATE" && b.type != "TRUSTED CERTIFICATE" &&
        b.type != "X509 CERTIFICATE") {
      continue;
    }
    X509Ptr cert = ParseDerCert(b.der);
    if (!cert) return FnError(fn, "a PEM block is not an X.509 certificate");
    ChainCert c;
    c.skid = SubjectKeyId(cert.get());
    c.akid = AuthorityKeyId(cert.get());
    c.cert = std::move(cert);
    certs.push_back(std::move(c));
  }
  return certs;
}

// Orders certificates leaf -> intermediates -> root by their key identifiers, as ESO does (no
// signature or validity checks). Returns indices into `certs`.
Result<std::vector<std::size_t>> OrderChain(std::string_view fn,
                                            const std::vector<ChainCert>& certs) {
  const std::size_t n = certs.size();
  std::vector<std::ptrdiff_t> parent(n, -1);
  std::vector<bool> is_parent(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      if (i == j) continue;
      if (certs[i].akid == certs[j].skid) {
        is_parent[j] = true;
        parent[i] = static_cast<std::ptrdiff_t>(j);
        break;
      }
    }
  }
  std::ptrdiff_t leaf = -1;
  for (std::size_t i = 0; i < n; ++i) {
    if (is_parent[i]) continue;
    if (leaf >= 0) return FnError(fn, "found multiple leaf or disjunct certificates");
    leaf = static_cast<std::ptrdiff_t>(i);
  }
  if (leaf < 0) return FnError(fn, "no leaf certificate found");
  std::vector<std::size_t> order;
  for (std::ptrdiff_t cur = leaf; cur >= 0; cur = parent[static_cast<std::size_t>(cur)]) {
    if (order.size() >= n) return FnError(fn, "constructing chain resulted in cycle");
    order.push_back(static_cast<std::size_t>(cur));
  }
  return order;
}

bool IsRoot(const ChainCert& c) { return c.akid.empty() || c.akid == c.skid; }

Result<std::string> FilterCertChain(std::string_view cert_type, std::string_view input) {
  constexpr std::string_view kFn = "filterCertChain";
  COFFER_ASSIGN_OR_RETURN(auto certs, ParseCertBlocks(kFn, input));
  COFFER_ASSIGN_OR_RETURN(auto order, OrderChain(kFn, certs));
  if (cert_type == "leaf") {
    const ChainCert& c = certs[order.front()];
    if (!c.akid.empty() && c.akid != c.skid) return EncodePem("CERTIFICATE", Der(c.cert.get()));
    return std::string();
  }
  if (cert_type == "intermediate") {
    std::string out;
    for (std::size_t k = 1; k < order.size(); ++k) {
      const ChainCert& c = certs[order[k]];
      if (IsRoot(c)) break;
      out += EncodePem("CERTIFICATE", Der(c.cert.get()));
    }
    return out;
  }
  if (cert_type == "root") {
    const ChainCert& c = certs[order.back()];
    if (IsRoot(c)) return EncodePem("CERTIFICATE", Der(c.cert.get()));
    return std::string();
  }
  return std::string();  // ESO returns nothing for other types
}

// net.IP.String for 4- and 16-byte addresses.
std::string IpString(const ASN1_OCTET_STRING* ip) {
  const unsigned char* d = ASN1_STRING_get0_data(ip);
  const int len = ASN1_STRING_length(ip);
  char buf[INET6_ADDRSTRLEN] = {};
  if (len == 4) {
    inet_ntop(AF_INET, d, buf, sizeof(buf));
    return buf;
  }
  if (len == 16) {
    static constexpr unsigned char kV4Prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (std::memcmp(d, kV4Prefix, 12) == 0) {
      inet_ntop(AF_INET, d + 12, buf, sizeof(buf));
    } else {
      inet_ntop(AF_INET6, d, buf, sizeof(buf));
    }
    return buf;
  }
  return "?";
}

// ESO's certSANs: DNS names, then IP addresses, then e-mail addresses, then URIs, of the first
// certificate in `input`.
Result<Value> CertSans(std::string_view input) {
  constexpr std::string_view kFn = "certSANs";
  if (auto begin = input.find("-----BEGIN"); begin != std::string_view::npos) {
    input.remove_prefix(begin);
  }
  std::string_view rest;
  auto blocks = ParsePem(input, &rest);
  if (blocks.empty()) return FnError(kFn, "failed to decode PEM block");
  X509Ptr cert = ParseDerCert(blocks.front().der);
  if (!cert) return FnError(kFn, "failed to parse certificate");
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> dns, ips, emails, uris;
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
      auto text = [](const ASN1_STRING* s) {
        return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                           static_cast<std::size_t>(ASN1_STRING_length(s)));
      };
      switch (gn->type) {
        case GEN_DNS:
          dns.push_back(text(gn->d.dNSName));
          break;
        case GEN_IPADD:
          ips.push_back(IpString(gn->d.iPAddress));
          break;
        case GEN_EMAIL:
          emails.push_back(text(gn->d.rfc822Name));
          break;
        case GEN_URI:
          uris.push_back(text(gn->d.uniformResourceIdentifier));
          break;
        default:
          break;
      }
    }
  }
  List out;
  for (auto* group : {&dns, &ips, &emails, &uris}) {
    for (auto& s : *group) out.emplace_back(std::move(s));
  }
  return Value(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// PKCS#12

// Makes OpenSSL's legacy algorithms (RC2, RC4, DES, ...) available for decrypting old PKCS#12
// archives. Loaded once, on the first archive that needs it; "default" is loaded explicitly too,
// because loading any provider explicitly stops OpenSSL from loading the default one on its own.
// The providers stay loaded until exit, when they are unloaded (before OpenSSL's own cleanup,
// which was registered earlier) so that leak checkers see nothing left behind.
bool LoadLegacyProvider() {
  struct Providers {
    OSSL_PROVIDER* def = OSSL_PROVIDER_load(nullptr, "default");
    OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(nullptr, "legacy");
    ~Providers() {
      if (legacy != nullptr) OSSL_PROVIDER_unload(legacy);
      if (def != nullptr) OSSL_PROVIDER_unload(def);
    }
  };
  static const Providers kProviders;
  ERR_clear_error();
  return kProviders.def != nullptr && kProviders.legacy != nullptr;
}

Result<std::string> PrivateKeyPem(std::string_view fn, EVP_PKEY* key);

struct Pkcs12Contents {
  PkeyPtr key;
  X509Ptr cert;
  X509StackPtr ca;
};

Result<Pkcs12Contents> DecodePkcs12(std::string_view fn, std::string_view archive,
                                    const std::string& password) {
  const auto* p = reinterpret_cast<const unsigned char*>(archive.data());
  Pkcs12Ptr p12(d2i_PKCS12(nullptr, &p, static_cast<long>(archive.size())));
  if (!p12) return FnError(fn, "the input is not a PKCS#12 archive (b64dec it first?)");
  if (PKCS12_mac_present(p12.get())) {
    const bool ok =
        PKCS12_verify_mac(p12.get(), password.c_str(), static_cast<int>(password.size())) == 1 ||
        (password.empty() && PKCS12_verify_mac(p12.get(), nullptr, 0) == 1);
    ERR_clear_error();
    if (!ok) return FnError(fn, "wrong password (PKCS#12 MAC verification failed)");
  }
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  bool parsed = PKCS12_parse(p12.get(), password.c_str(), &key, &cert, &ca) == 1;
  if (!parsed && LoadLegacyProvider()) {
    // RC2-40 and friends (what Windows and older OpenSSL write) live in the legacy provider.
    ERR_clear_error();
    parsed = PKCS12_parse(p12.get(), password.c_str(), &key, &cert, &ca) == 1;
  }
  if (!parsed) {
    ERR_clear_error();
    return FnError(fn,
                   "unable to decode the PKCS#12 archive (unsupported or legacy encryption, or a "
                   "wrong password)");
  }
  ERR_clear_error();
  Pkcs12Contents c;
  c.key.reset(key);
  c.cert.reset(cert);
  c.ca.reset(ca);
  return c;
}

Result<std::string> Pkcs12Key(std::string_view fn, const std::string& password,
                              std::string_view archive) {
  COFFER_ASSIGN_OR_RETURN(Pkcs12Contents c, DecodePkcs12(fn, archive, password));
  if (!c.key) return FnError(fn, "the PKCS#12 archive holds no private key");
  return PrivateKeyPem(fn, c.key.get());
}

Result<std::string> Pkcs12Cert(std::string_view fn, const std::string& password,
                               std::string_view archive) {
  COFFER_ASSIGN_OR_RETURN(Pkcs12Contents c, DecodePkcs12(fn, archive, password));
  if (!c.cert) return FnError(fn, "the PKCS#12 archive holds no certificate for its key");
  std::string pem = EncodePem("CERTIFICATE", Der(c.cert.get()));
  if (c.ca) {
    for (int i = 0; i < sk_X509_num(c.ca.get()); ++i) {
      pem += EncodePem("CERTIFICATE", Der(sk_X509_value(c.ca.get(), i)));
    }
  }
  // Ordered leaf first when the certificates form one chain; as stored otherwise.
  auto certs = ParseCertBlocks(fn, pem);
  if (!certs.ok()) return pem;
  auto order = OrderChain(fn, *certs);
  if (!order.ok()) return pem;
  std::string ordered;
  for (std::size_t k : *order) ordered += EncodePem("CERTIFICATE", Der((*certs)[k].cert.get()));
  return ordered;
}

PkeyPtr ParsePrivateKeyDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return PkeyPtr(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
}

// ESO's pemToPkcs12 family: the first certificate of `cert` (and, when `full`, the rest as the
// chain) with the first key of `key`, as a base64 PKCS#12 archive (AES-256-CBC, PBKDF2,
// HMAC-SHA-256 MAC, 2048 iterations: go-pkcs12's Modern encoder uses the same).
Result<std::string> PemToPkcs12(std::string_view fn, std::string_view cert_pem,
                                std::string_view key_pem, const std::string& password, bool full) {
  std::string_view rest;
  auto cert_blocks = ParsePem(cert_pem, &rest);
  if (cert_blocks.empty()) return FnError(fn, "no PEM block in the certificate input");
  X509Ptr cert = ParseDerCert(cert_blocks.front().der);
  if (!cert) return FnError(fn, "the first PEM block is not an X.509 certificate");
  X509StackPtr chain(sk_X509_new_null());
  if (full) {
    for (std::size_t k = 1; k < cert_blocks.size(); ++k) {
      X509Ptr ca = ParseDerCert(cert_blocks[k].der);
      if (!ca) return FnError(fn, "a chain PEM block is not an X.509 certificate");
      sk_X509_push(chain.get(), ca.release());
    }
  }
  auto key_blocks = ParsePem(key_pem, &rest);
  if (key_blocks.empty()) return FnError(fn, "no PEM block in the key input");
  PkeyPtr key = ParsePrivateKeyDer(key_blocks.front().der);
  if (!key) return FnError(fn, "unable to parse private key type");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return FnError(fn, "the private key does not match the certificate");
  }
  Pkcs12Ptr p12(PKCS12_create(password.c_str(), nullptr, key.get(), cert.get(),
                              sk_X509_num(chain.get()) > 0 ? chain.get() : nullptr, NID_aes_256_cbc,
                              NID_aes_256_cbc, 2048, 2048, 0));
  if (!p12) {
    ERR_clear_error();
    return Status::Internal(std::string(fn) + ": creating the PKCS#12 archive failed");
  }
  if (PKCS12_set_mac(p12.get(), password.c_str(), static_cast<int>(password.size()), nullptr, 0,
                     2048, EVP_sha256()) != 1) {
    ERR_clear_error();
    return Status::Internal(std::string(fn) + ": writing the PKCS#12 MAC failed");
  }
  unsigned char* der = nullptr;
  const int len = i2d_PKCS12(p12.get(), &der);
  if (len <= 0) return Status::Internal(std::string(fn) + ": encoding the PKCS#12 archive failed");
  std::string out = Base64StdEncode(
      std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return out;
}

// ESO's pemTruststoreToPKCS12[Pass]: every certificate of `pem` in a key-less archive, each
// marked trusted for any purpose the way Java reads trust stores (the Oracle trusted-key-usage
// attribute, as go-pkcs12's EncodeTrustStore writes), base64-encoded.
Result<std::string> PemTruststoreToPkcs12(std::string_view fn, std::string_view pem,
                                          const std::string& password) {
  COFFER_ASSIGN_OR_RETURN(auto certs, ParseCertBlocks(fn, pem));
  if (certs.empty()) return FnError(fn, "no certificate in the input");
  struct BagsFree {
    void operator()(STACK_OF(PKCS12_SAFEBAG) * b) const {
      sk_PKCS12_SAFEBAG_pop_free(b, PKCS12_SAFEBAG_free);
    }
  };
  struct SafesFree {
    void operator()(STACK_OF(PKCS7) * s) const { sk_PKCS7_pop_free(s, PKCS7_free); }
  };
  struct ObjFree {
    void operator()(ASN1_OBJECT* o) const { ASN1_OBJECT_free(o); }
  };
  std::unique_ptr<ASN1_OBJECT, ObjFree> any_usage(OBJ_txt2obj("2.5.29.37.0", 1));
  STACK_OF(PKCS12_SAFEBAG)* raw_bags = nullptr;
  for (auto& c : certs) {
    PKCS12_SAFEBAG* bag = PKCS12_add_cert(&raw_bags, c.cert.get());
    if (bag == nullptr ||
        PKCS12_add1_attr_by_txt(bag, "2.16.840.1.113894.746875.1.1", V_ASN1_OBJECT,
                                reinterpret_cast<const unsigned char*>(any_usage.get()), -1) != 1) {
      sk_PKCS12_SAFEBAG_pop_free(raw_bags, PKCS12_SAFEBAG_free);
      ERR_clear_error();
      return Status::Internal(std::string(fn) + ": building the PKCS#12 bags failed");
    }
  }
  std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), BagsFree> bags(raw_bags);
  STACK_OF(PKCS7)* raw_safes = nullptr;
  if (PKCS12_add_safe(&raw_safes, bags.get(), NID_aes_256_cbc, 2048, password.c_str()) != 1) {
    sk_PKCS7_pop_free(raw_safes, PKCS7_free);
    ERR_clear_error();
    return Status::Internal(std::string(fn) + ": encrypting the PKCS#12 certificates failed");
  }
  std::unique_ptr<STACK_OF(PKCS7), SafesFree> safes(raw_safes);
  Pkcs12Ptr p12(PKCS12_add_safes(safes.get(), 0));
  if (!p12 || PKCS12_set_mac(p12.get(), password.c_str(), static_cast<int>(password.size()),
                             nullptr, 0, 2048, EVP_sha256()) != 1) {
    ERR_clear_error();
    return Status::Internal(std::string(fn) + ": creating the PKCS#12 archive failed");
  }
  unsigned char* der = nullptr;
  const int len = i2d_PKCS12(p12.get(), &der);
  if (len <= 0) return Status::Internal(std::string(fn) + ": encoding the PKCS#12 archive failed");
  std::string out = Base64StdEncode(
      std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return out;
}

// ---------------------------------------------------------------------------------------------
// JWK (RFC 7517/7518/8037): RSA, EC (P-256, P-384, P-521) and OKP (Ed25519, Ed448, X25519, X448).

std::optional<std::string> Base64UrlDecode(std::string_view in) {
  std::string t;
  for (char c : in) {
    if (c == '-') {
      t += '+';
    } else if (c == '_') {
      t += '/';
    } else if (c != '=') {
      t += c;
    }
  }
  if (t.size() % 4 == 1) return std::nullopt;
  while (t.size() % 4 != 0) t += '=';
  std::string out;
  std::size_t bad = 0;
  if (!Base64StdDecode(t, &out, &bad)) return std::nullopt;
  return out;
}

struct BnFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

// The JWK's key; with `need_private`, it must hold the private part.
Result<PkeyPtr> KeyFromJwk(std::string_view fn, std::string_view text, bool need_private) {
  nlohmann::json jwk;
  try {
    jwk = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return FnError(fn, "the input is not JSON");
  }
  if (!jwk.is_object()) return FnError(fn, "the JWK is not a JSON object");
  std::vector<BnPtr> bns;  // kept alive until the key is built
  std::string error;
  auto member = [&](const char* name) -> std::optional<std::string> {
    auto it = jwk.find(name);
    if (it == jwk.end()) return std::nullopt;
    if (!it->is_string()) {
      error = std::string("member ") + name + " is not a string";
      return std::nullopt;
    }
    auto bytes = Base64UrlDecode(it->get<std::string>());
    if (!bytes) error = std::string("member ") + name + " is not base64url";
    return bytes;
  };
  const std::string kty =
      jwk.contains("kty") && jwk["kty"].is_string() ? jwk["kty"].get<std::string>() : "";
  const std::string crv =
      jwk.contains("crv") && jwk["crv"].is_string() ? jwk["crv"].get<std::string>() : "";

  if (kty == "OKP") {
    const char* name = crv == "Ed25519"  ? "ED25519"
                       : crv == "Ed448"  ? "ED448"
                       : crv == "X25519" ? "X25519"
                       : crv == "X448"   ? "X448"
                                         : nullptr;
    if (name == nullptr) return FnError(fn, "unsupported OKP curve");
    auto d = member("d");
    auto x = member("x");
    if (!error.empty()) return FnError(fn, error);
    if (need_private && !d) return FnError(fn, "the JWK holds no private key");
    EVP_PKEY* key = nullptr;
    if (d) {
      key = EVP_PKEY_new_raw_private_key_ex(
          nullptr, name, nullptr, reinterpret_cast<const unsigned char*>(d->data()), d->size());
      OPENSSL_cleanse(d->data(), d->size());
    } else if (x) {
      key = EVP_PKEY_new_raw_public_key_ex(
          nullptr, name, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size());
    } else {
      return FnError(fn, "the JWK has neither x nor d");
    }
    ERR_clear_error();
    if (key == nullptr) return FnError(fn, "the OKP key is malformed");
    return PkeyPtr(key);
  }

  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  auto push_bn = [&](const char* param, const std::string& bytes) {
    BnPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                       static_cast<int>(bytes.size()), nullptr));
    const bool ok = bn && OSSL_PARAM_BLD_push_BN(bld.get(), param, bn.get()) == 1;
    bns.push_back(std::move(bn));
    return ok;
  };
  const char* type = nullptr;
  int selection = EVP_PKEY_PUBLIC_KEY;
  std::string pub_point;  // keeps the EC point alive until the parameters are built
  if (kty == "RSA") {
    type = "RSA";
    auto n = member("n");
    auto e = member("e");
    auto d = member("d");
    auto p = member("p");
    auto q = member("q");
    auto dp = member("dp");
    auto dq = member("dq");
    auto qi = member("qi");
    if (!error.empty()) return FnError(fn, error);
    if (!n || !e) return FnError(fn, "the RSA JWK lacks n or e");
    if (need_private && !d) return FnError(fn, "the JWK holds no private key");
    bool ok = push_bn(OSSL_PKEY_PARAM_RSA_N, *n) && push_bn(OSSL_PKEY_PARAM_RSA_E, *e);
    if (d) {
      selection = EVP_PKEY_KEYPAIR;
      ok = ok && push_bn(OSSL_PKEY_PARAM_RSA_D, *d);
      if (p && q && dp && dq && qi) {
        ok = ok && push_bn(OSSL_PKEY_PARAM_RSA_FACTOR1, *p) &&
             push_bn(OSSL_PKEY_PARAM_RSA_FACTOR2, *q) &&
             push_bn(OSSL_PKEY_PARAM_RSA_EXPONENT1, *dp) &&
             push_bn(OSSL_PKEY_PARAM_RSA_EXPONENT2, *dq) &&
             push_bn(OSSL_PKEY_PARAM_RSA_COEFFICIENT1, *qi);
      }
      OPENSSL_cleanse(d->data(), d->size());
    }
    if (!ok) return FnError(fn, "the RSA JWK is malformed");
  } else if (kty == "EC") {
    type = "EC";
    std::size_t size = 0;
    const char* group = nullptr;
    if (crv == "P-256") {
      group = "P-256";
      size = 32;
    } else if (crv == "P-384") {
      group = "P-384";
      size = 48;
    } else if (crv == "P-521") {
      group = "P-521";
      size = 66;
    } else {
      return FnError(fn, "unsupported EC curve");
    }
    auto x = member("x");
    auto y = member("y");
    auto d = member("d");
    if (!error.empty()) return FnError(fn, error);
    if (!x || !y || x->size() > size || y->size() > size) {
      return FnError(fn, "the EC JWK lacks a valid x or y");
    }
    if (need_private && !d) return FnError(fn, "the JWK holds no private key");
    pub_point = std::string(1, '\x04') + std::string(size - x->size(), '\0') + *x +
                std::string(size - y->size(), '\0') + *y;
    bool ok =
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub_point.data(),
                                         pub_point.size()) == 1;
    if (d) {
      selection = EVP_PKEY_KEYPAIR;
      ok = ok && push_bn(OSSL_PKEY_PARAM_PRIV_KEY, *d);
      OPENSSL_cleanse(d->data(), d->size());
    }
    if (!ok) return FnError(fn, "the EC JWK is malformed");
  } else {
    return FnError(fn, "unsupported key type (kty)");
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, selection, params.get()) != 1) {
    ERR_clear_error();
    return FnError(fn, "the key parameters are not a valid key");
  }
  PkeyPtr out(key);
  if (kty == "EC") {
    // fromdata does not check that the point is on the curve, nor that d matches it.
    PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    const int ok = selection == EVP_PKEY_KEYPAIR ? EVP_PKEY_pairwise_check(check.get())
                                                 : EVP_PKEY_public_check(check.get());
    ERR_clear_error();
    if (ok != 1) return FnError(fn, "the key parameters are not a valid key");
  }
  return out;
}

Result<std::string> JwkPublicKeyPem(std::string_view jwk) {
  constexpr std::string_view kFn = "jwkPublicKeyPem";
  COFFER_ASSIGN_OR_RETURN(PkeyPtr key, KeyFromJwk(kFn, jwk, false));
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) return FnError(kFn, "the public key cannot be encoded");
  std::string out = EncodePem(
      "PUBLIC KEY", std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return out;
}

Result<std::string> PrivateKeyPem(std::string_view fn, EVP_PKEY* key) {
  PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(key);
  if (p8 == nullptr) return FnError(fn, "the private key cannot be written as PKCS#8");
  unsigned char* der = nullptr;
  const int len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
  PKCS8_PRIV_KEY_INFO_free(p8);
  if (len <= 0) return FnError(fn, "the private key cannot be written as PKCS#8");
  std::string out = EncodePem(
      "PRIVATE KEY", std::string_view(reinterpret_cast<char*>(der), static_cast<std::size_t>(len)));
  OPENSSL_clear_free(der, static_cast<std::size_t>(len));
  return out;
}

Result<std::string> JwkPrivateKeyPem(std::string_view jwk) {
  constexpr std::string_view kFn = "jwkPrivateKeyPem";
  COFFER_ASSIGN_OR_RETURN(PkeyPtr key, KeyFromJwk(kFn, jwk, true));
  return PrivateKeyPem(kFn, key.get());
}

// ESO's rsaDecrypt SCHEME HASH CIPHERTEXT PRIVATE_KEY_PEM: scheme "None" returns the input;
// "RSA-OAEP" decrypts with OAEP, HASH (SHA1, SHA256 or SHA512; others mean SHA256) for both the
// label digest and MGF1.
Result<std::string> RsaDecrypt(std::string_view scheme, std::string_view hash, std::string_view in,
                               std::string_view key_pem) {
  constexpr std::string_view kFn = "rsaDecrypt";
  if (scheme == "None") return std::string(in);
  if (scheme != "RSA-OAEP") return FnError(kFn, "decryption scheme is not supported");
  std::string_view rest;
  auto blocks = ParsePem(key_pem, &rest);
  if (blocks.empty()) return FnError(kFn, "failed to decode PEM block");
  PkeyPtr key = ParsePrivateKeyDer(blocks.front().der);
  OPENSSL_cleanse(blocks.front().der.data(), blocks.front().der.size());
  ERR_clear_error();
  if (!key) return FnError(kFn, "could not parse private key");
  if (!EVP_PKEY_is_a(key.get(), "RSA")) return FnError(kFn, "could not parse RSA private key");
  const EVP_MD* md = hash == "SHA1" ? EVP_sha1() : hash == "SHA512" ? EVP_sha512() : EVP_sha256();
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  std::size_t out_len = 0;
  const auto* src = reinterpret_cast<const unsigned char*>(in.data());
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) != 1 ||
      EVP_PKEY_decrypt(ctx.get(), nullptr, &out_len, src, in.size()) != 1) {
    ERR_clear_error();
    return FnError(kFn, "error decrypting data with RSA");
  }
  std::string out(out_len, '\0');
  if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &out_len, src,
                       in.size()) != 1) {
    ERR_clear_error();
    return FnError(kFn, "error decrypting data with RSA");
  }
  out.resize(out_len);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Registration

void AddStringFn(FunctionMap& fns, const std::string& name, std::size_t arity,
                 std::function<Result<Value>(std::span<const std::string_view>)> f) {
  fns.Add(name, [name, arity, f = std::move(f)](Args args) -> Result<Value> {
    COFFER_RETURN_IF_ERROR(CheckArity(name, args, arity, arity));
    std::vector<std::string_view> s;
    for (std::size_t i = 0; i < args.size(); ++i) {
      COFFER_ASSIGN_OR_RETURN(std::string_view v, StringArg(name, args, i));
      s.push_back(v);
    }
    return f(s);
  });
}

Result<Value> ToValue(Result<std::string> r) {
  if (!r.ok()) return r.status();
  return Value(std::move(*r));
}

}  // namespace

void AddCryptoFunctions(FunctionMap& fns) {
  AddStringFn(fns, "sha1sum", 1,
              [](auto s) -> Result<Value> { return Value(Digest(EVP_sha1(), s[0])); });
  AddStringFn(fns, "sha256sum", 1,
              [](auto s) -> Result<Value> { return Value(Digest(EVP_sha256(), s[0])); });
  AddStringFn(fns, "sha512sum", 1,
              [](auto s) -> Result<Value> { return Value(Digest(EVP_sha512(), s[0])); });
  AddStringFn(fns, "bcrypt", 1, [](auto s) { return ToValue(Bcrypt("bcrypt", s[0])); });
  // htpasswd USER PASSWORD [HASH]: "USER:<bcrypt>", or "USER:{SHA}<base64 SHA-1>" for HASH "sha".
  fns.Add("htpasswd", [](Args args) -> Result<Value> {
    constexpr std::string_view kFn = "htpasswd";
    COFFER_RETURN_IF_ERROR(CheckArity(kFn, args, 2, 3));
    COFFER_ASSIGN_OR_RETURN(std::string_view user, StringArg(kFn, args, 0));
    COFFER_ASSIGN_OR_RETURN(std::string_view password, StringArg(kFn, args, 1));
    std::string_view algorithm = "bcrypt";
    if (args.size() == 3) {
      COFFER_ASSIGN_OR_RETURN(algorithm, StringArg(kFn, args, 2));
    }
    if (user.find(':') != std::string_view::npos) {
      return FnError(kFn, "invalid username: it contains ':'");
    }
    if (algorithm == "sha") {
      unsigned char sum[20];
      unsigned int len = 0;
      EVP_Digest(password.data(), password.size(), sum, &len, EVP_sha1(), nullptr);
      return Value(std::string(user) + ":{SHA}" +
                   Base64StdEncode(std::string_view(reinterpret_cast<char*>(sum), len)));
    }
    COFFER_ASSIGN_OR_RETURN(std::string hash, Bcrypt(kFn, password));
    return Value(std::string(user) + ":" + hash);
  });

  AddStringFn(fns, "filterPEM", 2, [](auto s) { return ToValue(FilterPem(s[0], s[1])); });
  AddStringFn(fns, "filterCertChain", 2,
              [](auto s) { return ToValue(FilterCertChain(s[0], s[1])); });
  AddStringFn(fns, "certSANs", 1, [](auto s) { return CertSans(s[0]); });

  AddStringFn(fns, "pemTruststoreToPKCS12", 1, [](auto s) {
    return ToValue(PemTruststoreToPkcs12("pemTruststoreToPKCS12", s[0], ""));
  });
  AddStringFn(fns, "pemTruststoreToPKCS12Pass", 2, [](auto s) {
    return ToValue(PemTruststoreToPkcs12("pemTruststoreToPKCS12Pass", s[0], std::string(s[1])));
  });
  AddStringFn(fns, "jwkPublicKeyPem", 1, [](auto s) { return ToValue(JwkPublicKeyPem(s[0])); });
  AddStringFn(fns, "jwkPrivateKeyPem", 1, [](auto s) { return ToValue(JwkPrivateKeyPem(s[0])); });
  AddStringFn(fns, "rsaDecrypt", 4,
              [](auto s) { return ToValue(RsaDecrypt(s[0], s[1], s[2], s[3])); });
  AddStringFn(fns, "pkcs12key", 1,
              [](auto s) { return ToValue(Pkcs12Key("pkcs12key", "", s[0])); });
  AddStringFn(fns, "pkcs12keyPass", 2,
              [](auto s) { return ToValue(Pkcs12Key("pkcs12keyPass", std::string(s[0]), s[1])); });
  AddStringFn(fns, "pkcs12cert", 1,
              [](auto s) { return ToValue(Pkcs12Cert("pkcs12cert", "", s[0])); });
  AddStringFn(fns, "pkcs12certPass", 2, [](auto s) {
    return ToValue(Pkcs12Cert("pkcs12certPass", std::string(s[0]), s[1]));
  });
  AddStringFn(fns, "pemToPkcs12", 2,
              [](auto s) { return ToValue(PemToPkcs12("pemToPkcs12", s[0], s[1], "", false)); });
  AddStringFn(fns, "pemToPkcs12Pass", 3, [](auto s) {
    return ToValue(PemToPkcs12("pemToPkcs12Pass", s[0], s[1], std::string(s[2]), false));
  });
  AddStringFn(fns, "fullPemToPkcs12", 2,
              [](auto s) { return ToValue(PemToPkcs12("fullPemToPkcs12", s[0], s[1], "", true)); });
  AddStringFn(fns, "fullPemToPkcs12Pass", 3, [](auto s) {
    return ToValue(PemToPkcs12("fullPemToPkcs12Pass", s[0], s[1], std::string(s[2]), true));
  });
}

}  // namespace coffer::tmpl::eso_internal
