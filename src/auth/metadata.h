// The documents and headers both OAuth roles exchange, parsed and built without I/O:
// - `WWW-Authenticate` challenges (RFC 7235 / RFC 6750 §3): parsed by the client, built by the
//   resource server (`resource_metadata` of RFC 9728 §5.1, `error`, `scope`);
// - Protected Resource Metadata (RFC 9728) and Authorization Server Metadata (RFC 8414 / OpenID
//   Connect Discovery), with the MCP specification's discovery URL orders;
// - the canonical resource URI of RFC 8707 and the PRM `resource` match rule.
// Everything here takes untrusted text and has named limits; the fuzzer covers the parsers.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace mcpproxy::auth {

namespace json = boost::json;

inline constexpr std::size_t kMaxChallengeHeaderBytes = 16 * 1024;
inline constexpr std::size_t kMaxChallenges = 16;
inline constexpr std::size_t kMaxChallengeParams = 32;
inline constexpr std::size_t kMaxMetadataBytes = 256 * 1024;
inline constexpr std::size_t kMaxMetadataListItems = 256;

// --- WWW-Authenticate ---

struct Challenge {
  std::string scheme;  // as written; compare case-insensitively
  std::string token68;
  std::vector<std::pair<std::string, std::string>> params;  // names lowercased, values unquoted
  std::optional<std::string> param(std::string_view name) const;
};

// Parses one header value (which may hold several comma-separated challenges). Malformed input
// gives an error rather than a guess.
Result<std::vector<Challenge>> parseWwwAuthenticate(std::string_view header);

struct BearerChallenge {
  std::string resource_metadata;  // RFC 9728 §5.1
  std::string scope;              // space-separated
  std::string error;              // invalid_token, insufficient_scope, invalid_request
  std::string error_description;
};
// The first Bearer challenge among the values of every WWW-Authenticate header; nullopt when
// there is none (or none parses).
std::optional<BearerChallenge> findBearerChallenge(const std::vector<std::string>& header_values);

// The header value a resource server sends: `Bearer resource_metadata="…"` plus, when not
// empty, `error`, `error_description` and `scope`. Values are quoted (RFC 7230 quoted-string);
// control characters are dropped, so a value can never split the header.
std::string buildBearerChallenge(std::string_view resource_metadata, std::string_view error = {},
                                 std::string_view scope = {},
                                 std::string_view error_description = {});

// --- Protected Resource Metadata (RFC 9728) ---

struct ProtectedResourceMetadata {
  std::string resource;
  std::vector<std::string> authorization_servers;
  std::optional<std::vector<std::string>> scopes_supported;
  std::vector<std::string> bearer_methods_supported;
  std::string resource_name;
};
Result<ProtectedResourceMetadata> parseProtectedResourceMetadata(std::string_view text);
json::object buildProtectedResourceMetadata(const ProtectedResourceMetadata& metadata);

// Where a client looks for the PRM of `server_url`, in the 2025-11-25 order: the challenge's
// `resource_metadata` (when given), then /.well-known/oauth-protected-resource/<path>, then the
// root form. Duplicates are removed.
Result<std::vector<std::string>> protectedResourceMetadataUrls(std::string_view server_url,
                                                               std::string_view header_url = {});

// --- Authorization Server Metadata (RFC 8414, OpenID Connect Discovery 1.0) ---

struct AuthServerMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string registration_endpoint;
  std::string jwks_uri;
  std::string introspection_endpoint;
  std::optional<std::vector<std::string>> scopes_supported;
  std::vector<std::string> response_types_supported;
  std::optional<std::vector<std::string>> grant_types_supported;
  std::optional<std::vector<std::string>> code_challenge_methods_supported;
  std::optional<std::vector<std::string>> token_endpoint_auth_methods_supported;
  std::vector<std::string> token_endpoint_auth_signing_alg_values_supported;
  bool client_id_metadata_document_supported = false;
  bool authorization_response_iss_parameter_supported = false;  // RFC 9207
  bool from_fallback = false;  // 2025-03-26 default endpoints, no document was found
};
Result<AuthServerMetadata> parseAuthServerMetadata(std::string_view text);

// Metadata URLs of an issuer, in the MCP order: with a path component
// /.well-known/oauth-authorization-server/<path>, /.well-known/openid-configuration/<path>,
// <path>/.well-known/openid-configuration; without one the first two without the path.
Result<std::vector<std::string>> authServerMetadataUrls(std::string_view issuer);

// The 2025-03-26 fallback: the server URL's origin as the authorization base, with the default
// endpoints /authorize, /token and /register.
Result<AuthServerMetadata> fallbackAuthServerMetadata(std::string_view server_url);

// RFC 8414 §3.3: the issuer in the document must be the one the client asked for (a trailing
// slash of difference is tolerated).
bool sameIssuer(std::string_view a, std::string_view b);

// --- Resource identifiers (RFC 8707) ---

// Lowercase scheme and host, default port dropped, fragment dropped, a lone "/" path dropped.
Result<std::string> canonicalResourceUri(std::string_view url);

// Whether a PRM `resource` may stand for `server_url`: same origin, and the server's path lies
// at or under the resource's path.
bool resourceCovers(std::string_view resource, std::string_view server_url);

}  // namespace mcpproxy::auth
