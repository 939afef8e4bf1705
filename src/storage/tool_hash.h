// The canonical hash that pins a tool definition: SHA-256 over the canonical JSON (object keys
// sorted, no whitespace) of the fields that steer a model — name, title, description,
// inputSchema, outputSchema and annotations. Key order and formatting changes by an upstream do
// not change the hash; any change of meaning does.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string>

namespace mcpproxy::storage {

// Compact JSON with every object's keys sorted (bytewise), recursively.
std::string canonicalJson(const boost::json::value& value);

// 64 lowercase hex characters.
std::string toolHash(const boost::json::object& definition);

// SHA-256 of `bytes` as 64 lowercase hex characters.
std::string sha256Hex(std::string_view bytes);

}  // namespace mcpproxy::storage
