// See oauth_client.h. The token endpoint code (client authentication, error bodies, token
// responses) is shared by the flow, refresh and client_credentials. Requests to metadata
// endpoints carry MCP-Protocol-Version (the 2025-03-26 spec asks for it; it costs nothing
// elsewhere). Nothing here logs a token, a client secret or a code; URLs are logged without
// their query.
//
// g++ 12: values used inside co_await operands are built in named locals first (docs/STYLE.md).
#include "auth/oauth_client.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>

#include "auth/jose.h"
#include "common/log.h"
#include "common/random.h"
#include "protocol/jsonrpc.h"

namespace mcpproxy::auth {

namespace asio = boost::asio;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr const char* kMetadataProtocolVersion = "2025-11-25";
constexpr std::int64_t kAssertionLifetimeSeconds = 300;

std::unexpected<Error> failure(ErrorCode code, std::string message) {
  return makeError(code, std::move(message));
}

std::string withoutQuery(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// http(s) endpoint URLs of an authorization server: https, or http on loopback.
Result<void> checkEndpoint(std::string_view name, std::string_view url, bool allow_insecure) {
  if (url.empty()) return failure(ErrorCode::kProtocol, std::string(name) + " is missing");
  auto ok = checkBrowserUrl(url, allow_insecure);
  if (!ok) {
    return failure(ErrorCode::kProtocol,
                   std::string(name) + " is not acceptable: " + ok.error().message);
  }
  return {};
}

std::string defaultAlgorithmFor(const PrivateKey& key) {
  if (key.kty == "RSA") return "RS256";
  if (key.kty == "OKP") return "EdDSA";
  if (key.crv == "P-384") return "ES384";
  if (key.crv == "P-521") return "ES512";
  return "ES256";
}

// The parts of the machinery every step needs.
struct Wire {
  const OAuthClientOptions& options;
  net::Fetch& fetch;
  Clock& clock;

  // GET a JSON document; a non-200 answer is Result success with status set.
  asio::awaitable<Result<net::HttpResponse>> getDocument(std::string url) {
    net::HttpRequest request;
    request.url = std::move(url);
    request.headers.emplace_back("Accept", "application/json");
    request.headers.emplace_back("MCP-Protocol-Version", kMetadataProtocolVersion);
    co_return co_await fetch(std::move(request));
  }

  Result<std::string> clientAssertion(const ClientRegistration& client, const std::string& issuer,
                                      const AuthServerMetadata& as) {
    auto key = loadPrivateKeyPem(options.private_key_pem);
    if (!key)
      return failure(ErrorCode::kInvalidArgument, "oauth.private_key_file: " + key.error().message);
    std::string alg_name = options.signing_algorithm;
    if (alg_name.empty()) {
      for (const auto& candidate : as.token_endpoint_auth_signing_alg_values_supported) {
        auto alg = parseJwsAlg(candidate);
        if (alg && key->accepts(*alg)) {
          alg_name = candidate;
          break;
        }
      }
    }
    if (alg_name.empty()) alg_name = defaultAlgorithmFor(*key);
    auto alg = parseJwsAlg(alg_name);
    if (!alg)
      return failure(ErrorCode::kInvalidArgument,
                     "oauth.signing_algorithm " + alg_name + " is not supported");
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(clock().time_since_epoch()).count();
    json::object claims;
    claims["iss"] = client.client_id;
    claims["sub"] = client.client_id;
    claims["aud"] = issuer;
    claims["iat"] = now;
    claims["exp"] = now + kAssertionLifetimeSeconds;
    claims["jti"] = randomHex(16);
    json::object header;
    header["typ"] = "JWT";
    return signJwt(std::move(header), claims, *key, *alg);
  }

  // POSTs to the token endpoint with the client's authentication and parses the token answer.
  asio::awaitable<Result<TokenSet>> tokenRequest(
      std::string token_endpoint, std::string issuer, const AuthServerMetadata& as,
      const ClientRegistration& client, std::vector<std::pair<std::string, std::string>> fields,
      std::string requested_scope) {
    net::HttpRequest request;
    request.method = "POST";
    request.url = token_endpoint;
    request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    request.headers.emplace_back("Accept", "application/json");
    const std::string& method = client.token_endpoint_auth_method;
    if (method == "client_secret_basic") {
      // RFC 6749 §2.3.1: form-encode, then base64.
      std::string credentials = net::percentEncode(client.client_id) + ":" +
                                net::percentEncode(client.client_secret.reveal());
      request.headers.emplace_back("Authorization", "Basic " + base64Encode(credentials));
    } else if (method == "client_secret_post") {
      fields.emplace_back("client_id", client.client_id);
      fields.emplace_back("client_secret", client.client_secret.reveal());
    } else if (method == "private_key_jwt") {
      auto assertion = clientAssertion(client, issuer, as);
      if (!assertion) co_return std::unexpected(assertion.error());
      fields.emplace_back("client_id", client.client_id);
      fields.emplace_back("client_assertion_type",
                          "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
      fields.emplace_back("client_assertion", *assertion);
    } else {
      fields.emplace_back("client_id", client.client_id);
    }
    request.body = net::formEncode(fields);
    auto response = co_await fetch(std::move(request));
    if (!response) {
      co_return failure(ErrorCode::kUnavailable, "token endpoint: " + response.error().message);
    }
    protocol::Limits limits{256 * 1024, 16};
    auto parsed = protocol::parseJson(response->body, limits);
    const json::object* body = parsed && parsed->is_object() ? &parsed->get_object() : nullptr;
    if (response->status != 200) {
      std::string problem = "HTTP " + std::to_string(response->status);
      if (body) {
        if (const auto* e = body->if_contains("error"); e && e->is_string()) {
          problem += ": " + std::string(e->get_string());
        }
        if (const auto* d = body->if_contains("error_description"); d && d->is_string()) {
          problem += " (" + std::string(d->get_string()).substr(0, 200) + ")";
        }
      }
      co_return failure(ErrorCode::kUnavailable, "token endpoint answered " + problem);
    }
    if (!body) co_return failure(ErrorCode::kProtocol, "token endpoint: the answer is not JSON");
    TokenSet tokens;
    const auto* access = body->if_contains("access_token");
    if (!access || !access->is_string() || access->get_string().empty()) {
      co_return failure(ErrorCode::kProtocol, "token endpoint: no access_token");
    }
    tokens.access_token = Secret(std::string(access->get_string()));
    if (const auto* type = body->if_contains("token_type"); type && type->is_string()) {
      std::string t(type->get_string());
      std::string lowered = t;
      for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lowered != "bearer") {
        co_return failure(ErrorCode::kProtocol, "token endpoint: unsupported token_type " + t);
      }
    }
    if (const auto* refresh = body->if_contains("refresh_token"); refresh && refresh->is_string()) {
      tokens.refresh_token = Secret(std::string(refresh->get_string()));
    }
    if (const auto* scope = body->if_contains("scope"); scope && scope->is_string()) {
      tokens.scope = std::string(scope->get_string());
    } else {
      tokens.scope = requested_scope;
    }
    if (const auto* expires = body->if_contains("expires_in"); expires && expires->is_number()) {
      double seconds = expires->to_number<double>();
      if (seconds > 0 && seconds < 10.0 * 365 * 86400) {
        tokens.expires_at = clock() + std::chrono::seconds(static_cast<std::int64_t>(seconds));
      }
    }
    co_return tokens;
  }
};

}  // namespace

// --- pure helpers ---

std::string selectScopes(const std::optional<BearerChallenge>& challenge,
                         const std::optional<ProtectedResourceMetadata>& prm,
                         const AuthServerMetadata& as, const std::vector<std::string>& configured,
                         const std::set<std::string>& previous, bool want_refresh) {
  std::set<std::string> scopes;
  if (challenge && !challenge->scope.empty()) {
    scopes = splitScopes(challenge->scope);
  } else if (prm && prm->scopes_supported) {
    scopes.insert(prm->scopes_supported->begin(), prm->scopes_supported->end());
  }
  scopes.insert(configured.begin(), configured.end());
  scopes.insert(previous.begin(), previous.end());
  const bool as_lists_offline =
      as.scopes_supported && contains(*as.scopes_supported, "offline_access");
  if (as_lists_offline && want_refresh) scopes.insert("offline_access");
  if (!as_lists_offline) scopes.erase("offline_access");
  return joinScopes(scopes);
}

std::string chooseTokenEndpointAuthMethod(const OAuthClientOptions& options,
                                          const ClientRegistration& client,
                                          const AuthServerMetadata& as) {
  if (!options.token_endpoint_auth_method.empty()) return options.token_endpoint_auth_method;
  if (!client.token_endpoint_auth_method.empty()) return client.token_endpoint_auth_method;
  if (!options.private_key_pem.empty() && client.source != "dcr") return "private_key_jwt";
  if (client.client_secret.empty()) return "none";
  const auto& supported = as.token_endpoint_auth_methods_supported;
  if (!supported || contains(*supported, "client_secret_basic")) return "client_secret_basic";
  if (contains(*supported, "client_secret_post")) return "client_secret_post";
  return "client_secret_basic";
}

std::string_view flowStepName(FlowStep step) {
  switch (step) {
    case FlowStep::kDiscoverResource:
      return "discover_resource";
    case FlowStep::kDiscoverAuthServer:
      return "discover_authorization_server";
    case FlowStep::kRegisterClient:
      return "register_client";
    case FlowStep::kAuthorize:
      return "authorize";
    case FlowStep::kAwaitRedirect:
      return "await_redirect";
    case FlowStep::kExchangeCode:
      return "exchange_code";
    case FlowStep::kClientCredentials:
      return "client_credentials";
    case FlowStep::kDone:
      return "done";
    case FlowStep::kFailed:
      return "failed";
  }
  return "?";
}

std::string_view authStateName(AuthStatus::State state) {
  switch (state) {
    case AuthStatus::State::kUnauthenticated:
      return "unauthenticated";
    case AuthStatus::State::kNeedsAuth:
      return "needs_auth";
    case AuthStatus::State::kAuthorized:
      return "authorized";
    case AuthStatus::State::kFailed:
      return "failed";
  }
  return "?";
}

UserAgent hubUserAgent(RedirectHub& hub, std::string redirect_uri, milliseconds timeout,
                       std::function<Result<void>(const std::string&)> open) {
  UserAgent agent;
  agent.redirect_uri = std::move(redirect_uri);
  agent.expect = [&hub](const std::string& state) { hub.expect(state); };
  agent.open_browser = std::move(open);
  agent.wait_for_redirect = [&hub, timeout](std::string state) {
    return hub.wait(std::move(state), timeout);
  };
  return agent;
}

// --- AuthorizationFlow ---

struct AuthorizationFlow::Impl {
  Impl(const OAuthClientOptions& o, net::Fetch f, const UserAgent* a, Clock c, Input i)
      : options(o), fetch(std::move(f)), agent(a), clock(std::move(c)), input(std::move(i)) {
    if (!clock) clock = [] { return std::chrono::system_clock::now(); };
  }
  OAuthClientOptions options;
  net::Fetch fetch;
  const UserAgent* agent;
  Clock clock;
  Input input;
  FlowStep step = FlowStep::kDiscoverResource;
  std::function<void(FlowStep)>* on_step = nullptr;
  Error error;
  Output out;
  std::string verifier;
  std::string state;
  std::string authorization_url;
  RedirectResult redirect;

