// Unit tests for the pure parts of the management API: config document edits (both
// "mcpServers" forms, merge patches, redaction, pretty printing), query parsing, error answers,
// and the Prometheus page.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/config_edit.h"
#include "api/http_types.h"
#include "api/metrics.h"
#include "config/config.h"

namespace mcpproxy::api {
namespace {

json::object parse(std::string_view text) {
  return boost::json::parse(text).as_object();
}

TEST(ConfigEdit, ArrayFormAddReplaceRemove) {
  auto doc = parse(
      R"({"listen":"127.0.0.1:9","x-custom":{"a":1},"mcpServers":[{"name":"a","command":"x"}]})");
  upsertServerEntry(doc, parse(R"({"name":"b","url":"http://127.0.0.1/mcp"})"));
  ASSERT_EQ(doc.at("mcpServers").as_array().size(), 2u);
  upsertServerEntry(doc, parse(R"({"name":"a","command":"y"})"));
  EXPECT_EQ(findServerEntry(doc, "a")->at("command").as_string(), "y");
  EXPECT_EQ(doc.at("mcpServers").as_array()[0].as_object().at("name").as_string(), "a");
  EXPECT_TRUE(removeServerEntry(doc, "a"));
  EXPECT_FALSE(removeServerEntry(doc, "a"));
  EXPECT_FALSE(findServerEntry(doc, "a"));
  EXPECT_EQ(doc.at("x-custom").as_object().at("a").as_int64(), 1);  // unknown keys survive
}

TEST(ConfigEdit, ObjectFormKeepsItsShape) {
  auto doc = parse(R"({"mcpServers":{"a":{"command":"x"}}})");
  auto entry = findServerEntry(doc, "a");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->at("name").as_string(), "a");
  upsertServerEntry(doc, parse(R"({"name":"b","command":"z"})"));
  const auto& servers = doc.at("mcpServers").as_object();
  ASSERT_TRUE(servers.contains("b"));
  EXPECT_FALSE(servers.at("b").as_object().contains("name"));
  EXPECT_TRUE(removeServerEntry(doc, "a"));
  EXPECT_FALSE(doc.at("mcpServers").as_object().contains("a"));
}

TEST(ConfigEdit, MissingServersListIsCreated) {
  json::object doc;
  upsertServerEntry(doc, parse(R"({"name":"a","command":"x"})"));
  EXPECT_TRUE(findServerEntry(doc, "a"));
}

TEST(ConfigEdit, MergePatchReplacesAndRemoves) {
  auto merged = mergeEntry(parse(R"({"name":"a","command":"x","env":{"K":"v"},"enabled":true})"),
                           parse(R"({"command":"y","env":null,"enabled":false})"));
  EXPECT_EQ(merged.at("command").as_string(), "y");
  EXPECT_FALSE(merged.contains("env"));
  EXPECT_FALSE(merged.at("enabled").as_bool());
  EXPECT_EQ(merged.at("name").as_string(), "a");
}

TEST(ConfigEdit, PrettyJsonRoundTripsAndParsesAsConfig) {
  auto doc = parse(
      R"({"listen":"127.0.0.1:8080","call_tool_timeout":"2m","mcpServers":[{"name":"a","command":"x","args":["-y","p"],"env":{"K":"v"}}],"api_key":"k"})");
  std::string text = prettyJson(doc);
  EXPECT_EQ(boost::json::parse(text).as_object(), doc);
  EXPECT_NE(text.find("\n  \"mcpServers\": [\n    {"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("args": ["-y","p"])"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
  std::vector<std::string> warnings;
  auto config = config::parseConfig(text, warnings);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->api_key.reveal(), "k");
  EXPECT_EQ(config->call_timeout.count(), 120'000);
}

TEST(ConfigEdit, RedactsKeyEnvAndHeaders) {
  auto doc = redactDocument(parse(
      R"({"api_key":"secret","mcpServers":[{"name":"a","env":{"T":"tok"},"headers":{"Authorization":"Bearer z"}}]})"));
  std::string text = boost::json::serialize(doc);
  EXPECT_EQ(text.find("secret"), std::string::npos);
  EXPECT_EQ(text.find("tok"), std::string::npos);
  EXPECT_EQ(text.find("Bearer"), std::string::npos);
  EXPECT_EQ(doc.at("api_key").as_string(), "***");
  auto object_form = redactDocument(parse(R"({"mcpServers":{"a":{"env":{"T":"tok"}}}})"));
  EXPECT_EQ(boost::json::serialize(object_form).find("tok"), std::string::npos);
}

TEST(ConfigEdit, DisableManagementIsABoolean) {
  std::vector<std::string> warnings;
  auto on = config::parseConfig(R"({"disable_management": true})", warnings);
  ASSERT_TRUE(on);
  EXPECT_TRUE(on->disable_management);
  auto off = config::parseConfig("{}", warnings);
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->disable_management);
  auto bad = config::parseConfig(R"({"disable_management": "yes"})", warnings);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("disable_management"), std::string::npos);
}

TEST(ConfigEdit, RejectsNonObjects) {
  EXPECT_FALSE(parseDocument("[]"));
  EXPECT_FALSE(parseDocument("{"));
  EXPECT_TRUE(parseDocument("{}"));
}

TEST(HttpTypes, ParsesTargetsAndDecodes) {
  std::string path;
  std::map<std::string, std::string> query;
  parseTarget("/api/v1/tools/search?q=read+file%2Fx&limit=5&q=second&flag&bad=%zz", path, query);
  EXPECT_EQ(path, "/api/v1/tools/search");
  EXPECT_EQ(query["q"], "read file/x");  // the first occurrence wins
  EXPECT_EQ(query["limit"], "5");
  EXPECT_TRUE(query.contains("flag"));
  EXPECT_EQ(query["bad"], "%zz");  // malformed escapes stay verbatim
  parseTarget("/x%", path, query);
  EXPECT_EQ(path, "/x%");
  EXPECT_TRUE(query.empty());
}

TEST(HttpTypes, ErrorAnswersCarryStableCodesAndStatuses) {
  struct Case {
    const char* code;
    int status;
  };
  for (auto [code, status] :
       {Case{"invalid_request", 400}, Case{"unauthorized", 401}, Case{"forbidden", 403},
        Case{"not_found", 404}, Case{"conflict", 409}, Case{"payload_too_large", 413},
        Case{"unsupported_media_type", 415}, Case{"internal", 500}, Case{"unavailable", 503}}) {
    auto response = errorResponse(code, "why \"quoted\"");
    EXPECT_EQ(response.status, status) << code;
    auto body = boost::json::parse(response.body).as_object();
    EXPECT_EQ(body.at("error").at("code").as_string(), code);
    EXPECT_EQ(body.at("error").at("message").as_string(), "why \"quoted\"");
  }
}

TEST(HttpTypes, McpPathsStayWithTheMcpTransport) {
  EXPECT_TRUE(isMcpPath("/mcp"));
  EXPECT_TRUE(isMcpPath("/mcp/"));
  EXPECT_TRUE(isMcpPath("/mcp/all"));
  EXPECT_TRUE(isMcpPath("/sse"));
  EXPECT_TRUE(isMcpPath("/message"));
  EXPECT_FALSE(isMcpPath("/api/v1/servers"));
  EXPECT_FALSE(isMcpPath("/mcp/other"));
  EXPECT_FALSE(isMcpPath("/"));
}

TEST(Metrics, HistogramIsCumulativeAndLabelsEscaped) {
  Metrics metrics;
  metrics.recordCall("a", true, 0.003);
  metrics.recordCall("a", false, 0.2);
  metrics.recordCall("a", true, 500);  // beyond the last bucket: only +Inf
  metrics.recordCall("we\"ird", true, 0.01);
  MetricsSnapshot snapshot;
  snapshot.upstreams = {{"a", "ready"}};
  snapshot.sessions = 2;
  snapshot.tools = 7;
  snapshot.resident_bytes = 1234;
  std::string page = metrics.render(snapshot);
  auto has = [&](const std::string& line) { return page.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has(R"(mcpproxy_calls_total{server="a",status="ok"} 2)")) << page;
  EXPECT_TRUE(has(R"(mcpproxy_calls_total{server="a",status="error"} 1)"));
  EXPECT_TRUE(has(R"(mcpproxy_call_duration_seconds_bucket{server="a",le="0.005"} 1)"));
  EXPECT_TRUE(has(R"(mcpproxy_call_duration_seconds_bucket{server="a",le="0.25"} 2)"));
  EXPECT_TRUE(has(R"(mcpproxy_call_duration_seconds_bucket{server="a",le="120"} 2)"));
  EXPECT_TRUE(has(R"(mcpproxy_call_duration_seconds_bucket{server="a",le="+Inf"} 3)"));
  EXPECT_TRUE(has(R"(mcpproxy_call_duration_seconds_count{server="a"} 3)"));
  EXPECT_TRUE(has(R"(mcpproxy_calls_total{server="we\"ird",status="ok"} 1)"));
  EXPECT_TRUE(has(R"(mcpproxy_upstream_state{server="a",state="ready"} 1)"));
  EXPECT_TRUE(has(R"(mcpproxy_upstream_state{server="a",state="failed"} 0)"));
  EXPECT_TRUE(has("mcpproxy_upstreams 1"));
  EXPECT_TRUE(has("mcpproxy_sessions 2"));
  EXPECT_TRUE(has("mcpproxy_tools 7"));
  EXPECT_TRUE(has("process_resident_memory_bytes 1234"));
  EXPECT_TRUE(has("# TYPE mcpproxy_call_duration_seconds histogram"));
}

TEST(Metrics, ResidentMemoryIsReadable) {
  EXPECT_GT(residentMemoryBytes(), 0);
}

}  // namespace
}  // namespace mcpproxy::api
