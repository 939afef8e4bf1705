// See redact.h. URLs are taken apart with Boost.URL (a URL it cannot parse is cut at its
// authority, so nothing after it can leak).
#include "common/redact.h"

#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace mcpproxy {

namespace {

std::string lowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool isUrlChar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u <= ' ' || u >= 0x7f) return false;
  return c != '"' && c != '\'' && c != '<' && c != '>' && c != '`' && c != '\\' && c != '{' &&
         c != '}' && c != '|' && c != '^';
}

bool isSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '-' || c == '.';
}

}  // namespace

bool isSecretName(std::string_view name) {
  std::string key = lowerAscii(name);
  for (std::string_view word :
       {"token", "secret", "password", "passwd", "pwd", "apikey", "api_key", "api-key", "auth",
        "credential", "signature", "cookie", "session", "private", "jwt", "bearer", "access_key"}) {
    if (key.find(word) != std::string::npos) return true;
  }
  // Short names that are secrets only on their own: ?key=, ?sig=, ?code= (OAuth), ?pass=.
  for (std::string_view exact : {"key", "sig", "code", "pass", "pw", "sid", "x-api-key"}) {
    if (key == exact) return true;
  }
  return key.ends_with("_key") || key.ends_with("-key");
}

bool looksSecret(std::string_view arg) {
  auto eq = arg.find('=');
  if (arg.starts_with("-") && eq != std::string_view::npos) {
    std::string_view key = arg.substr(0, eq);
    while (key.starts_with("-")) key.remove_prefix(1);
    if (isSecretName(key)) return true;
    arg = arg.substr(eq + 1);
  }
  if (arg.starts_with("Bearer ") || arg.starts_with("bearer ")) return true;
  if (arg.find("://") != std::string_view::npos) return false;  // URLs are redacted, not hidden
  // Long runs of letters and digits without path punctuation: API keys, JWTs.
  if (arg.size() < 24) return false;
  if (arg.find('/') != std::string_view::npos || arg.find(':') != std::string_view::npos) {
    return false;
  }
  std::size_t digits = 0;
  for (char c : arg) digits += (c >= '0' && c <= '9');
  return digits >= 4;
}

std::string redactUrl(std::string_view url) {
  auto parsed = boost::urls::parse_uri_reference(url);
  if (!parsed) {
    // Not a URL Boost.URL accepts: keep the scheme and host part only.
    std::size_t scheme = url.find("://");
    if (scheme == std::string_view::npos) return std::string(url);
    std::size_t start = scheme + 3;
    std::size_t end = url.find_first_of("/?#", start);
    std::string_view authority =
        url.substr(start, end == std::string_view::npos ? url.npos : end - start);
    std::size_t at = authority.rfind('@');
    std::string out(url.substr(0, start));
    if (at != std::string_view::npos) {
      out += kRedacted;
      out += authority.substr(at);
    } else {
      out += authority;
    }
    if (end != std::string_view::npos) out += "/" + std::string(kRedacted);
    return out;
  }
  boost::urls::url copy(*parsed);
  if (copy.has_userinfo()) copy.set_userinfo(kRedacted);
  if (copy.has_query()) {
    auto params = copy.params();
    for (auto it = params.begin(); it != params.end(); ++it) {
      auto param = *it;
      if (param.has_value && isSecretName(param.key)) {
        it = params.replace(it, {param.key, kRedacted});
      }
    }
  }
  if (copy.has_fragment() && copy.fragment().find('=') != std::string::npos) {
    copy.set_fragment(kRedacted);  // implicit-flow tokens travel in fragments
  }
  return std::string(copy.buffer());
}

std::string displayCommand(const std::string& command, const std::vector<std::string>& args) {
  std::string out = command;
  for (const auto& arg : args) {
    out += ' ';
    if (looksSecret(arg)) {
      auto eq = arg.find('=');
      out += arg.starts_with("-") && eq != std::string::npos
                 ? arg.substr(0, eq + 1) + std::string(kRedacted)
                 : std::string(kRedacted);
    } else if (arg.find("://") != std::string::npos) {
      out += redactUrl(arg);
    } else if (arg.find(' ') != std::string::npos || arg.empty()) {
      out += "'" + arg + "'";
    } else {
      out += arg;
    }
  }
  return out;
}

std::string redactText(std::string_view text) {
  if (text.find("://") == std::string_view::npos && text.find("earer ") == std::string_view::npos) {
    return std::string(text);  // the common case: nothing to look at
  }
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t sep = text.find("://", i);
    std::size_t bearer = std::min(text.find("Bearer ", i), text.find("bearer ", i));
    if (sep == std::string_view::npos && bearer == std::string_view::npos) break;
    if (bearer < sep) {
      std::size_t token = bearer + 7;
      std::size_t end = token;
      while (end < text.size() && isUrlChar(text[end])) ++end;
      out.append(text.substr(i, token - i));
      out.append(end > token ? kRedacted : "");
      i = end;
      continue;
    }
    std::size_t start = sep;
    while (start > i && isSchemeChar(text[start - 1])) --start;
    std::size_t end = sep + 3;
    while (end < text.size() && isUrlChar(text[end])) ++end;
    // Sentence punctuation right after a URL is not part of it.
    while (end > sep + 3 && (text[end - 1] == '.' || text[end - 1] == ',' || text[end - 1] == ')' ||
                             text[end - 1] == ';')) {
      --end;
    }
    out.append(text.substr(i, start - i));
    if (start == sep) {  // "://" without a scheme: not a URL
      out.append(text.substr(sep, 3));
      i = sep + 3;
      continue;
    }
    out.append(redactUrl(text.substr(start, end - start)));
    i = end;
  }
  out.append(text.substr(i));
  return out;
}

void redactJsonSecrets(boost::json::value& value) {
  if (auto* array = value.if_array()) {
    for (auto& element : *array) redactJsonSecrets(element);
    return;
  }
  auto* object = value.if_object();
  if (!object) return;
  for (auto& [key_view, member] : *object) {
    std::string_view key = key_view;
    if ((key == "env" || key == "headers" || key == "http_headers") && member.is_object()) {
      for (auto& [name, inner] : member.get_object()) inner = kRedacted;
    } else if (key == "url" && member.is_string()) {
      member = redactUrl(member.get_string());
    } else if (key == "args" && member.is_array()) {
      for (auto& arg : member.get_array()) {
        if (!arg.is_string()) continue;
        std::string_view text = arg.get_string();
        if (looksSecret(text)) {
          auto eq = text.find('=');
          arg = text.starts_with("-") && eq != std::string_view::npos
                    ? std::string(text.substr(0, eq + 1)) + std::string(kRedacted)
                    : std::string(kRedacted);
        } else if (text.find("://") != std::string_view::npos) {
          arg = redactUrl(text);
        }
      }
    } else if (isSecretName(key) && member.is_string()) {
      member = kRedacted;
    } else {
      redactJsonSecrets(member);
    }
  }
}

}  // namespace mcpproxy
