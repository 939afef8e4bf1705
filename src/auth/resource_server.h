// The proxy as an OAuth 2.1 resource server (MCP authorization, 2025-06-18 / 2025-11-25): every
// request to an MCP endpoint carries `Authorization: Bearer <token>`, which is validated here.
//
// - JWT access tokens (RFC 9068) are checked against the issuer's JWKS: signature (RS*, PS*,
//   ES*, EdDSA; never `none` or HMAC), `iss`, `aud` = the proxy's resource identifier (RFC 8707:
//   a token for another resource is refused), `exp`/`nbf`/`iat` with leeway, `typ` at+jwt.
// - The JWKS is cached; a token naming an unknown `kid` refreshes it (key rotation), at most once
//   per `jwks_refresh_min_interval`, and concurrent refreshes share one fetch.
// - Opaque tokens (not a JWS) go to RFC 7662 introspection when an endpoint is configured.
// - ResourceServer turns a validation into the HTTP answer: 401 with
//   `WWW-Authenticate: Bearer resource_metadata="…"` (plus `error="invalid_token"` when a token
//   was sent), 403 with `error="insufficient_scope", scope="…"`, and builds the RFC 9728
//   Protected Resource Metadata document.
//
// Threading: one executor (the event loop). Network access goes through net::Fetch (faked in
// unit tests); the clock is injectable.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jose.h"
#include "common/result.h"
#include "common/secret.h"
#include "net/http_client.h"

namespace mcpproxy::auth {

using std::chrono::milliseconds;
using Clock = std::function<std::chrono::system_clock::time_point()>;

struct ResourceServerOptions {
  std::string issuer;    // the authorization server (exact `iss`)
  std::string jwks_uri;  // empty: read from the issuer's metadata (RFC 8414 / OIDC)
  // The proxy's resource identifier (RFC 8707), the one `aud` every token must carry.
  std::string audience;
  std::vector<std::string> required_scopes;   // every request needs all of them
  std::vector<std::string> scopes_supported;  // advertised in the PRM document
  // The absolute URL of the PRM document, named in every WWW-Authenticate challenge.
  std::string resource_metadata_url;
  std::string resource_name = "mcpproxy";
  // RFC 7662, for opaque tokens. Client credentials are sent with HTTP Basic.
  std::string introspection_endpoint;
  std::string introspection_client_id;
  Secret introspection_client_secret;
  std::chrono::seconds leeway{60};
  bool accept_generic_typ = false;  // also accept typ "JWT" (issuers without RFC 9068 typ)
  milliseconds jwks_refresh_min_interval{30'000};
  milliseconds jwks_max_age{3'600'000};
  JoseLimits limits;
};

// Who a valid token speaks for.
struct Principal {
  AccessTokenClaims claims;
  bool introspected = false;
};

// Validates bearer tokens. Errors: kInvalidArgument for a token that is not acceptable (the
// message is safe to show the client: it names the failed check, never the token or a key),
// kUnavailable when the JWKS / introspection endpoint cannot be reached.
class TokenValidator {
 public:
  TokenValidator(boost::asio::any_io_executor executor, ResourceServerOptions options,
                 net::Fetch fetch, Clock clock = {});
  ~TokenValidator();

  boost::asio::awaitable<Result<Principal>> validate(std::string token);

  const ResourceServerOptions& options() const;
  // How many times the JWKS was fetched (tests and metrics).
  std::size_t jwksFetches() const;

 private:
  struct State;
  std::shared_ptr<State> state_;  // shared with running validations
};

// What the HTTP layer answers.
struct AuthDecision {
  bool allowed = false;
  Principal principal;           // when allowed
  unsigned status = 401;         // when denied: 401, 403, or 503 (AS unreachable)
  std::string www_authenticate;  // when denied with 401/403
  std::string body;              // JSON {"error": …, "error_description": …}
};

class ResourceServer {
 public:
  ResourceServer(boost::asio::any_io_executor executor, ResourceServerOptions options,
                 net::Fetch fetch, Clock clock = {});

  // `authorization` is the request's Authorization header (nullopt when absent). Allowed when it
  // is `Bearer <valid token>` and the token holds every required scope plus `needed`.
  boost::asio::awaitable<AuthDecision> authenticate(std::optional<std::string> authorization,
                                                    std::set<std::string> needed = {});

  // For checks made after authentication (e.g. call_tool_destructive needs the destructive
  // scope): allowed when `principal` holds `needed`, else the 403 decision.
  AuthDecision requireScopes(const Principal& principal, const std::set<std::string>& needed) const;

  // The RFC 9728 document served at /.well-known/oauth-protected-resource[/<path>].
  std::string protectedResourceMetadata() const;

  TokenValidator& validator() { return validator_; }

 private:
  AuthDecision deny(unsigned status, std::string_view error, std::string_view description,
                    std::string_view scope) const;

  TokenValidator validator_;
};

}  // namespace mcpproxy::auth
