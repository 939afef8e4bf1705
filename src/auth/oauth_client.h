// The proxy as an OAuth 2.1 client of a protected upstream MCP server (MCP authorization
// 2025-11-25, with the 2025-06-18 and 2025-03-26 behaviours).
//
// AuthorizationFlow is one login, an explicit state machine:
//
//   DiscoverResource ─► DiscoverAuthServer ─► RegisterClient ─┬► Authorize ─► AwaitRedirect ─►
//   ExchangeCode ─► Done
//                                                             └► ClientCredentials
//                                                             ───────────────────────────► Done
//   (any step) ─► Failed
//
// - DiscoverResource: Protected Resource Metadata (RFC 9728) from the challenge's
//   `resource_metadata`, else /.well-known/oauth-protected-resource/<path>, else the root form;
//   its `resource` must cover the server URL (else refused: a server cannot make us fetch tokens
//   for another resource). No PRM at all: the 2025-03-26 behaviour (the server's origin is the
//   authorization base).
// - DiscoverAuthServer: RFC 8414 / OIDC metadata in the spec's order; the document's issuer
//   must be the one the PRM named (RFC 8414 §3.3). 2025-03-26: <origin>/.well-known/oauth-
//   authorization-server, else /authorize, /token, /register. PKCE S256 must be advertised.
// - RegisterClient: the configured client, else a Client ID Metadata Document URL when the AS
//   sets client_id_metadata_document_supported, else a stored or new Dynamic Client
//   Registration (RFC 7591).
// - Authorize: PKCE S256 + `state` + `resource` (RFC 8707) + the scopes the spec selects; the
//   user agent opens the URL. AwaitRedirect: `state` must match, RFC 9207 `iss` must equal the
//   issuer (required when the AS advertises it). ExchangeCode / ClientCredentials: the token
//   request with `resource` and the client authentication method (none, client_secret_basic,
//   client_secret_post, private_key_jwt per RFC 7523).
//
// OAuthClient owns the tokens of one upstream: it restores them from the TokenStorage, hands
// out the Authorization header (refreshing shortly before expiry), reacts to 401 (refresh, else
// one automatic login) and 403 insufficient_scope (step-up with the union of scopes, at most
// `max_step_up` times in a row), and reports its status (never the token). Its tokens are sent
// only to its own server URL: the transport of that upstream is the only caller.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "auth/metadata.h"
#include "auth/redirect.h"
#include "auth/token_store.h"
#include "common/result.h"
#include "common/secret.h"
#include "net/http_client.h"

namespace mcpproxy::auth {

using std::chrono::milliseconds;
using Clock = std::function<std::chrono::system_clock::time_point()>;

enum class GrantType { kAuthorizationCode, kClientCredentials };

// Per-upstream settings (config `"oauth": {...}`), all optional.
struct OAuthClientOptions {
  std::string client_id;  // pre-registered client
  Secret client_secret;
  std::string private_key_pem;    // private_key_jwt: the key itself (the config names a file)
  std::string signing_algorithm;  // RS256, ES256, EdDSA, ...; empty: from the key type
  std::string token_endpoint_auth_method;  // empty: chosen from the AS and the credentials
  std::vector<std::string> scopes;         // added to the spec's scope selection
  GrantType grant_type = GrantType::kAuthorizationCode;
  std::string issuer;               // pick this AS when the PRM lists several
  std::string client_metadata_url;  // CIMD client_id (https URL the proxy's document is at)
  std::string client_name = "mcpproxy";
  int max_step_up = 3;  // authorizations in a row for 403 insufficient_scope
  milliseconds refresh_margin{60'000};
  bool allow_insecure_http = false;  // http:// AS endpoints on non-loopback hosts
};

// How a login reaches the person. `open_browser` gets the authorization URL; `wait_for_redirect`
// completes with the redirect carrying `state`; `expect` (optional) is told the state before the
// browser opens.
struct UserAgent {
  std::string redirect_uri;
  std::function<void(const std::string& state)> expect;
  std::function<Result<void>(const std::string& url)> open_browser;
  std::function<boost::asio::awaitable<Result<RedirectResult>>(std::string state)>
      wait_for_redirect;
};

// A UserAgent whose redirects arrive through `hub` (the daemon's /oauth/callback or a
// LoopbackListener) and whose browser is `open` (default: openInBrowser).
UserAgent hubUserAgent(RedirectHub& hub, std::string redirect_uri, milliseconds timeout,
                       std::function<Result<void>(const std::string&)> open = openInBrowser);

// The spec's scope selection: the challenge's scope, else every PRM scopes_supported, else
// none; plus `configured` and `previous` (step-up keeps what was granted); offline_access only
// when the AS lists it (SEP-2207), added when `want_refresh`.
std::string selectScopes(const std::optional<BearerChallenge>& challenge,
                         const std::optional<ProtectedResourceMetadata>& prm,
                         const AuthServerMetadata& as, const std::vector<std::string>& configured,
                         const std::set<std::string>& previous, bool want_refresh);

// Which token endpoint authentication the client uses.
std::string chooseTokenEndpointAuthMethod(const OAuthClientOptions& options,
                                          const ClientRegistration& client,
                                          const AuthServerMetadata& as);

struct Discovery {
  std::optional<ProtectedResourceMetadata> prm;
  std::string prm_url;
  std::string resource;  // sent as `resource` (RFC 8707)
  AuthServerMetadata as;
};

enum class FlowStep {
  kDiscoverResource,
  kDiscoverAuthServer,
  kRegisterClient,
  kAuthorize,
  kAwaitRedirect,
  kExchangeCode,
  kClientCredentials,
  kDone,
  kFailed
};
std::string_view flowStepName(FlowStep step);

class AuthorizationFlow {
 public:
  struct Input {
    std::string upstream;
    std::string server_url;
    std::optional<BearerChallenge> challenge;
    std::set<std::string> previous_scopes;  // step-up: what the current token holds
    std::vector<StoredAuth> stored;         // earlier registrations that may be reused
  };
  struct Output {
    Discovery discovery;
    ClientRegistration client;
    TokenSet tokens;
    std::string requested_scope;
  };

