// The two OAuth roles with fakes at the network seam (net::Fetch) and the browser seam
// (UserAgent): the resource server's validation, JWKS caching and rotation, challenges and PRM;
// the client's discovery orders, registration choices, PKCE, state and iss checks, scope
// selection, refresh and step-up; the encrypted token store; the redirect hub.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>

#include "auth/oauth_client.h"
#include "auth/redirect.h"
#include "auth/resource_server.h"
#include "auth/token_store.h"
#include "auth_test_util.h"

namespace mcpproxy::auth {
namespace {

using namespace testing;
namespace fs = std::filesystem;

constexpr const char* kIssuer = "https://as.example";
constexpr const char* kResource = "http://127.0.0.1:8080/mcp";

// --- resource server ---

class ResourceServerTest : public ::testing::Test {
 protected:
  ResourceServerTest() {
    net_.json("GET", std::string(kIssuer) + "/.well-known/oauth-authorization-server",
              R"({"issuer":"https://as.example","jwks_uri":"https://as.example/jwks"})");
    net_.on("GET", std::string(kIssuer) + "/jwks", [this](const net::HttpRequest&) {
      net::HttpResponse r;
      r.status = 200;
      r.body = jwks_;
      return r;
    });
    jwks_ = jwks({&es_, &ed_});
  }

  ResourceServerOptions options() {
    ResourceServerOptions o;
    o.issuer = kIssuer;
    o.audience = kResource;
    o.resource_metadata_url = "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp";
    o.scopes_supported = {"mcp:read", "mcp:write", "mcp:destructive"};
    o.required_scopes = {"mcp:read"};
    o.leeway = std::chrono::seconds(5);
    o.jwks_refresh_min_interval = std::chrono::milliseconds(60'000);
    return o;
  }
  json::object claims(std::string scope = "mcp:read") {
    json::object c;
    c["iss"] = kIssuer;
    c["aud"] = kResource;
    c["sub"] = "alice";
    c["client_id"] = "app";
    c["exp"] = nowSeconds() + 300;
    c["iat"] = nowSeconds();
    c["jti"] = "1";
    c["scope"] = scope;
    return c;
  }
  AuthDecision authenticate(ResourceServer& server, std::optional<std::string> header,
                            std::set<std::string> needed = {}) {
    return runAsync(io_, server.authenticate(std::move(header), std::move(needed)));
  }

  asio::io_context io_;
  FakeNet net_;
  TestKey es_ = makeKey(JwsAlg::kES256, "es");
  TestKey ed_ = makeKey(JwsAlg::kEdDSA, "ed");
  TestKey rsa_ = makeKey(JwsAlg::kRS256, "rsa-new");
  std::string jwks_;
};

TEST_F(ResourceServerTest, AcceptsValidTokensAndCachesTheJwks) {
  ResourceServer server(io_.get_executor(), options(), net_.fetch());
  auto ok = authenticate(server, "Bearer " + mint(es_, claims()));
  EXPECT_TRUE(ok.allowed) << ok.body;
  EXPECT_EQ(ok.principal.claims.subject, "alice");
  EXPECT_TRUE(authenticate(server, "bearer " + mint(ed_, claims())).allowed);
  EXPECT_EQ(net_.count("GET", std::string(kIssuer) + "/jwks"), 1u);
  EXPECT_EQ(net_.count("GET", std::string(kIssuer) + "/.well-known/oauth-authorization-server"),
            1u);
}

TEST_F(ResourceServerTest, AnswersWithTheSpecsChallenges) {
  ResourceServer server(io_.get_executor(), options(), net_.fetch());
  auto missing = authenticate(server, std::nullopt);
  EXPECT_FALSE(missing.allowed);
  EXPECT_EQ(missing.status, 401u);
  EXPECT_EQ(
      missing.www_authenticate,
      R"(Bearer resource_metadata="http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp", scope="mcp:read")");

  auto basic = authenticate(server, "Basic dXNlcjpwYXNz");
  EXPECT_EQ(basic.status, 401u);
  EXPECT_NE(basic.www_authenticate.find(R"(error="invalid_token")"), std::string::npos);

  auto c = claims();
  c["aud"] = "https://other.example/mcp";
  auto wrong_aud = authenticate(server, "Bearer " + mint(es_, c));
  EXPECT_EQ(wrong_aud.status, 401u);
  EXPECT_NE(wrong_aud.www_authenticate.find(R"(error="invalid_token")"), std::string::npos);
  EXPECT_NE(wrong_aud.body.find("aud"), std::string::npos);

  auto weak = authenticate(server, "Bearer " + mint(es_, claims("mcp:read")), {"mcp:destructive"});
  EXPECT_EQ(weak.status, 403u);
  EXPECT_EQ(
      weak.www_authenticate,
      R"(Bearer resource_metadata="http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp", error="insufficient_scope", error_description="the token lacks a scope this request needs", scope="mcp:destructive mcp:read")");
  auto no_required = authenticate(server, "Bearer " + mint(es_, claims("other")));
  EXPECT_EQ(no_required.status, 403u);

  auto principal = authenticate(server, "Bearer " + mint(es_, claims("mcp:read mcp:write")));
  ASSERT_TRUE(principal.allowed);
  EXPECT_TRUE(server.requireScopes(principal.principal, {"mcp:write"}).allowed);
  EXPECT_EQ(server.requireScopes(principal.principal, {"mcp:destructive"}).status, 403u);

  EXPECT_EQ(
      server.protectedResourceMetadata(),
      R"({"resource":"http://127.0.0.1:8080/mcp","authorization_servers":["https://as.example"],"scopes_supported":["mcp:read","mcp:write","mcp:destructive"],"bearer_methods_supported":["header"],"resource_name":"mcpproxy"})");
}

TEST_F(ResourceServerTest, RefusesForgedAndForeignTokens) {
  ResourceServer server(io_.get_executor(), options(), net_.fetch());
  // Signed by a key the issuer does not publish, under a published kid.
  auto impostor = makeKey(JwsAlg::kES256, "es");
  EXPECT_EQ(authenticate(server, "Bearer " + mint(impostor, claims())).status, 401u);
  // alg none with real-looking claims.
  std::string none = base64UrlEncode(R"({"alg":"none","kid":"es","typ":"at+jwt"})") + "." +
                     base64UrlEncode(json::serialize(claims())) + ".";
  EXPECT_EQ(authenticate(server, "Bearer " + none).status, 401u);
  // Expired.
  auto c = claims();
  c["exp"] = nowSeconds() - 60;
  EXPECT_EQ(authenticate(server, "Bearer " + mint(es_, c)).status, 401u);
  // Another issuer.
  c = claims();
  c["iss"] = "https://evil.example";
  EXPECT_EQ(authenticate(server, "Bearer " + mint(es_, c)).status, 401u);
  // Opaque token without introspection.
  EXPECT_EQ(authenticate(server, "Bearer opaque-token").status, 401u);
  // None of these needed more than the one JWKS fetch (strangers' tokens fail before it).
  EXPECT_LE(net_.count("GET", std::string(kIssuer) + "/jwks"), 2u);
}

TEST_F(ResourceServerTest, PicksUpRotatedKeysWithARateLimit) {
  ResourceServer server(io_.get_executor(), options(), net_.fetch());
  ASSERT_TRUE(authenticate(server, "Bearer " + mint(es_, claims())).allowed);
  EXPECT_EQ(server.validator().jwksFetches(), 1u);
  // The issuer rotates: the new key was unknown, so the first token refreshes the JWKS... but
  // only after the rate limit allows it.
  jwks_ = jwks({&rsa_, &ed_});
  auto blocked = authenticate(server, "Bearer " + mint(rsa_, claims()));
  EXPECT_EQ(blocked.status, 401u);  // the fetch just happened: no refresh yet
  EXPECT_EQ(server.validator().jwksFetches(), 1u);

  auto o = options();
  o.jwks_refresh_min_interval = std::chrono::milliseconds(0);
  ResourceServer eager(io_.get_executor(), o, net_.fetch());
  jwks_ = jwks({&es_, &ed_});
  ASSERT_TRUE(authenticate(eager, "Bearer " + mint(es_, claims())).allowed);
  jwks_ = jwks({&rsa_, &ed_});
  EXPECT_TRUE(authenticate(eager, "Bearer " + mint(rsa_, claims())).allowed);
  EXPECT_EQ(eager.validator().jwksFetches(), 2u);
  // The removed key no longer verifies once the set was reloaded.
  EXPECT_EQ(authenticate(eager, "Bearer " + mint(es_, claims())).status, 401u);
}

TEST_F(ResourceServerTest, ConcurrentValidationsShareOneJwksFetch) {
  ResourceServer server(io_.get_executor(), options(), net_.fetch());
  std::string token = "Bearer " + mint(es_, claims());
  std::vector<std::future<AuthDecision>> results;
  for (int i = 0; i < 5; ++i) {
    results.push_back(asio::co_spawn(io_, server.authenticate(token, {}), asio::use_future));
  }
  io_.restart();
  io_.run();
  for (auto& r : results) EXPECT_TRUE(r.get().allowed);
  EXPECT_EQ(server.validator().jwksFetches(), 1u);
}

TEST_F(ResourceServerTest, UnreachableIssuerIs503NotAFalseAccept) {
  auto o = options();
  o.jwks_uri = "https://as.example/missing";
  ResourceServer server(io_.get_executor(), o, net_.fetch());
  auto decision = authenticate(server, "Bearer " + mint(es_, claims()));
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.status, 503u);
}

TEST_F(ResourceServerTest, IntrospectsOpaqueTokens) {
  auto o = options();
  o.introspection_endpoint = "https://as.example/introspect";
  o.introspection_client_id = "proxy";
  o.introspection_client_secret = Secret("s3cret");
  net_.on("POST", "https://as.example/introspect", [](const net::HttpRequest& r) {
    net::HttpResponse res;
    res.status = 200;
    std::string token = formValue(r.body, "token");
    if (token == "good" && header(r, "Authorization") == "Basic " + base64Encode("proxy:s3cret")) {
      res.body =
          R"({"active":true,"iss":"https://as.example","aud":"http://127.0.0.1:8080/mcp","scope":"mcp:read","sub":"bob","exp":)" +
          std::to_string(nowSeconds() + 100) + "}";
    } else if (token == "elsewhere") {
      res.body = R"({"active":true,"aud":"https://other/mcp","exp":)" +
                 std::to_string(nowSeconds() + 100) + "}";
    } else {
      res.body = R"({"active":false})";
    }
    return res;
  });
  ResourceServer server(io_.get_executor(), o, net_.fetch());
  auto good = authenticate(server, "Bearer good");
  ASSERT_TRUE(good.allowed) << good.body;
  EXPECT_TRUE(good.principal.introspected);
  EXPECT_EQ(good.principal.claims.subject, "bob");
  EXPECT_EQ(authenticate(server, "Bearer revoked").status, 401u);
  EXPECT_EQ(authenticate(server, "Bearer elsewhere").status, 401u);
}

// --- client ---

// A fake authorization server + protected resource at https://mcp.example/mcp.
struct FakeAs {
  FakeNet net;
  std::string issuer = "https://auth.example";
  std::string challenge_seen;  // code_challenge of the last authorization request
  std::string last_authorize_url;
  std::vector<std::string> authorize_scopes;
  json::object metadata;
  bool send_iss = true;
  std::string iss_override;
  int token_requests = 0;
  int expires_in = 3600;
  int opens = 0;
  std::string grant_override;  // scope the token answer reports (default: what was asked)

  FakeAs() {
    metadata["issuer"] = issuer;
    metadata["authorization_endpoint"] = issuer + "/authorize";
    metadata["token_endpoint"] = issuer + "/token";
    metadata["registration_endpoint"] = issuer + "/register";
    metadata["code_challenge_methods_supported"] = json::array{"S256"};
    metadata["authorization_response_iss_parameter_supported"] = true;
    net.json(
        "GET", "https://mcp.example/.well-known/oauth-protected-resource/mcp",
        R"({"resource":"https://mcp.example/mcp","authorization_servers":["https://auth.example"],"scopes_supported":["files:read","files:write"]})");
    net.on("GET", issuer + "/.well-known/oauth-authorization-server",
           [this](const net::HttpRequest&) {
             net::HttpResponse r;
             r.status = 200;
             r.body = json::serialize(metadata);
             return r;
           });
    net.json("POST", issuer + "/register",
             R"({"client_id":"dcr-client","token_endpoint_auth_method":"none"})", 201);
    net.on("POST", issuer + "/token", [this](const net::HttpRequest& r) {
      ++token_requests;
      net::HttpResponse res;
      res.status = 200;
      std::string grant = formValue(r.body, "grant_type");
      if (grant == "authorization_code") {
        if (formValue(r.body, "code") != "the-code" ||
            sha256Base64Url(formValue(r.body, "code_verifier")) != challenge_seen ||
            formValue(r.body, "resource") != "https://mcp.example/mcp") {
          res.status = 400;
          res.body = R"({"error":"invalid_grant"})";
          return res;
        }
      } else if (grant == "refresh_token") {
        if (formValue(r.body, "refresh_token").rfind("refresh-", 0) != 0) {
          res.status = 400;
          res.body = R"({"error":"invalid_grant"})";
          return res;
        }
      }
      res.body = R"({"access_token":"access-)" + std::to_string(token_requests) +
                 R"(","token_type":"Bearer","expires_in":)" + std::to_string(expires_in) +
                 R"(,"refresh_token":"refresh-)" + std::to_string(token_requests) +
                 R"(","scope":")" +
                 (!grant_override.empty()    ? grant_override
                  : authorize_scopes.empty() ? std::string()
                                             : authorize_scopes.back()) +
                 R"("})";
      return res;
    });
  }

