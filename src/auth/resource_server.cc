// See resource_server.h. Validation order for a JWT: algorithm (asymmetric and allowed, so
// `none`/HS* never reach a key), claims (iss, aud, time: cheap and without network, so tokens of
// strangers never trigger a JWKS fetch), then the key by `kid` (refreshing the JWKS once, rate
// limited, when the kid is unknown) and the signature.
#include "auth/resource_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>

#include "auth/metadata.h"
#include "common/log.h"
#include "protocol/jsonrpc.h"

namespace mcpproxy::auth {

namespace asio = boost::asio;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

std::unexpected<Error> rejected(std::string message) {
  return makeError(ErrorCode::kInvalidArgument, std::move(message));
}

std::string errorBody(std::string_view error, std::string_view description) {
  json::object body;
  body["error"] = error;
  if (!description.empty()) body["error_description"] = description;
  return json::serialize(body);
}

}  // namespace

struct TokenValidator::State : std::enable_shared_from_this<State> {
  struct Inflight {
    explicit Inflight(asio::any_io_executor ex) : done(ex) {}
    asio::steady_timer done;  // cancelled when the refresh completes
    Result<void> result;
  };

  State(asio::any_io_executor ex, ResourceServerOptions opts, net::Fetch f, Clock c)
      : executor(std::move(ex)),
        options(std::move(opts)),
        fetch(std::move(f)),
        clock(std::move(c)) {
    if (!clock) clock = [] { return std::chrono::system_clock::now(); };
    expectations.issuer = options.issuer;
    expectations.audiences = {options.audience};
    expectations.leeway = options.leeway;
    expectations.accept_generic_typ = options.accept_generic_typ;
  }

  asio::any_io_executor executor;
  ResourceServerOptions options;
  net::Fetch fetch;
  Clock clock;
  AccessTokenExpectations expectations;
  std::string jwks_uri;  // resolved
  std::vector<Jwk> keys;
  bool have_keys = false;
  std::chrono::steady_clock::time_point fetched_at{};
  std::optional<std::chrono::steady_clock::time_point> last_attempt;
  std::size_t fetches = 0;
  std::shared_ptr<Inflight> inflight;

  asio::awaitable<Result<void>> resolveJwksUri() {
    if (!jwks_uri.empty()) co_return Result<void>{};
    if (!options.jwks_uri.empty()) {
      jwks_uri = options.jwks_uri;
      co_return Result<void>{};
    }
    auto urls = authServerMetadataUrls(options.issuer);
    if (!urls) co_return std::unexpected(urls.error());
    std::string problem = "no metadata document found";
    for (const auto& url : *urls) {
      net::HttpRequest request;
      request.url = url;
      request.headers = {{"Accept", "application/json"}};
      auto response = co_await fetch(std::move(request));
      if (!response) {
        problem = response.error().message;
        continue;
      }
      if (response->status != 200) continue;
      auto metadata = parseAuthServerMetadata(response->body);
      if (!metadata) {
        problem = metadata.error().message;
        continue;
      }
      if (!sameIssuer(metadata->issuer, options.issuer)) {
        problem = "the metadata at " + url + " names another issuer";
        continue;
      }
      if (metadata->jwks_uri.empty()) {
        problem = "the issuer's metadata has no jwks_uri";
        continue;
      }
      jwks_uri = metadata->jwks_uri;
      if (options.introspection_endpoint.empty() && !metadata->introspection_endpoint.empty() &&
          !options.introspection_client_id.empty()) {
        options.introspection_endpoint = metadata->introspection_endpoint;
      }
      co_return Result<void>{};
    }
    co_return makeError(ErrorCode::kUnavailable,
                        "cannot discover the JWKS of " + options.issuer + ": " + problem);
  }

  asio::awaitable<Result<void>> fetchKeys() {
    last_attempt = std::chrono::steady_clock::now();
    auto resolved = co_await resolveJwksUri();
    if (!resolved) co_return resolved;
    net::HttpRequest request;
    request.url = jwks_uri;
    request.headers = {{"Accept", "application/json, application/jwk-set+json"}};
    auto response = co_await fetch(std::move(request));
    ++fetches;
    if (!response) {
      co_return makeError(ErrorCode::kUnavailable, "JWKS: " + response.error().message);
    }
    if (response->status != 200) {
      co_return makeError(ErrorCode::kUnavailable, "JWKS: " + jwks_uri + " answered HTTP " +
                                                       std::to_string(response->status));
    }
    auto set = parseJwks(response->body, options.limits);
    if (!set) co_return makeError(ErrorCode::kUnavailable, set.error().message);
    for (const auto& why : set->skipped) log::debug("auth: JWKS key skipped: {}", why);
    keys = std::move(set->keys);
    have_keys = true;
    fetched_at = std::chrono::steady_clock::now();
    log::debug("auth: JWKS of {} loaded ({} keys)", options.issuer, keys.size());
    co_return Result<void>{};
  }