  Wire wire() { return Wire{options, fetch, clock}; }

  FlowStep fail(ErrorCode code, std::string message) {
    error = Error{code, std::string(flowStepName(step)) + ": " + std::move(message)};
    return FlowStep::kFailed;
  }

  asio::awaitable<FlowStep> discoverResource() {
    std::string header_url = input.challenge ? input.challenge->resource_metadata : std::string();
    auto urls = protectedResourceMetadataUrls(input.server_url, header_url);
    if (!urls)
      co_return fail(ErrorCode::kInvalidArgument, "the server URL: " + urls.error().message);
    for (const auto& url : *urls) {
      auto response = co_await wire().getDocument(url);
      if (!response) {
        log::debug("oauth {}: PRM {}: {}", input.upstream, withoutQuery(url),
                   response.error().message);
        continue;
      }
      if (response->status != 200) continue;
      auto prm = parseProtectedResourceMetadata(response->body);
      if (!prm) {
        log::debug("oauth {}: PRM {}: {}", input.upstream, withoutQuery(url), prm.error().message);
        continue;
      }
      if (!resourceCovers(prm->resource, input.server_url)) {
        co_return fail(ErrorCode::kInvalidArgument,
                       "the protected resource metadata names resource " + prm->resource +
                           ", which does not match the server URL; refusing to authorize");
      }
      out.discovery.prm_url = url;
      out.discovery.resource = prm->resource;
      out.discovery.prm = std::move(*prm);
      co_return FlowStep::kDiscoverAuthServer;
    }
    // No PRM: the 2025-03-26 behaviour.
    auto canonical = canonicalResourceUri(input.server_url);
    if (!canonical) co_return fail(ErrorCode::kInvalidArgument, canonical.error().message);
    out.discovery.resource = *canonical;
    log::debug("oauth {}: no protected resource metadata; using 2025-03-26 discovery",
               input.upstream);
    co_return FlowStep::kDiscoverAuthServer;
  }