  // The browser: the AS approves at once and redirects with code, state and iss.
  UserAgent agent() {
    UserAgent a;
    a.redirect_uri = "http://127.0.0.1:8080/oauth/callback";
    a.open_browser = [this](const std::string& url) -> Result<void> {
      last_authorize_url = url;
      ++opens;
      auto q = net::parseQuery(url.substr(url.find('?') + 1));
      for (auto& [k, v] : q) {
        if (k == "code_challenge") challenge_seen = v;
        if (k == "scope") authorize_scopes.push_back(v);
        if (k == "state") state = v;
      }
      return {};
    };
    a.wait_for_redirect = [this](std::string expected) -> asio::awaitable<Result<RedirectResult>> {
      RedirectResult r;
      r.code = "the-code";
      r.state = state_override.empty() ? state : state_override;
      if (send_iss) r.iss = iss_override.empty() ? issuer : iss_override;
      co_return r;
    };
    return a;
  }
  std::string state;
  std::string state_override;

  std::string param(const std::string& name) const {
    for (auto& [k, v] :
         net::parseQuery(last_authorize_url.substr(last_authorize_url.find('?') + 1))) {
      if (k == name) return v;
    }
    return "";
  }
};

class OAuthClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<OAuthClient> client(OAuthClientOptions options = {}) {
    return std::make_unique<OAuthClient>(io_.get_executor(), "files", "https://mcp.example/mcp",
                                         options, as_.net.fetch(), store_, as_.agent(),
                                         [this] { return now_; });
  }
  bool challenge(OAuthClient& c, unsigned status, std::string header) {
    return runAsync(io_, c.onChallenge(status, {header}));
  }
  std::optional<Secret> authorization(OAuthClient& c) { return runAsync(io_, c.authorization()); }

  asio::io_context io_;
  FakeAs as_;
  std::shared_ptr<MemoryTokenStore> store_ = std::make_shared<MemoryTokenStore>();
  std::chrono::system_clock::time_point now_ = std::chrono::system_clock::now();
};

