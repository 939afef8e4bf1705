// Edits of the config file's JSON document for the management API, the upstream_servers tool
// and first-run key generation. The proxy rewrites the user's document (not a re-serialisation
// of config::Config), so keys it does not know, durations written as "2m" and the
// "mcpServers" form (array or Claude Desktop's object) survive. Pure functions, unit-tested.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace mcpproxy::api {

namespace json = boost::json;

// Parses the config file text into its top-level object.
Result<json::object> parseDocument(std::string_view text);

// The entry of server `name` with its "name" (also for the object form), or nullopt.
std::optional<json::object> findServerEntry(const json::object& document, std::string_view name);

// Replaces the entry with the same "name", or appends it; keeps the document's form.
void upsertServerEntry(json::object& document, json::object entry);

// Removes server `name`; false when there is none.
bool removeServerEntry(json::object& document, std::string_view name);

// `entry` with `patch` applied as a JSON merge patch (RFC 7386, one level: null removes a key).
json::object mergeEntry(json::object entry, const json::object& patch);

// Two-space indented JSON with a final newline, as people write config files.
std::string prettyJson(const json::value& value);

// The document with secrets replaced by "***": api_key, and every server's env and header values.
json::object redactDocument(json::object document);

}  // namespace mcpproxy::api