  // One fetch at a time; callers arriving meanwhile wait for it and share its result.
  asio::awaitable<Result<void>> refresh() {
    auto self = shared_from_this();
    if (inflight) {
      auto pending = inflight;
      co_await pending->done.async_wait(kAwait);
      co_return pending->result;
    }
    auto pending = std::make_shared<Inflight>(executor);
    pending->done.expires_at(std::chrono::steady_clock::time_point::max());
    inflight = pending;
    pending->result = co_await fetchKeys();
    inflight.reset();
    pending->done.cancel();
    co_return pending->result;
  }

  bool mayRefreshForUnknownKid() const {
    return !last_attempt ||
           std::chrono::steady_clock::now() - *last_attempt >= options.jwks_refresh_min_interval;
  }

  std::vector<const Jwk*> candidates(const Jwt& jwt, JwsAlg alg) const {
    std::vector<const Jwk*> out;
    for (const auto& key : keys) {
      if (!jwt.kid.empty() && key.kid != jwt.kid) continue;
      if (key.accepts(alg)) out.push_back(&key);
    }
    return out;
  }

  asio::awaitable<Result<Principal>> validateJwt(const Jwt& jwt) {
    auto self = shared_from_this();
    auto alg = parseJwsAlg(jwt.alg);
    if (!alg || !expectations.algorithms.contains(*alg)) {
      co_return rejected("the token's algorithm is not accepted");
    }
    auto claims = checkAccessTokenClaims(jwt, expectations, clock());
    if (!claims) co_return std::unexpected(claims.error());

    const bool stale =
        have_keys && std::chrono::steady_clock::now() - fetched_at >= options.jwks_max_age;
    if (!have_keys || stale) {
      auto refreshed = co_await refresh();
      if (!refreshed && !have_keys) co_return std::unexpected(refreshed.error());
      if (!refreshed)
        log::warn("auth: JWKS refresh failed, keeping the old keys: {}", refreshed.error().message);
    }
    auto keys_for_token = candidates(jwt, *alg);
    if (keys_for_token.empty() && mayRefreshForUnknownKid()) {
      // A key we do not know yet: the issuer may have rotated its keys.
      auto refreshed = co_await refresh();
      if (!refreshed) log::warn("auth: JWKS refresh failed: {}", refreshed.error().message);
      keys_for_token = candidates(jwt, *alg);
    }
    if (keys_for_token.empty()) co_return rejected("no key of the issuer matches the token");
    for (const Jwk* key : keys_for_token) {
      if (verifyJws(jwt, *key)) co_return Principal{std::move(*claims), false};
    }
    co_return rejected("the token's signature does not verify");
  }

  asio::awaitable<Result<Principal>> introspect(const std::string& token) {
    auto self = shared_from_this();
    net::HttpRequest request;
    request.method = "POST";
    request.url = options.introspection_endpoint;
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                       {"Accept", "application/json"}};
    if (!options.introspection_client_id.empty()) {
      std::string credentials = net::percentEncode(options.introspection_client_id) + ":" +
                                net::percentEncode(options.introspection_client_secret.reveal());
      request.headers.emplace_back("Authorization", "Basic " + base64Encode(credentials));
    }
    request.body = net::formEncode({{"token", token}, {"token_type_hint", "access_token"}});
    auto response = co_await fetch(std::move(request));
    if (!response) {
      co_return makeError(ErrorCode::kUnavailable, "introspection: " + response.error().message);
    }
    if (response->status != 200) {
      co_return makeError(ErrorCode::kUnavailable,
                          "introspection answered HTTP " + std::to_string(response->status));
    }
    protocol::Limits limits{64 * 1024, 16};
    auto parsed = protocol::parseJson(response->body, limits);
    if (!parsed || !parsed->is_object()) {
      co_return makeError(ErrorCode::kUnavailable, "introspection: the answer is not JSON");
    }
    const auto& object = parsed->get_object();
    const auto* active = object.if_contains("active");
    if (!active || !active->is_bool() || !active->get_bool()) {
      co_return rejected("the token is not active");
    }
    // Reuse the JWT claim checks on the introspection answer: same rules for iss, aud, exp.
    Jwt as_jwt;
    as_jwt.alg = "RS256";  // placeholder: the AS vouched for the token, no signature to check
    as_jwt.claims = object;
    if (!as_jwt.claims.contains("iss")) as_jwt.claims["iss"] = options.issuer;
    auto claims = checkAccessTokenClaims(as_jwt, expectations, clock());
    if (!claims) co_return std::unexpected(claims.error());
    co_return Principal{std::move(*claims), true};
  }

  asio::awaitable<Result<Principal>> validate(std::string token) {
    auto self = shared_from_this();
    if (token.empty()) co_return rejected("empty token");
    const auto dots = std::count(token.begin(), token.end(), '.');
    if (dots != 2) {
      if (options.introspection_endpoint.empty()) {
        co_return rejected("the token is not a JWT and introspection is not configured");
      }
      co_return co_await introspect(token);
    }
    auto jwt = decodeJwt(token, options.limits);
    if (!jwt) co_return rejected("malformed token: " + jwt.error().message);
    co_return co_await validateJwt(*jwt);
  }
};

