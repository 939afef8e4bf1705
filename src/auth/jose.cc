// See jose.h. Keys come from JWK members through OpenSSL 3's EVP_PKEY_fromdata (RSA n/e, EC
// group + uncompressed point, which OpenSSL checks is on the curve; OKP raw public key), so no
// PEM or DER is ever parsed from a peer. ECDSA signatures arrive as raw r||s (JWS) and are
// converted to DER for EVP_DigestVerify; signing converts back.
#include "auth/jose.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <cstring>

#include "protocol/jsonrpc.h"

namespace mcpproxy::auth {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::unexpected<Error> invalid(std::string message) {
  return makeError(ErrorCode::kInvalidArgument, std::move(message));
}

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

KeyHandle wrap(EVP_PKEY* key) {
  return KeyHandle(key, EVP_PKEY_free);
}

const json::string* stringMember(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value ? value->if_string() : nullptr;
}

std::optional<std::string> decodedMember(const json::object& object, std::string_view name) {
  const auto* s = stringMember(object, name);
  if (!s) return std::nullopt;
  return base64UrlDecode(*s);
}

const EVP_MD* digestFor(JwsAlg alg) {
  switch (alg) {
    case JwsAlg::kRS256:
    case JwsAlg::kPS256:
    case JwsAlg::kES256:
      return EVP_sha256();
    case JwsAlg::kRS384:
    case JwsAlg::kPS384:
    case JwsAlg::kES384:
      return EVP_sha384();
    case JwsAlg::kRS512:
    case JwsAlg::kPS512:
    case JwsAlg::kES512:
      return EVP_sha512();
    case JwsAlg::kEdDSA:
      return nullptr;
  }
  return nullptr;
}

// Field size in bytes of the curve an ES* algorithm uses.
std::size_t ecFieldBytes(JwsAlg alg) {
  return alg == JwsAlg::kES256 ? 32 : alg == JwsAlg::kES384 ? 48 : 66;
}

bool isRsa(JwsAlg alg) {
  return alg == JwsAlg::kRS256 || alg == JwsAlg::kRS384 || alg == JwsAlg::kRS512 ||
         alg == JwsAlg::kPS256 || alg == JwsAlg::kPS384 || alg == JwsAlg::kPS512;
}
bool isPss(JwsAlg alg) {
  return alg == JwsAlg::kPS256 || alg == JwsAlg::kPS384 || alg == JwsAlg::kPS512;
}
bool isEc(JwsAlg alg) {
  return alg == JwsAlg::kES256 || alg == JwsAlg::kES384 || alg == JwsAlg::kES512;
}
std::string_view curveFor(JwsAlg alg) {
  return alg == JwsAlg::kES256 ? "P-256" : alg == JwsAlg::kES384 ? "P-384" : "P-521";
}

bool keyTypeAccepts(std::string_view kty, std::string_view crv, JwsAlg alg) {
  if (isRsa(alg)) return kty == "RSA";
  if (isEc(alg)) return kty == "EC" && crv == curveFor(alg);
  return kty == "OKP" && (crv == "Ed25519" || crv == "Ed448");
}

Result<KeyHandle> fromData(const char* type, OSSL_PARAM_BLD* builder) {
  Params params(OSSL_PARAM_BLD_to_param(builder));
  if (!params) return makeError(ErrorCode::kInternal, "OpenSSL: cannot build key parameters");
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0 || !key) {
    return invalid(std::string("the ") + type + " key parameters are not a valid key");
  }
  KeyHandle handle = wrap(key);
  // EC points must be on the curve (invalid-curve attacks). RSA's public check (SP 800-56B:
  // small-factor and GCD tests) costs ~4 ms per key on the event loop and protects nothing for
  // signature verification, so it is skipped; Ed25519 keys fail verification when invalid.
  if (std::string_view(type) == "EC") {
    PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) <= 0) {
      return invalid(std::string("the ") + type + " public key fails OpenSSL's checks");
    }
  }
  return handle;
}