TEST_F(OAuthClientTest, FullAuthorizationCodeFlowWithDcrAndPkce) {
  auto c = client();
  EXPECT_FALSE(authorization(*c));
  ASSERT_TRUE(challenge(*c, 401, R"(Bearer scope="files:read")"));
  EXPECT_EQ(authorization(*c)->reveal(), "Bearer access-1");
  EXPECT_EQ(c->status().state, AuthStatus::State::kAuthorized);
  EXPECT_EQ(c->status().issuer, "https://auth.example");

  // Discovery in the spec's order: the path-based PRM first, found there (no root request).
  EXPECT_EQ(as_.net.count("GET", "https://mcp.example/.well-known/oauth-protected-resource"), 0u);
  // The authorization request.
  EXPECT_EQ(as_.param("response_type"), "code");
  EXPECT_EQ(as_.param("client_id"), "dcr-client");
  EXPECT_EQ(as_.param("code_challenge_method"), "S256");
  EXPECT_EQ(as_.param("resource"), "https://mcp.example/mcp");
  EXPECT_EQ(as_.param("scope"), "files:read");  // the challenge's scope, exactly
  EXPECT_EQ(as_.param("redirect_uri"), "http://127.0.0.1:8080/oauth/callback");
  EXPECT_EQ(as_.state.size(), 32u);
  // DCR asked for a public client with refresh tokens.
  auto* reg = as_.net.last("POST", "https://auth.example/register");
  ASSERT_NE(reg, nullptr);
  auto body = json::parse(reg->body).as_object();
  EXPECT_EQ(body["token_endpoint_auth_method"].as_string(), "none");
  EXPECT_EQ(body["redirect_uris"].as_array()[0].as_string(),
            "http://127.0.0.1:8080/oauth/callback");
  // Token request: public client, resource, verifier (checked by the fake).
  auto* token = as_.net.last("POST", "https://auth.example/token");
  ASSERT_NE(token, nullptr);
  EXPECT_EQ(formValue(token->body, "client_id"), "dcr-client");
  EXPECT_EQ(header(*token, "Authorization"), "");
  // Stored per (upstream, issuer), with the DCR registration.
  auto stored = runAsync(io_, store_->load("files"));
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].issuer, "https://auth.example");
  EXPECT_EQ((*stored)[0].client.client_id, "dcr-client");
}