  // `agent` may be null for client_credentials.
  AuthorizationFlow(const OAuthClientOptions& options, net::Fetch fetch, const UserAgent* agent,
                    Clock clock, Input input);
  ~AuthorizationFlow();
  AuthorizationFlow(const AuthorizationFlow&) = delete;
  AuthorizationFlow& operator=(const AuthorizationFlow&) = delete;

  // Runs the steps to kDone or kFailed. The error names the step that failed.
  boost::asio::awaitable<Result<Output>> run();

  FlowStep step() const;
  // Set once kAuthorize has built it (to show to the person: CLI, UI, log).
  const std::string& authorizationUrl() const;
  // Observes every transition (status displays, tests).
  std::function<void(FlowStep)> on_step;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct AuthStatus {
  enum class State { kUnauthenticated, kNeedsAuth, kAuthorized, kFailed };
  State state = State::kUnauthenticated;
  std::string issuer;
  std::string resource;
  std::string scope;
  std::chrono::system_clock::time_point expires_at{};
  bool has_refresh_token = false;
  std::string authorization_url;  // while kNeedsAuth: the URL the person must open
  std::string error;              // kFailed: why (never a secret)
};
std::string_view authStateName(AuthStatus::State state);

class OAuthClient {
 public:
  OAuthClient(boost::asio::any_io_executor executor, std::string upstream, std::string server_url,
              OAuthClientOptions options, net::Fetch fetch, std::shared_ptr<TokenStorage> storage,
              UserAgent agent, Clock clock = {});
  ~OAuthClient();
  OAuthClient(const OAuthClient&) = delete;
  OAuthClient& operator=(const OAuthClient&) = delete;

  // Loads the newest stored tokens whose resource covers the server URL.
  boost::asio::awaitable<Result<void>> restore();

  // The Authorization header value for the next request ("Bearer …"), refreshed when it expires
  // within refresh_margin; nullopt when there is no usable token (send without: the server's 401
  // then starts the flow through onChallenge).
  boost::asio::awaitable<std::optional<Secret>> authorization();

  // The upstream answered `status` (401 or 403) with these WWW-Authenticate values. Returns true
  // when a new token was obtained and the request should be sent again (once); false when it
  // should fail as it is. 401: refresh, else one automatic login (until login() is called
  // again). 403 insufficient_scope: step-up, at most max_step_up times in a row.
  boost::asio::awaitable<bool> onChallenge(unsigned status,
                                           std::vector<std::string> www_authenticate);

  // A request carrying our token succeeded: resets the step-up counter.
  void onAuthorizedResponse();

  // A full login now (`mcpproxy auth login`), whatever the current state.
  boost::asio::awaitable<Result<void>> login(std::optional<BearerChallenge> challenge = {});
  // Forgets the tokens (and stored registration) of this upstream.
  boost::asio::awaitable<Result<void>> logout();

  const AuthStatus& status() const;
  std::function<void(const AuthStatus&)> on_status;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with running coroutines
};

}  // namespace mcpproxy::auth