  asio::awaitable<FlowStep> discoverAuthServer() {
    auto& d = out.discovery;
    std::vector<std::string> urls;
    std::string issuer;
    if (d.prm) {
      const auto& servers = d.prm->authorization_servers;
      if (servers.empty())
        co_return fail(ErrorCode::kProtocol, "the PRM names no authorization server");
      issuer = servers.front();
      if (!options.issuer.empty()) {
        auto it = std::find_if(servers.begin(), servers.end(),
                               [&](const auto& s) { return sameIssuer(s, options.issuer); });
        if (it == servers.end()) {
          co_return fail(ErrorCode::kInvalidArgument,
                         "the configured issuer " + options.issuer + " is not one of the server's");
        }
        issuer = *it;
      }
      auto list = authServerMetadataUrls(issuer);
      if (!list)
        co_return fail(ErrorCode::kProtocol, "issuer " + issuer + ": " + list.error().message);
      urls = std::move(*list);
    } else {
      auto fallback = fallbackAuthServerMetadata(input.server_url);
      if (!fallback) co_return fail(ErrorCode::kInvalidArgument, fallback.error().message);
      issuer = fallback->issuer;
      urls = {issuer + "/.well-known/oauth-authorization-server",
              issuer + "/.well-known/openid-configuration"};
    }
    for (const auto& url : urls) {
      auto response = co_await wire().getDocument(url);
      if (!response || response->status != 200) continue;
      auto metadata = parseAuthServerMetadata(response->body);
      if (!metadata) {
        log::debug("oauth {}: metadata {}: {}", input.upstream, url, metadata.error().message);
        continue;
      }
      // RFC 8414 §3.3. (2025-03-26 has no PRM naming the issuer: the document's own is taken.)
      if (d.prm && !sameIssuer(metadata->issuer, issuer)) {
        co_return fail(ErrorCode::kProtocol, "the metadata at " + url + " names issuer " +
                                                 metadata->issuer + " instead of " + issuer);
      }
      d.as = std::move(*metadata);
      co_return checkAuthServer();
    }
    if (d.prm) {
      co_return fail(ErrorCode::kUnavailable, "no authorization server metadata for " + issuer);
    }
    auto fallback = fallbackAuthServerMetadata(input.server_url);
    d.as = std::move(*fallback);
    log::debug("oauth {}: no authorization server metadata; using the default endpoints",
               input.upstream);
    co_return checkAuthServer();
  }