TEST_F(OAuthClientTest, RefreshesBeforeExpiryAndOn401) {
  auto c = client();
  ASSERT_TRUE(challenge(*c, 401, "Bearer"));
  EXPECT_EQ(authorization(*c)->reveal(), "Bearer access-1");
  now_ += std::chrono::seconds(3600 - 30);  // inside the refresh margin
  EXPECT_EQ(authorization(*c)->reveal(), "Bearer access-2");
  auto* refresh = as_.net.last("POST", "https://auth.example/token");
  EXPECT_EQ(formValue(refresh->body, "grant_type"), "refresh_token");
  EXPECT_EQ(formValue(refresh->body, "refresh_token"), "refresh-1");
  EXPECT_EQ(formValue(refresh->body, "resource"), "https://mcp.example/mcp");
  // The server revokes the token: a 401 refreshes again, without a browser.
  ASSERT_TRUE(challenge(*c, 401, R"(Bearer error="invalid_token")"));
  EXPECT_EQ(authorization(*c)->reveal(), "Bearer access-3");
  EXPECT_EQ(as_.opens, 1);
}

TEST_F(OAuthClientTest, RestoresStoredTokensForTheSameResourceOnly) {
  {
    auto c = client();
    ASSERT_TRUE(challenge(*c, 401, "Bearer"));
  }
  auto again = client();
  ASSERT_TRUE(runAsync(io_, again->restore()));
  EXPECT_EQ(authorization(*again)->reveal(), "Bearer access-1");
  OAuthClient other(io_.get_executor(), "files", "https://elsewhere.example/mcp", {},
                    as_.net.fetch(), store_, as_.agent());
  ASSERT_TRUE(runAsync(io_, other.restore()));
  EXPECT_FALSE(runAsync(io_, other.authorization()));
  ASSERT_TRUE(runAsync(io_, again->logout()));
  EXPECT_FALSE(authorization(*again));
  EXPECT_TRUE(runAsync(io_, store_->load("files"))->empty());
}

