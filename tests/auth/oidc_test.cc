// Both OAuth roles against a real authorization server: oidc-provider (tests/auth/oidc-server.mjs,
// pinned in tests/auth/package.json) started on loopback by the test.
//
// Resource server: real JWT access tokens (RFC 9068, resource indicators) of every algorithm are
// accepted; a token for another audience, expired, with a broken signature, from an issuer we do
// not trust, re-signed as `alg: none`, or lacking a scope is refused with the right status and
// header; a JWKS rotation is picked up; an opaque token is introspected.
// Client: a full authorization-code + PKCE S256 flow with dynamic client registration, the
// redirect received on a real loopback listener, the login/consent pages walked with plain HTTP
// requests (cookies kept, as a browser would); the token it obtains is then accepted by the
// resource server above (the audience is the resource we asked for).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <map>

#include "../unit/auth_test_util.h"
#include "auth/loopback_redirect.h"
#include "auth/metadata.h"
#include "auth/oauth_client.h"
#include "auth/redirect.h"
#include "auth/resource_server.h"
#include "auth/token_store.h"
#include "net/http_client.h"
#include "net/loopback_listener.h"

extern char** environ;

namespace mcpproxy::auth {
namespace {

using namespace testing;

// The authorization server process, shared by every test of this binary.
struct AuthServerProcess {
  pid_t pid = -1;
  int stdin_fd = -1;
  std::string issuer;

  bool start(std::string& error) {
    const char* node = std::getenv("NODE22");
    std::string script = std::string(MCPPROXY_SOURCE_DIR) + "/tests/auth/oidc-server.mjs";
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::string node_path = node ? node : "node";
    char* argv[] = {node_path.data(), script.data(), nullptr};
    int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_fd = in[1];
    if (rc != 0) {
      error = "cannot start " + node_path;
      return false;
    }
    std::string line;
    pollfd p{out[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos) {
      if (::poll(&p, 1, 30'000) <= 0) break;
      char buffer[512];
      ssize_t n = ::read(out[0], buffer, sizeof buffer);
      if (n <= 0) break;
      line.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    try {
      issuer =
          std::string(boost::json::parse(line.substr(0, line.find('\n'))).at("issuer").as_string());
    } catch (...) {
      error = "the authorization server did not start (output: " + line + ")";
      return false;
    }
    return true;
  }
  void stop() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
      pid = -1;
    }
    if (stdin_fd >= 0) ::close(stdin_fd);
    stdin_fd = -1;
  }
};

AuthServerProcess* g_as = nullptr;

class Oidc : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    g_as = new AuthServerProcess;
    std::string error;
    if (!g_as->start(error)) {
      start_error_ = error.empty() ? "cannot start the authorization server" : error;
    }
  }
  static void TearDownTestSuite() {
    g_as->stop();
    delete g_as;
    g_as = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(start_error_.empty()) << start_error_; }

  net::HttpClient& http() { return http_; }

  // A client_credentials token for `resource` from the real AS.
  std::string token(const std::string& resource, const std::string& scope = "mcp:read") {
    net::HttpRequest request;
    request.method = "POST";
    request.url = g_as->issuer + "/token";
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                       {"Authorization", "Basic " + base64Encode("m2m:m2m-secret")}};
    request.body = net::formEncode(
        {{"grant_type", "client_credentials"}, {"resource", resource}, {"scope", scope}});
    auto response = runAsync(io_, http_.send(std::move(request)));
    EXPECT_TRUE(response) << (response ? "" : response.error().message);
    if (!response) return "";
    EXPECT_EQ(response->status, 200u) << response->body;
    auto body = boost::json::parse(response->body).as_object();
    return std::string(body.at("access_token").as_string());
  }

