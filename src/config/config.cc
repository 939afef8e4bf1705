// Config parsing and validation. Every error names the field as a path
// ("mcpServers[1].args[0]: expected a string") so a person can fix the file without guessing.
#include "config/config.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "common/files.h"
#include "common/time_format.h"
#include "protocol/jsonrpc.h"

namespace mcpproxy::config {
namespace {

using Path = std::string;

std::unexpected<Error> fieldError(const Path& path, std::string what) {
  return makeError(ErrorCode::kInvalidArgument, path + ": " + what);
}

const char* typeName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

Result<std::string> getString(const json::value& v, const Path& path) {
  if (!v.is_string()) return fieldError(path, std::string("expected a string, got ") + typeName(v));
  return std::string(v.get_string());
}

Result<bool> getBool(const json::value& v, const Path& path) {
  if (!v.is_bool())
    return fieldError(path, std::string("expected true or false, got ") + typeName(v));
  return v.get_bool();
}

Result<std::size_t> getPositive(const json::value& v, const Path& path) {
  if (v.is_int64() && v.get_int64() > 0) return static_cast<std::size_t>(v.get_int64());
  if (v.is_uint64() && v.get_uint64() > 0) return static_cast<std::size_t>(v.get_uint64());
  return fieldError(path, std::string("expected a positive integer, got ") + typeName(v));
}

Result<std::vector<std::string>> getStringArray(const json::value& v, const Path& path) {
  if (!v.is_array())
    return fieldError(path, std::string("expected an array of strings, got ") + typeName(v));
  std::vector<std::string> out;
  const auto& array = v.get_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    auto s = getString(array[i], path + "[" + std::to_string(i) + "]");
    if (!s) return std::unexpected(s.error());
    out.push_back(std::move(*s));
  }
  return out;
}

// A secret field: a string in which ${env:NAME} is replaced from the environment.
Result<std::string> getSecretString(const json::value& v, const Path& path) {
  auto s = getString(v, path);
  if (!s) return s;
  return expandEnvReferences(*s, path);
}

// env/headers: an object of string values. Numbers and booleans are accepted and converted,
// because hand-written configs often say {"PORT": 3000}. Values are secrets: ${env:NAME} works.
Result<KeyValues> getKeyValues(const json::value& v, const Path& path) {
  if (!v.is_object())
    return fieldError(path, std::string("expected an object of strings, got ") + typeName(v));
  KeyValues out;
  for (const auto& [key, value] : v.get_object()) {
    std::string field = path + "." + std::string(key);
    if (key.empty()) return fieldError(path, "empty name");
    if (value.is_string()) {
      auto expanded = expandEnvReferences(value.get_string(), field);
      if (!expanded) return std::unexpected(expanded.error());
      out.emplace_back(std::string(key), std::move(*expanded));
    } else if (value.is_number() || value.is_bool()) {
      out.emplace_back(std::string(key), json::serialize(value));
    } else {
      return fieldError(field, std::string("expected a string, got ") + typeName(value));
    }
  }
  return out;
}

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

Result<Protocol> parseProtocol(const json::value& v, const Path& path) {
  auto s = getString(v, path);
  if (!s) return std::unexpected(s.error());
  if (*s == "stdio") return Protocol::kStdio;
  if (*s == "http" || *s == "streamable-http" || *s == "streamableHttp")
    return Protocol::kStreamableHttp;
  if (*s == "sse") return Protocol::kSse;
  if (*s == "auto" || s->empty()) return Protocol::kAuto;
  return fieldError(
      path, "unknown protocol \"" + *s + "\" (use stdio, http, sse, streamable-http or auto)");
}

// Moves a parsed value into `target`, or records the parse error in `ok`.
template <class T, class Target>
void assignOrFail(Result<T> result, Target& target, Result<void>& ok) {
  if (!result) {
    ok = std::unexpected(result.error());
  } else {
    target = std::move(*result);
  }
}

bool isUrl(std::string_view s) {
  return s.starts_with("https://") || s.starts_with("http://");
}

Result<OAuthConfig> parseOAuth(const json::value& value, const Path& path) {
  if (!value.is_object())
    return fieldError(path, std::string("expected an object, got ") + typeName(value));
  OAuthConfig oauth;
  for (const auto& [key_view, v] : value.get_object()) {
    std::string key(key_view);
    std::string field = path + "." + key;
    Result<void> ok;
    auto assign = [&](auto result, auto& target) { assignOrFail(std::move(result), target, ok); };
    if (key == "client_id") {
      assign(getString(v, field), oauth.client_id);
    } else if (key == "client_secret") {
      std::string secret;
      assign(getSecretString(v, field), secret);
      oauth.client_secret = Secret(std::move(secret));
    } else if (key == "scopes") {
      assign(getStringArray(v, field), oauth.scopes);
    } else if (key == "grant_type") {
      std::string grant;
      assign(getString(v, field), grant);
      if (ok && grant != "authorization_code" && grant != "client_credentials") {
        ok = fieldError(field, "use \"authorization_code\" or \"client_credentials\"");
      }
      oauth.client_credentials = grant == "client_credentials";
    } else if (key == "private_key_file") {
      assign(getString(v, field), oauth.private_key_file);
    } else if (key == "signing_algorithm") {
      assign(getString(v, field), oauth.signing_algorithm);
      static const std::set<std::string> kAlgs{"RS256", "RS384", "RS512", "PS256", "PS384",
                                               "PS512", "ES256", "ES384", "ES512", "EdDSA"};
      if (ok && !kAlgs.contains(oauth.signing_algorithm)) {
        ok = fieldError(field, "use RS256, PS256, ES256, ES384, ES512 or EdDSA (and the like)");
      }
    } else if (key == "token_endpoint_auth_method") {
      assign(getString(v, field), oauth.token_endpoint_auth_method);
      static const std::set<std::string> kMethods{"none", "client_secret_basic",
                                                  "client_secret_post", "private_key_jwt"};
      if (ok && !kMethods.contains(oauth.token_endpoint_auth_method)) {
        ok = fieldError(field,
                        "use none, client_secret_basic, client_secret_post or private_key_jwt");
      }
    } else if (key == "issuer") {
      assign(getString(v, field), oauth.issuer);
      if (ok && !isUrl(oauth.issuer)) ok = fieldError(field, "must be an http(s) URL");
    } else {
      return fieldError(field, "unknown key (see docs/auth.md)");
    }
    if (!ok) return std::unexpected(ok.error());
  }
  if (oauth.client_credentials && oauth.client_id.empty()) {
    return fieldError(path + ".client_id", "required for the client_credentials grant");
  }
  if (oauth.token_endpoint_auth_method == "private_key_jwt" && oauth.private_key_file.empty()) {
    return fieldError(path + ".private_key_file", "required for private_key_jwt");
  }
  return oauth;
}

Result<AuthConfig> parseAuth(const json::value& value) {
  const Path path = "auth";
  if (!value.is_object())
    return fieldError(path, std::string("expected an object, got ") + typeName(value));
  AuthConfig auth;
  for (const auto& [key_view, v] : value.get_object()) {
    std::string key(key_view);
    std::string field = path + "." + key;
    Result<void> ok;
    auto assign = [&](auto result, auto& target) { assignOrFail(std::move(result), target, ok); };
    auto url = [&](std::string& target) {
      assign(getString(v, field), target);
      if (ok && !isUrl(target)) ok = fieldError(field, "must be an http(s) URL");
    };
    if (key == "issuer") {
      url(auth.issuer);
    } else if (key == "jwks_uri") {
      url(auth.jwks_uri);
    } else if (key == "audience") {
      url(auth.audience);
    } else if (key == "required_scopes") {
      assign(getStringArray(v, field), auth.required_scopes);
    } else if (key == "scopes") {
      if (!v.is_object())
        return fieldError(field, "expected {\"read\": ..., \"write\": ..., \"destructive\": ...}");
      for (const auto& [name, scope] : v.get_object()) {
        std::string sub = field + "." + std::string(name);
        std::string* target = name == "read"          ? &auth.scope_read
                              : name == "write"       ? &auth.scope_write
                              : name == "destructive" ? &auth.scope_destructive
                                                      : nullptr;
        if (!target) return fieldError(sub, "use read, write or destructive");
        auto s = getString(scope, sub);
        if (!s) return std::unexpected(s.error());
        *target = *s;
      }
    } else if (key == "introspection_endpoint") {
      url(auth.introspection_endpoint);
    } else if (key == "introspection_client_id") {
      assign(getString(v, field), auth.introspection_client_id);
    } else if (key == "introspection_client_secret") {
      std::string secret;
      assign(getSecretString(v, field), secret);
      auth.introspection_client_secret = Secret(std::move(secret));
    } else if (key == "leeway") {
      auto d = parseDuration(v);
      if (!d) return fieldError(field, d.error().message);
      if (*d > std::chrono::minutes(10)) return fieldError(field, "at most 10m");
      auth.leeway = *d;
    } else if (key == "accept_jwt_typ") {
      assign(getBool(v, field), auth.accept_jwt_typ);
    } else {
      return fieldError(field, "unknown key (see docs/auth.md)");
    }
    if (!ok) return std::unexpected(ok.error());
  }
  if (auth.issuer.empty()) return fieldError(path + ".issuer", "required");
  return auth;
}

Result<ServerConfig> parseServer(const json::object& object, const Path& path,
                                 std::vector<std::string>& warnings) {
  ServerConfig server;
  for (const auto& [key_view, value] : object) {
    std::string key(key_view);
    std::string field = path + "." + key;
    Result<void> ok;
    auto assign = [&](auto result, auto& target) { assignOrFail(std::move(result), target, ok); };
    if (key == "name") {
      assign(getString(value, field), server.name);
    } else if (key == "command") {
      assign(getString(value, field), server.command);
    } else if (key == "args") {
      assign(getStringArray(value, field), server.args);
    } else if (key == "env") {
      assign(getKeyValues(value, field), server.env);
    } else if (key == "working_dir" || key == "cwd") {
      assign(getString(value, field), server.working_dir);
    } else if (key == "url") {
      assign(getString(value, field), server.url);
    } else if (key == "headers") {
      assign(getKeyValues(value, field), server.headers);
    } else if (key == "protocol" || key == "type" || key == "transport") {
      assign(parseProtocol(value, field), server.protocol);
    } else if (key == "enabled") {
      assign(getBool(value, field), server.enabled);
    } else if (key == "disabled") {  // Claude Code / Cursor spelling
      bool disabled = false;
      assign(getBool(value, field), disabled);
      server.enabled = !disabled;
    } else if (key == "quarantined") {
      bool q = false;
      assign(getBool(value, field), q);
      server.quarantined = q;
    } else if (key == "trust_mode") {
      std::string mode;
      assign(getString(value, field), mode);
      if (mode == "manual") {
        server.trust_mode = TrustMode::kManual;
      } else if (mode == "scan") {
        server.trust_mode = TrustMode::kScan;
      } else if (mode == "auto") {
        server.trust_mode = TrustMode::kAuto;
      } else if (mode == "signed") {
        server.trust_mode = TrustMode::kManual;  // see ServerConfig::signed_trust
        server.signed_trust = true;
      } else if (ok) {
        ok = fieldError(field, "use \"manual\", \"scan\", \"auto\" or \"signed\"");
      }
    } else if (key == "manifest") {
      assign(getString(value, field), server.manifest);
      if (ok && server.manifest.empty()) ok = fieldError(field, "empty");
      if (ok && server.manifest.starts_with("http://")) {
        ok = fieldError(field, "a manifest URL must use https://");
      }
    } else if (key == "prefix") {
      std::string prefix;
      assign(getString(value, field), prefix);
      if (ok && (prefix.size() > 64 || !std::all_of(prefix.begin(), prefix.end(), isNameChar))) {
        ok = fieldError(field, "a prefix may use only A-Z a-z 0-9 _ - . and at most 64 characters");
      }
      server.prefix = prefix;
    } else if (key == "call_timeout" || key == "call_tool_timeout") {
      auto d = parseDuration(value);
      if (!d) {
        ok = fieldError(field, d.error().message);
      } else {
        server.call_timeout = *d;
      }
    } else if (key == "oauth") {
      auto oauth = parseOAuth(value, field);
      if (!oauth) return std::unexpected(oauth.error());
      server.oauth = std::move(*oauth);
    } else {
      server.unknown[key] = value;
      warnings.push_back(field + ": unknown key, kept and ignored");
    }
    if (!ok) return std::unexpected(ok.error());
  }

  if (server.name.empty()) return fieldError(path + ".name", "required");
  if (server.name.size() > 64 || !std::all_of(server.name.begin(), server.name.end(), isNameChar)) {
    return fieldError(path + ".name",
                      "\"" + server.name + "\": use 1-64 characters of A-Z a-z 0-9 _ - .");
  }
  if (server.signed_trust && server.manifest.empty()) {
    return fieldError(path + ".trust_mode", "\"signed\" needs a \"manifest\"");
  }
  Protocol protocol = server.effectiveProtocol();
  if (server.command.empty() && server.url.empty()) {
    return fieldError(path, "needs \"command\" (stdio) or \"url\" (http)");
  }
  if (protocol == Protocol::kStdio && server.command.empty()) {
    return fieldError(path + ".command", "required for protocol stdio");
  }
  if (protocol == Protocol::kStdio && server.oauth) {
    return fieldError(path + ".oauth",
                      "only HTTP servers use OAuth (stdio servers take credentials from env)");
  }
  if (protocol != Protocol::kStdio) {
    if (server.url.empty()) return fieldError(path + ".url", "required for an HTTP protocol");
    if (!server.url.starts_with("http://") && !server.url.starts_with("https://")) {
      return fieldError(path + ".url", "must start with http:// or https://");
    }
  }
  return server;
}

Result<void> parseServers(const json::value& value, Config& config,
                          std::vector<std::string>& warnings) {
  if (value.is_array()) {
    const auto& array = value.get_array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      Path path = "mcpServers[" + std::to_string(i) + "]";
      if (!array[i].is_object())
        return fieldError(path, std::string("expected an object, got ") + typeName(array[i]));
      auto server = parseServer(array[i].get_object(), path, warnings);
      if (!server) return std::unexpected(server.error());
      config.servers.push_back(std::move(*server));
    }
  } else if (value.is_object()) {
    config.servers_as_object = true;
    for (const auto& [name, entry] : value.get_object()) {
      Path path = "mcpServers." + std::string(name);
      if (!entry.is_object())
        return fieldError(path, std::string("expected an object, got ") + typeName(entry));
      json::object object = entry.get_object();
      if (object.contains("name") && object["name"] != json::value(name)) {
        return fieldError(path + ".name", "differs from the key \"" + std::string(name) + "\"");
      }
      object["name"] = name;
      auto server = parseServer(object, path, warnings);
      if (!server) return std::unexpected(server.error());
      config.servers.push_back(std::move(*server));
    }
  } else if (!value.is_null()) {
    return fieldError("mcpServers",
                      std::string("expected an array or an object, got ") + typeName(value));
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < config.servers.size(); ++i) {
    if (!seen.insert(config.servers[i].name).second) {
      return fieldError("mcpServers", "duplicate server name \"" + config.servers[i].name + "\"");
    }
  }
  return {};
}

