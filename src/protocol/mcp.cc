// See mcp.h.
#include "protocol/mcp.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <string>

namespace mcpproxy::protocol {

bool isSupportedVersion(std::string_view version) {
  return std::find(kSupportedVersions.begin(), kSupportedVersions.end(), version) !=
         kSupportedVersions.end();
}

std::string_view negotiateVersion(std::string_view requested) {
  return isSupportedVersion(requested) ? requested : kLatestVersion;
}

std::string_view supportedVersionsText() {
  return "2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05";
}

namespace {

namespace json = boost::json;

std::string textField(const json::object& block, const char* key) {
  const json::value* value = block.if_contains(key);
  return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

void adaptBlock(std::string_view version, json::value& value) {
  json::object* block = value.if_object();
  if (!block) return;
  std::string type = textField(*block, "type");
  std::string text;
  if (type == "audio" && !versionAtLeast(version, "2025-03-26")) {
    std::size_t bytes = textField(*block, "data").size() * 3 / 4;
    text = "[audio content (" + textField(*block, "mimeType") + ", about " + std::to_string(bytes) +
           " bytes) omitted: this client's protocol predates audio]";
  } else if (type == "resource_link" && !versionAtLeast(version, "2025-06-18")) {
    std::string name = textField(*block, "name");
    text = "Resource link: " + textField(*block, "uri") + (name.empty() ? "" : " (" + name + ")");
  } else {
    return;
  }
  json::object replacement;
  replacement["type"] = "text";
  replacement["text"] = std::move(text);
  value = std::move(replacement);
}

}  // namespace

void adaptContentForVersion(std::string_view version, json::value& result) {
  if (versionAtLeast(version, "2025-06-18")) return;  // knows every block type we relay
  json::object* object = result.if_object();
  if (!object) return;
  if (json::value* content = object->if_contains("content"); content && content->is_array()) {
    for (auto& block : content->get_array()) adaptBlock(version, block);
  }
  if (json::value* messages = object->if_contains("messages"); messages && messages->is_array()) {
    for (auto& message : messages->get_array()) {
      if (json::object* m = message.if_object()) {
        if (json::value* content = m->if_contains("content")) adaptBlock(version, *content);
      }
    }
  }
}

}  // namespace mcpproxy::protocol
