// See format.h. Parsing is strict on the payload (unknown members, duplicate keys, a hash that is
// not 64 lowercase hex, non-pinned fields in a definition are errors: a signer adding meaning
// must use a new payloadType) and lenient on the envelope exactly where DSSE says so (unknown
// envelope fields are ignored; standard and URL-safe base64 are both accepted).
#include "manifest/format.h"

#include <sodium.h>

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <ctime>
#include <set>

#include "common/time_format.h"
#include "protocol/jsonrpc.h"
#include "storage/tool_hash.h"

namespace mcpproxy::manifest {

namespace {

constexpr const char* kPinnedFields[] = {"name",        "title",        "description",
                                         "inputSchema", "outputSchema", "annotations"};

std::unexpected<Error> invalid(std::string message) {
  return makeError(ErrorCode::kInvalidArgument, std::move(message));
}

// Boost.JSON 1.81 keeps the last of duplicate keys; another implementation may keep the first.
// A signed payload must mean one thing to every reader, so duplicates are refused. This
// handler only watches keys; the DOM is built by a second, ordinary parse.
struct DuplicateKeyFinder {
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  std::vector<std::set<std::string>> objects;
  std::string key;
  std::string duplicate;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    objects.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    objects.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code& ec) {
    key.append(s.data(), s.size());
    bool fresh = objects.back().insert(key).second;
    if (!fresh) {
      duplicate = key;
      ec = json::error::syntax;
    }
    key.clear();
    return fresh;
  }
  bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, boost::system::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, boost::system::error_code&) { return true; }
  bool on_double(double, json::string_view, boost::system::error_code&) { return true; }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }
};

// Parses `text` as one JSON value within the limits, refusing duplicate keys. `what` names the
// document in errors ("the envelope", "the payload").
Result<json::value> parseStrictJson(std::string_view text, std::size_t max_depth,
                                    std::string_view what) {
  protocol::Limits limits;
  limits.max_message_bytes = text.size();  // sizes were checked by the caller
  limits.max_depth = max_depth;
  auto value = protocol::parseJson(text, limits);
  if (!value) {
    std::string why = value.error().message;
    if (why.starts_with("Parse error: ")) why = why.substr(13);
    return invalid(std::string(what) + " is not valid JSON: " + why);
  }
  json::parse_options options;
  options.max_depth = max_depth;
  json::basic_parser<DuplicateKeyFinder> finder(options);
  boost::system::error_code ec;
  finder.write_some(false, text.data(), text.size(), ec);
  if (!finder.handler().duplicate.empty()) {
    return invalid(std::string(what) + " has the key \"" + finder.handler().duplicate +
                   "\" twice in one object");
  }
  return std::move(*value);
}

bool isLowerHex64(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool isExtension(std::string_view key) {
  return key.starts_with("x-");
}

// A required or optional string member of at most `max` bytes.
Result<std::string> textMember(const json::object& object, std::string_view key,
                               const std::string& path, std::size_t max, bool required) {
  const json::value* v = object.if_contains(key);
  if (!v) {
    if (required) return invalid(path + "." + std::string(key) + ": required");
    return std::string();
  }
  if (!v->is_string()) return invalid(path + "." + std::string(key) + ": expected a string");
  std::string_view s = v->get_string();
  if (required && s.empty()) return invalid(path + "." + std::string(key) + ": empty");
  if (s.size() > max) {
    return makeError(ErrorCode::kLimitExceeded, path + "." + std::string(key) + ": longer than " +
                                                    std::to_string(max) + " bytes");
  }
  return std::string(s);
}

Result<void> onlyKnownMembers(const json::object& object, const std::string& path,
                              std::initializer_list<std::string_view> known) {
  for (const auto& member : object) {
    std::string_view key = member.key();
    if (isExtension(key)) continue;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return invalid(path + "." + std::string(key) +
                     ": unknown member (a v1 manifest allows only documented members and x-*)");
    }
  }
  return {};
}

Result<ManifestTool> parseTool(const json::value& value, const std::string& path,
                               const Limits& limits) {
  if (!value.is_object()) return invalid(path + ": expected an object");
  const auto& object = value.get_object();
  if (auto r = onlyKnownMembers(object, path, {"name", "hash", "definition"}); !r) {
    return std::unexpected(r.error());
  }
  ManifestTool tool;
  auto name = textMember(object, "name", path, limits.max_text, true);
  if (!name) return std::unexpected(name.error());
  tool.name = std::move(*name);
  auto hash = textMember(object, "hash", path, 64, true);
  if (!hash) return std::unexpected(hash.error());
  if (!isLowerHex64(*hash)) return invalid(path + ".hash: expected 64 lowercase hex characters");
  tool.hash = std::move(*hash);
  const json::value* definition = object.if_contains("definition");
  if (!definition || !definition->is_object()) {
    return invalid(path + ".definition: required, an object");
  }
  for (const auto& member : definition->get_object()) {
    if (std::find(std::begin(kPinnedFields), std::end(kPinnedFields), member.key()) ==
        std::end(kPinnedFields)) {
      return invalid(path + ".definition." + std::string(member.key()) +
                     ": not a pinned field (name, title, description, inputSchema, "
                     "outputSchema, annotations)");
    }
  }
  const json::value* inner_name = definition->get_object().if_contains("name");
  if (!inner_name || !inner_name->is_string() || inner_name->get_string() != tool.name) {
    return invalid(path + ".definition.name: must equal the tool's name \"" + tool.name + "\"");
  }
  tool.definition = definition->get_object();
  return tool;
}

}  // namespace