TEST_F(OAuthClientTest, StepUpUsesTheUnionOfScopesWithALimit) {
  auto c = client();
  ASSERT_TRUE(challenge(*c, 401, R"(Bearer scope="files:read")"));
  ASSERT_TRUE(challenge(*c, 403, R"(Bearer error="insufficient_scope", scope="files:write")"));
  EXPECT_EQ(as_.authorize_scopes.back(), "files:read files:write");
  // The server keeps asking for a scope the AS never grants: at most max_step_up tries.
  as_.grant_override = "files:read";  // the AS grants less than asked from now on
  int tries = 0;
  while (challenge(*c, 403, R"(Bearer error="insufficient_scope", scope="admin")") && tries < 10)
    ++tries;
  EXPECT_EQ(tries, 2);  // 1 step-up above + 2 = max_step_up (3)
  c->onAuthorizedResponse();
  EXPECT_TRUE(challenge(*c, 403, R"(Bearer error="insufficient_scope", scope="admin")"));
  // A 403 that is not about scope, and a 500, are not retried.
  EXPECT_FALSE(challenge(*c, 403, R"(Bearer error="invalid_token")"));
  EXPECT_FALSE(challenge(*c, 500, ""));
}

TEST_F(OAuthClientTest, StopsWhenTheTokenAlreadyHoldsTheScope) {
  auto c = client();
  ASSERT_TRUE(challenge(*c, 401, R"(Bearer scope="files:read")"));
  EXPECT_FALSE(challenge(*c, 403, R"(Bearer error="insufficient_scope", scope="files:read")"));
}

TEST_F(OAuthClientTest, OnlyOneAutomaticLoginAfterAFailure) {
  as_.net.json("POST", "https://auth.example/token", R"({"error":"access_denied"})", 400);
  auto c = client();
  EXPECT_FALSE(challenge(*c, 401, "Bearer"));
  EXPECT_EQ(c->status().state, AuthStatus::State::kFailed);
  EXPECT_NE(c->status().error.find("access_denied"), std::string::npos);
  EXPECT_EQ(as_.opens, 1);
  EXPECT_FALSE(challenge(*c, 401, "Bearer"));  // no second flow by itself
  EXPECT_EQ(as_.opens, 1);
  EXPECT_FALSE(runAsync(io_, c->login()));  // an explicit login does try again
  EXPECT_EQ(as_.opens, 2);
}

TEST_F(OAuthClientTest, RefusesUnsafeAuthorizationServers) {
  {
    FakeAs no_pkce;
    no_pkce.metadata.erase("code_challenge_methods_supported");
    OAuthClient c(io_.get_executor(), "files", "https://mcp.example/mcp", {}, no_pkce.net.fetch(),
                  store_, no_pkce.agent());
    auto r = runAsync(io_, c.login());
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("S256"), std::string::npos);
    EXPECT_TRUE(no_pkce.last_authorize_url.empty());
  }
  {
    FakeAs plain;
    plain.metadata["code_challenge_methods_supported"] = json::array{"plain"};
    OAuthClient c(io_.get_executor(), "files", "https://mcp.example/mcp", {}, plain.net.fetch(),
                  store_, plain.agent());
    EXPECT_FALSE(runAsync(io_, c.login()));
  }
  {
    FakeAs mixup;  // the metadata names another issuer
    mixup.metadata["issuer"] = "https://evil.example";
    OAuthClient c(io_.get_executor(), "files", "https://mcp.example/mcp", {}, mixup.net.fetch(),
                  store_, mixup.agent());
    EXPECT_FALSE(runAsync(io_, c.login()));
  }
  {
    FakeAs insecure;
    insecure.metadata["authorization_endpoint"] = "http://auth.example/authorize";
    OAuthClient c(io_.get_executor(), "files", "https://mcp.example/mcp", {}, insecure.net.fetch(),
                  store_, insecure.agent());
    EXPECT_FALSE(runAsync(io_, c.login()));
  }
  {
    FakeAs mismatch;
    mismatch.net.json(
        "GET", "https://mcp.example/.well-known/oauth-protected-resource/mcp",
        R"({"resource":"https://evil.example/mcp","authorization_servers":["https://auth.example"]})");
    OAuthClient c(io_.get_executor(), "files", "https://mcp.example/mcp", {}, mismatch.net.fetch(),
                  store_, mismatch.agent());
    auto r = runAsync(io_, c.login());
    ASSERT_FALSE(r);
    EXPECT_TRUE(mismatch.last_authorize_url.empty());
  }
}

