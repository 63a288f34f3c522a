#include "crypto/envelope.h"

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "crypto/random.h"
#include "crypto/wipe.h"

namespace coffer::crypto {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kAad =
    "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf\n"
    "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111";
// Offsets of the v1 layout, as documented in docs/design/encryption-at-rest.md.
constexpr std::size_t kDataNonceOffset = 68;

// A keyring the test controls completely.
class FakeKeyring final : public Keyring {
 public:
  FakeKeyring(std::map<std::uint32_t, std::string> keys, std::uint32_t active)
      : keys_(std::move(keys)), active_(active) {}
  std::uint32_t ActiveVersion() const override { return active_; }
  Result<std::string> Key(std::uint32_t version) override {
    ++key_calls;
    auto it = keys_.find(version);
    if (it == keys_.end()) {
      return Status(StatusCode::kDecryptionFailure,
                    "master key version " + std::to_string(version) + " is not in the fake");
    }
    return it->second;
  }
  Status Reload() override { return Status::Ok(); }

  void Add(std::uint32_t version, std::string key) { keys_[version] = std::move(key); }
  void SetActive(std::uint32_t version) { active_ = version; }
  int key_calls = 0;

 private:
  std::map<std::uint32_t, std::string> keys_;
  std::uint32_t active_;
};

std::string Flip(std::string s, std::size_t i, unsigned char mask = 0x01) {
  s[i] = static_cast<char>(s[i] ^ mask);
  return s;
}

class EnvelopeTest : public ::testing::Test {
 protected:
  EnvelopeTest() : key1_(RandomBytes(32)), key2_(RandomBytes(32)), keyring_({{1, key1_}}, 1) {}

  // The message of a failed Open must not reveal key or plaintext bytes.
  // Test values are made of tokens like "Qv7x" that cannot occur in an English message.
  void ExpectOpaqueFailure(const Status& s, std::string_view plaintext) {
    EXPECT_EQ(s.code(), StatusCode::kDecryptionFailure) << s.ToString();
    if (plaintext.size() >= 4) {
      EXPECT_THAT(s.message(), Not(HasSubstr(plaintext.substr(0, 4))));
    }
    EXPECT_THAT(s.message(), Not(HasSubstr(key1_.substr(0, 4))));
    EXPECT_THAT(s.message(), Not(HasSubstr(Base64Encode(key1_).substr(0, 8))));
    EXPECT_THAT(s.message(), Not(HasSubstr(HexEncode(key1_).substr(0, 8))));
  }

  std::string key1_, key2_;
  FakeKeyring keyring_;
};

TEST_F(EnvelopeTest, RoundTripsValuesOfManySizes) {
  Envelope envelope(&keyring_);
  for (std::size_t n : {0, 1, 15, 16, 17, 100, 4096, 65536}) {
    std::string value = RandomBytes(n);
    Result<std::string> blob = envelope.Seal(value, kAad);
    ASSERT_TRUE(blob.ok()) << blob.status().ToString();
    EXPECT_EQ(blob->size(), n + kEnvelopeOverheadBytes);
    Result<std::string> opened = envelope.Open(*blob, kAad);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, value);
  }
}

TEST_F(EnvelopeTest, HeaderIsMagicAndBigEndianKeyVersion) {
  keyring_.Add(0x01020304, key2_);
  keyring_.SetActive(0x01020304);
  Envelope envelope(&keyring_);
  Result<std::string> blob = envelope.Seal("hello", kAad);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(blob->substr(0, 8), std::string("CFE1\x01\x02\x03\x04", 8));
  Result<std::uint32_t> version = Envelope::KeyVersionOf(*blob);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 0x01020304u);
}

TEST_F(EnvelopeTest, CiphertextDoesNotContainPlaintext) {
  Envelope envelope(&keyring_);
  const std::string value = "correct horse battery staple, a very secret value";
  Result<std::string> blob = envelope.Seal(value, kAad);
  ASSERT_TRUE(blob.ok());
  for (std::size_t i = 0; i + 4 <= value.size(); ++i) {
    EXPECT_EQ(blob->find(value.substr(i, 4)), std::string::npos) << i;
  }
  EXPECT_EQ(blob->find(key1_.substr(0, 8)), std::string::npos);
}