// Standard base64 (with padding) of exactly 32 bytes: 44 characters, the last one "=".
bool isBase64Key32(std::string_view text) {
  if (text.size() != 44 || text[43] != '=' || text[42] == '=') return false;
  unsigned char out[33];
  return EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>(text.data()), 44) == 33;
}

Result<std::int64_t> getTime(const json::value& v, const Path& path) {
  auto s = getString(v, path);
  if (!s) return std::unexpected(s.error());
  auto seconds = parseIsoTimeUtc(*s, /*allow_date_only=*/true);
  if (!seconds) return fieldError(path, "expected \"YYYY-MM-DD\" or \"YYYY-MM-DDTHH:MM:SSZ\"");
  return *seconds;
}

// "trusted_keys": unknown members are errors here, not warnings: a misspelt "revoked" must not
// leave a key trusted.
Result<std::vector<TrustedKeyConfig>> parseTrustedKeys(const json::value& value) {
  if (!value.is_array()) return fieldError("trusted_keys", "expected an array of keys");
  std::vector<TrustedKeyConfig> keys;
  std::set<std::string> ids;
  const auto& array = value.get_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    Path path = "trusted_keys[" + std::to_string(i) + "]";
    if (!array[i].is_object()) return fieldError(path, "expected an object");
    TrustedKeyConfig key;
    for (const auto& [member, v] : array[i].get_object()) {
      Path field = path + "." + std::string(member);
      Result<void> ok;
      if (member == "id") {
        auto s = getString(v, field);
        if (!s) return std::unexpected(s.error());
        key.id = *s;
      } else if (member == "public_key") {
        auto s = getString(v, field);
        if (!s) return std::unexpected(s.error());
        if (!isBase64Key32(*s)) {
          return fieldError(field,
                            "expected a 32-byte Ed25519 key in standard base64 (44 "
                            "characters, as `mcpproxy manifest keygen` prints it)");
        }
        key.public_key = *s;
      } else if (member == "not_before" || member == "not_after") {
        auto t = getTime(v, field);
        if (!t) return std::unexpected(t.error());
        (member == "not_before" ? key.not_before : key.not_after) = *t;
      } else if (member == "revoked") {
        auto b = getBool(v, field);
        if (!b) return std::unexpected(b.error());
        key.revoked = *b;
      } else {
        return fieldError(field,
                          "unknown key (use id, public_key, not_before, not_after, revoked)");
      }
    }
    if (key.id.empty()) return fieldError(path + ".id", "required");
    if (key.id.size() > 64 || !std::all_of(key.id.begin(), key.id.end(),
                                           [](char c) { return isNameChar(c) || c == ':'; })) {
      return fieldError(path + ".id", "use 1-64 characters of A-Z a-z 0-9 _ - . :");
    }
    if (key.public_key.empty()) return fieldError(path + ".public_key", "required");
    if (key.not_before && key.not_after && *key.not_after <= *key.not_before) {
      return fieldError(path + ".not_after", "must be later than not_before");
    }
    if (!ids.insert(key.id).second) {
      return fieldError(path + ".id", "duplicate key id \"" + key.id + "\"");
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

constexpr std::size_t kMaxJsonDepth = 1000;

bool isLoopbackHost(std::string_view host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.starts_with("127.");
}

}  // namespace

Result<std::string> expandEnvReferences(std::string_view value, std::string_view field) {
  std::string out;
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t start = value.find("${env:", i);
    if (start == std::string_view::npos) {
      out.append(value.substr(i));
      break;
    }
    out.append(value.substr(i, start - i));
    std::size_t name_start = start + 6;
    std::size_t end = value.find('}', name_start);
    std::string_view name = end == std::string_view::npos
                                ? std::string_view{}
                                : value.substr(name_start, end - name_start);
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                 std::all_of(name.begin(), name.end(), [](char c) {
                   return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                 });
    if (!valid) {
      return makeError(ErrorCode::kInvalidArgument,
                       std::string(field) + ": malformed ${env:NAME} reference");
    }
    const char* env = std::getenv(std::string(name).c_str());
    if (env == nullptr) {
      return makeError(ErrorCode::kInvalidArgument, std::string(field) + ": environment variable " +
                                                        std::string(name) + " is not set");
    }
    out.append(env);
    i = end + 1;
  }
  return out;
}