TEST_F(OAuthClientTest, ChecksStateAndIssOfTheRedirect) {
  {
    FakeAs wrong_state;
    wrong_state.state_override = "forged";
    OAuthClient c(io_.get_executor(), "files", "https://mcp.example/mcp", {},
                  wrong_state.net.fetch(), store_, wrong_state.agent());
    EXPECT_FALSE(runAsync(io_, c.login()));
    EXPECT_EQ(wrong_state.token_requests, 0);
  }
  {
    FakeAs wrong_iss;
    wrong_iss.iss_override = "https://evil.example";
    OAuthClient c(io_.get_executor(), "files", "https://mcp.example/mcp", {}, wrong_iss.net.fetch(),
                  store_, wrong_iss.agent());
    EXPECT_FALSE(runAsync(io_, c.login()));
    EXPECT_EQ(wrong_iss.token_requests, 0);
  }
  {
    FakeAs missing_iss;  // advertised but absent
    missing_iss.send_iss = false;
    OAuthClient c(io_.get_executor(), "files", "https://mcp.example/mcp", {},
                  missing_iss.net.fetch(), store_, missing_iss.agent());
    EXPECT_FALSE(runAsync(io_, c.login()));
  }
  {
    FakeAs not_advertised;  // neither advertised nor sent: fine (RFC 9207 is optional)
    not_advertised.send_iss = false;
    not_advertised.metadata.erase("authorization_response_iss_parameter_supported");
    OAuthClient c(io_.get_executor(), "files", "https://mcp.example/mcp", {},
                  not_advertised.net.fetch(), store_, not_advertised.agent());
    EXPECT_TRUE(runAsync(io_, c.login()));
  }
}

TEST_F(OAuthClientTest, PreRegisteredClientUsesBasicOrPost) {
  OAuthClientOptions options;
  options.client_id = "pre id";
  options.client_secret = Secret("s:cret");
  auto c = client(options);
  ASSERT_TRUE(runAsync(io_, c->login()));
  EXPECT_EQ(as_.net.count("POST", "https://auth.example/register"), 0u);
  auto* token = as_.net.last("POST", "https://auth.example/token");
  EXPECT_EQ(header(*token, "Authorization"), "Basic " + base64Encode("pre%20id:s%3Acret"));
  EXPECT_EQ(formValue(token->body, "client_secret"), "");
  // The configured secret is not written to the token store.
  EXPECT_TRUE(runAsync(io_, store_->load("files"))->front().client.client_id.empty());

  as_.metadata["token_endpoint_auth_methods_supported"] = json::array{"client_secret_post"};
  auto post = client(options);
  ASSERT_TRUE(runAsync(io_, post->login()));
  token = as_.net.last("POST", "https://auth.example/token");
  EXPECT_EQ(header(*token, "Authorization"), "");
  EXPECT_EQ(formValue(token->body, "client_secret"), "s:cret");
}

TEST_F(OAuthClientTest, UsesAClientIdMetadataDocumentWhenSupported) {
  as_.metadata["client_id_metadata_document_supported"] = true;
  OAuthClientOptions options;
  options.client_metadata_url = "https://proxy.example/client.json";
  auto c = client(options);
  ASSERT_TRUE(runAsync(io_, c->login()));
  EXPECT_EQ(as_.param("client_id"), "https://proxy.example/client.json");
  EXPECT_EQ(as_.net.count("POST", "https://auth.example/register"), 0u);
}

