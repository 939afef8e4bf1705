// Helpers shared by the management API's HTTP front ends: JSON error answers with stable codes
// and query-string parsing. See http_types.h.
#include "api/http_types.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace mcpproxy::api {

namespace {

int statusOf(std::string_view code) {
  if (code == "invalid_request") return 400;
  if (code == "unauthorized") return 401;
  if (code == "forbidden") return 403;
  if (code == "not_found") return 404;
  if (code == "method_not_allowed") return 405;
  if (code == "conflict") return 409;
  if (code == "payload_too_large") return 413;
  if (code == "headers_too_large") return 431;
  if (code == "unsupported_media_type") return 415;
  if (code == "unavailable") return 503;
  return 500;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hexValue(text[i + 1]) >= 0 &&
               hexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(hexValue(text[i + 1]) * 16 + hexValue(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

HttpResponse errorResponse(std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = statusOf(code);
  boost::json::value body = {{"error", {{"code", code}, {"message", message}}}};
  response.body = boost::json::serialize(body);
  return response;
}

void parseTarget(std::string_view target, std::string& path,
                 std::map<std::string, std::string>& query) {
  std::size_t mark = target.find('?');
  path = decode(target.substr(0, mark), false);
  query.clear();
  if (mark == std::string_view::npos) return;
  std::string_view rest = target.substr(mark + 1);
  while (!rest.empty()) {
    std::size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string key = decode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1), true);
    query.emplace(std::move(key), std::move(value));  // the first occurrence wins
  }
}

}  // namespace mcpproxy::api
