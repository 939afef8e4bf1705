// JSON-RPC 2.0 codec: classification of valid messages, the -32700 / -32600 errors for invalid
// input (with the id echoed when it can be read), size and depth limits, batches as parsed
// values, serialization round trips and the make* helpers. Also the MCP version helpers.
#include "protocol/jsonrpc.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "protocol/mcp.h"

namespace mcpproxy::protocol {
namespace {

const Limits kDefaultLimits{};

Message parseOk(std::string_view text, const Limits& limits = kDefaultLimits) {
  auto parsed = parseMessage(text, limits);
  EXPECT_TRUE(parsed.has_value()) << text << " -> " << parsed.error().message;
  return parsed ? *parsed : Message{};
}

RpcError parseFails(std::string_view text, const Limits& limits = kDefaultLimits) {
  auto parsed = parseMessage(text, limits);
  EXPECT_FALSE(parsed.has_value()) << text << " unexpectedly parsed";
  return parsed ? RpcError{} : parsed.error();
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// Valid messages

TEST(JsonRpcParse, RequestWithIntegerId) {
  Message m = parseOk(R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"c"}})");
  EXPECT_EQ(m.kind, MessageKind::kRequest);
  EXPECT_TRUE(m.isRequest());
  EXPECT_FALSE(m.isNotification());
  EXPECT_FALSE(m.isResponse());
  ASSERT_TRUE(m.id.is_int64());
  EXPECT_EQ(m.id.get_int64(), 1);
  EXPECT_EQ(m.method, "tools/list");
  ASSERT_TRUE(m.params.is_object());
  EXPECT_EQ(m.params.at("cursor").as_string(), "c");
  EXPECT_TRUE(m.result.is_null());
  EXPECT_TRUE(m.error.is_null());
}

TEST(JsonRpcParse, RequestWithStringIdAndArrayParams) {
  Message m = parseOk(R"({"method":"sum","params":[1,2],"id":"abc","jsonrpc":"2.0"})");
  EXPECT_EQ(m.kind, MessageKind::kRequest);
  ASSERT_TRUE(m.id.is_string());
  EXPECT_EQ(m.id.get_string(), "abc");
  ASSERT_TRUE(m.params.is_array());
  EXPECT_EQ(m.params.as_array().size(), 2u);
}

TEST(JsonRpcParse, RequestIdsAtIntegerExtremes) {
  Message negative = parseOk(R"({"jsonrpc":"2.0","id":-9223372036854775808,"method":"m"})");
  ASSERT_TRUE(negative.id.is_int64());
  EXPECT_EQ(negative.id.get_int64(), INT64_MIN);

  Message big = parseOk(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"m"})");
  ASSERT_TRUE(big.id.is_uint64());
  EXPECT_EQ(big.id.get_uint64(), UINT64_MAX);

  Message zero = parseOk(R"({"jsonrpc":"2.0","id":0,"method":"m"})");
  EXPECT_EQ(zero.kind, MessageKind::kRequest);

  Message empty = parseOk(R"({"jsonrpc":"2.0","id":"","method":"m"})");
  EXPECT_EQ(empty.kind, MessageKind::kRequest);
  EXPECT_EQ(empty.id.as_string(), "");
}

TEST(JsonRpcParse, RequestWithoutParamsHasNullParams) {
  Message m = parseOk(R"({"jsonrpc":"2.0","id":2,"method":"ping"})");
  EXPECT_EQ(m.kind, MessageKind::kRequest);
  EXPECT_TRUE(m.params.is_null());
}

TEST(JsonRpcParse, Notification) {
  Message m = parseOk(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  EXPECT_EQ(m.kind, MessageKind::kNotification);
  EXPECT_TRUE(m.isNotification());
  EXPECT_FALSE(m.isRequest());
  EXPECT_FALSE(m.isResponse());
  EXPECT_TRUE(m.id.is_null());
  EXPECT_EQ(m.method, "notifications/initialized");
  EXPECT_TRUE(m.params.is_null());
}

TEST(JsonRpcParse, NotificationWithParams) {
  Message m =
      parseOk(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}})");
  EXPECT_EQ(m.kind, MessageKind::kNotification);
  EXPECT_EQ(m.params.at("requestId").as_int64(), 3);
}