TEST_F(OAuthClientTest, ClientCredentialsWithPrivateKeyJwt) {
  auto key = makeKey(JwsAlg::kES256, "");
  OAuthClientOptions options;
  options.client_id = "m2m";
  options.private_key_pem = *privateKeyPem(key.key);
  options.grant_type = GrantType::kClientCredentials;
  options.scopes = {"files:read"};
  auto c = client(options);
  ASSERT_TRUE(runAsync(io_, c->login()));
  EXPECT_TRUE(as_.last_authorize_url.empty());  // no browser
  auto* token = as_.net.last("POST", "https://auth.example/token");
  EXPECT_EQ(formValue(token->body, "grant_type"), "client_credentials");
  EXPECT_EQ(formValue(token->body, "resource"), "https://mcp.example/mcp");
  EXPECT_EQ(formValue(token->body, "client_assertion_type"),
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  auto assertion = decodeJwt(formValue(token->body, "client_assertion"));
  ASSERT_TRUE(assertion);
  EXPECT_TRUE(verifyJws(*assertion, *parseJwk(key.jwk())));
  EXPECT_EQ(assertion->claims["iss"].as_string(), "m2m");
  EXPECT_EQ(assertion->claims["sub"].as_string(), "m2m");
  EXPECT_EQ(assertion->claims["aud"].as_string(), "https://auth.example");
  EXPECT_EQ(assertion->alg, "ES256");
}

TEST_F(OAuthClientTest, FallsBackTo20250326Discovery) {
  FakeNet legacy;
  legacy.json("POST", "https://old.example/register", R"({"client_id":"c1"})", 201);
  legacy.json("POST", "https://old.example/token", R"({"access_token":"t","token_type":"bearer"})");
  UserAgent agent;
  std::string url;
  agent.redirect_uri = "http://127.0.0.1:9/cb";
  agent.open_browser = [&](const std::string& u) -> Result<void> {
    url = u;
    return {};
  };
  agent.wait_for_redirect = [&](std::string) -> asio::awaitable<Result<RedirectResult>> {
    RedirectResult r;
    r.code = "c";
    for (auto& [k, v] : net::parseQuery(url.substr(url.find('?') + 1)))
      if (k == "state") r.state = v;
    co_return r;
  };
  OAuthClient c(io_.get_executor(), "old", "https://old.example/api/mcp", {}, legacy.fetch(),
                store_, agent);
  ASSERT_TRUE(runAsync(io_, c.login()));
  EXPECT_TRUE(url.starts_with("https://old.example/authorize?"));
  EXPECT_EQ(legacy.count("GET", "https://old.example/.well-known/oauth-authorization-server"), 1u);
  EXPECT_EQ(runAsync(io_, c.authorization())->reveal(), "Bearer t");
}

TEST(ScopeSelection, FollowsTheSpec) {
  AuthServerMetadata as;
  ProtectedResourceMetadata prm;
  prm.scopes_supported = std::vector<std::string>{"a", "b"};
  BearerChallenge challenge;
  challenge.scope = "c";
  EXPECT_EQ(selectScopes(challenge, prm, as, {}, {}, true), "c");
  EXPECT_EQ(selectScopes(std::nullopt, prm, as, {}, {}, true), "a b");
  EXPECT_EQ(selectScopes(std::nullopt, std::nullopt, as, {}, {}, true), "");
  EXPECT_EQ(selectScopes(challenge, prm, as, {"x"}, {"a"}, true), "a c x");
  as.scopes_supported = std::vector<std::string>{"a", "offline_access"};
  EXPECT_EQ(selectScopes(std::nullopt, prm, as, {}, {}, true), "a b offline_access");
  EXPECT_EQ(selectScopes(std::nullopt, prm, as, {}, {}, false), "a b");
  as.scopes_supported = std::vector<std::string>{"a"};
  EXPECT_EQ(selectScopes(std::nullopt, prm, as, {"offline_access"}, {}, true), "a b");
}

// --- token store ---

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mcpproxy-tokens-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  StoredAuth entry(std::string issuer = "https://as.example") {
    StoredAuth e;
    e.upstream = "github";
    e.issuer = std::move(issuer);
    e.resource = "https://api.example/mcp";
    e.token_endpoint = "https://as.example/token";
    e.client.client_id = "cid";
    e.client.client_secret = Secret("client-secret-value");
    e.client.source = "dcr";
    TokenSet t;
    t.access_token = Secret("ACCESS-TOKEN-VALUE");
    t.refresh_token = Secret("REFRESH-TOKEN-VALUE");
    t.scope = "repo";
    t.expires_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'900'000'000));
    e.tokens = t;
    return e;
  }
  fs::path dir_;
  asio::io_context io_;
};

