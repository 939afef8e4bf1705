// JOSE and OAuth documents: base64url, JWK import, signatures of every supported algorithm,
// algorithm-confusion refusals, RFC 9068 claim checks, WWW-Authenticate parsing and building,
// the discovery URL orders and resource matching.
#include "auth/jose.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "auth/metadata.h"
#include "auth_test_util.h"

namespace mcpproxy::auth {
namespace {

using namespace testing;

TEST(Base64Url, RoundTripsAndIsStrict) {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar",
                                                std::string("\0\xff\xfe", 3)}) {
    auto encoded = base64UrlEncode(s);
    EXPECT_EQ(encoded.find('='), std::string::npos);
    auto decoded = base64UrlDecode(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_FALSE(base64UrlDecode("Zm9v="));  // padding
  EXPECT_FALSE(base64UrlDecode("Zm9v+"));  // standard alphabet
  EXPECT_FALSE(base64UrlDecode("Zg "));    // whitespace
  EXPECT_FALSE(base64UrlDecode("Zh"));     // non-zero leftover bits (not canonical)
  EXPECT_FALSE(base64UrlDecode("A"));      // impossible length
  EXPECT_EQ(base64Encode("user:pass"), "dXNlcjpwYXNz");
}

TEST(Pkce, S256MatchesRfc7636Example) {
  // RFC 7636 Appendix B.
  EXPECT_EQ(sha256Base64Url("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

class SignVerify : public ::testing::TestWithParam<JwsAlg> {};

TEST_P(SignVerify, RoundTripAndTamperDetection) {
  JwsAlg alg = GetParam();
  auto key = makeKey(alg, "k1");
  auto jwk = parseJwk(key.jwk());
  ASSERT_TRUE(jwk) << jwk.error().message;
  json::object claims;
  claims["iss"] = "https://as.example";
  claims["sub"] = "alice";
  std::string token = mint(key, claims);
  auto jwt = decodeJwt(token);
  ASSERT_TRUE(jwt) << jwt.error().message;
  EXPECT_EQ(jwt->alg, jwsAlgName(alg));
  EXPECT_EQ(jwt->kid, "k1");
  EXPECT_TRUE(verifyJws(*jwt, *jwk));

  // Another payload under the same signature.
  json::object other = claims;
  other["sub"] = "mallory";
  auto dot = token.find('.');
  auto dot2 = token.find('.', dot + 1);
  std::string forged =
      token.substr(0, dot + 1) + base64UrlEncode(json::serialize(other)) + token.substr(dot2);
  auto forged_jwt = decodeJwt(forged);
  ASSERT_TRUE(forged_jwt);
  EXPECT_FALSE(verifyJws(*forged_jwt, *jwk));

  // A key of the same type made elsewhere.
  auto stranger = makeKey(alg, "k1");
  auto stranger_jwk = parseJwk(stranger.jwk());
  ASSERT_TRUE(stranger_jwk);
  EXPECT_FALSE(verifyJws(*jwt, *stranger_jwk));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, SignVerify,
                         ::testing::Values(JwsAlg::kRS256, JwsAlg::kPS256, JwsAlg::kES256,
                                           JwsAlg::kES384, JwsAlg::kES512, JwsAlg::kEdDSA,
                                           JwsAlg::kRS512));

TEST(Jose, RefusesNoneAndHmacAndCrossCurve) {
  EXPECT_FALSE(parseJwsAlg("none"));
  EXPECT_FALSE(parseJwsAlg("HS256"));
  EXPECT_FALSE(parseJwsAlg("hs256"));
  EXPECT_FALSE(parseJwsAlg("RS256 "));

  auto rsa = makeKey(JwsAlg::kRS256, "r");
  auto rsa_jwk = parseJwk(rsa.jwk());
  ASSERT_TRUE(rsa_jwk);
  // alg none: header says none, no signature.
  json::object claims;
  claims["iss"] = "x";
  std::string none = base64UrlEncode(R"({"alg":"none","kid":"r"})") + "." +
                     base64UrlEncode(json::serialize(claims)) + ".";
  auto jwt_none = decodeJwt(none);
  ASSERT_TRUE(jwt_none);
  EXPECT_FALSE(verifyJws(*jwt_none, *rsa_jwk));

  // HS256 "signed" with the RSA public key's bytes (the classic confusion attack) is refused
  // before any MAC is computed.
  std::string hs = base64UrlEncode(R"({"alg":"HS256","kid":"r"})") + "." +
                   base64UrlEncode(json::serialize(claims)) + "." + base64UrlEncode("mac");
  auto jwt_hs = decodeJwt(hs);
  ASSERT_TRUE(jwt_hs);
  EXPECT_FALSE(verifyJws(*jwt_hs, *rsa_jwk));

  // An ES256 token against a P-384 key, an RS256 token against an EC key.
  auto p384 = makeKey(JwsAlg::kES384, "p");
  auto p384_jwk = parseJwk(p384.jwk());
  ASSERT_TRUE(p384_jwk);
  EXPECT_FALSE(p384_jwk->accepts(JwsAlg::kES256));
  EXPECT_FALSE(p384_jwk->accepts(JwsAlg::kRS256));
  EXPECT_TRUE(p384_jwk->accepts(JwsAlg::kES384));
  auto es256 = makeKey(JwsAlg::kES256, "p");
  auto token = decodeJwt(mint(es256, claims));
  ASSERT_TRUE(token);
  EXPECT_FALSE(verifyJws(*token, *p384_jwk));

  // A JWK pinned to RS256 does not verify PS256.
  auto pinned = rsa.jwk();
  pinned["alg"] = "RS256";
  auto pinned_jwk = parseJwk(pinned);
  ASSERT_TRUE(pinned_jwk);
  EXPECT_FALSE(pinned_jwk->accepts(JwsAlg::kPS256));
  EXPECT_TRUE(pinned_jwk->accepts(JwsAlg::kRS256));
}

TEST(Jose, JwkImportRefusesWeakOrBrokenKeys) {
  // Symmetric, private and encryption keys.
  EXPECT_FALSE(parseJwk(json::parse(R"({"kty":"oct","k":"c2VjcmV0"})").as_object()));
  auto rsa = makeKey(JwsAlg::kRS256, "r");
  auto enc = rsa.jwk();
  enc["use"] = "enc";
  EXPECT_FALSE(parseJwk(enc));
  auto with_d = rsa.jwk();
  with_d["d"] = "AQAB";
  EXPECT_FALSE(parseJwk(with_d));
  // RSA below 2048 bits.
  auto small = rsa.jwk();
  small["n"] = base64UrlEncode(std::string(128, '\x81'));
  EXPECT_FALSE(parseJwk(small));
  // An EC point that is not on the curve.
  auto ec = makeKey(JwsAlg::kES256, "e").jwk();
  auto y = *base64UrlDecode(ec["y"].as_string());
  y[31] = static_cast<char>(y[31] ^ 1);
  ec["y"] = base64UrlEncode(y);
  EXPECT_FALSE(parseJwk(ec));
  // Wrong coordinate size.
  auto ec2 = makeKey(JwsAlg::kES256, "e").jwk();
  ec2["x"] = base64UrlEncode(std::string(31, 'a'));
  EXPECT_FALSE(parseJwk(ec2));
  // Ed25519 with a short key.
  EXPECT_FALSE(parseJwk(json::parse(R"({"kty":"OKP","crv":"Ed25519","x":"AAAA"})").as_object()));
}

TEST(Jose, JwksSkipsUnusableKeys) {
  auto a = makeKey(JwsAlg::kES256, "a");
  auto b = makeKey(JwsAlg::kEdDSA, "b");
  json::array keys;
  keys.push_back(a.jwk());
  keys.push_back(json::parse(R"({"kty":"oct","kid":"hmac","k":"c2VjcmV0"})"));
  keys.push_back(b.jwk());
  keys.push_back(json::value(42));
  json::object set;
  set["keys"] = keys;
  auto parsed = parseJwks(json::serialize(set));
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->keys.size(), 2u);
  EXPECT_EQ(parsed->keys[0].kid, "a");
  EXPECT_EQ(parsed->keys[1].kid, "b");
  EXPECT_EQ(parsed->skipped.size(), 2u);
  EXPECT_FALSE(parseJwks(R"({"keys":[]})"));
  EXPECT_FALSE(parseJwks(R"({"keys":{}})"));
  EXPECT_FALSE(parseJwks("[]"));
  JoseLimits tight;
  tight.max_keys = 1;
  EXPECT_FALSE(parseJwks(json::serialize(set), tight));
}

TEST(Jose, DecodeRefusesMalformedTokens) {
  EXPECT_FALSE(decodeJwt(""));
  EXPECT_FALSE(decodeJwt("a.b"));
  EXPECT_FALSE(decodeJwt("a.b.c.d"));
  EXPECT_FALSE(decodeJwt("!!.e30.AA"));
  EXPECT_FALSE(decodeJwt(base64UrlEncode("[]") + ".e30."));
  EXPECT_FALSE(decodeJwt(base64UrlEncode(R"({"typ":"JWT"})") + ".e30."));  // no alg
  EXPECT_FALSE(decodeJwt(base64UrlEncode(R"({"alg":"RS256","crit":["b64"]})") + ".e30."));
  EXPECT_FALSE(decodeJwt(base64UrlEncode(R"({"alg":"RS256","kid":7})") + ".e30."));
  JoseLimits tight;
  tight.max_token_bytes = 10;
  EXPECT_FALSE(decodeJwt(base64UrlEncode(R"({"alg":"RS256"})") + ".e30.", tight));
  EXPECT_TRUE(decodeJwt(base64UrlEncode(R"({"alg":"RS256"})") + ".e30."));
}

class Claims : public ::testing::Test {
 protected:
  Jwt token(json::object claims, std::string typ = "at+jwt", std::string alg = "ES256") {
    Jwt jwt;
    jwt.alg = alg;
    jwt.typ = typ;
    jwt.claims = std::move(claims);
    return jwt;
  }
  json::object good() {
    json::object c;
    c["iss"] = "https://as.example";
    c["aud"] = "https://proxy.example/mcp";
    c["sub"] = "alice";
    c["client_id"] = "app";
    c["exp"] = now_ + 600;
    c["iat"] = now_;
    c["scope"] = "mcp:read mcp:write";
    return c;
  }
  AccessTokenExpectations expect() {
    AccessTokenExpectations e;
    e.issuer = "https://as.example";
    e.audiences = {"https://proxy.example/mcp"};
    e.leeway = std::chrono::seconds(30);
    return e;
  }
  std::chrono::system_clock::time_point at(std::int64_t s) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(s));
  }
  std::int64_t now_ = 1'800'000'000;
};

TEST_F(Claims, AcceptsAGoodToken) {
  auto claims = checkAccessTokenClaims(token(good()), expect(), at(now_));
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_EQ(claims->subject, "alice");
  EXPECT_EQ(claims->client_id, "app");
  EXPECT_EQ(claims->scopes, (std::set<std::string>{"mcp:read", "mcp:write"}));
  auto arr = good();
  arr["aud"] = json::array{"https://other", "https://proxy.example/mcp"};
  arr.erase("scope");
  arr["scp"] = json::array{"a", "b"};
  auto c2 = checkAccessTokenClaims(token(arr, "application/at+jwt"), expect(), at(now_));
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->scopes, (std::set<std::string>{"a", "b"}));
  EXPECT_TRUE(checkAccessTokenClaims(token(good(), ""), expect(), at(now_)));  // typ absent
}

TEST_F(Claims, RefusesEachBrokenClaim) {
  auto refuse = [&](json::object c, const char* what, std::string typ = "at+jwt") {
    auto r = checkAccessTokenClaims(token(std::move(c), typ), expect(), at(now_));
    EXPECT_FALSE(r) << what;
  };
  auto c = good();
  c["iss"] = "https://evil.example";
  refuse(c, "issuer");
  c = good();
  c.erase("iss");
  refuse(c, "no issuer");
  c = good();
  c["aud"] = "https://other.example/mcp";
  refuse(c, "audience");
  c = good();
  c.erase("aud");
  refuse(c, "no audience");
  c = good();
  c["exp"] = now_ - 31;
  refuse(c, "expired beyond leeway");
  c = good();
  c.erase("exp");
  refuse(c, "no exp");
  c = good();
  c["exp"] = "tomorrow";
  refuse(c, "exp not a number");
  c = good();
  c["nbf"] = now_ + 31;
  refuse(c, "not yet valid");
  c = good();
  c["iat"] = now_ + 120;
  refuse(c, "issued in the future");
  refuse(good(), "an ID token (typ JWT)", "JWT");
  // Within leeway.
  c = good();
  c["exp"] = now_ - 29;
  c["nbf"] = now_ + 29;
  EXPECT_TRUE(checkAccessTokenClaims(token(c), expect(), at(now_)));
  // Generic typ allowed by option; none/HS never.
  auto lenient = expect();
  lenient.accept_generic_typ = true;
  EXPECT_TRUE(checkAccessTokenClaims(token(good(), "JWT"), lenient, at(now_)));
  EXPECT_FALSE(checkAccessTokenClaims(token(good(), "at+jwt", "none"), lenient, at(now_)));
  EXPECT_FALSE(checkAccessTokenClaims(token(good(), "at+jwt", "HS256"), lenient, at(now_)));
  auto only_rs = expect();
  only_rs.algorithms = {JwsAlg::kRS256};
  EXPECT_FALSE(checkAccessTokenClaims(token(good()), only_rs, at(now_)));
}

TEST(PrivateKey, LoadsPemAndSignsVerifiably) {
  auto key = makeKey(JwsAlg::kES256, "");
  auto pem = privateKeyPem(key.key);
  ASSERT_TRUE(pem);
  auto loaded = loadPrivateKeyPem(*pem);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->kty, "EC");
  EXPECT_EQ(loaded->crv, "P-256");
  EXPECT_FALSE(loaded->accepts(JwsAlg::kRS256));
  json::object claims;
  claims["iss"] = "me";
  auto token = signJwt({}, claims, *loaded, JwsAlg::kES256);
  ASSERT_TRUE(token);
  auto jwk = parseJwk(key.jwk());
  ASSERT_TRUE(jwk);
  EXPECT_TRUE(verifyJws(*decodeJwt(*token), *jwk));
  EXPECT_FALSE(signJwt({}, claims, *loaded, JwsAlg::kEdDSA));
  EXPECT_FALSE(loadPrivateKeyPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
}

TEST(WwwAuthenticate, ParsesChallenges) {
  auto parsed = parseWwwAuthenticate(
      R"(Bearer resource_metadata="https://s/.well-known/oauth-protected-resource/mcp", scope="a b", error="insufficient_scope", Basic realm="x\"y", Negotiate abc==)");
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].scheme, "Bearer");
  EXPECT_EQ((*parsed)[0].param("RESOURCE_METADATA"),
            "https://s/.well-known/oauth-protected-resource/mcp");
  EXPECT_EQ((*parsed)[0].param("scope"), "a b");
  EXPECT_EQ((*parsed)[1].param("realm"), "x\"y");
  EXPECT_EQ((*parsed)[2].token68, "abc==");