std::string_view protocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kAuto:
      return "auto";
    case Protocol::kStdio:
      return "stdio";
    case Protocol::kStreamableHttp:
      return "streamable-http";
    case Protocol::kSse:
      return "sse";
  }
  return "auto";
}

Protocol ServerConfig::effectiveProtocol() const {
  if (protocol != Protocol::kAuto) return protocol;
  return command.empty() ? Protocol::kStreamableHttp : Protocol::kStdio;
}

// Durations are capped at one year.
constexpr double kMaxDurationMs = 86400.0 * 365 * 1000;

Result<milliseconds> parseDuration(const json::value& value) {
  if (value.is_number()) {
    double seconds = value.to_number<double>();
    if (seconds < 0 || seconds * 1000 > kMaxDurationMs)
      return makeError(ErrorCode::kInvalidArgument, "duration out of range");
    return milliseconds(static_cast<long long>(seconds * 1000));
  }
  if (!value.is_string()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "expected a duration like \"30s\" or a number of seconds");
  }
  std::string_view text = value.get_string();
  // Sum of <number><unit> parts, Go style: "1m30s", "500ms", "2h".
  long long total_ms = 0;
  std::string_view rest = text;
  if (rest.empty()) return makeError(ErrorCode::kInvalidArgument, "empty duration");
  while (!rest.empty()) {
    double number = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), number);
    // from_chars also accepts "inf" and "nan"; !(number >= 0) rejects NaN as well.
    if (ec != std::errc() || !(number >= 0) || !std::isfinite(number)) {
      return makeError(ErrorCode::kInvalidArgument, "bad duration \"" + std::string(text) + "\"");
    }
    rest.remove_prefix(end - rest.data());
    double unit = 0;
    if (rest.starts_with("ms")) {
      unit = 1, rest.remove_prefix(2);
    } else if (rest.starts_with("s")) {
      unit = 1000, rest.remove_prefix(1);
    } else if (rest.starts_with("m")) {
      unit = 60'000, rest.remove_prefix(1);
    } else if (rest.starts_with("h")) {
      unit = 3'600'000, rest.remove_prefix(1);
    } else {
      return makeError(ErrorCode::kInvalidArgument,
                       "bad duration \"" + std::string(text) + "\" (units: ms, s, m, h)");
    }
    // Same bound as the numeric form; it also keeps the conversion below defined.
    double part_ms = number * unit;
    if (part_ms > kMaxDurationMs || static_cast<double>(total_ms) + part_ms > kMaxDurationMs) {
      return makeError(ErrorCode::kInvalidArgument, "duration out of range");
    }
    total_ms += static_cast<long long>(part_ms);
  }
  return milliseconds(total_ms);
}

