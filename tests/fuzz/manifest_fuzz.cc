// libFuzzer target for signed manifests: untrusted bytes through the envelope parser and, so the
// fuzzer can explore the payload grammar without base64 in the way, through the payload parser
// directly. Checks that nothing crashes or throws, that errors are the documented kinds, that a
// parsed manifest re-serialises into a payload that parses to the same tools, signs and
// verifies, and that comparing a manifest with its own definitions agrees with the hashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "manifest/check.h"
#include "manifest/compare.h"
#include "manifest/format.h"
#include "manifest/signing.h"
#include "storage/tool_hash.h"

namespace {

using namespace mcpproxy;
using namespace mcpproxy::manifest;

void check(bool condition) {
  if (!condition) std::abort();
}

const SigningKey& fuzzKey() {
  static const SigningKey key = SigningKey::generate("fuzz");
  return key;
}

void checkError(const Error& error) {
  check(error.code == ErrorCode::kInvalidArgument || error.code == ErrorCode::kLimitExceeded);
  check(!error.message.empty());
}

void checkManifest(const Manifest& m, const Limits& limits) {
  check(!m.server.name.empty() && !m.version.empty());
  check(!m.expires_at || *m.expires_at > m.issued_at);
  check(m.tools.size() <= limits.max_tools);

  // Re-serialised, it parses to the same identity and tools (definitions may differ by an ulp:
  // Boost.JSON 1.81 does not round-trip every double, which is why DSSE signs bytes).
  std::string payload = serializePayload(m);
  auto again = parsePayload(payload, limits);
  check(again.has_value());
  check(again->server.name == m.server.name && again->version == m.version);
  check(again->issued_at == m.issued_at && again->expires_at == m.expires_at);
  check(again->tools.size() == m.tools.size());
  for (const auto& tool : m.tools) {
    const ManifestTool* other = again->find(tool.name);
    check(other != nullptr && other->hash == tool.hash);
  }

  // Signed with a known key, it verifies at its issue time.
  const SigningKey* signer = &fuzzKey();
  std::string envelope = signManifest(m, std::span<const SigningKey* const>(&signer, 1));
  TrustedKey trusted{"fuzz", fuzzKey().publicKey(), std::nullopt, std::nullopt, false};
  auto verified = verifyText(envelope, std::span<const TrustedKey>(&trusted, 1), m.issued_at);
  check(verified.ok());

  // Compared with its own definitions: ok exactly where the definition reproduces the hash.
  std::vector<json::object> current;
  for (const auto& tool : m.tools) current.push_back(tool.definition);
  auto comparison = compareTools(m, current);
  check(comparison.tools.size() == m.tools.size());
  for (const auto& result : comparison.tools) {
    const ManifestTool* tool = m.find(result.name);
    check(tool != nullptr);
    bool same = storage::toolHash(tool->definition) == tool->hash;
    check(result.status == (same ? ToolStatus::kOk : ToolStatus::kTampered));
    check(same || !result.changes.empty());
  }
  (void)toJson(m);
  (void)toJson(comparison);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Limits limits;
  limits.max_file_bytes = 1 << 20;
  limits.max_payload_bytes = 1 << 20;
  limits.max_tools = 200;

  auto envelope = parseSignedManifest(bytes, limits);
  if (envelope) {
    check(envelope->payload_type == kPayloadType);
    check(!envelope->signatures.empty());
    checkManifest(envelope->manifest, limits);
    // Verifying the fuzzer's signatures (almost always bad) must not crash or pass.
    TrustedKey trusted{"fuzz", fuzzKey().publicKey(), std::nullopt, std::nullopt, false};
    auto v = verify(*envelope, std::span<const TrustedKey>(&trusted, 1), 0);
    check(!v.message.empty());
    auto server = checkServer(bytes, std::span<const TrustedKey>(&trusted, 1), 0, {}, "", limits);
    check(server.verification.ok() || server.server_blocked);
    check(!server.server_blocked || !server.reason.empty());  // a blocked server says why
  } else {
    checkError(envelope.error());
  }

  auto payload = parsePayload(bytes, limits);
  if (payload) {
    checkManifest(*payload, limits);
  } else {
    checkError(payload.error());
  }

  // Base64 decoding is total and consistent with encoding.
  if (size <= 4096) {
    if (auto decoded = decodeBase64(bytes)) check(decodeBase64(encodeBase64(*decoded)) == decoded);
  }
  return 0;
}
