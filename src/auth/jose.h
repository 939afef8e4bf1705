// JOSE for OAuth: base64url, JSON Web Keys (RFC 7517) turned into OpenSSL keys, compact JWS /
// JWT decoding and signature verification (RFC 7515/7519) for RS256/384/512, PS256/384/512,
// ES256/384/512 and EdDSA (Ed25519/Ed448), signing for private_key_jwt client assertions
// (RFC 7523), and the RFC 9068 access-token claim checks.
//
// Why hand-written: Debian's only JOSE library for C++ (libcpp-jwt-dev 1.4) has no JWK/JWKS
// support (keys only as PEM), no EdDSA, brings nlohmann-json next to Boost.JSON and reports
// errors by exception; docs/auth.md has the comparison. This file is the one place that touches
// OpenSSL's signature APIs; it has no I/O and no Asio, so the fuzzer links it alone.
//
// Algorithm confusion is refused by construction: `none` and every HMAC algorithm are unknown to
// parseJwsAlg, and a key verifies only the algorithms of its own type and curve (an RSA key
// never checks an HS256 MAC, a P-256 key never an ES384 signature; a JWK's `alg`, when present,
// must equal the token's).
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace mcpproxy::auth {

namespace json = boost::json;

// Limits for untrusted tokens and key sets.
struct JoseLimits {
  std::size_t max_token_bytes = 16 * 1024;
  std::size_t max_jwks_bytes = 256 * 1024;
  std::size_t max_keys = 64;
  std::size_t max_json_depth = 16;
  int min_rsa_bits = 2048;
  int max_rsa_bits = 16384;
};

std::string base64UrlEncode(std::string_view bytes);
// Standard base64 with padding (HTTP Basic credentials).
std::string base64Encode(std::string_view bytes);
// Strict: only the base64url alphabet, no padding, no whitespace; nullopt otherwise.
std::optional<std::string> base64UrlDecode(std::string_view text);
// SHA-256 of `text`, base64url (the PKCE S256 code challenge, RFC 7636).
std::string sha256Base64Url(std::string_view text);

enum class JwsAlg {
  kRS256,
  kRS384,
  kRS512,
  kPS256,
  kPS384,
  kPS512,
  kES256,
  kES384,
  kES512,
  kEdDSA
};
// Asymmetric algorithms only: "none", "HS256" and anything else give nullopt.
std::optional<JwsAlg> parseJwsAlg(std::string_view name);
std::string_view jwsAlgName(JwsAlg alg);

using KeyHandle = std::shared_ptr<evp_pkey_st>;

// A public key from a JWK, with the metadata that decides which tokens it may verify.
struct Jwk {
  std::string kid;
  std::string kty;  // RSA, EC, OKP
  std::string crv;  // P-256, P-384, P-521, Ed25519, Ed448
  std::string alg;  // optional
  std::string use;  // optional; must be "sig" when present
  KeyHandle key;

  // Whether this key may verify a signature made with `alg`.
  bool accepts(JwsAlg alg) const;
};

Result<Jwk> parseJwk(const json::object& jwk, const JoseLimits& limits = {});

struct JwkSet {
  std::vector<Jwk> keys;
  std::vector<std::string> skipped;  // why a key was left out ("kid x: unsupported kty oct")
};
// Parses {"keys": [...]}. Keys that are not usable for signatures (encryption keys, symmetric
// keys, unknown types) are skipped with a reason, not fatal; an empty result is an error.
Result<JwkSet> parseJwks(std::string_view text, const JoseLimits& limits = {});

// A compact JWS, decoded but not yet verified.
struct Jwt {
  json::object header;
  json::object claims;
  std::string signing_input;  // base64url(header) "." base64url(payload)
  std::string signature;      // raw bytes
  std::string alg;            // header "alg" as written
  std::string kid;            // header "kid", may be empty
  std::string typ;            // header "typ", may be empty
};
// Structure only: three base64url parts, JSON objects for header and claims, `alg` a string.
// No `crit` extensions are understood, so a token naming any is refused (RFC 7515 §4.1.11).
Result<Jwt> decodeJwt(std::string_view token, const JoseLimits& limits = {});

// Verifies the signature of `jwt` with `key`. Fails when the header's alg is not an asymmetric
// algorithm, the key does not accept it, or the signature does not match.
Result<void> verifyJws(const Jwt& jwt, const Jwk& key);

// A private key for signing (client assertions; tests make key pairs with it).
struct PrivateKey {
  KeyHandle key;
  std::string kty, crv;
  bool accepts(JwsAlg alg) const;
};
Result<PrivateKey> loadPrivateKeyPem(std::string_view pem);
// A fresh key pair able to sign `alg` (RSA 2048, P-256/384/521, Ed25519).
Result<PrivateKey> generatePrivateKey(JwsAlg alg);
Result<std::string> privateKeyPem(const PrivateKey& key);  // PKCS#8
// The public half as a JWK object (kty/n/e, kty/crv/x/y, kty/crv/x), with `kid` if not empty.
Result<json::object> publicJwk(const PrivateKey& key, std::string_view kid = {});
// header.payload.signature; the header gets "alg" (and keeps what the caller put in it).
Result<std::string> signJwt(json::object header, const json::object& claims, const PrivateKey& key,
                            JwsAlg alg);

// --- RFC 9068 access tokens ---

struct AccessTokenExpectations {
  std::string issuer;                  // exact match of `iss`
  std::vector<std::string> audiences;  // `aud` (string or array) must contain one of them
  std::chrono::seconds leeway{60};     // for exp, nbf, iat
  std::set<JwsAlg> algorithms{JwsAlg::kRS256, JwsAlg::kPS256, JwsAlg::kES256, JwsAlg::kEdDSA,
                              JwsAlg::kRS384, JwsAlg::kRS512, JwsAlg::kES384, JwsAlg::kES512,
                              JwsAlg::kPS384, JwsAlg::kPS512};
  // typ must be at+jwt / application/at+jwt when present (RFC 9068 §4); true also accepts "JWT"
  // (issuers that do not implement RFC 9068's typ).
  bool accept_generic_typ = false;
};

struct AccessTokenClaims {
  std::string issuer;
  std::string subject;
  std::string client_id;
  std::vector<std::string> audiences;
  std::set<std::string> scopes;  // from `scope` (space-separated) or `scp` (array)
  std::chrono::system_clock::time_point expires_at;
  std::string jti;
};

// Checks header (alg allowed, typ) and claims (iss, aud, exp, nbf, iat) of a decoded token; the
// signature is verifyJws's job. Error messages are safe to return to the client (they name the
// failed check, never the token).
Result<AccessTokenClaims> checkAccessTokenClaims(const Jwt& jwt,
                                                 const AccessTokenExpectations& expect,
                                                 std::chrono::system_clock::time_point now);

// Space-separated scope string to a set, and back (sorted, deduplicated).
std::set<std::string> splitScopes(std::string_view scope);
std::string joinScopes(const std::set<std::string>& scopes);

}  // namespace mcpproxy::auth