const ManifestTool* Manifest::find(std::string_view name) const {
  for (const auto& tool : tools) {
    if (tool.name == name) return &tool;
  }
  return nullptr;
}

std::string pae(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  out += std::to_string(payload_type.size());
  out += ' ';
  out += payload_type;
  out += ' ';
  out += std::to_string(payload.size());
  out += ' ';
  out += payload;
  return out;
}

json::object pinnedFields(const json::object& definition) {
  json::object pinned;
  for (const char* field : kPinnedFields) {
    if (const auto* v = definition.if_contains(field)) pinned[field] = *v;
  }
  return pinned;
}

std::string formatTime(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::optional<std::int64_t> parseTime(std::string_view text) {
  return parseIsoTimeUtc(text, /*allow_date_only=*/false);
}

std::string encodeBase64(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> decodeBase64(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                      sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
    std::size_t length = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), nullptr, &length, &end, variant) == 0 &&
        end == text.data() + text.size()) {
      out.resize(length);
      return out;
    }
  }
  return std::nullopt;
}

Result<Manifest> parsePayload(std::string_view payload, const Limits& limits) {
  if (payload.size() > limits.max_payload_bytes) {
    return makeError(
        ErrorCode::kLimitExceeded,
        "the payload is larger than " + std::to_string(limits.max_payload_bytes) + " bytes");
  }
  auto value = parseStrictJson(payload, limits.max_depth, "the payload");
  if (!value) return std::unexpected(value.error());
  if (!value->is_object()) return invalid("the payload must be a JSON object");
  const auto& root = value->get_object();
  const std::string path = "payload";
  if (auto r =
          onlyKnownMembers(root, path, {"server", "version", "issued_at", "expires_at", "tools"});
      !r) {
    return std::unexpected(r.error());
  }
  Manifest manifest;

  const json::value* server = root.if_contains("server");
  if (!server || !server->is_object()) return invalid("payload.server: required, an object");
  const auto& server_object = server->get_object();
  if (auto r = onlyKnownMembers(server_object, "payload.server", {"name", "package", "url"}); !r) {
    return std::unexpected(r.error());
  }
  auto name = textMember(server_object, "name", "payload.server", limits.max_text, true);
  auto package = textMember(server_object, "package", "payload.server", limits.max_text, false);
  auto url = textMember(server_object, "url", "payload.server", limits.max_text, false);
  if (!name) return std::unexpected(name.error());
  if (!package) return std::unexpected(package.error());
  if (!url) return std::unexpected(url.error());
  manifest.server = {std::move(*name), std::move(*package), std::move(*url)};

  auto version = textMember(root, "version", path, limits.max_text, true);
  if (!version) return std::unexpected(version.error());
  manifest.version = std::move(*version);

  auto issued = textMember(root, "issued_at", path, 64, true);
  if (!issued) return std::unexpected(issued.error());
  auto issued_at = parseTime(*issued);
  if (!issued_at) return invalid("payload.issued_at: expected YYYY-MM-DDTHH:MM:SSZ (UTC)");
  manifest.issued_at = *issued_at;
  if (root.contains("expires_at")) {
    auto expires = textMember(root, "expires_at", path, 64, true);
    if (!expires) return std::unexpected(expires.error());
    auto expires_at = parseTime(*expires);
    if (!expires_at) return invalid("payload.expires_at: expected YYYY-MM-DDTHH:MM:SSZ (UTC)");
    if (*expires_at <= manifest.issued_at) {
      return invalid("payload.expires_at: must be later than issued_at");
    }
    manifest.expires_at = *expires_at;
  }

  const json::value* tools = root.if_contains("tools");
  if (!tools || !tools->is_array()) return invalid("payload.tools: required, an array");
  const auto& array = tools->get_array();
  if (array.size() > limits.max_tools) {
    return makeError(ErrorCode::kLimitExceeded,
                     "payload.tools: more than " + std::to_string(limits.max_tools) + " tools");
  }
  std::set<std::string_view> seen;
  manifest.tools.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    auto tool = parseTool(array[i], "payload.tools[" + std::to_string(i) + "]", limits);
    if (!tool) return std::unexpected(tool.error());
    manifest.tools.push_back(std::move(*tool));
  }
  for (const auto& tool : manifest.tools) {
    if (!seen.insert(tool.name).second) {
      return invalid("payload.tools: the tool \"" + tool.name + "\" is listed twice");
    }
  }
  return manifest;
}

