// The web UI's files, embedded in the binary at build time (cmake/embed_ui.cmake turns every
// file under ui/ into a generated source), and the HTTP answer for a GET under /ui/. The HTTP
// server owns the sockets; this module only says what to send, so it needs no Beast.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpproxy::ui {

/** One embedded file. Every view points into static storage. */
struct Asset {
  std::string_view path;          // relative to /ui/, e.g. "index.html", "js/app.js"
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view body;
  std::string_view etag;  // strong validator: a quoted prefix of the SHA-256 of the body
};

/**
 * The asset at `path`, relative to /ui/ ("" and "/" mean index.html; one leading '/' is
 * ignored; a query string or fragment is ignored), or nullptr when there is none. Never touches
 * the file system, so ".." and the like simply find nothing.
 */
const Asset* findAsset(std::string_view path);

/** Every embedded asset, in path order. */
std::span<const Asset> allAssets();

/**
 * Headers every /ui/ answer carries (also 304 and 404): no inline script or style, nothing from
 * other origins, no framing. The UI's code lives in ES modules under /ui/.
 */
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

/** What to answer to a GET/HEAD of /ui/<path>. */
struct Response {
  int status = 200;  // 200, 304 (If-None-Match matched) or 404
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;  // empty for 304
};

/**
 * The answer for `path` (as for findAsset) given the request's If-None-Match header (empty when
 * absent). Headers: Content-Type, ETag, Cache-Control: no-cache (revalidate every time, so a
 * new binary's UI is picked up at once), Content-Security-Policy, X-Content-Type-Options,
 * Referrer-Policy, X-Frame-Options. The caller adds Content-Length and connection headers.
 */
Response serve(std::string_view path, std::string_view if_none_match);

}  // namespace mcpproxy::ui