Result<KeyHandle> rsaKey(const json::object& jwk, const JoseLimits& limits) {
  auto n = decodedMember(jwk, "n");
  auto e = decodedMember(jwk, "e");
  if (!n || !e || n->empty() || e->empty()) return invalid("RSA key without valid n and e");
  if ((*n)[0] == '\0') return invalid("RSA modulus with leading zero bytes");
  const int bits = static_cast<int>(n->size() * 8);
  if (bits < limits.min_rsa_bits)
    return invalid("RSA key shorter than " + std::to_string(limits.min_rsa_bits) + " bits");
  if (bits > limits.max_rsa_bits)
    return invalid("RSA key longer than " + std::to_string(limits.max_rsa_bits) + " bits");
  if (e->size() > 8) return invalid("RSA exponent too large");
  Bignum bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                        static_cast<int>(n->size()), nullptr));
  Bignum bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                        static_cast<int>(e->size()), nullptr));
  ParamBld builder(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !builder ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return makeError(ErrorCode::kInternal, "OpenSSL: cannot build an RSA key");
  }
  return fromData("RSA", builder.get());
}

Result<KeyHandle> ecKey(const json::object& jwk, const std::string& crv) {
  const char* group = crv == "P-256"   ? "prime256v1"
                      : crv == "P-384" ? "secp384r1"
                      : crv == "P-521" ? "secp521r1"
                                       : nullptr;
  if (!group) return invalid("unsupported EC curve " + crv);
  const std::size_t size = crv == "P-256" ? 32 : crv == "P-384" ? 48 : 66;
  auto x = decodedMember(jwk, "x");
  auto y = decodedMember(jwk, "y");
  if (!x || !y || x->size() != size || y->size() != size) {
    return invalid("EC key without valid x and y for " + crv);
  }
  std::string point = "\x04" + *x + *y;
  ParamBld builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      !OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return makeError(ErrorCode::kInternal, "OpenSSL: cannot build an EC key");
  }
  return fromData("EC", builder.get());
}

Result<KeyHandle> okpKey(const json::object& jwk, const std::string& crv) {
  const char* type = crv == "Ed25519" ? "ED25519" : crv == "Ed448" ? "ED448" : nullptr;
  if (!type) return invalid("unsupported OKP curve " + crv);
  const std::size_t size = crv == "Ed25519" ? 32 : 57;
  auto x = decodedMember(jwk, "x");
  if (!x || x->size() != size) return invalid("OKP key without a valid x for " + crv);
  ParamBld builder(OSSL_PARAM_BLD_new());
  if (!builder || !OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                                    x->data(), x->size())) {
    return makeError(ErrorCode::kInternal, "OpenSSL: cannot build an OKP key");
  }
  return fromData(type, builder.get());
}

// Raw r||s (JWS) to DER (OpenSSL), and back.
std::optional<std::string> rawToDer(std::string_view raw, std::size_t half) {
  if (raw.size() != 2 * half) return std::nullopt;
  EcdsaSig sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(half),
                        nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + half),
                        static_cast<int>(half), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

std::optional<std::string> derToRaw(std::string_view der, std::size_t half) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * half, '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, bytes, static_cast<int>(half)) < 0 ||
      BN_bn2binpad(s, bytes + half, static_cast<int>(half)) < 0) {
    return std::nullopt;
  }
  return out;
}

// kty/crv of an OpenSSL key.
void describeKey(EVP_PKEY* key, std::string& kty, std::string& crv) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      kty = "RSA";
      return;
    case EVP_PKEY_ED25519:
      kty = "OKP", crv = "Ed25519";
      return;
    case EVP_PKEY_ED448:
      kty = "OKP", crv = "Ed448";
      return;
    case EVP_PKEY_EC: {
      kty = "EC";
      char group[64] = {};
      std::size_t length = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         &length)) {
        std::string_view g(group, length);
        crv = g == "prime256v1" || g == "P-256"  ? "P-256"
              : g == "secp384r1" || g == "P-384" ? "P-384"
              : g == "secp521r1" || g == "P-521" ? "P-521"
                                                 : std::string(g);
      }
      return;
    }
    default:
      kty = "unknown";
  }
}

Result<json::value> parseSmallJson(std::string_view text, const JoseLimits& limits,
                                   std::size_t max_bytes) {
  protocol::Limits json_limits{max_bytes, limits.max_json_depth};
  auto parsed = protocol::parseJson(text, json_limits);
  if (!parsed) return invalid("not valid JSON");
  return std::move(*parsed);
}