TEST(JsonRpcParse, ResultResponse) {
  Message m = parseOk(R"({"jsonrpc":"2.0","id":5,"result":{"tools":[]}})");
  EXPECT_EQ(m.kind, MessageKind::kResult);
  EXPECT_TRUE(m.isResponse());
  EXPECT_EQ(m.id.as_int64(), 5);
  ASSERT_TRUE(m.result.is_object());
  EXPECT_TRUE(m.result.at("tools").is_array());
  EXPECT_TRUE(m.method.empty());
}

TEST(JsonRpcParse, ResultMayBeNullOrScalar) {
  Message null_result = parseOk(R"({"jsonrpc":"2.0","id":"x","result":null})");
  EXPECT_EQ(null_result.kind, MessageKind::kResult);
  EXPECT_TRUE(null_result.result.is_null());

  Message scalar = parseOk(R"({"jsonrpc":"2.0","id":"x","result":42})");
  EXPECT_EQ(scalar.kind, MessageKind::kResult);
  EXPECT_EQ(scalar.result.as_int64(), 42);
}

TEST(JsonRpcParse, ErrorResponse) {
  Message m = parseOk(
      R"({"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"Method not found","data":{"m":"x"}}})");
  EXPECT_EQ(m.kind, MessageKind::kError);
  EXPECT_TRUE(m.isResponse());
  EXPECT_EQ(m.id.as_int64(), 9);
  EXPECT_EQ(m.error.at("code").as_int64(), rpc_error::kMethodNotFound);
  EXPECT_EQ(m.error.at("message").as_string(), "Method not found");
  EXPECT_EQ(m.error.at("data").at("m").as_string(), "x");
}

TEST(JsonRpcParse, ErrorResponseMayHaveNullId) {
  // A server answers unparseable input with id null.
  Message m =
      parseOk(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})");
  EXPECT_EQ(m.kind, MessageKind::kError);
  EXPECT_TRUE(m.id.is_null());
}

TEST(JsonRpcParse, WhitespaceAroundMessageIsAccepted) {
  Message m = parseOk(" \t\r\n{\"jsonrpc\":\"2.0\",\"method\":\"m\"}\r\n ");
  EXPECT_EQ(m.kind, MessageKind::kNotification);
}

// ---------------------------------------------------------------------------------------------
// -32700 parse errors

TEST(JsonRpcParseError, InvalidJson) {
  for (std::string_view text :
       {"", " ", "{", "{\"jsonrpc\":\"2.0\",", "not json", "{'a':1}", "{\"a\":1}x",
        "{\"a\":1}{\"b\":2}", "[1,2,]", "{\"a\":01}", "\"unterminated", "nul", "{\"a\" 1}"}) {
    SCOPED_TRACE(std::string(text));
    RpcError e = parseFails(text);
    EXPECT_EQ(e.code, rpc_error::kParseError);
    EXPECT_TRUE(e.message.starts_with("Parse error")) << e.message;
    EXPECT_TRUE(e.id.is_null());
  }
}

TEST(JsonRpcParseError, InvalidUtf8IsAParseError) {
  RpcError e = parseFails("{\"jsonrpc\":\"2.0\",\"method\":\"\xC3\x28\"}");
  EXPECT_EQ(e.code, rpc_error::kParseError);
  e = parseFails("{\"jsonrpc\":\"2.0\",\"method\":\"\xFF\"}");
  EXPECT_EQ(e.code, rpc_error::kParseError);
}

