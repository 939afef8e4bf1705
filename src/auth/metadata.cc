// See metadata.h. The WWW-Authenticate parser follows RFC 7235's grammar: a challenge is an
// auth-scheme token followed by either a token68 or comma-separated auth-params; a comma can
// also start the next challenge, which is recognised by a token *not* followed by "=".
#include "auth/metadata.h"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>

#include "protocol/jsonrpc.h"

namespace mcpproxy::auth {
namespace {

std::unexpected<Error> invalid(std::string message) {
  return makeError(ErrorCode::kInvalidArgument, std::move(message));
}

bool isTchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool isToken68Char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-._~+/").find(c) != std::string_view::npos;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class ChallengeParser {
 public:
  explicit ChallengeParser(std::string_view text) : s_(text) {}

  Result<std::vector<Challenge>> parse() {
    std::vector<Challenge> out;
    while (true) {
      skipSpacesAndCommas();
      if (done()) break;
      if (out.size() >= kMaxChallenges)
        return makeError(ErrorCode::kLimitExceeded, "too many challenges");
      Challenge challenge;
      challenge.scheme = token();
      if (challenge.scheme.empty()) return invalid("expected an auth scheme");
      skipSpaces();
      if (!done() && s_[i_] != ',') {
        auto ok = parseBody(challenge);
        if (!ok) return std::unexpected(ok.error());
      }
      out.push_back(std::move(challenge));
    }
    return out;
  }