TokenValidator::TokenValidator(asio::any_io_executor executor, ResourceServerOptions options,
                               net::Fetch fetch, Clock clock)
    : state_(std::make_shared<State>(std::move(executor), std::move(options), std::move(fetch),
                                     std::move(clock))) {}

TokenValidator::~TokenValidator() = default;

asio::awaitable<Result<Principal>> TokenValidator::validate(std::string token) {
  auto state = state_;
  co_return co_await state->validate(std::move(token));
}

const ResourceServerOptions& TokenValidator::options() const {
  return state_->options;
}
std::size_t TokenValidator::jwksFetches() const {
  return state_->fetches;
}

ResourceServer::ResourceServer(asio::any_io_executor executor, ResourceServerOptions options,
                               net::Fetch fetch, Clock clock)
    : validator_(std::move(executor), std::move(options), std::move(fetch), std::move(clock)) {}

AuthDecision ResourceServer::deny(unsigned status, std::string_view error,
                                  std::string_view description, std::string_view scope) const {
  AuthDecision decision;
  decision.allowed = false;
  decision.status = status;
  decision.www_authenticate =
      buildBearerChallenge(validator_.options().resource_metadata_url, error, scope, description);
  decision.body = errorBody(error.empty() ? "invalid_request" : error,
                            description.empty() ? "a bearer token is required" : description);
  return decision;
}

asio::awaitable<AuthDecision> ResourceServer::authenticate(std::optional<std::string> authorization,
                                                           std::set<std::string> needed) {
  const auto& options = validator_.options();
  std::set<std::string> required(options.required_scopes.begin(), options.required_scopes.end());
  if (!authorization) co_return deny(401, "", "", joinScopes(required));
  std::string_view header = *authorization;
  auto space = header.find(' ');
  std::string scheme(header.substr(0, space));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer" || space == std::string_view::npos) {
    co_return deny(401, "invalid_token", "the Authorization header is not a Bearer token", "");
  }
  std::string_view token = header.substr(space + 1);
  while (token.starts_with(' ')) token.remove_prefix(1);
  while (token.ends_with(' ')) token.remove_suffix(1);
  auto principal = co_await validator_.validate(std::string(token));
  if (!principal) {
    if (principal.error().code == ErrorCode::kUnavailable) {
      log::warn("auth: cannot validate a token: {}", principal.error().message);
      AuthDecision decision;
      decision.status = 503;
      decision.body =
          errorBody("temporarily_unavailable", "the authorization server cannot be reached");
      co_return decision;
    }
    log::debug("auth: token refused: {}", principal.error().message);
    co_return deny(401, "invalid_token", principal.error().message, "");
  }
  needed.insert(required.begin(), required.end());
  co_return requireScopes(*principal, needed);
}

AuthDecision ResourceServer::requireScopes(const Principal& principal,
                                           const std::set<std::string>& needed) const {
  std::set<std::string> missing;
  for (const auto& scope : needed) {
    if (!principal.claims.scopes.contains(scope)) missing.insert(scope);
  }
  if (!missing.empty()) {
    // The challenge names every scope the request needs (not only the missing ones), so the
    // client's step-up asks for a token that covers the whole request.
    return deny(403, "insufficient_scope", "the token lacks a scope this request needs",
                joinScopes(needed));
  }
  AuthDecision decision;
  decision.allowed = true;
  decision.status = 200;
  decision.principal = principal;
  return decision;
}

std::string ResourceServer::protectedResourceMetadata() const {
  const auto& options = validator_.options();
  ProtectedResourceMetadata metadata;
  metadata.resource = options.audience;
  metadata.authorization_servers = {options.issuer};
  if (!options.scopes_supported.empty()) metadata.scopes_supported = options.scopes_supported;
  metadata.bearer_methods_supported = {"header"};
  metadata.resource_name = options.resource_name;
  return json::serialize(buildProtectedResourceMetadata(metadata));
}

}  // namespace mcpproxy::auth