TEST(JsonRpcParseError, NumbersBeyondTheDoubleRangeAreRejected) {
  // Boost.JSON reads these as infinity and would serialize them as the invalid token Infinity.
  const std::string long_integer = std::string(400, '9');
  for (const std::string& text :
       {std::string(R"({"jsonrpc":"2.0","id":1,"result":1e400})"),
        std::string(R"({"jsonrpc":"2.0","id":1,"result":{"a":[1,{"b":-1e999}]}})"),
        R"({"jsonrpc":"2.0","method":"m","params":[)" + long_integer + "]}"}) {
    SCOPED_TRACE(std::string(text));
    RpcError e = parseFails(text);
    EXPECT_EQ(e.code, rpc_error::kParseError);
    EXPECT_EQ(e.message, "Parse error: number out of range");
  }
  // Tiny numbers underflow to zero, which serializes fine.
  Message m = parseOk(R"({"jsonrpc":"2.0","id":1,"result":[1e-400,1.5e308,-0.0]})");
  auto back = parseMessage(serialize(m), kDefaultLimits);
  ASSERT_TRUE(back.has_value()) << serialize(m);
  EXPECT_EQ(back->result.as_array()[1].as_double(), 1.5e308);
}

TEST(JsonRpcParseError, ParseErrorNeverCarriesAnId) {
  // The id cannot be trusted when the JSON around it is broken.
  RpcError e = parseFails(R"({"jsonrpc":"2.0","id":7,"method":"m")");
  EXPECT_EQ(e.code, rpc_error::kParseError);
  EXPECT_TRUE(e.id.is_null());
}

TEST(JsonRpcParseError, ParseJsonReturnsAnyValue) {
  auto scalar = parseJson("42", kDefaultLimits);
  ASSERT_TRUE(scalar.has_value());
  EXPECT_EQ(scalar->as_int64(), 42);
  auto bad = parseJson("{", kDefaultLimits);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, rpc_error::kParseError);
}

// ---------------------------------------------------------------------------------------------
// -32600 invalid requests

TEST(JsonRpcInvalidRequest, NonObjects) {
  for (std::string_view text : {"null", "true", "42", "1.5", "\"str\"", "[]", "[1]",
                                R"([{"jsonrpc":"2.0","id":1,"method":"m"}])"}) {
    SCOPED_TRACE(std::string(text));
    RpcError e = parseFails(text);
    EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
    EXPECT_TRUE(e.message.starts_with("Invalid Request")) << e.message;
    EXPECT_TRUE(contains(e.message, "object")) << e.message;
    EXPECT_TRUE(e.id.is_null());
  }
}

TEST(JsonRpcInvalidRequest, WrongVersionEchoesTheId) {
  for (std::string_view text :
       {R"({"jsonrpc":"1.0","id":7,"method":"m"})", R"({"jsonrpc":2.0,"id":7,"method":"m"})",
        R"({"jsonrpc":"2.0 ","id":7,"method":"m"})", R"({"jsonrpc":null,"id":7,"method":"m"})",
        R"({"id":7,"method":"m"})"}) {
    SCOPED_TRACE(std::string(text));
    RpcError e = parseFails(text);
    EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
    EXPECT_TRUE(contains(e.message, "jsonrpc")) << e.message;
    ASSERT_TRUE(e.id.is_int64());
    EXPECT_EQ(e.id.get_int64(), 7);
  }
  RpcError string_id = parseFails(R"({"jsonrpc":"1.0","id":"req-1","method":"m"})");
  EXPECT_EQ(string_id.id.as_string(), "req-1");
}

TEST(JsonRpcInvalidRequest, WrongVersionWithUnusableIdEchoesNull) {
  RpcError e = parseFails(R"({"jsonrpc":"1.0","id":{"a":1},"method":"m"})");
  EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
  EXPECT_TRUE(e.id.is_null());
}

TEST(JsonRpcInvalidRequest, BadIdTypes) {
  for (std::string_view id :
       {"{}", R"({"a":1})", "[]", "[1]", "1.5", "1.0", "1e3", "true", "false", "null"}) {
    std::string text = R"({"jsonrpc":"2.0","method":"m","id":)" + std::string(id) + "}";
    SCOPED_TRACE(text);
    RpcError e = parseFails(text);
    EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
    EXPECT_TRUE(contains(e.message, "\"id\"")) << e.message;
    // The id itself is what is wrong, so there is nothing to echo.
    EXPECT_TRUE(e.id.is_null());
  }
}

