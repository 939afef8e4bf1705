// The one redaction rule (common/redact.h) and the UTF-8 check behind "invalid UTF-8 at byte N".
#include "common/redact.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/utf8.h"

namespace mcpproxy {
namespace {

TEST(Redact, UrlLosesUserinfoAndSecretQueryValues) {
  EXPECT_EQ(redactUrl("https://alice:pw@host.example/mcp?api_key=abc&page=2"),
            "https://***@host.example/mcp?api_key=***&page=2");
  EXPECT_EQ(redactUrl("https://token@host/x"), "https://***@host/x");
  EXPECT_EQ(redactUrl("http://127.0.0.1:8080/mcp"), "http://127.0.0.1:8080/mcp");
  EXPECT_EQ(redactUrl("https://h/cb?code=xyz&state=s"), "https://h/cb?code=***&state=s");
  EXPECT_EQ(redactUrl("https://h/x?Access_Token=t&sig=1&q=cats"),
            "https://h/x?Access_Token=***&sig=***&q=cats");
  EXPECT_EQ(redactUrl("https://h/cb#access_token=t"), "https://h/cb#***");
}

TEST(Redact, UnparsableUrlKeepsOnlySchemeAndHost) {
  std::string out = redactUrl("https://us er:p w@host/a b?token=x y");
  EXPECT_EQ(out.find("p w"), std::string::npos) << out;
  EXPECT_EQ(out.find("token=x"), std::string::npos) << out;
  EXPECT_NE(out.find("host"), std::string::npos) << out;
}

TEST(Redact, SecretNames) {
  for (const char* name : {"api_key", "X-API-Key", "GITHUB_TOKEN", "client_secret", "password",
                           "Authorization", "key", "sig", "session_id", "OPENAI_API_KEY"}) {
    EXPECT_TRUE(isSecretName(name)) << name;
  }
  for (const char* name : {"page", "q", "limit", "command", "name", "path", "url"}) {
    EXPECT_FALSE(isSecretName(name)) << name;
  }
}

TEST(Redact, CommandLines) {
  EXPECT_EQ(displayCommand("npx", {"-y", "pkg", "--api-key=sk-123", "/home/me dir"}),
            "npx -y pkg --api-key=*** '/home/me dir'");
  EXPECT_EQ(displayCommand("srv", {"ghp_0123456789abcdefghijABCDEFGHIJ"}), "srv ***");
  EXPECT_EQ(displayCommand("srv", {"--url", "https://u:p@h/x?token=t"}),
            "srv --url https://***@h/x?token=***");
}

TEST(Redact, FreeText) {
  EXPECT_EQ(redactText("cannot connect to https://a:b@h/x?key=k, giving up"),
            "cannot connect to https://***@h/x?key=***, giving up");
  EXPECT_EQ(redactText("header Authorization: Bearer eyJhbGciOi.x.y sent"),
            "header Authorization: Bearer *** sent");
  EXPECT_EQ(redactText("no secrets here"), "no secrets here");
  EXPECT_EQ(redactText("(see http://h/p?password=x)."), "(see http://h/p?password=***).");
}

TEST(Redact, JsonDocuments) {
  auto value =
      boost::json::parse(R"({"api_key":"k","mcpServers":[{"name":"a","url":"https://u:p@h/m",
    "env":{"T":"v"},"headers":{"Authorization":"Bearer x"},"args":["--token=abc","plain"]}]})");
  redactJsonSecrets(value);
  EXPECT_EQ(
      boost::json::serialize(value),
      R"({"api_key":"***","mcpServers":[{"name":"a","url":"https://***@h/m",)"
      R"("env":{"T":"***"},"headers":{"Authorization":"***"},"args":["--token=***","plain"]}]})");
}

TEST(Utf8, FirstInvalidByte) {
  EXPECT_EQ(firstInvalidUtf8("plain ascii"), std::nullopt);
  EXPECT_EQ(firstInvalidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"), std::nullopt);
  EXPECT_EQ(firstInvalidUtf8("ab\xc3\x28"), 2u);          // bad continuation
  EXPECT_EQ(firstInvalidUtf8("\xc0\xaf"), 0u);            // overlong
  EXPECT_EQ(firstInvalidUtf8("x\xed\xa0\x80"), 1u);       // surrogate
  EXPECT_EQ(firstInvalidUtf8("xy\xf4\x90\x80\x80"), 2u);  // above U+10FFFF
  EXPECT_EQ(firstInvalidUtf8("abc\xe2\x82"), 3u);         // truncated
  EXPECT_EQ(firstInvalidUtf8("\x80"), 0u);                // stray continuation
}

}  // namespace
}  // namespace mcpproxy