TEST_F(EnvelopeTest, TwoSealsOfTheSameValueDiffer) {
  Envelope envelope(&keyring_);
  Result<std::string> a = envelope.Seal("same value", kAad);
  Result<std::string> b = envelope.Seal("same value", kAad);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  // Fresh wrap nonce, wrapped DEK, data nonce and ciphertext each time.
  EXPECT_NE(a->substr(8, 12), b->substr(8, 12));
  EXPECT_NE(a->substr(20, 32), b->substr(20, 32));
  EXPECT_NE(a->substr(kDataNonceOffset), b->substr(kDataNonceOffset));
}

TEST_F(EnvelopeTest, EverySingleByteFlipFailsToOpen) {
  Envelope envelope(&keyring_);
  const std::string value = std::string("Qv7x") + std::string(96, 'Z');
  Result<std::string> blob = envelope.Seal(value, kAad);
  ASSERT_TRUE(blob.ok());
  for (std::size_t i = 0; i < blob->size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      SCOPED_TRACE("byte " + std::to_string(i) + " mask " + std::to_string(mask));
      Result<std::string> opened = envelope.Open(Flip(*blob, i, mask), kAad);
      ASSERT_FALSE(opened.ok());
      ExpectOpaqueFailure(opened.status(), value);
    }
  }
}

TEST_F(EnvelopeTest, WrongAadFails) {
  Envelope envelope(&keyring_);
  const std::string value = "Qs3cr3t-Vq9z";
  Result<std::string> blob = envelope.Seal(value, kAad);
  ASSERT_TRUE(blob.ok());
  const std::string aad(kAad);
  for (const std::string& other : {std::string(), aad + "x", aad.substr(0, aad.size() - 1),
                                   Flip(aad, 0), std::string("access-key\nAKIAEXAMPLE")}) {
    Result<std::string> opened = envelope.Open(*blob, other);
    ASSERT_FALSE(opened.ok());
    ExpectOpaqueFailure(opened.status(), value);
  }
}

TEST_F(EnvelopeTest, EmptyAadIsStillBound) {
  Envelope envelope(&keyring_);
  Result<std::string> blob = envelope.Seal("value", "");
  ASSERT_TRUE(blob.ok());
  EXPECT_TRUE(envelope.Open(*blob, "").ok());
  EXPECT_FALSE(envelope.Open(*blob, std::string(1, '\0')).ok());
}

TEST_F(EnvelopeTest, TruncatedOrExtendedBlobsFail) {
  Envelope envelope(&keyring_);
  const std::string value = "Qtr7nc4te-Xz";
  Result<std::string> blob = envelope.Seal(value, kAad);
  ASSERT_TRUE(blob.ok());
  for (std::size_t n = 0; n < blob->size(); ++n) {
    SCOPED_TRACE(n);
    Result<std::string> opened = envelope.Open(blob->substr(0, n), kAad);
    ASSERT_FALSE(opened.ok());
    ExpectOpaqueFailure(opened.status(), value);
  }
  EXPECT_FALSE(envelope.Open(*blob + "x", kAad).ok());
  EXPECT_FALSE(envelope.Open(*blob + std::string(16, '\0'), kAad).ok());
}

TEST_F(EnvelopeTest, SwappedWrapSectionFails) {
  // Two values under the same key and AAD: each wrap section verifies on its own, but a DEK
  // moved to the other value's data section does not open it.
  Envelope envelope(&keyring_);
  Result<std::string> a = envelope.Seal("Qa7x-first", kAad);
  Result<std::string> b = envelope.Seal("Qb7x-second", kAad);
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string mixed = b->substr(0, kDataNonceOffset) + a->substr(kDataNonceOffset);
  Result<std::string> opened = envelope.Open(mixed, kAad);
  ASSERT_FALSE(opened.ok());
  ExpectOpaqueFailure(opened.status(), "Qa7x-first");
}

