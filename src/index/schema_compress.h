// Smaller retrieve_tools answers: a tool's definition with what a model does not need to call
// it dropped, and an answer cut to a token budget. The caller (the proxy's retrieve_tools)
// chooses whether to compress and how to count tokens; measured savings are in
// docs/benchmarks.md ("Compressed schemas").
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

namespace mcpproxy::index {

inline constexpr std::size_t kMaxCompressDepth = 32;  // deeper schema parts are dropped

struct CompressOptions {
  // Drops, anywhere in the schema: "title" (a schema keyword, not a property named "title"),
  // "$schema", "$id", "$comment", "examples", "additionalProperties": false, "default" when it
  // is null / "" / [] / {} (a model gains nothing from them), and an empty "required".
  bool drop_noise = true;
  // Descriptions (the tool's and each parameter's) longer than this are cut at the last
  // sentence end or word boundary before it, with "…" appended; 0 keeps them whole.
  std::size_t max_description_bytes = 0;
};

// The compressed copy of an inputSchema. Never fails: what is not an object is returned as is.
boost::json::value compressSchema(const boost::json::value& schema,
                                  const CompressOptions& options = {});

// Cuts `text` as max_description_bytes says (UTF-8 safe).
std::string_view shortenDescription(std::string_view text, std::size_t max_bytes, bool& shortened);

// How many leading entries of an answer fit in `budget` tokens, counted by `count` on each
// entry's serialized JSON; at least one when there is any entry (a first answer that is alone
// over the budget is still better than none).
std::size_t entriesWithinBudget(const std::vector<boost::json::value>& entries, std::size_t budget,
                                const std::function<std::size_t(std::string_view)>& count);

}  // namespace mcpproxy::index