  FlowStep checkAuthServer() {
    const auto& as = out.discovery.as;
    if (options.grant_type == GrantType::kAuthorizationCode) {
      auto ok = checkEndpoint("authorization_endpoint", as.authorization_endpoint,
                              options.allow_insecure_http);
      if (!ok) return fail(ok.error().code, ok.error().message);
      if (!as.from_fallback && (!as.code_challenge_methods_supported ||
                                !contains(*as.code_challenge_methods_supported, "S256"))) {
        return fail(ErrorCode::kProtocol,
                    "the authorization server does not advertise PKCE S256; refusing to use it");
      }
    }
    auto ok = checkEndpoint("token_endpoint", as.token_endpoint, options.allow_insecure_http);
    if (!ok) return fail(ok.error().code, ok.error().message);
    return FlowStep::kRegisterClient;
  }

  asio::awaitable<FlowStep> registerClient() {
    const auto& as = out.discovery.as;
    auto& client = out.client;
    if (!options.client_id.empty()) {
      client.client_id = options.client_id;
      client.client_secret = options.client_secret;
      client.source = "config";
    } else if (options.grant_type == GrantType::kClientCredentials) {
      co_return fail(ErrorCode::kInvalidArgument,
                     "the client_credentials grant needs oauth.client_id (and a secret or key)");
    } else if (as.client_id_metadata_document_supported && !options.client_metadata_url.empty()) {
      client.client_id = options.client_metadata_url;
      client.source = "cimd";
    } else {
      const std::string redirect_uri = agent ? agent->redirect_uri : std::string();
      for (const auto& entry : input.stored) {
        if (sameIssuer(entry.issuer, as.issuer) && entry.client.source == "dcr" &&
            !entry.client.client_id.empty() && entry.client.redirect_uri == redirect_uri) {
          client = entry.client;
          break;
        }
      }
      if (client.client_id.empty()) {
        auto registered = co_await dynamicRegistration();
        if (!registered) co_return fail(registered.error().code, registered.error().message);
      }
    }
    client.token_endpoint_auth_method = chooseTokenEndpointAuthMethod(options, client, as);
    client.redirect_uri = agent ? agent->redirect_uri : std::string();
    co_return options.grant_type == GrantType::kClientCredentials ? FlowStep::kClientCredentials
                                                                  : FlowStep::kAuthorize;
  }

  asio::awaitable<Result<void>> dynamicRegistration() {
    const auto& as = out.discovery.as;
    if (as.registration_endpoint.empty()) {
      co_return failure(ErrorCode::kInvalidArgument,
                        "the authorization server offers no dynamic client registration; "
                        "configure oauth.client_id for this server");
    }
    auto ok = checkEndpoint("registration_endpoint", as.registration_endpoint,
                            options.allow_insecure_http);
    if (!ok) co_return std::unexpected(ok.error());
    if (!agent) co_return failure(ErrorCode::kInvalidArgument, "no redirect URI to register");
    // A public client unless the AS refuses `none`.
    std::string method = "none";
    if (as.token_endpoint_auth_methods_supported &&
        !contains(*as.token_endpoint_auth_methods_supported, "none")) {
      method = contains(*as.token_endpoint_auth_methods_supported, "client_secret_post") &&
                       !contains(*as.token_endpoint_auth_methods_supported, "client_secret_basic")
                   ? "client_secret_post"
                   : "client_secret_basic";
    }
    json::object body;
    body["client_name"] = options.client_name;
    json::array redirects;
    redirects.emplace_back(agent->redirect_uri);
    body["redirect_uris"] = std::move(redirects);
    json::array grants;
    grants.emplace_back("authorization_code");
    grants.emplace_back("refresh_token");
    body["grant_types"] = std::move(grants);
    json::array responses;
    responses.emplace_back("code");
    body["response_types"] = std::move(responses);
    body["token_endpoint_auth_method"] = method;
    net::HttpRequest request;
    request.method = "POST";
    request.url = as.registration_endpoint;
    request.headers.emplace_back("Content-Type", "application/json");
    request.headers.emplace_back("Accept", "application/json");
    request.body = json::serialize(body);
    auto response = co_await fetch(std::move(request));
    if (!response)
      co_return failure(ErrorCode::kUnavailable, "registration: " + response.error().message);
    if (response->status != 201 && response->status != 200) {
      co_return failure(ErrorCode::kUnavailable,
                        "registration answered HTTP " + std::to_string(response->status));
    }
    protocol::Limits limits{256 * 1024, 16};
    auto parsed = protocol::parseJson(response->body, limits);
    const auto* object = parsed && parsed->is_object() ? &parsed->get_object() : nullptr;
    const auto* id = object ? object->if_contains("client_id") : nullptr;
    if (!id || !id->is_string() || id->get_string().empty()) {
      co_return failure(ErrorCode::kProtocol, "registration: no client_id in the answer");
    }
    auto& client = out.client;
    client.client_id = std::string(id->get_string());
    if (const auto* secret = object->if_contains("client_secret"); secret && secret->is_string()) {
      client.client_secret = Secret(std::string(secret->get_string()));
    }
    if (const auto* m = object->if_contains("token_endpoint_auth_method"); m && m->is_string()) {
      client.token_endpoint_auth_method = std::string(m->get_string());
    } else {
      client.token_endpoint_auth_method = client.client_secret.empty() ? "none" : method;
    }
    client.source = "dcr";
    log::info("oauth {}: registered as client {} at {}", input.upstream, client.client_id,
              as.issuer);
    co_return Result<void>{};
  }