std::optional<std::int64_t> numericDate(const json::object& claims, std::string_view name,
                                        bool& malformed) {
  const auto* value = claims.if_contains(name);
  if (!value) return std::nullopt;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64() && value->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(value->get_uint64());
  }
  if (value->is_double() && value->get_double() > -1e15 && value->get_double() < 1e15) {
    return static_cast<std::int64_t>(value->get_double());
  }
  malformed = true;
  return std::nullopt;
}

}  // namespace

std::string base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (bytes.size() - i == 1) {
    std::uint32_t v = at(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (bytes.size() - i == 2) {
    std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::string base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                               reinterpret_cast<const unsigned char*>(bytes.data()),
                               static_cast<int>(bytes.size()));
  out.resize(length > 0 ? static_cast<std::size_t>(length) : 0);
  return out;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero (a canonical encoding), or two encodings would decode alike.
  if (bits > 0 && (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string sha256Base64Url(std::string_view text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return base64UrlEncode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::optional<JwsAlg> parseJwsAlg(std::string_view name) {
  static constexpr std::pair<std::string_view, JwsAlg> kAlgs[] = {
      {"RS256", JwsAlg::kRS256}, {"RS384", JwsAlg::kRS384}, {"RS512", JwsAlg::kRS512},
      {"PS256", JwsAlg::kPS256}, {"PS384", JwsAlg::kPS384}, {"PS512", JwsAlg::kPS512},
      {"ES256", JwsAlg::kES256}, {"ES384", JwsAlg::kES384}, {"ES512", JwsAlg::kES512},
      {"EdDSA", JwsAlg::kEdDSA}};
  for (const auto& [text, alg] : kAlgs) {
    if (text == name) return alg;
  }
  return std::nullopt;
}

std::string_view jwsAlgName(JwsAlg alg) {
  switch (alg) {
    case JwsAlg::kRS256:
      return "RS256";
    case JwsAlg::kRS384:
      return "RS384";
    case JwsAlg::kRS512:
      return "RS512";
    case JwsAlg::kPS256:
      return "PS256";
    case JwsAlg::kPS384:
      return "PS384";
    case JwsAlg::kPS512:
      return "PS512";
    case JwsAlg::kES256:
      return "ES256";
    case JwsAlg::kES384:
      return "ES384";
    case JwsAlg::kES512:
      return "ES512";
    case JwsAlg::kEdDSA:
      return "EdDSA";
  }
  return "?";
}

bool Jwk::accepts(JwsAlg a) const {
  if (!key || (!use.empty() && use != "sig")) return false;
  if (!alg.empty() && alg != jwsAlgName(a)) return false;
  return keyTypeAccepts(kty, crv, a);
}

bool PrivateKey::accepts(JwsAlg alg) const {
  return key && keyTypeAccepts(kty, crv, alg);
}

Result<Jwk> parseJwk(const json::object& object, const JoseLimits& limits) {
  Jwk jwk;
  auto text = [&](std::string_view name, std::string& out) {
    if (const auto* s = stringMember(object, name)) out = std::string(*s);
  };
  text("kid", jwk.kid);
  text("kty", jwk.kty);
  text("crv", jwk.crv);
  text("alg", jwk.alg);
  text("use", jwk.use);
  if (!jwk.use.empty() && jwk.use != "sig")
    return invalid("not a signature key (use " + jwk.use + ")");
  if (const auto* ops = object.if_contains("key_ops"); ops && ops->is_array()) {
    bool verify = false;
    for (const auto& op : ops->get_array())
      verify = verify || (op.is_string() && op.get_string() == "verify");
    if (!verify) return invalid("key_ops does not include verify");
  }
  if (!jwk.alg.empty() && !parseJwsAlg(jwk.alg)) return invalid("unsupported alg " + jwk.alg);
  if (object.contains("d") || object.contains("p") || object.contains("k")) {
    return invalid("the JWK holds private or symmetric key material");
  }
  Result<KeyHandle> key;
  if (jwk.kty == "RSA") {
    key = rsaKey(object, limits);
  } else if (jwk.kty == "EC") {
    key = ecKey(object, jwk.crv);
  } else if (jwk.kty == "OKP") {
    key = okpKey(object, jwk.crv);
  } else {
    return invalid("unsupported kty " + (jwk.kty.empty() ? std::string("(missing)") : jwk.kty));
  }
  if (!key) return std::unexpected(key.error());
  jwk.key = std::move(*key);
  return jwk;
}

Result<JwkSet> parseJwks(std::string_view text, const JoseLimits& limits) {
  auto parsed = parseSmallJson(text, limits, limits.max_jwks_bytes);
  if (!parsed) return invalid("JWKS: " + parsed.error().message);
  const auto* object = parsed->if_object();
  const auto* keys = object ? object->if_contains("keys") : nullptr;
  if (!keys || !keys->is_array()) return invalid("JWKS: no \"keys\" array");
  if (keys->get_array().size() > limits.max_keys) {
    return makeError(ErrorCode::kLimitExceeded,
                     "JWKS: more than " + std::to_string(limits.max_keys) + " keys");
  }
  JwkSet set;
  for (const auto& entry : keys->get_array()) {
    if (!entry.is_object()) {
      set.skipped.push_back("a key that is not an object");
      continue;
    }
    auto jwk = parseJwk(entry.get_object(), limits);
    if (!jwk) {
      const auto* kid = stringMember(entry.get_object(), "kid");
      set.skipped.push_back("kid " + (kid ? std::string(*kid) : std::string("(none)")) + ": " +
                            jwk.error().message);
      continue;
    }
    set.keys.push_back(std::move(*jwk));
  }
  if (set.keys.empty()) return invalid("JWKS: no usable signature key");
  return set;
}

Result<Jwt> decodeJwt(std::string_view token, const JoseLimits& limits) {
  if (token.size() > limits.max_token_bytes) {
    return makeError(ErrorCode::kLimitExceeded, "the token is too long");
  }
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return invalid("not a compact JWS (three parts)");
  }
  auto header_text = base64UrlDecode(token.substr(0, first));
  auto payload_text = base64UrlDecode(token.substr(first + 1, second - first - 1));
  auto signature = base64UrlDecode(token.substr(second + 1));
  if (!header_text || !payload_text || !signature) return invalid("a part is not base64url");
  auto header = parseSmallJson(*header_text, limits, limits.max_token_bytes);
  auto payload = parseSmallJson(*payload_text, limits, limits.max_token_bytes);
  if (!header || !header->is_object()) return invalid("the header is not a JSON object");
  if (!payload || !payload->is_object()) return invalid("the claims are not a JSON object");
  Jwt jwt;
  jwt.header = std::move(header->get_object());
  jwt.claims = std::move(payload->get_object());
  jwt.signing_input = std::string(token.substr(0, second));
  jwt.signature = std::move(*signature);
  const auto* alg = stringMember(jwt.header, "alg");
  if (!alg) return invalid("the header has no alg");
  jwt.alg = std::string(*alg);
  if (const auto* kid = jwt.header.if_contains("kid")) {
    if (!kid->is_string()) return invalid("the header's kid is not a string");
    jwt.kid = std::string(kid->get_string());
  }
  if (const auto* typ = jwt.header.if_contains("typ")) {
    if (!typ->is_string()) return invalid("the header's typ is not a string");
    jwt.typ = std::string(typ->get_string());
  }
  if (jwt.header.contains("crit")) return invalid("the header names critical extensions");
  return jwt;
}

Result<void> verifyJws(const Jwt& jwt, const Jwk& key) {
  auto alg = parseJwsAlg(jwt.alg);
  if (!alg) return invalid("algorithm " + jwt.alg + " is not accepted");
  if (!key.accepts(*alg)) return invalid("the key does not accept " + jwt.alg);
  std::string signature = jwt.signature;
  if (isEc(*alg)) {
    auto der = rawToDer(signature, ecFieldBytes(*alg));
    if (!der) return invalid("malformed ECDSA signature");
    signature = std::move(*der);
  }
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx ||
      EVP_DigestVerifyInit(ctx.get(), &pctx, digestFor(*alg), nullptr, key.key.get()) != 1) {
    return makeError(ErrorCode::kInternal, "OpenSSL: cannot start verification");
  }
  if (isPss(*alg)) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, digestFor(*alg)) != 1) {
      return makeError(ErrorCode::kInternal, "OpenSSL: cannot set PSS parameters");
    }
  }
  int ok = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(jwt.signing_input.data()), jwt.signing_input.size());
  if (ok != 1) return invalid("the signature does not verify");
  return {};
}

