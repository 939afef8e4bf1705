// See config_edit.h.
#include "api/config_edit.h"

#include <boost/json/serialize.hpp>

#include "common/redact.h"
#include "protocol/jsonrpc.h"

namespace mcpproxy::api {

Result<json::object> parseDocument(std::string_view text) {
  protocol::Limits limits;
  limits.max_message_bytes = 64 * 1024 * 1024;
  auto parsed = protocol::parseJson(text, limits);
  if (!parsed) return makeError(ErrorCode::kInvalidArgument, "the config file is not valid JSON");
  if (!parsed->is_object()) {
    return makeError(ErrorCode::kInvalidArgument, "the config's top level must be an object");
  }
  return std::move(parsed->get_object());
}

namespace {

bool hasName(const json::value& entry, std::string_view name) {
  const auto* object = entry.if_object();
  const auto* n = object ? object->if_contains("name") : nullptr;
  return n && n->is_string() && n->get_string() == name;
}

}  // namespace

std::optional<json::object> findServerEntry(const json::object& document, std::string_view name) {
  const auto* servers = document.if_contains("mcpServers");
  if (!servers) return std::nullopt;
  if (const auto* array = servers->if_array()) {
    for (const auto& entry : *array) {
      if (hasName(entry, name)) return entry.get_object();
    }
    return std::nullopt;
  }
  if (const auto* object = servers->if_object()) {
    const auto* entry = object->if_contains(name);
    if (!entry || !entry->is_object()) return std::nullopt;
    json::object out = entry->get_object();
    out["name"] = name;
    return out;
  }
  return std::nullopt;
}

void upsertServerEntry(json::object& document, json::object entry) {
  std::string name(entry.at("name").get_string());
  auto* servers = document.if_contains("mcpServers");
  if (!servers || servers->is_null()) {
    document["mcpServers"] = json::array{};
    servers = document.if_contains("mcpServers");
  }
  if (auto* object = servers->if_object()) {
    entry.erase("name");  // the key is the name in this form
    (*object)[name] = std::move(entry);
    return;
  }
  if (!servers->is_array()) *servers = json::array{};
  auto& array = servers->get_array();
  for (auto& existing : array) {
    if (hasName(existing, name)) {
      existing = std::move(entry);
      return;
    }
  }
  array.push_back(std::move(entry));
}

bool removeServerEntry(json::object& document, std::string_view name) {
  auto* servers = document.if_contains("mcpServers");
  if (!servers) return false;
  if (auto* object = servers->if_object()) return object->erase(name) > 0;
  if (auto* array = servers->if_array()) {
    for (auto it = array->begin(); it != array->end(); ++it) {
      if (hasName(*it, name)) {
        array->erase(it);
        return true;
      }
    }
  }
  return false;
}

json::object mergeEntry(json::object entry, const json::object& patch) {
  for (const auto& [key, value] : patch) {
    if (value.is_null()) {
      entry.erase(key);
    } else {
      entry[key] = value;
    }
  }
  return entry;
}

namespace {

void pretty(const json::value& value, std::string& out, int indent) {
  std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  if (const auto* object = value.if_object()) {
    if (object->empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& [key, member] : *object) {
      if (!first) out += ",\n";
      first = false;
      out += pad + json::serialize(json::string(key)) + ": ";
      pretty(member, out, indent + 2);
    }
    out += "\n" + std::string(static_cast<std::size_t>(indent), ' ') + "}";
    return;
  }
  if (const auto* array = value.if_array()) {
    if (array->empty()) {
      out += "[]";
      return;
    }
    // Arrays of scalars (args, trusted_hosts) stay on one line.
    bool scalars = true;
    for (const auto& element : *array) scalars = scalars && !element.is_structured();
    if (scalars) {
      out += json::serialize(*array);
      return;
    }
    out += "[\n";
    bool first = true;
    for (const auto& element : *array) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      pretty(element, out, indent + 2);
    }
    out += "\n" + std::string(static_cast<std::size_t>(indent), ' ') + "]";
    return;
  }
  out += json::serialize(value);
}

}  // namespace

std::string prettyJson(const json::value& value) {
  std::string out;
  pretty(value, out, 0);
  out += "\n";
  return out;
}

json::object redactDocument(json::object document) {
  json::value value(std::move(document));
  redactJsonSecrets(value);  // the one redaction rule (common/redact.h)
  return std::move(value.as_object());
}

}  // namespace mcpproxy::api