  auto bearer =
      findBearerChallenge({"Basic realm=x", "bearer error=invalid_token, scope=files:read"});
  ASSERT_TRUE(bearer);
  EXPECT_EQ(bearer->error, "invalid_token");
  EXPECT_EQ(bearer->scope, "files:read");
  EXPECT_FALSE(findBearerChallenge({"Basic realm=x"}));
  EXPECT_TRUE(findBearerChallenge({"Bearer"}));

  EXPECT_FALSE(parseWwwAuthenticate(R"(Bearer realm="unterminated)"));
  EXPECT_FALSE(parseWwwAuthenticate(R"(Bearer a="x" b="y")"));  // missing comma
  EXPECT_FALSE(parseWwwAuthenticate("Bearer a=b, =c"));
  EXPECT_FALSE(parseWwwAuthenticate(std::string(kMaxChallengeHeaderBytes + 1, 'a')));
}

TEST(WwwAuthenticate, BuildsQuotedHeadersThatParseBack) {
  EXPECT_EQ(buildBearerChallenge("https://p/.well-known/oauth-protected-resource/mcp"),
            R"(Bearer resource_metadata="https://p/.well-known/oauth-protected-resource/mcp")");
  EXPECT_EQ(
      buildBearerChallenge("https://p/m", "insufficient_scope", "mcp:write mcp:read"),
      R"(Bearer resource_metadata="https://p/m", error="insufficient_scope", scope="mcp:write mcp:read")");
  std::string header = buildBearerChallenge("u", "invalid_token", "", "bad \"token\"\r\nX-Evil: 1");
  EXPECT_EQ(header.find('\r'), std::string::npos);
  EXPECT_EQ(header.find('\n'), std::string::npos);
  auto back = findBearerChallenge({header});
  ASSERT_TRUE(back);
  EXPECT_EQ(back->error_description, "bad \"token\"X-Evil: 1");
}

TEST(Discovery, UrlOrders) {
  auto prm = protectedResourceMetadataUrls("https://Api.Example.com/v1/mcp/",
                                           "https://api.example.com/custom.json");
  ASSERT_TRUE(prm);
  EXPECT_EQ(*prm, (std::vector<std::string>{
                      "https://api.example.com/custom.json",
                      "https://api.example.com/.well-known/oauth-protected-resource/v1/mcp",
                      "https://api.example.com/.well-known/oauth-protected-resource"}));
  auto root = protectedResourceMetadataUrls("http://localhost:3000");
  ASSERT_TRUE(root);
  EXPECT_EQ(
      *root,
      (std::vector<std::string>{"http://localhost:3000/.well-known/oauth-protected-resource"}));

  auto with_path = authServerMetadataUrls("https://as.example/tenant1");
  ASSERT_TRUE(with_path);
  EXPECT_EQ(*with_path, (std::vector<std::string>{
                            "https://as.example/.well-known/oauth-authorization-server/tenant1",
                            "https://as.example/.well-known/openid-configuration/tenant1",
                            "https://as.example/tenant1/.well-known/openid-configuration"}));
  auto bare = authServerMetadataUrls("https://as.example/");
  ASSERT_TRUE(bare);
  EXPECT_EQ(*bare,
            (std::vector<std::string>{"https://as.example/.well-known/oauth-authorization-server",
                                      "https://as.example/.well-known/openid-configuration"}));
  EXPECT_FALSE(authServerMetadataUrls("ftp://as.example"));

  auto fallback = fallbackAuthServerMetadata("https://mcp.example:8443/api/mcp");
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->authorization_endpoint, "https://mcp.example:8443/authorize");
  EXPECT_EQ(fallback->token_endpoint, "https://mcp.example:8443/token");
  EXPECT_EQ(fallback->registration_endpoint, "https://mcp.example:8443/register");
}

TEST(Discovery, ResourceIdentifiers) {
  EXPECT_EQ(canonicalResourceUri("HTTPS://MCP.Example.com:443/mcp#frag"),
            "https://mcp.example.com/mcp");
  EXPECT_EQ(canonicalResourceUri("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
  EXPECT_TRUE(resourceCovers("https://mcp.example.com", "https://mcp.example.com/mcp"));
  EXPECT_TRUE(resourceCovers("https://mcp.example.com/mcp", "https://MCP.example.com/mcp"));
  EXPECT_TRUE(resourceCovers("https://mcp.example.com/mcp/", "https://mcp.example.com/mcp"));
  EXPECT_FALSE(resourceCovers("https://evil.example.com/mcp", "https://mcp.example.com/mcp"));
  EXPECT_FALSE(resourceCovers("https://mcp.example.com/mcpx", "https://mcp.example.com/mcp"));
  EXPECT_FALSE(resourceCovers("https://mcp.example.com/other", "https://mcp.example.com/mcp"));
  EXPECT_FALSE(resourceCovers("http://mcp.example.com/mcp", "https://mcp.example.com/mcp"));
  EXPECT_TRUE(sameIssuer("https://as/", "https://as"));
  EXPECT_FALSE(sameIssuer("https://as/a", "https://as/b"));
}

TEST(Metadata, ParsesAndBuildsDocuments) {
  auto prm = parseProtectedResourceMetadata(
      R"({"resource":"https://p/mcp","authorization_servers":["https://as"],"scopes_supported":["a"]})");
  ASSERT_TRUE(prm);
  EXPECT_EQ(prm->authorization_servers, std::vector<std::string>{"https://as"});
  ASSERT_TRUE(prm->scopes_supported);
  EXPECT_FALSE(parseProtectedResourceMetadata(R"({"authorization_servers":[]})"));
  EXPECT_FALSE(parseProtectedResourceMetadata(R"({"resource":"x","scopes_supported":"a"})"));
  auto as = parseAuthServerMetadata(
      R"({"issuer":"https://as","authorization_endpoint":"https://as/a","token_endpoint":"https://as/t","code_challenge_methods_supported":["S256"],"client_id_metadata_document_supported":true,"authorization_response_iss_parameter_supported":true})");
  ASSERT_TRUE(as);
  EXPECT_TRUE(as->client_id_metadata_document_supported);
  EXPECT_TRUE(as->authorization_response_iss_parameter_supported);
  EXPECT_FALSE(as->token_endpoint_auth_methods_supported);
  EXPECT_FALSE(parseAuthServerMetadata(R"({"token_endpoint":"x"})"));

  ProtectedResourceMetadata doc;
  doc.resource = "http://127.0.0.1:8080/mcp";
  doc.authorization_servers = {"https://as"};
  doc.scopes_supported = std::vector<std::string>{"mcp:read"};
  doc.bearer_methods_supported = {"header"};
  EXPECT_EQ(
      json::serialize(buildProtectedResourceMetadata(doc)),
      R"({"resource":"http://127.0.0.1:8080/mcp","authorization_servers":["https://as"],"scopes_supported":["mcp:read"],"bearer_methods_supported":["header"]})");
}

}  // namespace
}  // namespace mcpproxy::auth