TEST(JsonRpcInvalidRequest, BadIdOnResultResponse) {
  for (std::string_view id : {"{}", "[1]", "2.5", "null", "true"}) {
    std::string text = R"({"jsonrpc":"2.0","result":{},"id":)" + std::string(id) + "}";
    SCOPED_TRACE(text);
    RpcError e = parseFails(text);
    EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
    EXPECT_TRUE(e.id.is_null());
  }
}

TEST(JsonRpcInvalidRequest, BadIdOnErrorResponse) {
  RpcError e = parseFails(R"({"jsonrpc":"2.0","id":[1],"error":{"code":1,"message":"m"}})");
  EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
  EXPECT_TRUE(contains(e.message, "\"id\"")) << e.message;
}

TEST(JsonRpcInvalidRequest, MethodMustBeAString) {
  for (std::string_view method : {"1", "null", "{}", "[]", "true"}) {
    std::string text = R"({"jsonrpc":"2.0","id":3,"method":)" + std::string(method) + "}";
    SCOPED_TRACE(text);
    RpcError e = parseFails(text);
    EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
    EXPECT_TRUE(contains(e.message, "method")) << e.message;
    EXPECT_EQ(e.id.as_int64(), 3);
  }
}

TEST(JsonRpcInvalidRequest, ParamsMustBeObjectOrArray) {
  for (std::string_view params : {"1", "\"s\"", "true", "null"}) {
    std::string text =
        R"({"jsonrpc":"2.0","id":"p","method":"m","params":)" + std::string(params) + "}";
    SCOPED_TRACE(text);
    RpcError e = parseFails(text);
    EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
    EXPECT_TRUE(contains(e.message, "params")) << e.message;
    EXPECT_EQ(e.id.as_string(), "p");
  }
  // Same rule for notifications (no id to echo).
  RpcError e = parseFails(R"({"jsonrpc":"2.0","method":"m","params":5})");
  EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
  EXPECT_TRUE(e.id.is_null());
}

TEST(JsonRpcInvalidRequest, MissingMethodAndId) {
  for (std::string_view text : {R"({"jsonrpc":"2.0"})", R"({"jsonrpc":"2.0","params":{}})",
                                R"({"jsonrpc":"2.0","result":1})",
                                R"({"jsonrpc":"2.0","error":{"code":1,"message":"m"}})"}) {
    SCOPED_TRACE(std::string(text));
    RpcError e = parseFails(text);
    EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
    EXPECT_TRUE(contains(e.message, "method")) << e.message;
    EXPECT_TRUE(e.id.is_null());
  }
}

TEST(JsonRpcInvalidRequest, MissingMethodWithIdEchoesTheId) {
  // An id without method, result or error: neither a request nor a response.
  RpcError e = parseFails(R"({"jsonrpc":"2.0","id":11})");
  EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
  EXPECT_EQ(e.id.as_int64(), 11);
  EXPECT_TRUE(contains(e.message, "result")) << e.message;
}

TEST(JsonRpcInvalidRequest, ResultAndErrorTogether) {
  RpcError e =
      parseFails(R"({"jsonrpc":"2.0","id":"both","result":1,"error":{"code":1,"message":"m"}})");
  EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
  EXPECT_EQ(e.id.as_string(), "both");
}

TEST(JsonRpcInvalidRequest, MalformedErrorObject) {
  for (std::string_view error : {"null", "\"oops\"", "[]", "{}", R"({"code":1})",
                                 R"({"message":"m"})", R"({"code":"1","message":"m"})",
                                 R"({"code":1,"message":2})", R"({"code":null,"message":"m"})"}) {
    std::string text = R"({"jsonrpc":"2.0","id":4,"error":)" + std::string(error) + "}";
    SCOPED_TRACE(text);
    RpcError e = parseFails(text);
    EXPECT_EQ(e.code, rpc_error::kInvalidRequest);
    EXPECT_TRUE(contains(e.message, "error")) << e.message;
    EXPECT_EQ(e.id.as_int64(), 4);
  }
}

// ---------------------------------------------------------------------------------------------
// Limits

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonRpcLimits, DepthAtTheLimitParses) {
  Limits limits;
  limits.max_depth = 8;
  auto ok = parseJson(nested(8), limits);
  EXPECT_TRUE(ok.has_value()) << (ok ? "" : ok.error().message);

  auto deep = parseJson(nested(9), limits);
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().code, rpc_error::kParseError);
  EXPECT_EQ(deep.error().message, "Parse error: nesting deeper than 8");
}

