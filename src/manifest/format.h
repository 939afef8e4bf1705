// The signed tool manifest (docs/manifests.md): a server's tool set — each tool's pin hash (the
// same SHA-256 over canonical JSON that storage/tool_hash.h pins) and its pinned fields — with
// the server's identity, a version, an issue time and an optional expiry, in a DSSE envelope
// (https://github.com/secure-systems-lab/dsse) signed with Ed25519.
//
// DSSE signs the exact payload bytes, so verifying never re-serialises JSON: Boost.JSON 1.81
// does not parse every double back to the value it wrote, and a signature over a
// re-canonicalised payload would then fail (docs/manifests.md, "Why DSSE").
//
// Everything here is a pure function over bytes and values: no I/O, no clock.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace mcpproxy::manifest {

namespace json = boost::json;

// The DSSE payloadType of format version 1. A new meaning gets a new type (…v2+json); a v1
// reader refuses any other type.
inline constexpr std::string_view kPayloadType = "application/vnd.mcpproxy.tool-manifest.v1+json";

// Named limits on untrusted manifests (a manifest may come from a URL).
struct Limits {
  std::size_t max_file_bytes = 8 << 20;     // the envelope as read
  std::size_t max_payload_bytes = 6 << 20;  // the decoded payload
  std::size_t max_depth = 128;              // JSON nesting, envelope and payload
  std::size_t max_tools = 10'000;
  std::size_t max_signatures = 16;
  std::size_t max_text = 1024;  // server name/package/url, version, key ids, tool names
};

// Who the tool set belongs to. Only `name` is required.
struct ServerIdentity {
  std::string name;
  std::string package;  // e.g. "npm:@modelcontextprotocol/server-everything@2025.9.12"
  std::string url;      // a remote server's endpoint, without query or fragment
};

struct ManifestTool {
  std::string name;
  std::string hash;         // 64 lowercase hex: the pin (storage::toolHash)
  json::object definition;  // the pinned fields only; what diffs are computed against
};

// The payload, parsed.
struct Manifest {
  ServerIdentity server;
  std::string version;                     // the publisher's version of this manifest
  std::int64_t issued_at = 0;              // seconds since the epoch (UTC)
  std::optional<std::int64_t> expires_at;  // absent: no expiry of its own
  std::vector<ManifestTool> tools;         // unique names

  const ManifestTool* find(std::string_view name) const;
};

struct Signature {
  std::string keyid;  // an unauthenticated hint: which trusted key to try
  std::string sig;    // raw bytes (64 for Ed25519)
};

// A parsed envelope: the payload bytes exactly as signed, and the manifest they encode.
struct SignedManifest {
  std::string payload_type;
  std::string payload;  // decoded bytes: what the signatures cover (through pae())
  std::vector<Signature> signatures;
  Manifest manifest;
};

// DSSE's pre-authentication encoding: "DSSEv1 <len(type)> <type> <len(body)> <body>". These
// are the bytes an Ed25519 signature covers.
std::string pae(std::string_view payload_type, std::string_view payload);

// The pinned fields of a tool definition (exactly those storage::toolHash hashes).
json::object pinnedFields(const json::object& definition);

// Parses an envelope and its payload. Errors (kInvalidArgument, kLimitExceeded) say what is
// wrong in words a publisher can act on. Does not verify signatures (see signing.h).
Result<SignedManifest> parseSignedManifest(std::string_view text, const Limits& limits = {});

// The payload alone (the decoded bytes of an envelope's "payload").
Result<Manifest> parsePayload(std::string_view payload, const Limits& limits = {});

// The payload bytes of `manifest`: canonical JSON (tool_hash's form), tools sorted by name.
std::string serializePayload(const Manifest& manifest);

// The envelope as a JSON document (one line, newline-terminated).
std::string serializeEnvelope(std::string_view payload, const std::vector<Signature>& signatures,
                              std::string_view payload_type = kPayloadType);

// Standard base64 with padding; decoding also accepts URL-safe and unpadded forms (DSSE
// verifiers must). nullopt on anything else.
std::string encodeBase64(std::string_view bytes);
std::optional<std::string> decodeBase64(std::string_view text);

// "2025-06-01T12:00:00Z": the only time form a manifest uses.
std::string formatTime(std::int64_t seconds);
// Parses that form; nullopt for anything else.
std::optional<std::int64_t> parseTime(std::string_view text);

// The manifest as JSON for `manifest show --json` and the API (times as ISO 8601 strings).
json::object toJson(const Manifest& manifest);

}  // namespace mcpproxy::manifest
