// The one redaction rule of the proxy. Whatever leaves the process for a person or a log — CLI
// output, API responses (and so the web UI), events, log lines — passes through these
// functions, so a secret cannot be hidden in one place and printed in another:
//   - URLs lose their userinfo ("https://***@host/...") and the values of query parameters
//     whose names look secret ("?api_key=***&page=2");
//   - command-line arguments that look secret ("--token=***", long key-like words) become ***;
//   - free text has every URL in it redacted as above and "Bearer <token>" shortened.
// Header and environment *values* are never output at all (only their names).
#pragma once

#include <boost/json/fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace mcpproxy {

inline constexpr std::string_view kRedacted = "***";

// True for names of parameters, headers, env variables or flags that usually hold secrets
// (token, secret, password, api_key, auth, credential, signature, session, code, ...).
bool isSecretName(std::string_view name);

// True for a command-line argument that looks like a secret: "--api-key=..." or a long run of
// key-like characters (an API key or a JWT pasted into args).
bool looksSecret(std::string_view arg);

std::string redactUrl(std::string_view url);

// "cmd arg 'arg with space' --token=***" for display.
std::string displayCommand(const std::string& command, const std::vector<std::string>& args);

// Every URL in `text` redacted, and the token after "Bearer " replaced.
std::string redactText(std::string_view text);

// A config document (or a client's config file, or one server entry) for display, in place:
// the values of `env`, `headers` and `http_headers` objects and of secret-named keys become
// ***, `url` strings are redacted as URLs, and secret-looking `args` as on a command line.
void redactJsonSecrets(boost::json::value& value);

}  // namespace mcpproxy