TEST(JsonRpcLimits, DepthCountsTheEnvelope) {
  // The message object is level 1, params level 2, and so on.
  Limits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(parseMessage(R"({"jsonrpc":"2.0","method":"m","params":{"a":[1]}})", limits));
  auto deep = parseMessage(R"({"jsonrpc":"2.0","method":"m","params":{"a":[[1]]}})", limits);
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().code, rpc_error::kParseError);
  EXPECT_TRUE(contains(deep.error().message, "nesting deeper than 3")) << deep.error().message;
}

TEST(JsonRpcLimits, HundredThousandOpenBracketsAreRejectedCleanly) {
  std::string bomb(100000, '[');
  auto e = parseMessage(bomb, kDefaultLimits);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, rpc_error::kParseError);
  EXPECT_EQ(e.error().message, "Parse error: nesting deeper than 64");

  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  auto o = parseMessage(objects, kDefaultLimits);
  ASSERT_FALSE(o.has_value());
  EXPECT_EQ(o.error().code, rpc_error::kParseError);
  EXPECT_TRUE(contains(o.error().message, "nesting deeper than 64"));
}

TEST(JsonRpcLimits, SizeLimit) {
  std::string text = R"({"jsonrpc":"2.0","method":"m"})";
  Limits limits;
  limits.max_message_bytes = text.size();
  EXPECT_TRUE(parseMessage(text, limits).has_value());

  limits.max_message_bytes = text.size() - 1;
  auto e = parseMessage(text, limits);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, rpc_error::kParseError);
  EXPECT_EQ(e.error().message, "Parse error: message of " + std::to_string(text.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(text.size() - 1));
  EXPECT_TRUE(e.error().id.is_null());
}

TEST(JsonRpcLimits, SizeIsCheckedBeforeParsing) {
  // Oversize garbage reports the size, not a syntax error.
  Limits limits;
  limits.max_message_bytes = 16;
  auto e = parseJson(std::string(1000, '['), limits);
  ASSERT_FALSE(e.has_value());
  EXPECT_TRUE(contains(e.error().message, "exceeds the limit of 16")) << e.error().message;
}

// ---------------------------------------------------------------------------------------------
// Batches: parseJson yields the array; each element is validated on its own.

TEST(JsonRpcBatch, ElementsAreValidatedIndependently) {
  auto value = parseJson(R"([
      {"jsonrpc":"2.0","id":1,"method":"a"},
      {"jsonrpc":"2.0","method":"b"},
      {"jsonrpc":"1.0","id":3,"method":"c"},
      42,
      {"jsonrpc":"2.0","id":5,"result":{}}
    ])",
                         kDefaultLimits);
  ASSERT_TRUE(value.has_value());
  ASSERT_TRUE(value->is_array());
  const auto& batch = value->get_array();
  ASSERT_EQ(batch.size(), 5u);

  auto a = toMessage(batch[0]);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->kind, MessageKind::kRequest);
  auto b = toMessage(batch[1]);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->kind, MessageKind::kNotification);
  auto c = toMessage(batch[2]);
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, rpc_error::kInvalidRequest);
  EXPECT_EQ(c.error().id.as_int64(), 3);
  auto d = toMessage(batch[3]);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, rpc_error::kInvalidRequest);
  auto e = toMessage(batch[4]);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, MessageKind::kResult);
}

TEST(JsonRpcBatch, ParseMessageRejectsBatchesAndEmptyBatches) {
  for (std::string_view text : {"[]", R"([{"jsonrpc":"2.0","method":"m"}])"}) {
    auto e = parseMessage(text, kDefaultLimits);
    ASSERT_FALSE(e.has_value());
    EXPECT_EQ(e.error().code, rpc_error::kInvalidRequest);
  }
}

TEST(JsonRpcBatch, DepthLimitAppliesToTheWholeBatch) {
  Limits limits;
  limits.max_depth = 2;
  EXPECT_TRUE(parseJson(R"([{"jsonrpc":"2.0","method":"m"}])", limits));
  EXPECT_FALSE(parseJson(R"([{"jsonrpc":"2.0","method":"m","params":{}}])", limits));
}

