// Schema compression and token budgets for retrieve_tools answers (see schema_compress.h).
#include "index/schema_compress.h"

#include <boost/json.hpp>

namespace mcpproxy::index {
namespace {

namespace json = boost::json;

bool isEmptyDefault(const json::value& v) {
  if (v.is_null()) return true;
  if (const auto* s = v.if_string()) return s->empty();
  if (const auto* a = v.if_array()) return a->empty();
  if (const auto* o = v.if_object()) return o->empty();
  return false;
}

// Keywords whose value is a map of property names to schemas: their keys are names, not
// keywords, so a property called "title" is kept.
bool isSchemaMap(std::string_view key) {
  return key == "properties" || key == "patternProperties" || key == "$defs" ||
         key == "definitions" || key == "dependentSchemas";
}

json::value compress(const json::value& v, const CompressOptions& options, std::size_t depth,
                     bool names);

json::value compressObject(const json::object& o, const CompressOptions& options, std::size_t depth,
                           bool names) {
  json::object out;
  out.reserve(o.size());
  for (const auto& [key, value] : o) {
    if (!names && options.drop_noise) {
      if (key == "title" && value.is_string()) continue;
      if (key == "$schema" || key == "$id" || key == "$comment" || key == "examples") continue;
      if (key == "additionalProperties" && value.is_bool() && !value.get_bool()) continue;
      if (key == "default" && isEmptyDefault(value)) continue;
      if (key == "required" && value.is_array() && value.get_array().empty()) continue;
    }
    if (!names && key == "description" && value.is_string() && options.max_description_bytes > 0) {
      bool shortened = false;
      std::string_view text =
          shortenDescription(value.get_string(), options.max_description_bytes, shortened);
      std::string cut(text);
      if (shortened) cut += "…";
      out.emplace(key, std::move(cut));
      continue;
    }
    out.emplace(key, compress(value, options, depth + 1, !names && isSchemaMap(key)));
  }
  return out;
}

json::value compress(const json::value& v, const CompressOptions& options, std::size_t depth,
                     bool names) {
  if (depth > kMaxCompressDepth) return nullptr;
  if (const auto* o = v.if_object()) return compressObject(*o, options, depth, names);
  if (const auto* a = v.if_array()) {
    json::array out;
    out.reserve(a->size());
    for (const auto& item : *a) out.push_back(compress(item, options, depth + 1, false));
    return out;
  }
  return v;
}

}  // namespace

json::value compressSchema(const json::value& schema, const CompressOptions& options) {
  return compress(schema, options, 0, false);
}

std::string_view shortenDescription(std::string_view text, std::size_t max_bytes, bool& shortened) {
  shortened = false;
  if (max_bytes == 0 || text.size() <= max_bytes) return text;
  shortened = true;
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
  std::string_view head = text.substr(0, cut);
  // Prefer the last sentence end in the second half, else the last space.
  std::size_t sentence = head.find_last_of(".!?\n");
  if (sentence != std::string_view::npos && sentence >= cut / 2)
    return head.substr(0, sentence + 1);
  std::size_t space = head.find_last_of(' ');
  if (space != std::string_view::npos && space >= cut / 2) return head.substr(0, space);
  return head;
}

std::size_t entriesWithinBudget(const std::vector<json::value>& entries, std::size_t budget,
                                const std::function<std::size_t(std::string_view)>& count) {
  std::size_t used = 0, n = 0;
  for (const json::value& e : entries) {
    used += count(json::serialize(e));
    if (n > 0 && used > budget) break;
    ++n;
  }
  return n;
}

}  // namespace mcpproxy::index