Result<SignedManifest> parseSignedManifest(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_file_bytes) {
    return makeError(
        ErrorCode::kLimitExceeded,
        "the manifest is larger than " + std::to_string(limits.max_file_bytes) + " bytes");
  }
  auto value = parseStrictJson(text, 8, "the envelope");
  if (!value) return std::unexpected(value.error());
  if (!value->is_object()) return invalid("the envelope must be a JSON object");
  const auto& envelope = value->get_object();
  SignedManifest out;

  const json::value* type = envelope.if_contains("payloadType");
  if (!type || !type->is_string()) return invalid("payloadType: required, a string");
  out.payload_type = std::string(type->get_string());
  if (out.payload_type != kPayloadType) {
    return invalid("payloadType \"" + out.payload_type.substr(0, 200) +
                   "\" is not supported (this build reads " + std::string(kPayloadType) + ")");
  }

  const json::value* payload = envelope.if_contains("payload");
  if (!payload || !payload->is_string()) return invalid("payload: required, a base64 string");
  std::string_view encoded = payload->get_string();
  if (encoded.size() / 4 * 3 > limits.max_payload_bytes + 3) {
    return makeError(
        ErrorCode::kLimitExceeded,
        "the payload is larger than " + std::to_string(limits.max_payload_bytes) + " bytes");
  }
  auto decoded = decodeBase64(encoded);
  if (!decoded) return invalid("payload: not valid base64");
  out.payload = std::move(*decoded);

  const json::value* signatures = envelope.if_contains("signatures");
  if (!signatures || !signatures->is_array()) return invalid("signatures: required, an array");
  const auto& array = signatures->get_array();
  if (array.empty()) return invalid("signatures: empty (the manifest is not signed)");
  if (array.size() > limits.max_signatures) {
    return makeError(ErrorCode::kLimitExceeded,
                     "signatures: more than " + std::to_string(limits.max_signatures));
  }
  for (std::size_t i = 0; i < array.size(); ++i) {
    std::string path = "signatures[" + std::to_string(i) + "]";
    if (!array[i].is_object()) return invalid(path + ": expected an object");
    const auto& entry = array[i].get_object();
    auto keyid = textMember(entry, "keyid", path, limits.max_text, false);
    if (!keyid) return std::unexpected(keyid.error());
    const json::value* sig = entry.if_contains("sig");
    if (!sig || !sig->is_string()) return invalid(path + ".sig: required, a base64 string");
    if (sig->get_string().size() > 1024) {
      return makeError(ErrorCode::kLimitExceeded, path + ".sig: too long");
    }
    auto bytes = decodeBase64(sig->get_string());
    if (!bytes) return invalid(path + ".sig: not valid base64");
    out.signatures.push_back({std::move(*keyid), std::move(*bytes)});
  }

  auto manifest = parsePayload(out.payload, limits);
  if (!manifest) return std::unexpected(manifest.error());
  out.manifest = std::move(*manifest);
  return out;
}

std::string serializePayload(const Manifest& manifest) {
  json::object server{{"name", manifest.server.name}};
  if (!manifest.server.package.empty()) server["package"] = manifest.server.package;
  if (!manifest.server.url.empty()) server["url"] = manifest.server.url;
  std::vector<const ManifestTool*> sorted;
  for (const auto& tool : manifest.tools) sorted.push_back(&tool);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->name < b->name; });
  json::array tools;
  for (const auto* tool : sorted) {
    tools.push_back(
        json::object{{"name", tool->name}, {"hash", tool->hash}, {"definition", tool->definition}});
  }
  json::object root{{"server", std::move(server)},
                    {"version", manifest.version},
                    {"issued_at", formatTime(manifest.issued_at)},
                    {"tools", std::move(tools)}};
  if (manifest.expires_at) root["expires_at"] = formatTime(*manifest.expires_at);
  return storage::canonicalJson(root);
}

std::string serializeEnvelope(std::string_view payload, const std::vector<Signature>& signatures,
                              std::string_view payload_type) {
  json::array sigs;
  for (const auto& s : signatures) {
    sigs.push_back(json::object{{"keyid", s.keyid}, {"sig", encodeBase64(s.sig)}});
  }
  json::object envelope{{"payloadType", payload_type},
                        {"payload", encodeBase64(payload)},
                        {"signatures", std::move(sigs)}};
  return json::serialize(envelope) + "\n";
}

json::object toJson(const Manifest& manifest) {
  json::object server{{"name", manifest.server.name}};
  if (!manifest.server.package.empty()) server["package"] = manifest.server.package;
  if (!manifest.server.url.empty()) server["url"] = manifest.server.url;
  json::array tools;
  for (const auto& tool : manifest.tools) {
    tools.push_back(
        json::object{{"name", tool.name}, {"hash", tool.hash}, {"definition", tool.definition}});
  }
  return json::object{
      {"server", std::move(server)},
      {"version", manifest.version},
      {"issued_at", formatTime(manifest.issued_at)},
      {"expires_at", manifest.expires_at ? json::value(formatTime(*manifest.expires_at)) : nullptr},
      {"tools", std::move(tools)}};
}

}  // namespace mcpproxy::manifest