TEST_F(EnvelopeTest, UnknownKeyVersionFails) {
  keyring_.Add(2, key2_);
  keyring_.SetActive(2);
  Envelope envelope(&keyring_);
  Result<std::string> blob = envelope.Seal("Qv4l", kAad);
  ASSERT_TRUE(blob.ok());

  FakeKeyring only_v1({{1, key1_}}, 1);
  Result<std::string> opened = Envelope(&only_v1).Open(*blob, kAad);
  ASSERT_FALSE(opened.ok());
  ExpectOpaqueFailure(opened.status(), "Qv4l");
  EXPECT_THAT(opened.status().message(), HasSubstr("version 2"));

  std::string zero_version = *blob;
  zero_version.replace(4, 4, std::string(4, '\0'));
  EXPECT_EQ(envelope.Open(zero_version, kAad).status().code(), StatusCode::kDecryptionFailure);
}

TEST_F(EnvelopeTest, WrongMasterKeyFails) {
  Envelope envelope(&keyring_);
  Result<std::string> blob = envelope.Seal("Qv4l", kAad);
  ASSERT_TRUE(blob.ok());
  FakeKeyring other({{1, key2_}}, 1);
  Result<std::string> opened = Envelope(&other).Open(*blob, kAad);
  ASSERT_FALSE(opened.ok());
  ExpectOpaqueFailure(opened.status(), "Qv4l");
}

TEST_F(EnvelopeTest, RelabelledVersionFailsEvenWithTheRightKeyBytes) {
  // The key version is authenticated: the same key bytes under another version number do not
  // open a blob whose header was edited to point there.
  keyring_.Add(2, key1_);
  Envelope envelope(&keyring_);
  Result<std::string> blob = envelope.Seal("value", kAad);
  ASSERT_TRUE(blob.ok());
  std::string relabelled = *blob;
  relabelled[7] = 2;
  EXPECT_EQ(envelope.Open(relabelled, kAad).status().code(), StatusCode::kDecryptionFailure);
}

TEST_F(EnvelopeTest, SealFailsWithoutTheActiveKey) {
  FakeKeyring broken({{1, key1_}}, 7);
  Result<std::string> blob = Envelope(&broken).Seal("value", kAad);
  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.status().code(), StatusCode::kEncryptionFailure);

  FakeKeyring short_key({{1, std::string(16, 'k')}}, 1);
  blob = Envelope(&short_key).Seal("value", kAad);
  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.status().code(), StatusCode::kInternal);
}

TEST_F(EnvelopeTest, RewrapKeepsValuePartAndMovesToActiveVersion) {
  Envelope envelope(&keyring_);
  const std::string value = RandomBytes(300);
  Result<std::string> old_blob = envelope.Seal(value, kAad);
  ASSERT_TRUE(old_blob.ok());

  keyring_.Add(2, key2_);
  keyring_.SetActive(2);
  Result<std::string> new_blob = envelope.Rewrap(*old_blob, kAad);
  ASSERT_TRUE(new_blob.ok()) << new_blob.status().ToString();
  EXPECT_EQ(new_blob->size(), old_blob->size());
  EXPECT_EQ(new_blob->substr(kDataNonceOffset), old_blob->substr(kDataNonceOffset));
  EXPECT_NE(new_blob->substr(0, kDataNonceOffset), old_blob->substr(0, kDataNonceOffset));
  ASSERT_TRUE(Envelope::KeyVersionOf(*new_blob).ok());
  EXPECT_EQ(*Envelope::KeyVersionOf(*new_blob), 2u);

  // Version 1 is no longer needed to open it.
  FakeKeyring only_v2({{2, key2_}}, 2);
  Result<std::string> opened = Envelope(&only_v2).Open(*new_blob, kAad);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, value);
  // And the old blob still opens while version 1 is kept.
  EXPECT_EQ(*envelope.Open(*old_blob, kAad), value);
}

TEST_F(EnvelopeTest, RewrapOfActiveVersionIsANoOp) {
  Envelope envelope(&keyring_);
  Result<std::string> blob = envelope.Seal("value", kAad);
  ASSERT_TRUE(blob.ok());
  Result<std::string> again = envelope.Rewrap(*blob, kAad);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *blob);
}

