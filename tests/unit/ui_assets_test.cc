// The embedded web UI: every file under ui/ is in the binary byte for byte, lookups map "" to
// index.html and find nothing outside ui/, answers carry content types, strong ETags (304 on
// If-None-Match), no-cache and a strict CSP. The UI's own files are checked against that CSP
// (no inline scripts or styles) and against building HTML from strings.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "ui/assets.h"

namespace mcpproxy::ui {
namespace {

namespace fs = std::filesystem;

const fs::path kUiDir = fs::path(MCPPROXY_UI_SOURCE_DIR);

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string_view header(const Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return {};
}

TEST(UiAssets, EveryFileUnderUiIsEmbeddedByteForByte) {
  std::size_t on_disk = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kUiDir)) {
    if (!entry.is_regular_file()) continue;
    std::string rel = fs::relative(entry.path(), kUiDir).generic_string();
    if (rel.starts_with('.') || rel.find("/.") != std::string::npos || rel.ends_with('~')) continue;
    ++on_disk;
    const Asset* asset = findAsset(rel);
    ASSERT_NE(asset, nullptr) << rel;
    EXPECT_EQ(asset->path, rel);
    EXPECT_EQ(asset->body, readFile(entry.path())) << rel;
  }
  EXPECT_GT(on_disk, 0u);
  EXPECT_EQ(allAssets().size(), on_disk);
}

TEST(UiAssets, IndexAliasesAndQueryStrings) {
  const Asset* index = findAsset("index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(findAsset(""), index);
  EXPECT_EQ(findAsset("/"), index);
  EXPECT_EQ(findAsset("/index.html"), index);
  EXPECT_EQ(findAsset("?v=1"), index);
  EXPECT_EQ(findAsset("index.html#/servers"), index);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
}

TEST(UiAssets, NothingOutsideTheEmbeddedSet) {
  EXPECT_EQ(findAsset("../CMakeLists.txt"), nullptr);
  EXPECT_EQ(findAsset("nope.html"), nullptr);
  EXPECT_EQ(findAsset("//index.html"), nullptr);
  EXPECT_EQ(findAsset("index.html/"), nullptr);
  EXPECT_EQ(findAsset(std::string_view("index.html\0x", 12)), nullptr);
}

TEST(UiAssets, ContentTypesByExtension) {
  for (const Asset& asset : allAssets()) {
    if (asset.path.ends_with(".js"))
      EXPECT_EQ(asset.content_type, "text/javascript; charset=utf-8");
    if (asset.path.ends_with(".css")) EXPECT_EQ(asset.content_type, "text/css; charset=utf-8");
    if (asset.path.ends_with(".svg")) EXPECT_EQ(asset.content_type, "image/svg+xml");
    EXPECT_NE(asset.content_type, "application/octet-stream") << asset.path;
  }
}

TEST(UiAssets, StrongEtagsDifferPerBody) {
  std::regex strong("^\"[0-9a-f]{32}\"$");
  for (const Asset& asset : allAssets()) {
    EXPECT_TRUE(std::regex_match(std::string(asset.etag), strong)) << asset.etag;
    for (const Asset& other : allAssets()) {
      if (other.body != asset.body) EXPECT_NE(other.etag, asset.etag);
    }
  }
}

TEST(UiAssets, ServeSetsHeadersAndRevalidates) {
  Response ok = serve("", "");
  ASSERT_EQ(ok.status, 200);
  const Asset* index = findAsset("");
  EXPECT_EQ(ok.body, index->body);
  EXPECT_EQ(header(ok, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(header(ok, "ETag"), index->etag);
  EXPECT_EQ(header(ok, "Cache-Control"), "no-cache");
  EXPECT_EQ(header(ok, "X-Content-Type-Options"), "nosniff");
  std::string_view csp = header(ok, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string_view::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string_view::npos);
  EXPECT_EQ(csp.find("unsafe-eval"), std::string_view::npos);

  std::string etag(index->etag);
  for (std::string value : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    Response cached = serve("index.html", value);
    EXPECT_EQ(cached.status, 304) << value;
    EXPECT_TRUE(cached.body.empty());
    EXPECT_EQ(header(cached, "ETag"), index->etag);
    EXPECT_FALSE(header(cached, "Content-Security-Policy").empty());
  }
  EXPECT_EQ(serve("index.html", "\"other\"").status, 200);
  EXPECT_EQ(serve("index.html", etag.substr(0, etag.size() - 2) + "\"").status, 200);

  Response missing = serve("missing.js", "");
  EXPECT_EQ(missing.status, 404);
  EXPECT_FALSE(header(missing, "Content-Security-Policy").empty());
}

// The CSP forbids inline scripts and styles; these checks keep the UI's own files within it and
// keep API data out of HTML parsing (the UI builds DOM nodes and sets textContent).
TEST(UiAssets, UiSourcesRespectTheCspAndNeverParseHtmlFromStrings) {
  std::regex inline_script("<script(?![^>]*\\bsrc=)[^>]*>", std::regex::icase);
  std::regex inline_style("<style|\\sstyle=|\\son[a-z]+=", std::regex::icase);
  std::regex html_sinks(
      "innerHTML|outerHTML|insertAdjacentHTML|document\\.write|eval\\(|new Function");
  for (const Asset& asset : allAssets()) {
    std::string body(asset.body);
    if (asset.path.ends_with(".html")) {
      EXPECT_FALSE(std::regex_search(body, inline_script)) << asset.path;
      EXPECT_FALSE(std::regex_search(body, inline_style)) << asset.path;
    }
    if (asset.path.ends_with(".js")) {
      EXPECT_FALSE(std::regex_search(body, html_sinks)) << asset.path;
    }
  }
}

}  // namespace
}  // namespace mcpproxy::ui
