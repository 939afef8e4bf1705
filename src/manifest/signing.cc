// See signing.h. libsodium provides Ed25519 (crypto_sign_*), randomness and secure wiping; the
// hand-written part is only the policy: which key, which window, which failure to report.
#include "manifest/signing.h"

#include <sodium.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <cstring>

#include "protocol/jsonrpc.h"
#include "storage/tool_hash.h"

namespace mcpproxy::manifest {

namespace {

constexpr std::string_view kKeyFileType = "mcpproxy-ed25519-secret-key/1";

void ensureSodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) std::abort();  // no usable randomness: nothing here can be done safely
}

std::string_view bytesOf(const PublicKey& key) {
  return {reinterpret_cast<const char*>(key.data()), key.size()};
}

// How telling a failure is when no signature is valid (higher wins).
int weight(VerifyStatus status) {
  switch (status) {
    case VerifyStatus::kRevokedKey:
      return 4;
    case VerifyStatus::kBadSignature:
      return 3;
    case VerifyStatus::kKeyExpired:
    case VerifyStatus::kKeyNotYetValid:
      return 2;
    default:
      return 1;
  }
}

// One signature against one key over `message` (the PAE bytes). `matches` says whether the
// signature verifies at all.
VerifyStatus checkOne(const std::string& message, const Signature& signature, const TrustedKey& key,
                      std::int64_t now, bool& matches) {
  matches =
      signature.sig.size() == crypto_sign_BYTES &&
      crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.sig.data()),
                                  reinterpret_cast<const unsigned char*>(message.data()),
                                  message.size(), key.public_key.data()) == 0;
  if (key.revoked) return VerifyStatus::kRevokedKey;
  if (!matches) return VerifyStatus::kBadSignature;
  if (key.not_before && now < *key.not_before) return VerifyStatus::kKeyNotYetValid;
  if (key.not_after && now > *key.not_after) return VerifyStatus::kKeyExpired;
  return VerifyStatus::kValid;
}

std::string quoted(std::string_view id) {
  return id.empty() ? std::string("(no key id)") : "'" + std::string(id) + "'";
}

Verification verifyImpl(const SignedManifest& manifest, std::span<const TrustedKey> keys,
                        std::int64_t now, bool any_id) {
  Verification result;
  const TrustedKey* valid_key = nullptr;
  std::string valid_keyid;                 // the keyid of the signature that verified
  const TrustedKey* failed_key = nullptr;  // the key behind the reported failure
  VerifyStatus failure = VerifyStatus::kUnknownKey;
  std::string failed_keyid = manifest.signatures.empty() ? "" : manifest.signatures[0].keyid;
  const std::string message = pae(manifest.payload_type, manifest.payload);
  for (const auto& signature : manifest.signatures) {
    SignatureCheck check{signature.keyid, VerifyStatus::kUnknownKey};
    const TrustedKey* check_key = nullptr;
    for (const auto& key : keys) {
      if (!any_id && !signature.keyid.empty() && key.id != signature.keyid) continue;
      bool matches = false;
      VerifyStatus status = checkOne(message, signature, key, now, matches);
      // Without a key id every key is tried: only the key that made the signature says anything.
      if ((any_id || signature.keyid.empty()) && !matches && keys.size() > 1) continue;
      if (check_key == nullptr || status == VerifyStatus::kValid ||
          weight(status) > weight(check.status)) {
        check.status = status;
        check_key = &key;
      }
      if (status == VerifyStatus::kValid) break;
    }
    if (check.status == VerifyStatus::kValid && valid_key == nullptr) {
      valid_key = check_key;
      valid_keyid = signature.keyid;
    }
    if (check.status != VerifyStatus::kValid && weight(check.status) > weight(failure)) {
      failure = check.status;
      failed_key = check_key;
      failed_keyid = signature.keyid;
    }
    result.signatures.push_back(std::move(check));
  }

  const Manifest& m = manifest.manifest;
  if (valid_key == nullptr) {
    result.status = failure;
    std::string id = failed_key && !failed_key->id.empty() ? failed_key->id : failed_keyid;
    switch (failure) {
      case VerifyStatus::kRevokedKey:
        result.message = "signed by key " + quoted(id) + ", which is revoked";
        break;
      case VerifyStatus::kBadSignature:
        result.message = "the signature by key " + quoted(id) +
                         " does not match the manifest (altered after signing, or signed by "
                         "another key)";
        break;
      case VerifyStatus::kKeyNotYetValid:
        result.message = "key " + quoted(id) + " is not valid before " +
                         formatTime(failed_key->not_before.value_or(0));
        break;
      case VerifyStatus::kKeyExpired:
        result.message =
            "key " + quoted(id) + " expired at " + formatTime(failed_key->not_after.value_or(0));
        break;
      default:
        result.status = VerifyStatus::kUnknownKey;
        result.message =
            keys.empty() ? "no trusted keys are configured (trusted_keys)"
                         : "signed by key " + quoted(id) + ", which is not among the trusted keys";
    }
    return result;
  }

  result.key_id = valid_key->id.empty() ? valid_keyid : valid_key->id;
  if (m.issued_at > now + kClockSkewSeconds) {
    result.status = VerifyStatus::kNotYetValid;
    result.message = "issued at " + formatTime(m.issued_at) + ", which is in the future";
    return result;
  }
  if (m.expires_at && now >= *m.expires_at) {
    result.status = VerifyStatus::kExpired;
    result.message = "the manifest expired at " + formatTime(*m.expires_at);
    return result;
  }
  result.status = VerifyStatus::kValid;
  result.message = any_id ? "signed by the given public key (key id " + quoted(result.key_id) + ")"
                          : "signed by trusted key " + quoted(result.key_id);
  result.valid_until = m.expires_at;
  if (valid_key->not_after &&
      (!result.valid_until || *valid_key->not_after < *result.valid_until)) {
    result.valid_until = *valid_key->not_after;
  }
  return result;
}

}  // namespace