// ---------------------------------------------------------------------------------------------
// Serialization

Message roundTrip(const Message& m) {
  std::string text = serialize(m);
  auto parsed = parseMessage(text, kDefaultLimits);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed ? *parsed : Message{};
}

TEST(JsonRpcSerialize, RequestRoundTrip) {
  Message m =
      makeRequest(42, "tools/call", json::object{{"name", "echo"}, {"arguments", json::object{}}});
  EXPECT_EQ(m.kind, MessageKind::kRequest);
  Message back = roundTrip(m);
  EXPECT_EQ(back.kind, MessageKind::kRequest);
  EXPECT_EQ(back.id, m.id);
  EXPECT_EQ(back.method, "tools/call");
  EXPECT_EQ(back.params, m.params);
}

TEST(JsonRpcSerialize, RequestWithStringIdRoundTrip) {
  Message back = roundTrip(makeRequest("id-\"quoted\"\n", "m", json::array{1, "two"}));
  EXPECT_EQ(back.id.as_string(), "id-\"quoted\"\n");
  EXPECT_EQ(back.params, (json::array{1, "two"}));
}

TEST(JsonRpcSerialize, NullParamsAreOmitted) {
  std::string text = serialize(makeRequest(1, "ping", nullptr));
  EXPECT_FALSE(contains(text, "params")) << text;
  json::value v = json::parse(text);
  EXPECT_EQ(v, (json::value{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}}));

  std::string note = serialize(makeNotification("notifications/initialized", nullptr));
  EXPECT_EQ(json::parse(note),
            (json::value{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}));
}

TEST(JsonRpcSerialize, NotificationRoundTrip) {
  Message m = makeNotification("notifications/progress", json::object{{"progress", 0.5}});
  EXPECT_EQ(m.kind, MessageKind::kNotification);
  Message back = roundTrip(m);
  EXPECT_EQ(back.kind, MessageKind::kNotification);
  EXPECT_TRUE(back.id.is_null());
  EXPECT_EQ(back.method, "notifications/progress");
  EXPECT_EQ(back.params.at("progress").as_double(), 0.5);
  EXPECT_FALSE(contains(serialize(m), "\"id\""));
}

TEST(JsonRpcSerialize, ResultRoundTrip) {
  Message m = makeResult("r1", json::object{{"content", json::array{}}});
  EXPECT_EQ(m.kind, MessageKind::kResult);
  Message back = roundTrip(m);
  EXPECT_EQ(back.kind, MessageKind::kResult);
  EXPECT_EQ(back.id.as_string(), "r1");
  EXPECT_EQ(back.result, m.result);
}

TEST(JsonRpcSerialize, NullResultIsKept) {
  // Unlike params, a null result is meaningful and must be written.
  std::string text = serialize(makeResult(1, nullptr));
  EXPECT_TRUE(contains(text, "\"result\":null")) << text;
  EXPECT_EQ(roundTrip(makeResult(1, nullptr)).kind, MessageKind::kResult);
}

TEST(JsonRpcSerialize, ErrorRoundTrip) {
  Message m = makeError(7, rpc_error::kInvalidParams, "Invalid params: x", json::object{{"k", 1}});
  EXPECT_EQ(m.kind, MessageKind::kError);
  EXPECT_EQ(m.error, (json::value{{"code", rpc_error::kInvalidParams},
                                  {"message", "Invalid params: x"},
                                  {"data", {{"k", 1}}}}));
  Message back = roundTrip(m);
  EXPECT_EQ(back.kind, MessageKind::kError);
  EXPECT_EQ(back.id.as_int64(), 7);
  EXPECT_EQ(back.error, m.error);
}