  ResourceServerOptions options(const std::string& audience) {
    ResourceServerOptions o;
    o.issuer = g_as->issuer;
    o.audience = audience;
    o.resource_metadata_url = audience + "/.well-known/oauth-protected-resource";
    o.required_scopes = {"mcp:read"};
    o.leeway = std::chrono::seconds(5);
    o.jwks_refresh_min_interval = std::chrono::milliseconds(0);
    return o;
  }

  AuthDecision check(ResourceServer& server, const std::string& token,
                     std::set<std::string> needed = {}) {
    return runAsync(io_, server.authenticate("Bearer " + token, std::move(needed)));
  }

  asio::io_context io_;
  net::HttpClient http_{io_.get_executor()};
  static inline std::string start_error_;
};

TEST_F(Oidc, AcceptsRealTokensOfEveryAlgorithm) {
  for (std::string alg : {"rs256", "es256", "eddsa"}) {
    std::string resource = "https://mcp.test/" + alg;
    ResourceServer server(io_.get_executor(), options(resource), http_.fetcher());
    std::string t = token(resource);
    auto jwt = decodeJwt(t);
    ASSERT_TRUE(jwt);
    EXPECT_EQ(jwt->typ, "at+jwt");
    auto decision = check(server, t);
    EXPECT_TRUE(decision.allowed) << alg << ": " << decision.body;
    EXPECT_EQ(decision.principal.claims.client_id, "m2m");
  }
}

TEST_F(Oidc, RefusesWrongAudienceExpiredForgedForeignAndNone) {
  const std::string resource = "https://mcp.test/es256";
  ResourceServer server(io_.get_executor(), options(resource), http_.fetcher());
  std::string good = token(resource);
  ASSERT_TRUE(check(server, good).allowed);

  // Audience: a token the same AS issued for another resource.
  auto wrong_aud = check(server, token("https://other.test/es256"));
  EXPECT_EQ(wrong_aud.status, 401u);
  EXPECT_NE(wrong_aud.www_authenticate.find("error=\"invalid_token\""), std::string::npos);
  EXPECT_NE(
      wrong_aud.www_authenticate.find(
          "resource_metadata=\"https://mcp.test/es256/.well-known/oauth-protected-resource\""),
      std::string::npos);

  // Expired: the same token, seen two hours later.
  auto later = [] { return std::chrono::system_clock::now() + std::chrono::hours(2); };
  ResourceServer future_server(io_.get_executor(), options(resource), http_.fetcher(), later);
  auto expired = check(future_server, good);
  EXPECT_EQ(expired.status, 401u);
  EXPECT_NE(expired.body.find("expired"), std::string::npos);

  // Bad signature: one byte of the signature changed.
  std::string forged = good;
  std::size_t at = forged.rfind('.') + 5;
  forged[at] = forged[at] == 'A' ? 'B' : 'A';
  EXPECT_EQ(check(server, forged).status, 401u);

  // alg none: the real header and claims, re-encoded without a signature.
  auto jwt = decodeJwt(good);
  ASSERT_TRUE(jwt);
  jwt->header["alg"] = "none";
  std::string none = base64UrlEncode(boost::json::serialize(jwt->header)) + "." +
                     base64UrlEncode(boost::json::serialize(jwt->claims)) + ".";
  EXPECT_EQ(check(server, none).status, 401u);

  // Unknown issuer: a proxy configured for another AS refuses this one's tokens.
  auto foreign = options(resource);
  foreign.issuer = "https://as.other.test";
  foreign.jwks_uri = g_as->issuer + "/jwks";
  ResourceServer other(io_.get_executor(), foreign, http_.fetcher());
  EXPECT_EQ(check(other, good).status, 401u);

  // Missing scope: 403 naming the scopes the request needs.
  auto weak = check(server, good, {"mcp:destructive"});
  EXPECT_EQ(weak.status, 403u);
  EXPECT_NE(weak.www_authenticate.find("error=\"insufficient_scope\""), std::string::npos);
  EXPECT_NE(weak.www_authenticate.find("scope=\"mcp:destructive mcp:read\""), std::string::npos);
  EXPECT_TRUE(
      check(server, token(resource, "mcp:read mcp:destructive"), {"mcp:destructive"}).allowed);
}

TEST_F(Oidc, PicksUpJwksRotation) {
  const std::string resource = "https://mcp.test/rs256";
  ResourceServer server(io_.get_executor(), options(resource), http_.fetcher());
  std::string before = token(resource);
  ASSERT_TRUE(check(server, before).allowed);
  EXPECT_EQ(server.validator().jwksFetches(), 1u);

  net::HttpRequest rotate;
  rotate.method = "POST";
  rotate.url = g_as->issuer + "/admin/rotate";
  auto rotated = runAsync(io_, http_.send(std::move(rotate)));
  ASSERT_TRUE(rotated && rotated->status == 200);

  std::string after = token(resource);
  ASSERT_NE(decodeJwt(after)->kid, decodeJwt(before)->kid);
  auto decision = check(server, after);
  EXPECT_TRUE(decision.allowed) << decision.body;
  EXPECT_EQ(server.validator().jwksFetches(), 2u);  // the unknown kid refreshed the JWKS once
  EXPECT_EQ(check(server, before).status, 401u);    // the retired key is gone from the new set
}

TEST_F(Oidc, IntrospectsOpaqueTokens) {
  const std::string resource = "https://mcp.test/opaque";
  auto o = options(resource);
  o.introspection_endpoint = g_as->issuer + "/token/introspection";
  o.introspection_client_id = "m2m";
  o.introspection_client_secret = Secret("m2m-secret");
  ResourceServer server(io_.get_executor(), o, http_.fetcher());
  std::string opaque = token(resource);
  ASSERT_EQ(std::count(opaque.begin(), opaque.end(), '.'), 0) << "expected an opaque token";
  auto decision = check(server, opaque);
  EXPECT_TRUE(decision.allowed) << decision.body;
  EXPECT_TRUE(decision.principal.introspected);
  EXPECT_EQ(check(server, "not-a-token-the-as-issued").status, 401u);
}

// Walks the authorization server's pages like a browser: follows redirects, keeps cookies, and
// stops at the redirect URI, which it requests (that is what delivers the code to the proxy).
asio::awaitable<void> browse(net::HttpClient& http, std::string url, std::string redirect_prefix,
                             std::string* trail) {
  std::map<std::string, std::string> cookies;
  for (int hop = 0; hop < 20; ++hop) {
    net::HttpRequest request;
    request.url = url;
    std::string cookie;
    for (const auto& [name, value] : cookies)
      cookie += (cookie.empty() ? "" : "; ") + name + "=" + value;
    if (!cookie.empty()) request.headers.emplace_back("Cookie", cookie);
    auto response = co_await http.send(std::move(request));
    if (!response) {
      *trail += " error:" + response.error().message;
      co_return;
    }
    *trail += " " + std::to_string(response->status);
    if (url.starts_with(redirect_prefix)) co_return;
    for (const auto& value : response->headerValues("set-cookie")) {
      auto pair = value.substr(0, value.find(';'));
      auto eq = pair.find('=');
      if (eq != std::string::npos) cookies[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
    auto location = response->header("location");
    if (!location) co_return;
    auto base = boost::urls::parse_uri(url);
    auto ref = boost::urls::parse_uri_reference(*location);
    boost::urls::url next;
    if (!base || !ref || !boost::urls::resolve(*base, *ref, next)) co_return;
    url = std::string(next.buffer());
  }
}

TEST_F(Oidc, ClientRunsAuthorizationCodeWithPkceAndDcr) {
  // The protected MCP server: a loopback listener publishing its PRM (path form).
  std::string server_url;
  auto mcp = net::LoopbackListener::open(
      io_.get_executor(), 0, [&](std::string_view path, std::string_view) {
        if (path == "/.well-known/oauth-protected-resource/mcp") {
          boost::json::object prm;
          prm["resource"] = server_url;
          prm["authorization_servers"] = boost::json::array{boost::json::string(g_as->issuer)};
          prm["scopes_supported"] = boost::json::array{"mcp:read", "mcp:write"};
          return std::pair<unsigned, std::string>(200, boost::json::serialize(prm));
        }
        return std::pair<unsigned, std::string>(404, "");
      });
  ASSERT_TRUE(mcp);
  server_url = (*mcp)->baseUrl() + "/mcp";

  // The proxy's redirect receiver of --stdio mode: a one-shot loopback listener + RedirectHub.
  std::string trail;
  std::string opened;
  std::string redirect_uri;
  auto redirect = LoopbackRedirect::open(
      io_.get_executor(), std::chrono::seconds(30), [&](const std::string& url) -> Result<void> {
        opened = url;
        asio::co_spawn(io_, browse(http_, url, redirect_uri, &trail), asio::detached);
        return {};
      });
  ASSERT_TRUE(redirect) << redirect.error().message;
  redirect_uri = (*redirect)->redirectUri();
  EXPECT_TRUE(redirect_uri.starts_with("http://127.0.0.1:"));
  const UserAgent& agent = (*redirect)->agent();
  auto store = std::make_shared<MemoryTokenStore>();
  OAuthClient client(io_.get_executor(), "local", server_url, {}, http_.fetcher(), store, agent);

  // What the MCP server would answer to our first, unauthenticated request.
  std::string challenge = buildBearerChallenge(
      server_url.substr(0, server_url.size() - 4) + "/.well-known/oauth-protected-resource/mcp", "",
      "mcp:read");
  bool retry = runAsync(io_, client.onChallenge(401, {challenge}));
  ASSERT_TRUE(retry) << client.status().error << " | browser:" << trail;
  EXPECT_EQ(client.status().state, AuthStatus::State::kAuthorized);
  EXPECT_EQ(client.status().issuer, g_as->issuer);
  EXPECT_NE(opened.find("code_challenge_method=S256"), std::string::npos);
  EXPECT_NE(opened.find("resource="), std::string::npos);
  EXPECT_NE(opened.find("scope=mcp%3Aread"), std::string::npos);

  auto header = runAsync(io_, client.authorization());
  ASSERT_TRUE(header);
  std::string access = header->reveal().substr(7);
  auto jwt = decodeJwt(access);
  ASSERT_TRUE(jwt) << "expected a JWT access token";
  EXPECT_EQ(jwt->claims.at("aud").as_string(), server_url);
  EXPECT_EQ(jwt->claims.at("sub").as_string(), "alice");

  // The token the client obtained is what the resource server accepts for this resource, and
  // nothing else.
  ResourceServer server(io_.get_executor(), options(server_url), http_.fetcher());
  auto decision = check(server, access);
  EXPECT_TRUE(decision.allowed) << decision.body;
  ResourceServer elsewhere(io_.get_executor(), options("https://mcp.test/rs256"), http_.fetcher());
  EXPECT_EQ(check(elsewhere, access).status, 401u);

  // A refresh token came too (DCR asked for the refresh_token grant): a 401 refreshes without a
  // browser and gives a new, valid token.
  ASSERT_TRUE(client.status().has_refresh_token);
  auto opened_before = opened;
  {
    auto refreshed = runAsync(io_, client.onChallenge(401, {R"(Bearer error="invalid_token")"}));
    EXPECT_TRUE(refreshed);
    auto again = runAsync(io_, client.authorization());
    ASSERT_TRUE(again);
    EXPECT_NE(again->reveal(), header->reveal());
    EXPECT_TRUE(check(server, again->reveal().substr(7)).allowed);
    EXPECT_EQ(opened, opened_before);  // no second browser round
  }
}

}  // namespace
}  // namespace mcpproxy::auth
