// libFuzzer target for the JSON-RPC codec: untrusted bytes through parseMessage (and the batch
// path parseJson + toMessage) under limits. Checks that nothing crashes or throws, that every
// failure is a well-formed -32700 / -32600 error, that a parsed message has the shape its kind
// promises, that limits are monotonic, and that serialize + parse gives the message back.
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/jsonrpc.h"

namespace {

using namespace mcpproxy::protocol;

void check(bool condition) {
  if (!condition) std::abort();
}

// Equality up to the last digits of doubles: Boost.JSON 1.81 does not promise correctly rounded
// number parsing, so a serialized double may come back one ulp away.
bool sameJson(const json::value& a, const json::value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::double_: {
      double x = a.get_double();
      double y = b.get_double();
      if (x == y) return true;
      if (!std::isfinite(x) || !std::isfinite(y)) return false;
      return std::fabs(x - y) <= 1e-14 * std::fmax(std::fabs(x), std::fabs(y));
    }
    case json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!sameJson(x[i], y[i])) return false;
      }
      return true;
    }
    case json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x) {
        const json::value* other = y.if_contains(key);
        if (other == nullptr || !sameJson(value, *other)) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}

void checkError(const RpcError& error) {
  check(error.code == rpc_error::kParseError || error.code == rpc_error::kInvalidRequest);
  if (error.code == rpc_error::kParseError) {
    check(error.message.starts_with("Parse error"));
    check(error.id.is_null());
  } else {
    check(error.message.starts_with("Invalid Request"));
    check(error.id.is_null() || isValidId(error.id));
  }
  // The error can always be sent back, and reads as an error response.
  Message reply = makeError(error);
  auto back = parseMessage(serialize(reply), Limits{});
  check(back.has_value());
  check(back->kind == MessageKind::kError);
  check(back->error.at("code").as_int64() == error.code);
}

void checkShape(const Message& m) {
  check(m.params.is_null() || m.params.is_object() || m.params.is_array());
  switch (m.kind) {
    case MessageKind::kRequest:
      check(isValidId(m.id));
      break;
    case MessageKind::kNotification:
      check(m.id.is_null());
      break;
    case MessageKind::kResult:
      check(isValidId(m.id));
      check(m.method.empty());
      break;
    case MessageKind::kError:
      check(isValidId(m.id) || m.id.is_null());
      check(m.method.empty());
      check(m.error.is_object());
      check(m.error.at("code").is_number());
      check(m.error.at("message").is_string());
      break;
  }
}

void checkRoundTrip(const Message& m) {
  // Serialized output is within the same depth and at most a few times larger (escapes, and
  // doubles written in exponent form), so generous limits must accept it.
  Limits loose;
  loose.max_message_bytes = 64 * 1024 * 1024;
  loose.max_depth = 1024;
  std::string text = serialize(m);
  auto back = parseMessage(text, loose);
  check(back.has_value());
  check(back->kind == m.kind);
  check(back->id == m.id);
  check(back->method == m.method);
  check(sameJson(back->params, m.params));
  check(sameJson(back->result, m.result));
  check(sameJson(back->error, m.error));
}

void checkMessage(const std::expected<Message, RpcError>& parsed) {
  if (!parsed) {
    checkError(parsed.error());
    return;
  }
  checkShape(*parsed);
  checkRoundTrip(*parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  Limits limits;
  limits.max_message_bytes = 1024 * 1024;
  limits.max_depth = 32;
  auto parsed = parseMessage(bytes, limits);
  checkMessage(parsed);

  // Limits are monotonic: what parses under tight limits parses the same under loose ones.
  Limits tight;
  tight.max_message_bytes = std::min(size / 2 + 1, limits.max_message_bytes);
  tight.max_depth = 1 + (size % 8);
  auto tight_parsed = parseMessage(bytes, tight);
  if (tight_parsed) {
    check(parsed.has_value());
    check(tight_parsed->kind == parsed->kind);
    check(tight_parsed->id == parsed->id);
    check(tight_parsed->method == parsed->method);
  } else {
    checkError(tight_parsed.error());
  }
  if (size > 0) {
    Limits too_small;
    too_small.max_message_bytes = size - 1;
    auto rejected = parseMessage(bytes, too_small);
    check(!rejected.has_value());
    check(rejected.error().code == rpc_error::kParseError);
  }

  // The batch path: every element is validated on its own.
  auto value = parseJson(bytes, limits);
  check(value.has_value() == (parsed.has_value() || parsed.error().code != rpc_error::kParseError));
  if (value && value->is_array()) {
    for (const json::value& element : value->get_array()) checkMessage(toMessage(element));
  }
  return 0;
}