Result<ListenAddress> parseListenAddress(std::string_view text) {
  ListenAddress address;
  std::string_view port_text;
  if (text.starts_with("[")) {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return makeError(ErrorCode::kInvalidArgument, "expected [ipv6]:port");
    }
    address.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return makeError(ErrorCode::kInvalidArgument, "expected host:port");
    address.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (address.host.empty()) address.host = "127.0.0.1";  // ":8080" stays on loopback (safe default)
  if (address.host == "localhost") address.host = "127.0.0.1";
  unsigned int port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return makeError(ErrorCode::kInvalidArgument, "bad port \"" + std::string(port_text) + "\"");
  }
  address.port = static_cast<unsigned short>(port);
  return address;
}

Result<Config> parseConfig(std::string_view text, std::vector<std::string>& warnings) {
  protocol::Limits limits;
  limits.max_message_bytes = 64 * 1024 * 1024;
  auto parsed = protocol::parseJson(text, limits);
  if (!parsed) {
    std::string why = parsed.error().message;
    if (why.starts_with("Parse error: ")) why = why.substr(13);
    return makeError(ErrorCode::kInvalidArgument, "not valid JSON: " + why);
  }
  if (!parsed->is_object())
    return makeError(ErrorCode::kInvalidArgument, "the top level must be a JSON object");

  Config config;
  for (const auto& [key_view, value] : parsed->get_object()) {
    std::string key(key_view);
    Result<void> ok;
    auto duration = [&](milliseconds& target) {
      auto d = parseDuration(value);
      if (!d) {
        ok = fieldError(key, d.error().message);
      } else {
        target = *d;
      }
    };
    auto positive = [&](std::size_t& target) {
      auto n = getPositive(value, key);
      if (!n) {
        ok = std::unexpected(n.error());
      } else {
        target = *n;
      }
    };
    if (key == "listen") {
      auto s = getString(value, key);
      if (!s) return std::unexpected(s.error());
      auto address = parseListenAddress(*s);
      if (!address) return fieldError(key, address.error().message);
      if (s->starts_with(":")) {
        warnings.push_back("listen: \"" + *s +
                           "\" has no host; binding 127.0.0.1 (write \"0.0.0.0" + *s +
                           "\" to listen on every interface)");
      } else if (!isLoopbackHost(address->host)) {
        warnings.push_back("listen: " + *s +
                           " is reachable from other machines; keep 127.0.0.1 unless you mean it");
      }
      config.listen = address->host.find(':') != std::string::npos
                          ? "[" + address->host + "]:" + std::to_string(address->port)
                          : address->host + ":" + std::to_string(address->port);
    } else if (key == "data_dir") {
      auto s = getString(value, key);
      if (!s) return std::unexpected(s.error());
      config.data_dir = *s;
    } else if (key == "auth") {
      auto auth = parseAuth(value);
      if (!auth) return std::unexpected(auth.error());
      config.auth = std::move(*auth);
    } else if (key == "oauth_client_metadata_url") {
      auto s = getString(value, key);
      if (!s) return std::unexpected(s.error());
      if (!s->starts_with("https://"))
        return fieldError(key, "must be an https:// URL (the client_id it stands for)");
      config.oauth_client_metadata_url = *s;
    } else if (key == "api_key") {
      auto s = getSecretString(value, key);
      if (!s) return std::unexpected(s.error());
      config.api_key = Secret(*s);
    } else if (key == "mcpServers") {
      ok = parseServers(value, config, warnings);
    } else if (key == "call_tool_timeout" || key == "call_timeout") {
      duration(config.call_timeout);
    } else if (key == "init_timeout") {
      duration(config.init_timeout);
    } else if (key == "health_check_interval") {
      duration(config.health_interval);
    } else if (key == "session_idle_timeout") {
      duration(config.session_idle_timeout);
    } else if (key == "tools_page_size") {
      positive(config.tools_page_size);
    } else if (key == "max_request_bytes") {
      positive(config.max_request_bytes);
    } else if (key == "max_json_depth") {
      positive(config.max_json_depth);
      // Boost.JSON copies and destroys values recursively: a peer's JSON nested ~100000 deep
      // overflows the stack, so the configurable limit stays far below that.
      if (ok && config.max_json_depth > kMaxJsonDepth) {
        ok = fieldError(key, "at most " + std::to_string(kMaxJsonDepth));
      }
    } else if (key == "routing_mode") {
      auto s = getString(value, key);
      if (!s) return std::unexpected(s.error());
      if (*s == "retrieve_tools") {
        config.routing_mode = RoutingMode::kRetrieveTools;
      } else if (*s == "direct") {
        config.routing_mode = RoutingMode::kDirect;
      } else {
        return fieldError(key, "use \"retrieve_tools\" or \"direct\"");
      }
    } else if (key == "tools_limit") {
      positive(config.tools_limit);
      if (ok && config.tools_limit > 100) ok = fieldError(key, "at most 100");
    } else if (key == "tool_response_limit") {
      positive(config.tool_response_limit);
    } else if (key == "trusted_hosts") {
      auto hosts = getStringArray(value, key);
      if (!hosts) return std::unexpected(hosts.error());
      config.trusted_hosts = std::move(*hosts);
    } else if (key == "disable_management") {
      auto b = getBool(value, key);
      if (!b) return std::unexpected(b.error());
      config.disable_management = *b;
    } else if (key == "trusted_keys") {
      auto keys = parseTrustedKeys(value);
      if (!keys) return std::unexpected(keys.error());
      config.trusted_keys = std::move(*keys);
    } else if (key == "log_level") {
      auto s = getString(value, key);
      if (!s) return std::unexpected(s.error());
      static const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error", "off"};
      if (!kLevels.contains(*s))
        return fieldError(key, "use one of trace, debug, info, warn, error, off");
      config.log_level = *s;
    } else {
      config.unknown[key] = value;
      warnings.push_back(key + ": unknown key, kept and ignored");
    }
    if (!ok) return std::unexpected(ok.error());
  }
  if (config.trusted_keys.empty()) {
    for (const auto& server : config.servers) {
      if (server.manifest.empty()) continue;
      warnings.push_back("mcpServers." + server.name +
                         ".manifest: no trusted_keys are configured, so the manifest cannot "
                         "verify and the server stays blocked");
    }
  }
  return config;
}

