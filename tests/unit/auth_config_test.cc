// The config keys of docs/auth.md: per-upstream "oauth", global "auth" and
// "oauth_client_metadata_url", and ${env:NAME} in secret fields.
#include <gtest/gtest.h>

#include <cstdlib>

#include "config/config.h"

namespace mcpproxy::config {
namespace {

Result<Config> parse(const std::string& text) {
  std::vector<std::string> warnings;
  return parseConfig(text, warnings);
}

TEST(AuthConfig, ParsesPerUpstreamOAuth) {
  ::setenv("MCPPROXY_TEST_GH_SECRET", "s3cret", 1);
  auto config = parse(R"({"mcpServers": [{"name": "gh", "url": "https://api.example/mcp",
      "oauth": {"client_id": "abc", "client_secret": "${env:MCPPROXY_TEST_GH_SECRET}", "scopes": ["repo"],
                "grant_type": "client_credentials", "private_key_file": "key.pem",
                "signing_algorithm": "ES256", "issuer": "https://as.example"}},
      {"name": "plain", "url": "https://other.example/mcp", "oauth": {}}]})");
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_TRUE(config->servers[0].oauth);
  const auto& oauth = *config->servers[0].oauth;
  EXPECT_EQ(oauth.client_id, "abc");
  EXPECT_EQ(oauth.client_secret.reveal(), "s3cret");
  EXPECT_EQ(oauth.scopes, std::vector<std::string>{"repo"});
  EXPECT_TRUE(oauth.client_credentials);
  EXPECT_EQ(oauth.private_key_file, "key.pem");
  EXPECT_EQ(oauth.signing_algorithm, "ES256");
  ASSERT_TRUE(config->servers[1].oauth);
  EXPECT_TRUE(config->servers[1].oauth->client_id.empty());
}

TEST(AuthConfig, RefusesBadOAuthWithTheField) {
  auto expectError = [](const std::string& oauth, const std::string& needle) {
    auto config = parse(R"({"mcpServers": [{"name": "gh", "url": "https://a/mcp", "oauth": )" +
                        oauth + "}]}");
    ASSERT_FALSE(config) << oauth;
    EXPECT_NE(config.error().message.find(needle), std::string::npos) << config.error().message;
  };
  expectError(R"({"grant_type": "password"})", "mcpServers[0].oauth.grant_type");
  expectError(R"({"grant_type": "client_credentials"})", "mcpServers[0].oauth.client_id");
  expectError(R"({"signing_algorithm": "HS256"})", "signing_algorithm");
  expectError(R"({"token_endpoint_auth_method": "private_key_jwt"})", "private_key_file");
  expectError(R"({"client_secret": "${env:MCPPROXY_TEST_UNSET_VARIABLE}"})",
              "MCPPROXY_TEST_UNSET_VARIABLE is not set");
  expectError(R"({"clientid": "x"})", "oauth.clientid: unknown key");
  auto stdio = parse(R"({"mcpServers": [{"name": "s", "command": "x", "oauth": {}}]})");
  EXPECT_FALSE(stdio);
}

TEST(AuthConfig, ParsesTheResourceServerBlock) {
  ::setenv("MCPPROXY_TEST_INTROSPECT", "intro", 1);
  auto config =
      parse(R"({"auth": {"issuer": "https://as.example", "audience": "http://127.0.0.1:8080/mcp",
      "required_scopes": ["mcp"], "scopes": {"read": "mcp:read", "write": "mcp:write", "destructive": "mcp:admin"},
      "introspection_endpoint": "https://as.example/introspect", "introspection_client_id": "proxy",
      "introspection_client_secret": "${env:MCPPROXY_TEST_INTROSPECT}", "leeway": "30s"},
      "oauth_client_metadata_url": "https://me.example/mcpproxy.json"})");
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_TRUE(config->auth);
  EXPECT_EQ(config->auth->issuer, "https://as.example");
  EXPECT_EQ(config->auth->scope_destructive, "mcp:admin");
  EXPECT_EQ(config->auth->introspection_client_secret.reveal(), "intro");
  EXPECT_EQ(config->auth->leeway, std::chrono::seconds(30));
  EXPECT_EQ(config->oauth_client_metadata_url, "https://me.example/mcpproxy.json");
  EXPECT_FALSE(parse(R"({"auth": {}})"));
  EXPECT_FALSE(parse(R"({"auth": {"issuer": "as.example"}})"));
  EXPECT_FALSE(parse(R"({"auth": {"issuer": "https://a", "scopes": {"admin": "x"}}})"));
  EXPECT_FALSE(parse(R"({"oauth_client_metadata_url": "http://me.example/x.json"})"));
}

TEST(AuthConfig, ExpandsEnvironmentReferencesInSecretFields) {
  ::setenv("MCPPROXY_TEST_TOKEN", "tok", 1);
  auto config = parse(
      R"({"api_key": "${env:MCPPROXY_TEST_TOKEN}", "mcpServers": [{"name": "r", "url": "https://a/mcp",
      "headers": {"Authorization": "Bearer ${env:MCPPROXY_TEST_TOKEN}"}},
      {"name": "s", "command": "x", "env": {"KEY": "${env:MCPPROXY_TEST_TOKEN}-${env:MCPPROXY_TEST_TOKEN}"}}]})");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->api_key.reveal(), "tok");
  EXPECT_EQ(config->servers[0].headers[0].second, "Bearer tok");
  EXPECT_EQ(config->servers[1].env[0].second, "tok-tok");
  EXPECT_EQ(*expandEnvReferences("no references", "f"), "no references");
  EXPECT_EQ(*expandEnvReferences("$HOME and ${HOME}", "f"), "$HOME and ${HOME}");
  EXPECT_FALSE(expandEnvReferences("${env:}", "f"));
  EXPECT_FALSE(expandEnvReferences("${env:A-B}", "f"));
  EXPECT_FALSE(expandEnvReferences("${env:UNTERMINATED", "f"));
}

}  // namespace
}  // namespace mcpproxy::config
