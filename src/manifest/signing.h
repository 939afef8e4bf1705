// Ed25519 keys (libsodium), signing a manifest, and verifying one against a set of trusted keys
// with validity windows and revocation. Pure functions: the caller passes the time.
//
// Rotation works by overlapping windows: a publisher adds the new key to users' trusted_keys
// before the old one's not_after, re-signs (or signs with both keys: an envelope may carry
// several signatures, one valid one suffices), and the old key then lapses. A key is checked
// against the verification time, never against the manifest's own issued_at, which whoever holds
// the key can write freely.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "manifest/format.h"

namespace mcpproxy::manifest {

using PublicKey = std::array<unsigned char, 32>;

// A key pair. The secret half is wiped when the object dies and never printed.
class SigningKey {
 public:
  // A fresh key pair from the OS's randomness; `id` empty: keyIdFor(public key).
  static SigningKey generate(std::string id = "");
  // From the key file `keygen` writes (format in docs/manifests.md).
  static Result<SigningKey> fromFile(std::string_view text);

  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&&) = delete;
  ~SigningKey();

  const std::string& id() const { return id_; }
  const PublicKey& publicKey() const { return public_key_; }
  std::string publicKeyBase64() const;
  // The key file's text (holds the secret seed: write it with mode 0600).
  std::string fileText() const;
  // A detached Ed25519 signature (64 bytes) over `message`.
  std::string sign(std::string_view message) const;

 private:
  SigningKey() = default;
  std::string id_;
  PublicKey public_key_{};
  std::array<unsigned char, 64> secret_key_{};  // libsodium's seed || public key
};

// The default key id: the first 8 bytes of SHA-256(public key), as 16 lowercase hex characters.
std::string keyIdFor(const PublicKey& key);

// A 32-byte Ed25519 public key from base64; nullopt for anything else.
std::optional<PublicKey> parsePublicKey(std::string_view base64);

// A key the user trusts (config "trusted_keys"). Times are seconds since the epoch.
struct TrustedKey {
  std::string id;
  PublicKey public_key{};
  std::optional<std::int64_t> not_before;
  std::optional<std::int64_t> not_after;
  bool revoked = false;
};

// The payload of `manifest` signed by each key: the envelope text to write to a file.
std::string signManifest(const Manifest& manifest, std::span<const SigningKey* const> keys);

enum class VerifyStatus {
  kValid,
  kMalformed,       // not a manifest this build can read (parse error, unsupported type)
  kUnknownKey,      // no signature names a trusted key
  kRevokedKey,      // signed by a key marked revoked
  kKeyNotYetValid,  // before the key's not_before
  kKeyExpired,      // after the key's not_after
  kBadSignature,    // a trusted key, but the signature does not match the bytes
  kNotYetValid,     // issued_at is in the future (beyond kClockSkew)
  kExpired,         // past the manifest's own expires_at
};

std::string_view statusName(VerifyStatus status);  // "valid", "unknown_key", ...

// Clock skew tolerated on issued_at (a signer's clock slightly ahead of ours).
inline constexpr std::int64_t kClockSkewSeconds = 300;

struct SignatureCheck {
  std::string keyid;
  VerifyStatus status = VerifyStatus::kUnknownKey;
};

struct Verification {
  VerifyStatus status = VerifyStatus::kMalformed;
  std::string message;  // one sentence for people: what is wrong, or who signed
  std::string key_id;   // the trusted key of the valid signature
  // When the answer stops holding: the earliest of the manifest's expires_at and the key's
  // not_after (absent: neither is set). A cache of a valid result must not outlive it.
  std::optional<std::int64_t> valid_until;
  std::vector<SignatureCheck> signatures;  // one per envelope signature, in order

  bool ok() const { return status == VerifyStatus::kValid; }
};

// Valid when at least one signature verifies with a trusted key (chosen by its id; a signature
// without a keyid is tried against every key) that is not revoked and whose window contains
// `now`, and the manifest itself is neither expired nor issued in the future. Otherwise the
// status of the most telling failure: revoked > bad signature > key window > unknown key.
Verification verify(const SignedManifest& manifest, std::span<const TrustedKey> keys,
                    std::int64_t now);
// The same with one explicitly given public key (no window, ignores key ids).
Verification verifyWithKey(const SignedManifest& manifest, const PublicKey& key, std::int64_t now);
// Parses and verifies; a parse error is kMalformed with the parser's message.
Verification verifyText(std::string_view text, std::span<const TrustedKey> keys, std::int64_t now,
                        const Limits& limits = {});

}  // namespace mcpproxy::manifest
