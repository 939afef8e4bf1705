// checkArguments (the pre-dispatch argument check of call_tool_*) and the read_cache store.
#include "router/schema_check.h"

#include <gtest/gtest.h>

#include "common/utf8.h"
#include "protocol/jsonrpc.h"
#include "router/response_cache.h"

namespace mcpproxy::router {
namespace {

boost::json::value parse(std::string_view text) {
  return protocol::parseJson(text, protocol::Limits{}).value();
}

const char* kSchema = R"({
  "type": "object",
  "properties": {
    "path": {"type": "string", "minLength": 1},
    "mode": {"enum": ["r", "w"]},
    "count": {"type": "integer", "minimum": 1, "maximum": 10},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
    "opts": {"type": "object", "properties": {"deep": {"type": ["boolean", "null"]}},
             "additionalProperties": false}
  },
  "required": ["path"]
})";

TEST(SchemaCheckTest, AcceptsValidArgumentsAndIgnoresUnknownKeywords) {
  auto schema = parse(kSchema);
  EXPECT_TRUE(checkArguments(schema, parse(R"({"path":"/a","mode":"r","count":3,"tags":["x"],
                                              "opts":{"deep":null},"extra":1})"))
                  .empty());
  EXPECT_TRUE(checkArguments(parse(R"({"type":"object","format":"weird","oneOf":[]})"), parse("{}"))
                  .empty());
  EXPECT_TRUE(checkArguments(nullptr, parse(R"({"anything":1})")).empty());
  EXPECT_TRUE(checkArguments(schema, parse(R"({"path":"x","count":2.0})")).empty())
      << "2.0 is an integer in JSON Schema";
}

TEST(SchemaCheckTest, ReportsEachProblemWithItsPath) {
  auto schema = parse(kSchema);
  auto problems = checkArguments(
      schema, parse(R"({"mode":"x","count":11,"tags":["a",2,"c"],"opts":{"deep":"yes","z":1}})"));
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  EXPECT_NE(all.find("args: missing required property \"path\""), std::string::npos) << all;
  EXPECT_NE(all.find("args.mode: must be one of [\"r\",\"w\"]"), std::string::npos) << all;
  EXPECT_NE(all.find("args.count: must be <= 10"), std::string::npos) << all;
  EXPECT_NE(all.find("args.tags: allows at most 2 items"), std::string::npos) << all;
  EXPECT_EQ(problems.size(), 5u) << "capped at max_problems" << all;
}

TEST(SchemaCheckTest, TypeMismatchAndUnknownPropertyNamesKnownOnes) {
  auto schema = parse(kSchema);
  auto problems = checkArguments(schema, parse(R"({"path":5})"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "args.path: expected string, got integer");
  problems = checkArguments(schema, parse(R"({"path":"p","opts":{"z":1}})"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "args.opts.z: unknown property (known: deep)");
  problems = checkArguments(schema, parse(R"({"path":"p","opts":{"deep":"yes"}})"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "args.opts.deep: expected boolean or null, got string");
}

TEST(SchemaCheckTest, DeepSchemasAndArgumentsDoNotRecurseForever) {
  std::string schema_text, args_text;
  for (int i = 0; i < 60; ++i) {
    schema_text += R"({"type":"object","properties":{"a":)";
    args_text += R"({"a":)";
  }
  schema_text += R"({"type":"string"})";
  args_text += "1";
  for (int i = 0; i < 60; ++i) {
    schema_text += "}}";
    args_text += "}";
  }
  auto schema = protocol::parseJson(schema_text, protocol::Limits{1 << 20, 200}).value();
  auto args = protocol::parseJson(args_text, protocol::Limits{1 << 20, 200}).value();
  EXPECT_TRUE(checkArguments(schema, args).empty()) << "beyond the depth limit nothing is judged";
}

TEST(ResponseCacheTest, StoresEvictsAndCountsCharacters) {
  ResponseCache cache(ResponseCache::Limits{2, 1 << 20, std::chrono::seconds(3600)});
  auto a = cache.put("alpha");
  auto b = cache.put("beta");
  EXPECT_NE(a, b);
  EXPECT_EQ(cache.get(a).value(), "alpha");  // a is now the most recently used
  auto c = cache.put("gamma");
  EXPECT_FALSE(cache.get(b).has_value()) << "least recently used goes first";
  EXPECT_EQ(cache.get(a).value(), "alpha");
  EXPECT_EQ(cache.get(c).value(), "gamma");
  EXPECT_FALSE(cache.get("nope").has_value());

  std::string text = "h\xC3\xA9llo w\xC3\xB6rld";  // héllo wörld
  EXPECT_EQ(utf8Length(text), 11u);
  EXPECT_EQ(text.substr(0, utf8Offset(text, 2)), "h\xC3\xA9");
  EXPECT_EQ(utf8Offset(text, 100), text.size());
}

}  // namespace
}  // namespace mcpproxy::router