Result<Config> loadConfigFile(const std::filesystem::path& path,
                              std::vector<std::string>& warnings) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(ErrorCode::kNotFound, "cannot read config file " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  auto config = parseConfig(text.str(), warnings);
  if (!config) {
    return makeError(config.error().code,
                     "config file " + path.string() + ": " + config.error().message);
  }
  return config;
}

std::string defaultConfigText() {
  return R"({
  "listen": "127.0.0.1:8080",
  "call_tool_timeout": "50s",
  "mcpServers": []
}
)";
}

Result<void> writeFileAtomic(const std::filesystem::path& path, std::string_view text) {
  std::error_code ec;
  std::filesystem::path dir = path.parent_path();
  if (!dir.empty()) {
    if (auto made = makePrivateDirectories(dir); !made) return made;
  }
  std::string temp = path.string() + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return makeError(ErrorCode::kIo, "cannot write " + temp + ": " + std::strerror(errno));
  std::size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return makeError(ErrorCode::kIo, "cannot write " + temp + ": " + std::strerror(saved));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temp.c_str());
    return makeError(ErrorCode::kIo, "cannot flush " + temp + ": " + std::strerror(errno));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    return makeError(ErrorCode::kIo,
                     "cannot replace " + path.string() + ": " + std::strerror(saved));
  }
  return {};
}

}  // namespace mcpproxy::config
