// libFuzzer target for everything auth_core parses from untrusted peers: compact JWS tokens,
// JWK sets, WWW-Authenticate headers, Protected Resource and Authorization Server metadata. The
// first byte picks the parser (the seed corpus has examples of each), the rest is the input.
// Checks: nothing crashes or leaks; base64url decoding round-trips; a token whose header says
// none/HS256 never verifies; a challenge rebuilt from parsed Bearer values parses back to the
// same values (control characters aside, which the builder drops).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/jose.h"
#include "auth/metadata.h"

namespace {

using namespace mcpproxy::auth;

void check(bool condition) {
  if (!condition) std::abort();
}

std::string withoutControls(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out.push_back(c);
  }
  return out;
}

void fuzzToken(std::string_view input, const JwkSet* keys) {
  auto jwt = decodeJwt(input);
  if (!jwt) return;
  check(jwt->signing_input.size() < input.size());
  if (keys != nullptr) {
    for (const auto& key : keys->keys) {
      bool verified = verifyJws(*jwt, key).has_value();
      if (!parseJwsAlg(jwt->alg)) check(!verified);
    }
  }
  AccessTokenExpectations expect;
  expect.issuer = "https://as.example";
  expect.audiences = {"https://proxy.example/mcp"};
  (void)checkAccessTokenClaims(*jwt, expect, std::chrono::system_clock::now());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      fuzzToken(input, nullptr);
      break;
    case 1: {
      auto set = parseJwks(input);
      if (set) check(!set->keys.empty());
      break;
    }
    case 2: {
      auto challenges = parseWwwAuthenticate(input);
      if (!challenges) break;
      check(challenges->size() <= kMaxChallenges);
      auto bearer = findBearerChallenge({std::string(input)});
      if (!bearer) break;
      std::string rebuilt = buildBearerChallenge(bearer->resource_metadata, bearer->error,
                                                 bearer->scope, bearer->error_description);
      auto again = findBearerChallenge({rebuilt});
      check(again.has_value());
      check(again->resource_metadata == withoutControls(bearer->resource_metadata));
      if (!bearer->error.empty()) check(again->error == withoutControls(bearer->error));
      if (!bearer->scope.empty()) check(again->scope == withoutControls(bearer->scope));
      break;
    }
    case 3:
      (void)parseProtectedResourceMetadata(input);
      (void)protectedResourceMetadataUrls(input, {});
      (void)canonicalResourceUri(input);
      break;
    case 4:
      (void)parseAuthServerMetadata(input);
      (void)authServerMetadataUrls(input);
      break;
    case 5: {
      auto decoded = base64UrlDecode(input);
      if (decoded) check(base64UrlEncode(*decoded) == input);
      // A token verified against a fixed key set carried in the input after a newline.
      auto newline = input.find('\n');
      if (newline != std::string_view::npos) {
        auto set = parseJwks(input.substr(newline + 1));
        if (set) fuzzToken(input.substr(0, newline), &*set);
      }
      break;
    }
  }
  return 0;
}
