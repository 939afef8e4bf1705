// The configuration file: JSON compatible with mcpproxy-go's mcp_config.json and with the
// "mcpServers" object form of Claude Desktop / Cursor. Parsing validates every field and names
// the offending one in its error; unknown keys are kept (so a rewrite preserves them) and
// reported as warnings.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace mcpproxy::config {

namespace json = boost::json;
using std::chrono::milliseconds;

// How to reach an upstream. kAuto resolves from the fields: a command means stdio, a URL means
// Streamable HTTP (with legacy-SSE fallback once that lands, issue 3).
enum class Protocol { kAuto, kStdio, kStreamableHttp, kSse };

std::string_view protocolName(Protocol protocol);

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// What the /mcp endpoint (and --stdio) exposes: a few proxy tools with search
// (kRetrieveTools), or every upstream tool (kDirect, which /mcp/all always uses).
enum class RoutingMode { kRetrieveTools, kDirect };

// What happens to a tool that appears later on an approved server: kManual keeps it pending
// until a person approves it, kScan approves it when the scanner passes it, kAuto approves it.
enum class TrustMode { kManual, kScan, kAuto };

// Per-upstream OAuth client settings (`"oauth": {...}`, docs/auth.md). Everything is optional:
// an empty object means "discover everything, register dynamically".
struct OAuthConfig {
  std::string client_id;
  Secret client_secret;  // ${env:NAME} allowed
  std::vector<std::string> scopes;
  bool client_credentials = false;  // "grant_type": "client_credentials" (else authorization_code)
  std::string private_key_file;     // private_key_jwt; absolute or relative to the config file
  std::string signing_algorithm;    // RS256, ES256, EdDSA, ...
  std::string
      token_endpoint_auth_method;  // none, client_secret_basic, client_secret_post, private_key_jwt
  std::string issuer;              // prefer this authorization server
};

// The proxy's own endpoint as an OAuth resource server (`"auth": {...}`, docs/auth.md).
struct AuthConfig {
  std::string issuer;
  std::string jwks_uri;  // empty: from the issuer's metadata
  std::string audience;  // empty: the proxy's own MCP URL
  std::vector<std::string> required_scopes;
  std::string scope_read, scope_write, scope_destructive;  // "scopes": {"read": ..., ...}
  std::string introspection_endpoint;
  std::string introspection_client_id;
  Secret introspection_client_secret;  // ${env:NAME} allowed
  std::optional<milliseconds> leeway;  // default 60 s
  bool accept_jwt_typ = false;         // also accept typ "JWT" access tokens
};

struct ServerConfig {
  std::string name;
  std::string command;
  std::vector<std::string> args;
  KeyValues env;  // added to the child's allowlisted environment
  std::string working_dir;
  std::string url;
  KeyValues headers;  // sent on every HTTP request to the upstream
  Protocol protocol = Protocol::kAuto;
  bool enabled = true;
  // true: quarantined; false: trusted by the person who wrote the config (its tools at first
  // connect become the approved baseline); absent: quarantined until approved (stored).
  std::optional<bool> quarantined;
  TrustMode trust_mode = TrustMode::kManual;
  // "manifest": a local path (relative to the config file's directory; "~" expanded) or an
  // https:// URL of the server's signed tool manifest (docs/manifests.md). Empty: none.
  std::string manifest;
  // "trust_mode": "signed": a valid manifest from a trusted key stands in for a person's
  // approval of exactly the definitions it lists. Kept apart from trust_mode, which then reads
  // kManual, so code that does not know manifests treats the server as manual (the safe
  // reading) until the manifest filter honours this flag (issue 16).
  bool signed_trust = false;
  std::optional<std::string> prefix;         // absent: "<name>__"; "" exposes tool names unchanged
  std::optional<milliseconds> call_timeout;  // overrides Config::call_timeout
  std::optional<OAuthConfig> oauth;          // HTTP upstreams only
  json::object unknown;                      // keys we do not know, kept verbatim

  // The prefix applied to this server's tool names in direct mode.
  std::string toolPrefix() const { return prefix ? *prefix : name + "__"; }
  // kAuto resolved against command/url.
  Protocol effectiveProtocol() const;
};

// A public key that signs tool manifests ("trusted_keys"). Times are seconds since the epoch.
struct TrustedKeyConfig {
  std::string id;          // matches the "keyid" of a manifest's signature
  std::string public_key;  // standard base64 of the 32-byte Ed25519 key (validated)
  std::optional<std::int64_t> not_before;
  std::optional<std::int64_t> not_after;
  bool revoked = false;
};

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir;  // empty: the directory of the config file
  Secret api_key;
  std::vector<ServerConfig> servers;

  // Per tools/call. Below the official SDK clients' own 60 s request timeout, so a slow upstream
  // ends in the proxy's clear "did not answer within 50 s" rather than the client's opaque one.
  milliseconds call_timeout{50'000};
  milliseconds init_timeout{30'000};     // connect + initialize of an upstream
  milliseconds health_interval{30'000};  // ping period for ready upstreams; 0 disables
  milliseconds session_idle_timeout{3'600'000};
  std::size_t tools_page_size = 1000;  // tools/list page size downstream
  std::size_t max_request_bytes = 4 * 1024 * 1024;
  std::size_t max_json_depth = 64;
  std::vector<std::string> trusted_hosts;  // extra Host/Origin names besides loopback
  std::string log_level = "info";

  // Tool discovery (docs/configuration.md): what /mcp exposes, and the proxy tools' defaults.
  RoutingMode routing_mode = RoutingMode::kRetrieveTools;
  std::size_t tools_limit = 15;              // retrieve_tools default `limit` (max 100)
  std::size_t tool_response_limit = 20'000;  // characters; longer results are paged (read_cache)

  // Hides the upstream_servers proxy tool and refuses its calls (issue 6); the REST API and CLI
  // still manage servers.
  bool disable_management = false;

  // Keys whose manifest signatures are trusted (docs/manifests.md); ids are unique.
  std::vector<TrustedKeyConfig> trusted_keys;
  // OAuth (docs/auth.md): the proxy's endpoint as a resource server, and the URL of the
  // proxy's Client ID Metadata Document for upstream authorization servers that support CIMD.
  std::optional<AuthConfig> auth;
  std::string oauth_client_metadata_url;

  bool servers_as_object = false;  // "mcpServers" was given in Claude Desktop's object form
  json::object unknown;
};

// Replaces every `${env:NAME}` in a secret field's value with the environment variable NAME
// (NAME: letters, digits, underscore). An unset variable is an error naming `field`.
Result<std::string> expandEnvReferences(std::string_view value, std::string_view field);

// Parses config text. `warnings` receives non-fatal findings (unknown keys, insecure listen).
Result<Config> parseConfig(std::string_view text, std::vector<std::string>& warnings);

// Reads and parses a file; errors name the file.
Result<Config> loadConfigFile(const std::filesystem::path& path,
                              std::vector<std::string>& warnings);

// The file written on first run.
std::string defaultConfigText();

// Writes `text` to `path` atomically (temp file + fsync + rename), creating parent directories
// with mode 0700.
Result<void> writeFileAtomic(const std::filesystem::path& path, std::string_view text);

// Parses "host:port" ("[::1]:8080", ":8080" means loopback; see docs/configuration.md).
struct ListenAddress {
  std::string host;
  unsigned short port = 0;
};
Result<ListenAddress> parseListenAddress(std::string_view text);

// Durations in the config: a number of seconds or a Go-style string ("500ms", "30s", "2m", "1h").
Result<milliseconds> parseDuration(const json::value& value);

}  // namespace mcpproxy::config
