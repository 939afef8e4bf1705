// Checks tool arguments against the tool's inputSchema before a call is dispatched, so a model
// gets a precise, actionable error ("args.path: expected string, got number") instead of an
// upstream's stack trace. A deliberately small JSON Schema subset — type (incl. unions),
// required, properties, additionalProperties: false, items, enum, const, minimum/maximum,
// minLength/maxLength, minItems/maxItems — which covers what MCP tools declare. Keywords it
// does not know are ignored (never a false rejection): the upstream remains the authority.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <vector>

namespace mcpproxy::router {

// Problems found, each "path: message"; empty when the arguments fit (or the schema is absent).
// At most `max_problems` are reported.
std::vector<std::string> checkArguments(const boost::json::value& schema,
                                        const boost::json::value& arguments,
                                        std::size_t max_problems = 5);

}  // namespace mcpproxy::router