  std::string scopeToRequest() {
    const bool want_refresh = options.grant_type == GrantType::kAuthorizationCode;
    return selectScopes(input.challenge, out.discovery.prm, out.discovery.as, options.scopes,
                        input.previous_scopes, want_refresh);
  }

  FlowStep authorize() {
    if (!agent || !agent->open_browser || !agent->wait_for_redirect) {
      return fail(ErrorCode::kInvalidArgument, "no way to reach a browser for this login");
    }
    const auto& as = out.discovery.as;
    verifier = base64UrlEncode(randomHex(32));  // 64 hex characters of entropy, 86 characters
    state = randomHex(16);
    out.requested_scope = scopeToRequest();
    std::vector<std::pair<std::string, std::string>> params = {
        {"response_type", "code"},
        {"client_id", out.client.client_id},
        {"redirect_uri", agent->redirect_uri},
        {"code_challenge", sha256Base64Url(verifier)},
        {"code_challenge_method", "S256"},
        {"state", state},
        {"resource", out.discovery.resource}};
    if (!out.requested_scope.empty()) params.emplace_back("scope", out.requested_scope);
    std::string url = as.authorization_endpoint;
    url += url.find('?') == std::string::npos ? '?' : '&';
    url += net::formEncode(params);
    auto ok = checkBrowserUrl(url, options.allow_insecure_http);
    if (!ok) return fail(ErrorCode::kProtocol, ok.error().message);
    authorization_url = url;
    if (agent->expect) agent->expect(state);
    log::info("oauth {}: open {} to authorize mcpproxy", input.upstream, withoutQuery(url));
    if (auto opened = agent->open_browser(url); !opened) {
      log::warn("oauth {}: cannot open a browser ({}); open the authorization URL yourself",
                input.upstream, opened.error().message);
    }
    return FlowStep::kAwaitRedirect;
  }

  asio::awaitable<FlowStep> awaitRedirect() {
    auto result = co_await agent->wait_for_redirect(state);
    if (!result) co_return fail(result.error().code, result.error().message);
    redirect = std::move(*result);
    if (redirect.state != state)
      co_return fail(ErrorCode::kProtocol, "the redirect's state does not match");
    const auto& as = out.discovery.as;
    // RFC 9207: a wrong iss means the response came from another AS (mix-up attack).
    if (!redirect.iss.empty() && !sameIssuer(redirect.iss, as.issuer)) {
      co_return fail(ErrorCode::kProtocol, "the redirect's iss " + redirect.iss +
                                               " is not the authorization server " + as.issuer);
    }
    if (redirect.iss.empty() && as.authorization_response_iss_parameter_supported) {
      co_return fail(
          ErrorCode::kProtocol,
          "the authorization server promises an iss parameter but the redirect has none");
    }
    if (!redirect.error.empty()) {
      std::string why = redirect.error;
      if (!redirect.error_description.empty())
        why += " (" + redirect.error_description.substr(0, 200) + ")";
      co_return fail(ErrorCode::kUnavailable, "the authorization server refused: " + why);
    }
    if (redirect.code.empty()) co_return fail(ErrorCode::kProtocol, "the redirect carries no code");
    co_return FlowStep::kExchangeCode;
  }

  // The token request of ExchangeCode and ClientCredentials.
  asio::awaitable<FlowStep> requestTokens(std::vector<std::pair<std::string, std::string>> fields) {
    const auto& as = out.discovery.as;
    std::string endpoint = as.token_endpoint;
    std::string issuer = as.issuer;
    std::string scope = out.requested_scope;
    auto tokens =
        co_await wire().tokenRequest(endpoint, issuer, as, out.client, std::move(fields), scope);
    if (!tokens) co_return fail(tokens.error().code, tokens.error().message);
    out.tokens = std::move(*tokens);
    co_return FlowStep::kDone;
  }