TEST_F(TokenStoreTest, EncryptsAtRestWithA0600Key) {
  auto store = EncryptedTokenStore::open(io_.get_executor(), dir_ / "oauth", dir_ / "oauth.key");
  ASSERT_TRUE(store) << store.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "oauth.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  ASSERT_TRUE(runAsync(io_, (*store)->save(entry())));
  ASSERT_TRUE(runAsync(io_, (*store)->save(entry("https://other-as.example"))));
  auto path = (*store)->pathFor("github", "https://as.example");
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path, std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(raw.find("ACCESS-TOKEN"), std::string::npos);
  EXPECT_EQ(raw.find("REFRESH-TOKEN"), std::string::npos);
  EXPECT_EQ(raw.find("client-secret"), std::string::npos);

  // A second process (same key file) reads them back.
  store->reset();
  auto reopened = EncryptedTokenStore::open(io_.get_executor(), dir_ / "oauth", dir_ / "oauth.key");
  ASSERT_TRUE(reopened);
  auto loaded = runAsync(io_, (*reopened)->load("github"));
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->size(), 2u);
  auto it = std::find_if(loaded->begin(), loaded->end(),
                         [](auto& e) { return e.issuer == "https://as.example"; });
  ASSERT_NE(it, loaded->end());
  EXPECT_EQ(it->tokens->access_token.reveal(), "ACCESS-TOKEN-VALUE");
  EXPECT_EQ(it->tokens->refresh_token.reveal(), "REFRESH-TOKEN-VALUE");
  EXPECT_EQ(it->client.client_secret.reveal(), "client-secret-value");
  EXPECT_EQ(it->tokens->expires_at, entry().tokens->expires_at);
  EXPECT_TRUE(runAsync(io_, (*reopened)->load("gitlab"))->empty());
  // Secrets never print.
  EXPECT_EQ(fmt::format("{}", it->tokens->access_token), "***");

  ASSERT_TRUE(runAsync(io_, (*reopened)->erase("github", "https://as.example")));
  EXPECT_EQ(runAsync(io_, (*reopened)->load("github"))->size(), 1u);
  ASSERT_TRUE(runAsync(io_, (*reopened)->erase("github", "")));
  EXPECT_TRUE(runAsync(io_, (*reopened)->load("github"))->empty());
}

TEST_F(TokenStoreTest, RefusesTamperingSwapsAndLooseKeys) {
  auto store = EncryptedTokenStore::open(io_.get_executor(), dir_ / "oauth", dir_ / "oauth.key");
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->saveNow(entry()));
  auto path = (*store)->pathFor("github", "https://as.example");
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x55');
  }
  EXPECT_FALSE((*store)->loadNow("github"));
  // Another upstream's file renamed to look like ours.
  fs::remove(path);
  auto other = entry();
  other.upstream = "gitlab";
  ASSERT_TRUE((*store)->saveNow(other));
  fs::rename((*store)->pathFor("gitlab", "https://as.example"), path);
  EXPECT_FALSE((*store)->loadNow("github"));
  // A key file others can read is refused.
  ::chmod((dir_ / "oauth.key").c_str(), 0644);
  EXPECT_FALSE(EncryptedTokenStore::open(io_.get_executor(), dir_ / "oauth", dir_ / "oauth.key"));
  // Another key cannot open the files.
  ::chmod((dir_ / "oauth.key").c_str(), 0600);
  auto other_key =
      EncryptedTokenStore::open(io_.get_executor(), dir_ / "oauth", dir_ / "other.key");
  ASSERT_TRUE(other_key);
  ASSERT_TRUE((*store)->saveNow(entry("https://x")));
  EXPECT_FALSE((*other_key)->loadNow("github"));
}

// --- redirect hub ---

TEST(RedirectHub, MatchesByStateOnceAndTimesOut) {
  asio::io_context io;
  RedirectHub hub(io.get_executor());
  hub.expect("s1");
  auto early = hub.deliver("code=abc&state=s1&iss=https%3A%2F%2Fas");
  EXPECT_EQ(early.status, 200u);
  auto got = runAsync(io, hub.wait("s1", std::chrono::seconds(5)));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->code, "abc");
  EXPECT_EQ(got->iss, "https://as");
  EXPECT_EQ(hub.deliver("code=abc&state=s1").status, 400u);  // single use
  EXPECT_EQ(hub.deliver("code=abc&state=unknown").status, 400u);
  EXPECT_EQ(hub.deliver("code=<script>").html.find("<script>"), std::string::npos);
  auto late = runAsync(io, hub.wait("s2", std::chrono::milliseconds(20)));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(hub.pending(), 0u);

  // Delivered while waiting.
  auto future = asio::co_spawn(io, hub.wait("s3", std::chrono::seconds(5)), asio::use_future);
  asio::post(io, [&] { hub.deliver("error=access_denied&state=s3"); });
  io.restart();
  io.run();
  auto denied = future.get();
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->error, "access_denied");
}

TEST(BrowserUrl, OnlyHttpsOrLoopbackHttp) {
  EXPECT_TRUE(checkBrowserUrl("https://as.example/authorize?x=1"));
  EXPECT_TRUE(checkBrowserUrl("http://127.0.0.1:8080/authorize"));
  EXPECT_TRUE(checkBrowserUrl("http://localhost:8080/authorize"));
  EXPECT_FALSE(checkBrowserUrl("http://as.example/authorize"));
  EXPECT_FALSE(checkBrowserUrl("javascript:alert(1)"));
  EXPECT_FALSE(checkBrowserUrl("data:text/html,hi"));
  EXPECT_FALSE(checkBrowserUrl("file:///etc/passwd"));
  EXPECT_FALSE(checkBrowserUrl("https://as.example/a b"));
  EXPECT_FALSE(checkBrowserUrl("https://user:pw@as.example/"));
}

}  // namespace
}  // namespace mcpproxy::auth