TEST_F(EnvelopeTest, RewrapChecksTheAadAndTheWrap) {
  Envelope envelope(&keyring_);
  Result<std::string> blob = envelope.Seal("value", kAad);
  ASSERT_TRUE(blob.ok());
  keyring_.Add(2, key2_);
  keyring_.SetActive(2);
  EXPECT_EQ(envelope.Rewrap(*blob, "another row").status().code(), StatusCode::kDecryptionFailure);
  EXPECT_EQ(envelope.Rewrap(Flip(*blob, 30), kAad).status().code(), StatusCode::kDecryptionFailure);
  EXPECT_EQ(envelope.Rewrap(blob->substr(0, 50), kAad).status().code(),
            StatusCode::kDecryptionFailure);
}

TEST_F(EnvelopeTest, RewrapDoesNotReadTheValue) {
  // A damaged value section is carried over unchanged (and still fails to open): Rewrap never
  // decrypts it.
  Envelope envelope(&keyring_);
  Result<std::string> blob = envelope.Seal("value", kAad);
  ASSERT_TRUE(blob.ok());
  const std::string damaged = Flip(*blob, blob->size() - 1);
  keyring_.Add(2, key2_);
  keyring_.SetActive(2);
  Result<std::string> rewrapped = envelope.Rewrap(damaged, kAad);
  ASSERT_TRUE(rewrapped.ok());
  EXPECT_EQ(rewrapped->substr(kDataNonceOffset), damaged.substr(kDataNonceOffset));
  EXPECT_EQ(envelope.Open(*rewrapped, kAad).status().code(), StatusCode::kDecryptionFailure);
}

TEST_F(EnvelopeTest, KeyVersionOfRejectsMalformedBlobs) {
  EXPECT_EQ(Envelope::KeyVersionOf("").status().code(), StatusCode::kDecryptionFailure);
  EXPECT_EQ(Envelope::KeyVersionOf(std::string(200, 'x')).status().code(),
            StatusCode::kDecryptionFailure);
  std::string v2_magic = "CFE2" + std::string(100, '\x01');
  EXPECT_EQ(Envelope::KeyVersionOf(v2_magic).status().code(), StatusCode::kDecryptionFailure);
  std::string short_blob = "CFE1" + std::string(4, '\x01');
  EXPECT_EQ(Envelope::KeyVersionOf(short_blob).status().code(), StatusCode::kDecryptionFailure);
}

TEST_F(EnvelopeTest, FetchesOneKeyPerSealAndOpen) {
  Envelope envelope(&keyring_);
  Result<std::string> blob = envelope.Seal("value", kAad);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(keyring_.key_calls, 1);
  ASSERT_TRUE(envelope.Open(*blob, kAad).ok());
  EXPECT_EQ(keyring_.key_calls, 2);
}

TEST_F(EnvelopeTest, ConcurrentSealAndOpen) {
  Result<std::unique_ptr<Keyring>> keyring = KeyringFromText(Base64Encode(key1_));
  ASSERT_TRUE(keyring.ok());
  Envelope envelope(keyring->get());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string value = "thread " + std::to_string(t) + " value " + std::to_string(i);
        const std::string aad = "row " + std::to_string(t) + "/" + std::to_string(i);
        Result<std::string> blob = envelope.Seal(value, aad);
        if (!blob.ok()) {
          ++failures;
          continue;
        }
        Result<std::string> opened = envelope.Open(*blob, aad);
        if (!opened.ok() || *opened != value) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(WipeTest, ZeroesTheBufferInPlace) {
  std::string s = "secret";
  const char* data = s.data();
  Wipe(s);
  EXPECT_EQ(s, std::string(6, '\0'));
  EXPECT_EQ(s.data(), data);
  {
    std::string t = "another secret";
    { WipeOnExit guard(t); }
    EXPECT_EQ(t, std::string(14, '\0'));
  }
  std::string empty;
  Wipe(empty);
  EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace coffer::crypto