  asio::awaitable<FlowStep> exchangeCode() {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"grant_type", "authorization_code"},
        {"code", redirect.code},
        {"redirect_uri", agent->redirect_uri},
        {"code_verifier", verifier},
        {"resource", out.discovery.resource}};
    co_return co_await requestTokens(std::move(fields));
  }

  asio::awaitable<FlowStep> clientCredentials() {
    out.requested_scope = scopeToRequest();
    std::vector<std::pair<std::string, std::string>> fields = {
        {"grant_type", "client_credentials"}, {"resource", out.discovery.resource}};
    if (!out.requested_scope.empty()) fields.emplace_back("scope", out.requested_scope);
    co_return co_await requestTokens(std::move(fields));
  }

  asio::awaitable<Result<Output>> run() {
    while (step != FlowStep::kDone && step != FlowStep::kFailed) {
      FlowStep next = FlowStep::kFailed;
      switch (step) {
        case FlowStep::kDiscoverResource:
          next = co_await discoverResource();
          break;
        case FlowStep::kDiscoverAuthServer:
          next = co_await discoverAuthServer();
          break;
        case FlowStep::kRegisterClient:
          next = co_await registerClient();
          break;
        case FlowStep::kAuthorize:
          next = authorize();
          break;
        case FlowStep::kAwaitRedirect:
          next = co_await awaitRedirect();
          break;
        case FlowStep::kExchangeCode:
          next = co_await exchangeCode();
          break;
        case FlowStep::kClientCredentials:
          next = co_await clientCredentials();
          break;
        case FlowStep::kDone:
        case FlowStep::kFailed:
          break;
      }
      step = next;
      if (on_step && *on_step) (*on_step)(step);
    }
    if (step == FlowStep::kFailed) co_return std::unexpected(error);
    co_return out;
  }
};

AuthorizationFlow::AuthorizationFlow(const OAuthClientOptions& options, net::Fetch fetch,
                                     const UserAgent* agent, Clock clock, Input input)
    : impl_(std::make_unique<Impl>(options, std::move(fetch), agent, std::move(clock),
                                   std::move(input))) {
  impl_->on_step = &on_step;
}
AuthorizationFlow::~AuthorizationFlow() = default;
asio::awaitable<Result<AuthorizationFlow::Output>> AuthorizationFlow::run() {
  return impl_->run();
}
FlowStep AuthorizationFlow::step() const {
  return impl_->step;
}
const std::string& AuthorizationFlow::authorizationUrl() const {
  return impl_->authorization_url;
}

// --- OAuthClient ---

struct OAuthClient::Impl : std::enable_shared_from_this<Impl> {
  struct Inflight {
    explicit Inflight(asio::any_io_executor ex) : done(ex) {}
    asio::steady_timer done;
    Result<void> result;
  };

  Impl(asio::any_io_executor ex, std::string up, std::string url, OAuthClientOptions opts,
       net::Fetch f, std::shared_ptr<TokenStorage> s, UserAgent a, Clock c)
      : executor(std::move(ex)),
        upstream(std::move(up)),
        server_url(std::move(url)),
        options(std::move(opts)),
        fetch(std::move(f)),
        storage(std::move(s)),
        agent(std::move(a)),
        clock(std::move(c)) {
    if (!clock) clock = [] { return std::chrono::system_clock::now(); };
  }

  asio::any_io_executor executor;
  std::string upstream;
  std::string server_url;
  OAuthClientOptions options;
  net::Fetch fetch;
  std::shared_ptr<TokenStorage> storage;
  UserAgent agent;
  Clock clock;
  std::function<void(const AuthStatus&)>* on_status = nullptr;

  std::optional<StoredAuth> current;  // with tokens
  std::vector<StoredAuth> stored;     // what restore() found (registrations to reuse)
  AuthServerMetadata as;              // of the last flow (refresh may need it for private_key_jwt)
  AuthStatus status;
  bool auto_login_spent = false;
  int step_ups = 0;
  std::shared_ptr<Inflight> flow_inflight;
  std::shared_ptr<Inflight> refresh_inflight;

  void publish() {
    if (current && current->tokens) {
      status.issuer = current->issuer;
      status.resource = current->resource;
      status.scope = current->tokens->scope;
      status.expires_at = current->tokens->expires_at;
      status.has_refresh_token = !current->tokens->refresh_token.empty();
    }
    if (on_status && *on_status) (*on_status)(status);
  }

  // Concurrent callers share one refresh / one flow: later callers wait for the running one.
  // (Written out per operation: a lambda temporary inside a co_await operand trips g++ 12's
  // coroutine frame handling.)
  std::shared_ptr<Inflight> begin(std::shared_ptr<Inflight>& slot) {
    auto pending = std::make_shared<Inflight>(executor);
    pending->done.expires_at(std::chrono::steady_clock::time_point::max());
    slot = pending;
    return pending;
  }
  static void finish(std::shared_ptr<Inflight>& slot, const std::shared_ptr<Inflight>& pending,
                     const Result<void>& result) {
    pending->result = result;
    if (slot == pending) slot.reset();
    pending->done.cancel();
  }

