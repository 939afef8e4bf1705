// Looks up the embedded web UI files (generated from ui/ by cmake/embed_ui.cmake) and builds the
// answer for GET /ui/<path>: content type, strong ETag with If-None-Match -> 304, no-cache, and a
// strict Content-Security-Policy. Pure lookups in static tables: nothing here reads the disk.
#include "ui/assets.h"

#include <algorithm>

#include "ui/assets_data.h"

namespace mcpproxy::ui {
namespace {

constexpr std::string_view kIndex = "index.html";

// True when the If-None-Match header value lists `etag` (or is "*"). Weak validators (W/"...")
// match too: If-None-Match uses the weak comparison (RFC 9110 13.1.2).
bool etagMatches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    std::size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
  }
  return false;
}

void addCommonHeaders(Response& response) {
  response.headers.emplace_back("Cache-Control", "no-cache");
  response.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back("X-Frame-Options", "DENY");
}

}  // namespace

std::span<const Asset> allAssets() {
  return {generated::kAssets, generated::kAssetCount};
}

const Asset* findAsset(std::string_view path) {
  path = path.substr(0, path.find_first_of("?#"));
  if (path.starts_with('/')) path.remove_prefix(1);
  if (path.empty()) path = kIndex;
  std::span<const Asset> assets = allAssets();
  auto it =
      std::lower_bound(assets.begin(), assets.end(), path,
                       [](const Asset& asset, std::string_view key) { return asset.path < key; });
  if (it == assets.end() || it->path != path) return nullptr;
  return &*it;
}

Response serve(std::string_view path, std::string_view if_none_match) {
  Response response;
  const Asset* asset = findAsset(path);
  if (asset == nullptr) {
    response.status = 404;
    response.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    addCommonHeaders(response);
    response.body = "not found\n";
    return response;
  }
  response.headers.emplace_back("ETag", asset->etag);
  addCommonHeaders(response);
  if (!if_none_match.empty() && etagMatches(if_none_match, asset->etag)) {
    response.status = 304;
    return response;
  }
  response.headers.emplace_back("Content-Type", asset->content_type);
  response.body = asset->body;
  return response;
}

}  // namespace mcpproxy::ui
