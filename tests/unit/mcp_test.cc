// Content adaptation for clients of older protocol revisions (protocol/mcp.h).
#include "protocol/mcp.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mcpproxy::protocol {
namespace {

namespace json = boost::json;

json::value toolResult() {
  return json::parse(R"({"content":[
    {"type":"text","text":"hello"},
    {"type":"audio","data":"AAAAAAAA","mimeType":"audio/wav"},
    {"type":"resource_link","uri":"test://doc","name":"doc"}],
    "structuredContent":{"a":1}})");
}

TEST(AdaptContent, NewClientsGetEverythingUnchanged) {
  json::value result = toolResult();
  adaptContentForVersion("2025-06-18", result);
  EXPECT_EQ(result, toolResult());
  adaptContentForVersion("2025-11-25", result);
  EXPECT_EQ(result, toolResult());
}

TEST(AdaptContent, ResourceLinksBecomeTextBefore20250618) {
  json::value result = toolResult();
  adaptContentForVersion("2025-03-26", result);
  const auto& content = result.at("content").as_array();
  EXPECT_EQ(content[1].at("type"), "audio");  // audio exists since 2025-03-26
  EXPECT_EQ(content[2].at("type"), "text");
  EXPECT_EQ(content[2].at("text"), "Resource link: test://doc (doc)");
  EXPECT_EQ(content[0], toolResult().at("content").as_array()[0]);
}

TEST(AdaptContent, AudioBecomesTextFor20241105AndPromptMessagesToo) {
  json::value result = toolResult();
  adaptContentForVersion("2024-11-05", result);
  const auto& content = result.at("content").as_array();
  EXPECT_EQ(content[1].at("type"), "text");
  EXPECT_NE(std::string(content[1].at("text").as_string()).find("audio/wav"), std::string::npos);

  json::value prompt = json::parse(
      R"({"messages":[{"role":"user","content":{"type":"audio","data":"AAAA","mimeType":"audio/ogg"}}]})");
  adaptContentForVersion("2024-11-05", prompt);
  EXPECT_EQ(prompt.at("messages").as_array()[0].at("content").at("type"), "text");
}

}  // namespace
}  // namespace mcpproxy::protocol