Result<PrivateKey> loadPrivateKeyPem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return makeError(ErrorCode::kInternal, "OpenSSL: cannot allocate");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (!key) return invalid("not a PEM private key (PKCS#8, PKCS#1 or SEC1, unencrypted)");
  PrivateKey out;
  out.key = wrap(key);
  describeKey(key, out.kty, out.crv);
  if (out.kty == "unknown") return invalid("unsupported private key type");
  return out;
}

Result<PrivateKey> generatePrivateKey(JwsAlg alg) {
  EVP_PKEY* key = nullptr;
  if (isRsa(alg)) {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048));
  } else if (isEc(alg)) {
    const char* curve = alg == JwsAlg::kES256 ? "P-256" : alg == JwsAlg::kES384 ? "P-384" : "P-521";
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
  } else {
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  }
  if (!key) return makeError(ErrorCode::kInternal, "OpenSSL: key generation failed");
  PrivateKey out;
  out.key = wrap(key);
  describeKey(key, out.kty, out.crv);
  return out;
}

Result<std::string> privateKeyPem(const PrivateKey& key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key.key.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    return makeError(ErrorCode::kInternal, "OpenSSL: cannot write the key");
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

Result<json::object> publicJwk(const PrivateKey& key, std::string_view kid) {
  json::object jwk;
  jwk["kty"] = key.kty;
  auto bnParam = [&](const char* name, std::size_t pad) -> std::optional<std::string> {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key.key.get(), name, &bn) != 1) return std::nullopt;
    Bignum owned(bn);
    std::size_t size = pad ? pad : static_cast<std::size_t>(BN_num_bytes(bn));
    std::string out(size, '\0');
    if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size)) <
        0) {
      return std::nullopt;
    }
    return out;
  };
  if (key.kty == "RSA") {
    auto n = bnParam(OSSL_PKEY_PARAM_RSA_N, 0);
    auto e = bnParam(OSSL_PKEY_PARAM_RSA_E, 0);
    if (!n || !e) return makeError(ErrorCode::kInternal, "OpenSSL: cannot read the RSA key");
    jwk["n"] = base64UrlEncode(*n);
    jwk["e"] = base64UrlEncode(*e);
  } else if (key.kty == "EC") {
    std::size_t size = key.crv == "P-256" ? 32 : key.crv == "P-384" ? 48 : 66;
    auto x = bnParam(OSSL_PKEY_PARAM_EC_PUB_X, size);
    auto y = bnParam(OSSL_PKEY_PARAM_EC_PUB_Y, size);
    if (!x || !y) return makeError(ErrorCode::kInternal, "OpenSSL: cannot read the EC key");
    jwk["crv"] = key.crv;
    jwk["x"] = base64UrlEncode(*x);
    jwk["y"] = base64UrlEncode(*y);
  } else {
    std::array<unsigned char, 64> raw{};
    std::size_t length = raw.size();
    if (EVP_PKEY_get_raw_public_key(key.key.get(), raw.data(), &length) != 1) {
      return makeError(ErrorCode::kInternal, "OpenSSL: cannot read the OKP key");
    }
    jwk["crv"] = key.crv;
    jwk["x"] = base64UrlEncode(std::string_view(reinterpret_cast<char*>(raw.data()), length));
  }
  if (!kid.empty()) jwk["kid"] = kid;
  return jwk;
}