  static asio::awaitable<Result<void>> waitFor(std::shared_ptr<Inflight> running) {
    co_await running->done.async_wait(kAwait);
    co_return running->result;
  }

  asio::awaitable<Result<void>> sharedRefresh() {
    auto self = shared_from_this();
    if (refresh_inflight) co_return co_await waitFor(refresh_inflight);
    auto pending = begin(refresh_inflight);
    Result<void> result = co_await refresh();
    finish(refresh_inflight, pending, result);
    co_return result;
  }

  asio::awaitable<Result<void>> sharedFlow(std::optional<BearerChallenge> challenge,
                                           std::set<std::string> previous) {
    auto self = shared_from_this();
    if (flow_inflight) co_return co_await waitFor(flow_inflight);
    auto pending = begin(flow_inflight);
    Result<void> result = co_await runFlow(std::move(challenge), std::move(previous));
    finish(flow_inflight, pending, result);
    co_return result;
  }

  asio::awaitable<void> persist() {
    if (!storage || !current) co_return;
    StoredAuth entry = *current;
    entry.saved_at = clock();
    if (entry.client.source == "config") {
      // Configured credentials stay in the config (which may take them from the environment).
      entry.client = ClientRegistration{};
    }
    auto saved = co_await storage->save(std::move(entry));
    if (!saved) log::warn("oauth {}: cannot store tokens: {}", upstream, saved.error().message);
  }

  asio::awaitable<Result<void>> runFlow(std::optional<BearerChallenge> challenge,
                                        std::set<std::string> previous) {
    auto self = shared_from_this();
    AuthorizationFlow::Input input;
    input.upstream = upstream;
    input.server_url = server_url;
    input.challenge = std::move(challenge);
    input.previous_scopes = std::move(previous);
    input.stored = stored;
    AuthorizationFlow flow(options, fetch, &agent, clock, std::move(input));
    flow.on_step = [this, &flow](FlowStep step) {
      if (step == FlowStep::kAwaitRedirect) {
        status.state = AuthStatus::State::kNeedsAuth;
        status.authorization_url = flow.authorizationUrl();
        publish();
      }
    };
    auto result = co_await flow.run();
    status.authorization_url.clear();
    if (!result) {
      status.state = AuthStatus::State::kFailed;
      status.error = result.error().message;
      log::warn("oauth {}: authorization failed: {}", upstream, result.error().message);
      publish();
      co_return std::unexpected(result.error());
    }
    StoredAuth entry;
    entry.upstream = upstream;
    entry.issuer = result->discovery.as.issuer;
    entry.resource = result->discovery.resource;
    entry.token_endpoint = result->discovery.as.token_endpoint;
    entry.client = result->client;
    entry.tokens = std::move(result->tokens);
    as = result->discovery.as;
    current = std::move(entry);
    stored.insert(stored.begin(), *current);
    status.state = AuthStatus::State::kAuthorized;
    status.error.clear();
    log::info("oauth {}: authorized by {} (scope \"{}\")", upstream, current->issuer,
              current->tokens->scope);
    publish();
    co_await persist();
    co_return Result<void>{};
  }

  asio::awaitable<Result<void>> refresh() {
    auto self = shared_from_this();
    if (!current || !current->tokens || current->tokens->refresh_token.empty()) {
      co_return failure(ErrorCode::kUnavailable, "no refresh token");
    }
    ClientRegistration client = current->client;
    if (client.client_id.empty()) {
      client.client_id = options.client_id;
      client.client_secret = options.client_secret;
      client.source = "config";
    }
    if (client.token_endpoint_auth_method.empty()) {
      client.token_endpoint_auth_method = chooseTokenEndpointAuthMethod(options, client, as);
    }
    std::vector<std::pair<std::string, std::string>> fields = {
        {"grant_type", "refresh_token"},
        {"refresh_token", current->tokens->refresh_token.reveal()},
        {"resource", current->resource}};
    Wire wire{options, fetch, clock};
    std::string endpoint = current->token_endpoint;
    std::string issuer = current->issuer;
    std::string scope = current->tokens->scope;
    AuthServerMetadata metadata = as;
    auto tokens =
        co_await wire.tokenRequest(endpoint, issuer, metadata, client, std::move(fields), scope);
    if (!tokens) {
      log::info("oauth {}: refresh failed: {}", upstream, tokens.error().message);
      co_return std::unexpected(tokens.error());
    }
    if (!current) co_return failure(ErrorCode::kCancelled, "logged out meanwhile");
    // Refresh-token rotation: keep the old one only when the AS did not send a new one.
    if (tokens->refresh_token.empty()) tokens->refresh_token = current->tokens->refresh_token;
    current->tokens = std::move(*tokens);
    status.state = AuthStatus::State::kAuthorized;
    log::debug("oauth {}: access token refreshed", upstream);
    publish();
    co_await persist();
    co_return Result<void>{};
  }