TEST(JsonRpcSerialize, ErrorWithoutDataHasNoDataKey) {
  Message m = makeError(nullptr, rpc_error::kParseError, "Parse error");
  EXPECT_FALSE(m.error.as_object().contains("data"));
  Message back = roundTrip(m);
  EXPECT_EQ(back.kind, MessageKind::kError);
  EXPECT_TRUE(back.id.is_null());
  EXPECT_EQ(json::parse(serialize(m)),
            (json::value{{"jsonrpc", "2.0"},
                         {"id", nullptr},
                         {"error", {{"code", -32700}, {"message", "Parse error"}}}}));
}

TEST(JsonRpcSerialize, MakeErrorFromRpcError) {
  RpcError e = parseFails(R"({"jsonrpc":"1.0","id":"q","method":"m"})");
  Message m = makeError(e);
  EXPECT_EQ(m.kind, MessageKind::kError);
  EXPECT_EQ(m.id.as_string(), "q");
  EXPECT_EQ(m.error.at("code").as_int64(), rpc_error::kInvalidRequest);
  EXPECT_EQ(m.error.at("message").as_string(), e.message);
  EXPECT_FALSE(m.error.as_object().contains("data"));

  RpcError with_data{rpc_error::kInternalError, "Internal error", 3, json::array{"why"}};
  Message d = makeError(with_data);
  EXPECT_EQ(d.error.at("data"), (json::array{"why"}));
  EXPECT_EQ(roundTrip(d).error, d.error);
}

TEST(JsonRpcSerialize, ParsedMessagesReserializeToTheSameJson) {
  for (std::string_view text : {
           R"({"jsonrpc":"2.0","id":1,"method":"a","params":{"x":[1,2,{"y":null}]}})",
           R"({"jsonrpc":"2.0","method":"b","params":[]})",
           R"({"jsonrpc":"2.0","id":"s","result":{"ok":true}})",
           R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})",
       }) {
    SCOPED_TRACE(std::string(text));
    Message m = parseOk(text);
    EXPECT_EQ(toJson(m), json::parse(text));
  }
}

TEST(JsonRpcSerialize, UnknownMemberIsDroppedOnReserialize) {
  // Only the JSON-RPC members are modelled; extensions do not survive.
  Message m = parseOk(R"({"jsonrpc":"2.0","id":1,"method":"m","extra":true})");
  EXPECT_EQ(m.kind, MessageKind::kRequest);
  EXPECT_FALSE(contains(serialize(m), "extra"));
}

TEST(JsonRpcIds, IsValidId) {
  EXPECT_TRUE(isValidId(json::value(1)));
  EXPECT_TRUE(isValidId(json::value(-1)));
  EXPECT_TRUE(isValidId(json::value(UINT64_MAX)));
  EXPECT_TRUE(isValidId(json::value("x")));
  EXPECT_TRUE(isValidId(json::value("")));
  EXPECT_FALSE(isValidId(json::value(nullptr)));
  EXPECT_FALSE(isValidId(json::value(1.0)));
  EXPECT_FALSE(isValidId(json::value(true)));
  EXPECT_FALSE(isValidId(json::value(json::array{})));
  EXPECT_FALSE(isValidId(json::value(json::object{})));
}

// ---------------------------------------------------------------------------------------------
// MCP protocol revisions

TEST(McpVersions, SupportAndNegotiation) {
  EXPECT_EQ(kLatestVersion, "2025-11-25");
  for (std::string_view v : kSupportedVersions) {
    EXPECT_TRUE(isSupportedVersion(v)) << v;
    EXPECT_EQ(negotiateVersion(v), v);
    EXPECT_TRUE(contains(std::string(supportedVersionsText()), v));
  }
  EXPECT_FALSE(isSupportedVersion("2024-10-07"));
  EXPECT_FALSE(isSupportedVersion(""));
  EXPECT_EQ(negotiateVersion("1999-01-01"), kLatestVersion);
  EXPECT_EQ(negotiateVersion(""), kLatestVersion);
  EXPECT_TRUE(isSupportedVersion(kDefaultHttpVersion));
  EXPECT_TRUE(versionAtLeast("2025-06-18", "2025-03-26"));
  EXPECT_TRUE(versionAtLeast("2025-03-26", "2025-03-26"));
  EXPECT_FALSE(versionAtLeast("2024-11-05", "2025-03-26"));
}

}  // namespace
}  // namespace mcpproxy::protocol