Result<std::string> signJwt(json::object header, const json::object& claims, const PrivateKey& key,
                            JwsAlg alg) {
  if (!key.accepts(alg))
    return invalid("the private key cannot sign " + std::string(jwsAlgName(alg)));
  header["alg"] = jwsAlgName(alg);
  std::string input =
      base64UrlEncode(json::serialize(header)) + "." + base64UrlEncode(json::serialize(claims));
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, digestFor(alg), nullptr, key.key.get()) != 1) {
    return makeError(ErrorCode::kInternal, "OpenSSL: cannot start signing");
  }
  if (isPss(alg)) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, digestFor(alg));
  }
  std::size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size()) != 1) {
    return makeError(ErrorCode::kInternal, "OpenSSL: signing failed");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                     input.size()) != 1) {
    return makeError(ErrorCode::kInternal, "OpenSSL: signing failed");
  }
  signature.resize(length);
  if (isEc(alg)) {
    auto raw = derToRaw(signature, ecFieldBytes(alg));
    if (!raw) return makeError(ErrorCode::kInternal, "OpenSSL: bad ECDSA signature");
    signature = std::move(*raw);
  }
  return input + "." + base64UrlEncode(signature);
}

std::set<std::string> splitScopes(std::string_view scope) {
  std::set<std::string> out;
  std::size_t i = 0;
  while (i < scope.size()) {
    while (i < scope.size() && scope[i] == ' ') ++i;
    std::size_t j = i;
    while (j < scope.size() && scope[j] != ' ') ++j;
    if (j > i) out.emplace(scope.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string joinScopes(const std::set<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out.push_back(' ');
    out += s;
  }
  return out;
}

Result<AccessTokenClaims> checkAccessTokenClaims(const Jwt& jwt,
                                                 const AccessTokenExpectations& expect,
                                                 std::chrono::system_clock::time_point now) {
  auto alg = parseJwsAlg(jwt.alg);
  if (!alg || !expect.algorithms.contains(*alg)) {
    return invalid("the token's algorithm is not accepted");
  }
  if (!jwt.typ.empty()) {
    std::string typ = jwt.typ;
    std::transform(typ.begin(), typ.end(), typ.begin(), ::tolower);
    bool at_jwt = typ == "at+jwt" || typ == "application/at+jwt";
    if (!at_jwt && !(expect.accept_generic_typ && typ == "jwt")) {
      return invalid("the token is not an access token (typ " + jwt.typ + ")");
    }
  }
  AccessTokenClaims out;
  const auto& claims = jwt.claims;
  const auto* iss = stringMember(claims, "iss");
  if (!iss || *iss != expect.issuer) return invalid("the token was issued by another issuer");
  out.issuer = std::string(*iss);

  const auto* aud = claims.if_contains("aud");
  if (aud && aud->is_string()) {
    out.audiences.emplace_back(aud->get_string());
  } else if (aud && aud->is_array()) {
    for (const auto& a : aud->get_array()) {
      if (a.is_string()) out.audiences.emplace_back(a.get_string());
    }
  }
  bool audience_ok = std::any_of(out.audiences.begin(), out.audiences.end(), [&](const auto& a) {
    return std::find(expect.audiences.begin(), expect.audiences.end(), a) != expect.audiences.end();
  });
  if (!audience_ok) return invalid("the token is not meant for this resource (aud)");

  bool malformed = false;
  auto exp = numericDate(claims, "exp", malformed);
  auto nbf = numericDate(claims, "nbf", malformed);
  auto iat = numericDate(claims, "iat", malformed);
  if (malformed) return invalid("a time claim is not a number");
  if (!exp) return invalid("the token has no expiry (exp)");
  const auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto leeway = expect.leeway.count();
  if (now_s >= *exp + leeway) return invalid("the token has expired");
  if (nbf && now_s + leeway < *nbf) return invalid("the token is not valid yet (nbf)");
  if (iat && now_s + leeway < *iat) return invalid("the token was issued in the future (iat)");
  out.expires_at = std::chrono::system_clock::time_point(std::chrono::seconds(*exp));

  if (const auto* sub = stringMember(claims, "sub")) out.subject = std::string(*sub);
  if (const auto* client = stringMember(claims, "client_id")) out.client_id = std::string(*client);
  if (const auto* jti = stringMember(claims, "jti")) out.jti = std::string(*jti);
  if (const auto* scope = stringMember(claims, "scope")) {
    out.scopes = splitScopes(*scope);
  } else if (const auto* scp = claims.if_contains("scp")) {
    if (scp->is_array()) {
      for (const auto& s : scp->get_array()) {
        if (s.is_string()) out.scopes.emplace(s.get_string());
      }
    } else if (scp->is_string()) {
      out.scopes = splitScopes(scp->get_string());
    }
  }
  return out;
}

}  // namespace mcpproxy::auth