 private:
  bool done() const { return i_ >= s_.size(); }
  void skipSpaces() {
    while (!done() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  void skipSpacesAndCommas() {
    while (!done() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == ',')) ++i_;
  }
  std::string token() {
    std::size_t start = i_;
    while (!done() && isTchar(s_[i_])) ++i_;
    return std::string(s_.substr(start, i_ - start));
  }

  // After the scheme: a token68, or auth-params until a token without "=" starts a new challenge.
  Result<void> parseBody(Challenge& challenge) {
    // token68: its characters, optional '=' padding, then the end or a comma.
    std::size_t start = i_;
    while (!done() && isToken68Char(s_[i_])) ++i_;
    std::size_t after_chars = i_;
    while (!done() && s_[i_] == '=') ++i_;
    std::size_t after_equals = i_;
    skipSpaces();
    if (after_chars > start && (done() || s_[i_] == ',')) {
      challenge.token68 = std::string(s_.substr(start, after_equals - start));
      return {};
    }
    i_ = start;
    while (true) {
      skipSpaces();
      std::size_t param_start = i_;
      std::string name = token();
      if (name.empty()) return invalid("expected an auth-param name");
      skipSpaces();
      if (done() || s_[i_] != '=') {
        // A new challenge begins here (only valid after a comma).
        i_ = param_start;
        return {};
      }
      ++i_;  // '='
      skipSpaces();
      std::string value;
      if (!done() && s_[i_] == '"') {
        ++i_;
        bool closed = false;
        while (!done()) {
          char c = s_[i_++];
          if (c == '\\') {
            if (done()) return invalid("unterminated quoted-string");
            value.push_back(s_[i_++]);
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            value.push_back(c);
          }
        }
        if (!closed) return invalid("unterminated quoted-string");
      } else {
        // RFC 7235 wants a token here; servers also send unquoted values such as scope=a:b, so
        // anything up to a comma or space is taken.
        std::size_t value_start = i_;
        while (!done() && s_[i_] != ',' && s_[i_] != ' ' && s_[i_] != '\t' && s_[i_] != '"' &&
               static_cast<unsigned char>(s_[i_]) >= 0x21) {
          ++i_;
        }
        value = std::string(s_.substr(value_start, i_ - value_start));
        if (value.empty()) return invalid("auth-param " + name + " has no value");
      }
      if (challenge.params.size() >= kMaxChallengeParams) {
        return makeError(ErrorCode::kLimitExceeded, "too many auth-params");
      }
      challenge.params.emplace_back(lower(name), std::move(value));
      skipSpaces();
      if (done()) return {};
      if (s_[i_] != ',') return invalid("expected ',' between auth-params");
      // Past the comma: another param of this challenge, or the next challenge.
      std::size_t comma = i_;
      skipSpacesAndCommas();
      if (done()) return {};
      std::size_t look = i_;
      std::string next = token();
      skipSpaces();
      bool is_param = !next.empty() && !done() && s_[i_] == '=';
      i_ = is_param ? look : comma;
      if (!is_param) return {};
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

std::string quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) continue;
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

Result<json::object> parseObject(std::string_view text, std::string_view what) {
  protocol::Limits limits{kMaxMetadataBytes, 16};
  auto parsed = protocol::parseJson(text, limits);
  if (!parsed || !parsed->is_object()) return invalid(std::string(what) + " is not a JSON object");
  return std::move(parsed->get_object());
}

Result<std::string> optionalString(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  if (!value || value->is_null()) return std::string();
  if (!value->is_string()) return invalid(std::string(name) + " is not a string");
  return std::string(value->get_string());
}

Result<std::optional<std::vector<std::string>>> optionalList(const json::object& object,
                                                             std::string_view name) {
  const auto* value = object.if_contains(name);
  if (!value || value->is_null()) return std::optional<std::vector<std::string>>();
  if (!value->is_array()) return invalid(std::string(name) + " is not an array");
  if (value->get_array().size() > kMaxMetadataListItems) {
    return makeError(ErrorCode::kLimitExceeded, std::string(name) + " has too many items");
  }
  std::vector<std::string> out;
  for (const auto& item : value->get_array()) {
    if (!item.is_string()) return invalid(std::string(name) + " holds a non-string");
    out.emplace_back(item.get_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

struct Split {
  std::string origin;  // scheme://host[:port], lowercase, default port dropped
  std::string path;    // encoded, without a trailing '/'
};

Result<Split> splitUrl(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return invalid("not a valid URL");
  std::string scheme = lower(parsed->scheme());
  if (scheme != "https" && scheme != "http") return invalid("not an http(s) URL");
  if (parsed->has_userinfo()) return invalid("URLs with user info are not accepted");
  std::string host = lower(parsed->encoded_host_address());
  if (host.empty()) return invalid("the URL has no host");
  if (parsed->host_type() == boost::urls::host_type::ipv6) host = "[" + host + "]";
  std::string port(parsed->port());
  if ((scheme == "https" && port == "443") || (scheme == "http" && port == "80")) port.clear();
  Split out;
  out.origin = scheme + "://" + host + (port.empty() ? "" : ":" + port);
  out.path = std::string(parsed->encoded_path());
  while (out.path.ends_with("/")) out.path.pop_back();
  return out;
}

}  // namespace

std::optional<std::string> Challenge::param(std::string_view name) const {
  std::string key = lower(name);
  for (const auto& [k, v] : params) {
    if (k == key) return v;
  }
  return std::nullopt;
}

Result<std::vector<Challenge>> parseWwwAuthenticate(std::string_view header) {
  if (header.size() > kMaxChallengeHeaderBytes) {
    return makeError(ErrorCode::kLimitExceeded, "WWW-Authenticate is too long");
  }
  return ChallengeParser(header).parse();
}

std::optional<BearerChallenge> findBearerChallenge(const std::vector<std::string>& header_values) {
  for (const auto& value : header_values) {
    auto challenges = parseWwwAuthenticate(value);
    if (!challenges) continue;
    for (const auto& c : *challenges) {
      if (lower(c.scheme) != "bearer") continue;
      BearerChallenge out;
      out.resource_metadata = c.param("resource_metadata").value_or("");
      out.scope = c.param("scope").value_or("");
      out.error = c.param("error").value_or("");
      out.error_description = c.param("error_description").value_or("");
      return out;
    }
  }
  return std::nullopt;
}

std::string buildBearerChallenge(std::string_view resource_metadata, std::string_view error,
                                 std::string_view scope, std::string_view error_description) {
  std::string out = "Bearer resource_metadata=" + quoted(resource_metadata);
  if (!error.empty()) out += ", error=" + quoted(error);
  if (!error_description.empty()) out += ", error_description=" + quoted(error_description);
  if (!scope.empty()) out += ", scope=" + quoted(scope);
  return out;
}

Result<ProtectedResourceMetadata> parseProtectedResourceMetadata(std::string_view text) {
  auto object = parseObject(text, "the protected resource metadata");
  if (!object) return std::unexpected(object.error());
  ProtectedResourceMetadata out;
  auto resource = optionalString(*object, "resource");
  auto servers = optionalList(*object, "authorization_servers");
  auto scopes = optionalList(*object, "scopes_supported");
  auto methods = optionalList(*object, "bearer_methods_supported");
  auto name = optionalString(*object, "resource_name");
  if (!resource) return std::unexpected(resource.error());
  if (!servers) return std::unexpected(servers.error());
  if (!scopes) return std::unexpected(scopes.error());
  if (!methods) return std::unexpected(methods.error());
  if (!name) return std::unexpected(name.error());
  out.resource = std::move(*resource);
  if (out.resource.empty()) return invalid("the protected resource metadata has no resource");
  out.authorization_servers = servers->value_or(std::vector<std::string>{});
  out.scopes_supported = std::move(*scopes);
  out.bearer_methods_supported = methods->value_or(std::vector<std::string>{});
  out.resource_name = std::move(*name);
  return out;
}

json::object buildProtectedResourceMetadata(const ProtectedResourceMetadata& metadata) {
  json::object out;
  out["resource"] = metadata.resource;
  json::array servers;
  for (const auto& s : metadata.authorization_servers) servers.emplace_back(s);
  out["authorization_servers"] = std::move(servers);
  if (metadata.scopes_supported) {
    json::array scopes;
    for (const auto& s : *metadata.scopes_supported) scopes.emplace_back(s);
    out["scopes_supported"] = std::move(scopes);
  }
  json::array methods;
  for (const auto& m : metadata.bearer_methods_supported) methods.emplace_back(m);
  out["bearer_methods_supported"] = std::move(methods);
  if (!metadata.resource_name.empty()) out["resource_name"] = metadata.resource_name;
  return out;
}

Result<std::vector<std::string>> protectedResourceMetadataUrls(std::string_view server_url,
                                                               std::string_view header_url) {
  auto split = splitUrl(server_url);
  if (!split) return std::unexpected(split.error());
  std::vector<std::string> out;
  auto add = [&](std::string url) {
    if (std::find(out.begin(), out.end(), url) == out.end()) out.push_back(std::move(url));
  };
  if (!header_url.empty()) add(std::string(header_url));
  if (!split->path.empty())
    add(split->origin + "/.well-known/oauth-protected-resource" + split->path);
  add(split->origin + "/.well-known/oauth-protected-resource");
  return out;
}

Result<AuthServerMetadata> parseAuthServerMetadata(std::string_view text) {
  auto object = parseObject(text, "the authorization server metadata");
  if (!object) return std::unexpected(object.error());
  AuthServerMetadata out;
  struct Field {
    std::string_view name;
    std::string* target;
  };
  for (auto [name, target] :
       {Field{"issuer", &out.issuer}, Field{"authorization_endpoint", &out.authorization_endpoint},
        Field{"token_endpoint", &out.token_endpoint},
        Field{"registration_endpoint", &out.registration_endpoint},
        Field{"jwks_uri", &out.jwks_uri},
        Field{"introspection_endpoint", &out.introspection_endpoint}}) {
    auto value = optionalString(*object, name);
    if (!value) return std::unexpected(value.error());
    *target = std::move(*value);
  }
  struct ListField {
    std::string_view name;
    std::optional<std::vector<std::string>>* target;
  };
  for (auto [name, target] :
       {ListField{"scopes_supported", &out.scopes_supported},
        ListField{"grant_types_supported", &out.grant_types_supported},
        ListField{"code_challenge_methods_supported", &out.code_challenge_methods_supported},
        ListField{"token_endpoint_auth_methods_supported",
                  &out.token_endpoint_auth_methods_supported}}) {
    auto value = optionalList(*object, name);
    if (!value) return std::unexpected(value.error());
    *target = std::move(*value);
  }
  auto responses = optionalList(*object, "response_types_supported");
  if (!responses) return std::unexpected(responses.error());
  out.response_types_supported = responses->value_or(std::vector<std::string>{});
  auto algs = optionalList(*object, "token_endpoint_auth_signing_alg_values_supported");
  if (!algs) return std::unexpected(algs.error());
  out.token_endpoint_auth_signing_alg_values_supported = algs->value_or(std::vector<std::string>{});
  auto flag = [&](std::string_view name) {
    const auto* value = object->if_contains(name);
    return value && value->is_bool() && value->get_bool();
  };
  out.client_id_metadata_document_supported = flag("client_id_metadata_document_supported");
  out.authorization_response_iss_parameter_supported =
      flag("authorization_response_iss_parameter_supported");
  if (out.issuer.empty()) return invalid("the authorization server metadata has no issuer");
  return out;
}

Result<std::vector<std::string>> authServerMetadataUrls(std::string_view issuer) {
  auto split = splitUrl(issuer);
  if (!split) return std::unexpected(split.error());
  if (split->path.empty()) {
    return std::vector<std::string>{split->origin + "/.well-known/oauth-authorization-server",
                                    split->origin + "/.well-known/openid-configuration"};
  }
  return std::vector<std::string>{
      split->origin + "/.well-known/oauth-authorization-server" + split->path,
      split->origin + "/.well-known/openid-configuration" + split->path,
      split->origin + split->path + "/.well-known/openid-configuration"};
}

Result<AuthServerMetadata> fallbackAuthServerMetadata(std::string_view server_url) {
  auto split = splitUrl(server_url);
  if (!split) return std::unexpected(split.error());
  AuthServerMetadata out;
  out.issuer = split->origin;
  out.authorization_endpoint = split->origin + "/authorize";
  out.token_endpoint = split->origin + "/token";
  out.registration_endpoint = split->origin + "/register";
  out.response_types_supported = {"code"};
  out.from_fallback = true;
  return out;
}

bool sameIssuer(std::string_view a, std::string_view b) {
  auto trim = [](std::string_view s) {
    if (s.ends_with("/")) s.remove_suffix(1);
    return s;
  };
  return trim(a) == trim(b);
}

Result<std::string> canonicalResourceUri(std::string_view url) {
  auto split = splitUrl(url);
  if (!split) return std::unexpected(split.error());
  auto parsed = boost::urls::parse_uri(url);
  std::string out = split->origin;
  std::string path(parsed->encoded_path());
  if (path != "/") out += path;
  if (parsed->has_query()) out += "?" + std::string(parsed->encoded_query());
  return out;
}

bool resourceCovers(std::string_view resource, std::string_view server_url) {
  auto r = splitUrl(resource);
  auto s = splitUrl(server_url);
  if (!r || !s || r->origin != s->origin) return false;
  std::string rp = r->path + "/";
  std::string sp = s->path + "/";
  return sp.starts_with(rp);
}

}  // namespace mcpproxy::auth
