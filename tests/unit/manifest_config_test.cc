// The config keys of signed manifests: per-server "manifest" and "trust_mode": "signed", global
// "trusted_keys" with windows and revocation. Kept out of config_test.cc so the manifest tests
// link without the server library.
#include <gtest/gtest.h>

#include "config/config.h"

namespace mcpproxy::config {
namespace {

constexpr const char* kKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

Result<Config> parse(const std::string& text, std::vector<std::string>* warnings_out = nullptr) {
  std::vector<std::string> warnings;
  auto config = parseConfig(text, warnings);
  if (warnings_out) *warnings_out = warnings;
  return config;
}

std::string errorOf(const std::string& text) {
  auto config = parse(text);
  EXPECT_FALSE(config.has_value()) << text;
  return config ? "" : config.error().message;
}

std::string keys(const std::string& entries) {
  return R"({"trusted_keys": [)" + entries + "]}";
}

TEST(ManifestConfig, TrustedKeysWithWindowsAndRevocation) {
  auto config = parse(keys(std::string(R"({"id": "release-2025", "public_key": ")") + kKey +
                           R"(", "not_before": "2025-01-01", "not_after": "2026-01-01T12:00:00Z"},
                             {"id": "old", "public_key": ")" +
                           kKey + R"(", "revoked": true})"));
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->trusted_keys.size(), 2u);
  const auto& k = config->trusted_keys[0];
  EXPECT_EQ(k.id, "release-2025");
  EXPECT_EQ(k.public_key, kKey);
  EXPECT_EQ(k.not_before, 1735689600);
  EXPECT_EQ(k.not_after, 1767268800);
  EXPECT_FALSE(k.revoked);
  EXPECT_TRUE(config->trusted_keys[1].revoked);
  EXPECT_FALSE(config->trusted_keys[1].not_before.has_value());
}

TEST(ManifestConfig, TrustedKeyErrorsNameTheField) {
  auto entry = [](const std::string& members) {
    return keys(std::string(R"({"id": "k", "public_key": ")") + kKey + "\"" + members + "}");
  };
  EXPECT_NE(errorOf(keys(R"({"public_key": "x"})")).find("trusted_keys[0].public_key"),
            std::string::npos);
  EXPECT_NE(errorOf(keys(std::string(R"({"public_key": ")") + kKey + "\"}"))
                .find("trusted_keys[0].id: required"),
            std::string::npos);
  EXPECT_NE(errorOf(keys(R"({"id": "k", "public_key": "aGk="})")).find("32-byte"),
            std::string::npos);
  EXPECT_NE(errorOf(entry(R"(, "revokd": true)")).find("trusted_keys[0].revokd: unknown key"),
            std::string::npos);
  EXPECT_NE(errorOf(entry(R"(, "not_before": "soon")")).find("not_before"), std::string::npos);
  EXPECT_NE(errorOf(entry(R"(, "not_before": "2026-01-01", "not_after": "2025-01-01")"))
                .find("later than not_before"),
            std::string::npos);
  EXPECT_NE(errorOf(entry(R"(, "revoked": "yes")")).find("revoked"), std::string::npos);
  EXPECT_NE(errorOf(keys(std::string(R"({"id": "k", "public_key": ")") + kKey +
                         R"("}, {"id": "k", "public_key": ")" + kKey + "\"}"))
                .find("duplicate key id"),
            std::string::npos);
  EXPECT_NE(errorOf(keys(std::string(R"({"id": "a b", "public_key": ")") + kKey + "\"}"))
                .find("trusted_keys[0].id"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"trusted_keys": {}})").find("trusted_keys"), std::string::npos);
}

TEST(ManifestConfig, ServerManifestAndSignedTrustMode) {
  std::vector<std::string> warnings;
  auto config = parse(std::string(R"({"trusted_keys": [{"id": "k", "public_key": ")") + kKey +
                          R"("}], "mcpServers": [
                            {"name": "a", "command": "x", "manifest": "manifests/a.json",
                             "trust_mode": "signed"},
                            {"name": "b", "url": "https://h/mcp",
                             "manifest": "https://h/manifest.json"}]})",
                      &warnings);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(warnings.empty());
  const auto& a = config->servers[0];
  EXPECT_EQ(a.manifest, "manifests/a.json");
  EXPECT_TRUE(a.signed_trust);
  // Code that knows nothing of manifests reads a signed server as manual: the safe reading.
  EXPECT_EQ(a.trust_mode, TrustMode::kManual);
  EXPECT_FALSE(config->servers[1].signed_trust);
  EXPECT_EQ(config->servers[1].manifest, "https://h/manifest.json");

  EXPECT_NE(errorOf(R"({"mcpServers": [{"name": "a", "command": "x", "trust_mode": "signed"}]})")
                .find("mcpServers[0].trust_mode: \"signed\" needs a \"manifest\""),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"mcpServers": [{"name": "a", "command": "x",
                                         "manifest": "http://h/m.json"}]})")
                .find("https://"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"mcpServers": [{"name": "a", "command": "x", "manifest": ""}]})")
                .find("manifest: empty"),
            std::string::npos);
  EXPECT_NE(errorOf(R"({"mcpServers": [{"name": "a", "command": "x", "trust_mode": "x"}]})")
                .find("\"signed\""),
            std::string::npos);

  // A manifest with no trusted keys cannot verify: said at load time.
  config =
      parse(R"({"mcpServers": [{"name": "a", "command": "x", "manifest": "m.json"}]})", &warnings);
  ASSERT_TRUE(config);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("no trusted_keys"), std::string::npos);
}

}  // namespace
}  // namespace mcpproxy::config
