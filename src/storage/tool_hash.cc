// See tool_hash.h.
#include "storage/tool_hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <vector>

namespace mcpproxy::storage {

namespace json = boost::json;

namespace {

void appendCanonical(const json::value& value, std::string& out) {
  switch (value.kind()) {
    case json::kind::object: {
      const auto& object = value.get_object();
      std::vector<const json::key_value_pair*> members;
      members.reserve(object.size());
      for (const auto& member : object) members.push_back(&member);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out.push_back('{');
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out.push_back(',');
        out += json::serialize(json::string_view(members[i]->key()));
        out.push_back(':');
        appendCanonical(members[i]->value(), out);
      }
      out.push_back('}');
      break;
    }
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        appendCanonical(element, out);
      }
      out.push_back(']');
      break;
    }
    default:
      out += json::serialize(value);
  }
}

}  // namespace

std::string canonicalJson(const json::value& value) {
  std::string out;
  appendCanonical(value, out);
  return out;
}

std::string sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

std::string toolHash(const json::object& definition) {
  json::object pinned;
  for (const char* field :
       {"name", "title", "description", "inputSchema", "outputSchema", "annotations"}) {
    if (const auto* v = definition.if_contains(field)) pinned[field] = *v;
  }
  return sha256Hex(canonicalJson(pinned));
}

}  // namespace mcpproxy::storage
