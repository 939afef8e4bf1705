// What validating one bearer token costs the proxy (the JWKS already cached): decoding the JWS,
// the RFC 9068 claim checks and the signature, per algorithm; and importing a JWK set. Run:
//   cmake --preset release && cmake --build --preset release --target auth_bench
//   build/release/auth_bench
#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>
#include <chrono>

#include "auth/jose.h"

namespace {

using namespace mcpproxy::auth;
namespace json = boost::json;

struct Fixture {
  PrivateKey key;
  Jwk jwk;
  std::string token;
  std::string jwks;
};

Fixture make(JwsAlg alg) {
  Fixture f;
  f.key = *generatePrivateKey(alg);
  auto public_jwk = *publicJwk(f.key, "k1");
  f.jwk = *parseJwk(public_jwk);
  json::object set;
  set["keys"] = json::array{public_jwk};
  f.jwks = json::serialize(set);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  json::object claims;
  claims["iss"] = "https://as.example";
  claims["aud"] = "http://127.0.0.1:8080/mcp";
  claims["sub"] = "alice";
  claims["client_id"] = "app";
  claims["scope"] = "mcp:read mcp:write";
  claims["iat"] = now;
  claims["exp"] = now + 600;
  claims["jti"] = "0123456789abcdef";
  json::object header;
  header["kid"] = "k1";
  header["typ"] = "at+jwt";
  f.token = *signJwt(header, claims, f.key, alg);
  return f;
}

void validate(benchmark::State& state, JwsAlg alg) {
  Fixture f = make(alg);
  AccessTokenExpectations expect;
  expect.issuer = "https://as.example";
  expect.audiences = {"http://127.0.0.1:8080/mcp"};
  for (auto _ : state) {
    auto jwt = decodeJwt(f.token);
    auto claims = checkAccessTokenClaims(*jwt, expect, std::chrono::system_clock::now());
    auto ok = verifyJws(*jwt, f.jwk);
    if (!claims || !ok) state.SkipWithError("validation failed");
    benchmark::DoNotOptimize(ok);
  }
}

void importJwks(benchmark::State& state, JwsAlg alg) {
  Fixture f = make(alg);
  for (auto _ : state) {
    auto set = parseJwks(f.jwks);
    benchmark::DoNotOptimize(set);
  }
}

BENCHMARK_CAPTURE(validate, RS256, JwsAlg::kRS256);
BENCHMARK_CAPTURE(validate, ES256, JwsAlg::kES256);
BENCHMARK_CAPTURE(validate, EdDSA, JwsAlg::kEdDSA);
BENCHMARK_CAPTURE(importJwks, RS256, JwsAlg::kRS256);
BENCHMARK_CAPTURE(importJwks, ES256, JwsAlg::kES256);
BENCHMARK_CAPTURE(importJwks, EdDSA, JwsAlg::kEdDSA);

}  // namespace

BENCHMARK_MAIN();