SigningKey::SigningKey(SigningKey&& other) noexcept
    : id_(std::move(other.id_)), public_key_(other.public_key_), secret_key_(other.secret_key_) {
  sodium_memzero(other.secret_key_.data(), other.secret_key_.size());
}

SigningKey::~SigningKey() {
  sodium_memzero(secret_key_.data(), secret_key_.size());
}

SigningKey SigningKey::generate(std::string id) {
  ensureSodium();
  SigningKey key;
  crypto_sign_keypair(key.public_key_.data(), key.secret_key_.data());
  key.id_ = id.empty() ? keyIdFor(key.public_key_) : std::move(id);
  return key;
}

Result<SigningKey> SigningKey::fromFile(std::string_view text) {
  ensureSodium();
  auto fail = [](std::string why) {
    return makeError(ErrorCode::kInvalidArgument, "not a mcpproxy signing key file: " + why);
  };
  auto value = protocol::parseJson(text, protocol::Limits{64 * 1024, 4});
  if (!value || !value->is_object()) return fail("expected a JSON object");
  const auto& object = value->get_object();
  auto text_of = [&](std::string_view key) -> std::string_view {
    const auto* v = object.if_contains(key);
    return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
  };
  if (text_of("type") != kKeyFileType) {
    return fail("\"type\" is not \"" + std::string(kKeyFileType) + "\"");
  }
  auto seed = decodeBase64(text_of("seed"));
  if (!seed || seed->size() != crypto_sign_SEEDBYTES) {
    if (seed) sodium_memzero(seed->data(), seed->size());
    return fail("\"seed\" is not 32 bytes of base64");
  }
  SigningKey key;
  crypto_sign_seed_keypair(key.public_key_.data(), key.secret_key_.data(),
                           reinterpret_cast<const unsigned char*>(seed->data()));
  sodium_memzero(seed->data(), seed->size());
  auto stated = parsePublicKey(text_of("public_key"));
  if (!stated || *stated != key.public_key_) {
    return fail("\"public_key\" does not belong to the seed");
  }
  key.id_ = std::string(text_of("key_id"));
  if (key.id_.empty()) key.id_ = keyIdFor(key.public_key_);
  return key;
}

std::string SigningKey::publicKeyBase64() const {
  return encodeBase64(bytesOf(public_key_));
}

std::string SigningKey::fileText() const {
  // The seed is the first half of libsodium's secret key.
  std::string seed(reinterpret_cast<const char*>(secret_key_.data()), crypto_sign_SEEDBYTES);
  json::object file{{"type", kKeyFileType},
                    {"key_id", id_},
                    {"public_key", publicKeyBase64()},
                    {"seed", encodeBase64(seed)}};
  sodium_memzero(seed.data(), seed.size());
  return json::serialize(file) + "\n";
}

std::string SigningKey::sign(std::string_view message) const {
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       secret_key_.data());
  return signature;
}

std::string keyIdFor(const PublicKey& key) {
  return storage::sha256Hex(bytesOf(key)).substr(0, 16);
}

std::optional<PublicKey> parsePublicKey(std::string_view base64) {
  auto bytes = decodeBase64(base64);
  if (!bytes || bytes->size() != crypto_sign_PUBLICKEYBYTES) return std::nullopt;
  PublicKey key;
  std::memcpy(key.data(), bytes->data(), key.size());
  return key;
}

std::string_view statusName(VerifyStatus status) {
  switch (status) {
    case VerifyStatus::kValid:
      return "valid";
    case VerifyStatus::kMalformed:
      return "malformed";
    case VerifyStatus::kUnknownKey:
      return "unknown_key";
    case VerifyStatus::kRevokedKey:
      return "revoked_key";
    case VerifyStatus::kKeyNotYetValid:
      return "key_not_yet_valid";
    case VerifyStatus::kKeyExpired:
      return "key_expired";
    case VerifyStatus::kBadSignature:
      return "bad_signature";
    case VerifyStatus::kNotYetValid:
      return "not_yet_valid";
    case VerifyStatus::kExpired:
      return "expired";
  }
  return "malformed";
}

std::string signManifest(const Manifest& manifest, std::span<const SigningKey* const> keys) {
  std::string payload = serializePayload(manifest);
  std::string message = pae(kPayloadType, payload);
  std::vector<Signature> signatures;
  for (const SigningKey* key : keys) signatures.push_back({key->id(), key->sign(message)});
  return serializeEnvelope(payload, signatures);
}

Verification verify(const SignedManifest& manifest, std::span<const TrustedKey> keys,
                    std::int64_t now) {
  ensureSodium();
  return verifyImpl(manifest, keys, now, /*any_id=*/false);
}

Verification verifyWithKey(const SignedManifest& manifest, const PublicKey& key, std::int64_t now) {
  ensureSodium();
  TrustedKey given{"", key, std::nullopt, std::nullopt, false};
  return verifyImpl(manifest, std::span<const TrustedKey>(&given, 1), now, /*any_id=*/true);
}

Verification verifyText(std::string_view text, std::span<const TrustedKey> keys, std::int64_t now,
                        const Limits& limits) {
  auto parsed = parseSignedManifest(text, limits);
  if (!parsed) {
    Verification result;
    result.status = VerifyStatus::kMalformed;
    result.message = parsed.error().message;
    return result;
  }
  return verify(*parsed, keys, now);
}

}  // namespace mcpproxy::manifest