  bool expiresSoon() const {
    if (!current || !current->tokens) return true;
    auto at = current->tokens->expires_at;
    if (at.time_since_epoch().count() == 0) return false;  // unknown: use until a 401
    return clock() + options.refresh_margin >= at;
  }
};

OAuthClient::OAuthClient(asio::any_io_executor executor, std::string upstream,
                         std::string server_url, OAuthClientOptions options, net::Fetch fetch,
                         std::shared_ptr<TokenStorage> storage, UserAgent agent, Clock clock)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(upstream), std::move(server_url),
                                   std::move(options), std::move(fetch), std::move(storage),
                                   std::move(agent), std::move(clock))) {
  impl_->on_status = &on_status;
}

OAuthClient::~OAuthClient() {
  impl_->on_status = nullptr;
}

asio::awaitable<Result<void>> OAuthClient::restore() {
  auto impl = impl_;
  if (!impl->storage) co_return Result<void>{};
  auto entries = co_await impl->storage->load(impl->upstream);
  if (!entries) co_return std::unexpected(entries.error());
  impl->stored = *entries;
  for (auto& entry : *entries) {
    if (entry.tokens && !entry.tokens->access_token.empty() &&
        resourceCovers(entry.resource, impl->server_url)) {
      impl->current = std::move(entry);
      impl->status.state = AuthStatus::State::kAuthorized;
      impl->publish();
      break;
    }
  }
  co_return Result<void>{};
}

asio::awaitable<std::optional<Secret>> OAuthClient::authorization() {
  auto impl = impl_;
  if (!impl->current || !impl->current->tokens) co_return std::nullopt;
  if (impl->expiresSoon()) {
    if (impl->current->tokens->refresh_token.empty()) {
      if (impl->current->tokens->expires_at <= impl->clock()) co_return std::nullopt;
    } else {
      auto refreshed = co_await impl->sharedRefresh();
      if (!refreshed && (!impl->current || !impl->current->tokens ||
                         impl->current->tokens->expires_at <= impl->clock())) {
        co_return std::nullopt;
      }
    }
  }
  if (!impl->current || !impl->current->tokens) co_return std::nullopt;
  co_return Secret("Bearer " + impl->current->tokens->access_token.reveal());
}

asio::awaitable<bool> OAuthClient::onChallenge(unsigned status,
                                               std::vector<std::string> www_authenticate) {
  auto impl = impl_;
  auto challenge = findBearerChallenge(www_authenticate);
  if (status == 401) {
    if (impl->current && impl->current->tokens && !impl->current->tokens->refresh_token.empty()) {
      const std::string before = impl->current->tokens->access_token.reveal();
      auto refreshed = co_await impl->sharedRefresh();
      if (refreshed && impl->current && impl->current->tokens &&
          impl->current->tokens->access_token.reveal() != before) {
        co_return true;
      }
    }
    if (impl->auto_login_spent) co_return false;
    impl->auto_login_spent = true;
    std::set<std::string> previous;
    auto result = co_await impl->sharedFlow(challenge, previous);
    if (result) impl->auto_login_spent = false;  // a later expiry may log in once more
    co_return result.has_value();
  }
  if (status == 403 && challenge && challenge->error == "insufficient_scope") {
    if (impl->step_ups >= impl->options.max_step_up) {
      log::warn("oauth {}: still insufficient scope after {} authorizations; giving up",
                impl->upstream, impl->step_ups);
      co_return false;
    }
    std::set<std::string> granted;
    if (impl->current && impl->current->tokens) granted = splitScopes(impl->current->tokens->scope);
    auto needed = splitScopes(challenge->scope);
    if (!needed.empty() &&
        std::includes(granted.begin(), granted.end(), needed.begin(), needed.end())) {
      // We already hold what the server asks for: a new authorization would not change that.
      co_return false;
    }
    ++impl->step_ups;
    log::info("oauth {}: the server needs scope \"{}\"; authorizing again (step-up {})",
              impl->upstream, challenge->scope, impl->step_ups);
    auto result = co_await impl->sharedFlow(challenge, granted);
    co_return result.has_value();
  }
  co_return false;
}

void OAuthClient::onAuthorizedResponse() {
  impl_->step_ups = 0;
}

asio::awaitable<Result<void>> OAuthClient::login(std::optional<BearerChallenge> challenge) {
  auto impl = impl_;
  impl->auto_login_spent = false;
  impl->step_ups = 0;
  std::set<std::string> previous;
  co_return co_await impl->sharedFlow(std::move(challenge), std::move(previous));
}

asio::awaitable<Result<void>> OAuthClient::logout() {
  auto impl = impl_;
  impl->current.reset();
  impl->stored.clear();
  impl->status = AuthStatus{};
  impl->publish();
  if (!impl->storage) co_return Result<void>{};
  co_return co_await impl->storage->erase(impl->upstream, "");
}

const AuthStatus& OAuthClient::status() const {
  return impl_->status;
}

}  // namespace mcpproxy::auth
