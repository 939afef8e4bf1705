// Client-mode driver for the official MCP conformance suite's authorization scenarios
// (`auth/*`): mcpproxy's OAuth client (src/auth) logging in to the scenario's protected server,
// under the project's own UpstreamClient (src/upstream/client.cc).
//
// The project's Streamable HTTP transport (src/upstream/http_transport.cc) has no hook for a
// per-request Authorization header or for reacting to 401/403 yet, so this driver carries a
// small transport of its own that has exactly those two hooks — it is the prototype of what
// http_transport needs (docs/auth.md, "Wiring"): before every POST it asks OAuthClient for the
// header; on 401/403 it hands the WWW-Authenticate values to OAuthClient::onChallenge and sends
// the request once more when that says so. One-shot requests, JSON or SSE bodies read whole; no
// GET stream (none of these scenarios uses one).
//
// The browser step is headless, as the suite expects: the authorization URL is requested with
// redirects off and the `Location` it answers with is delivered to a RedirectHub as if the
// browser had followed it to the redirect URI. MCP_CONFORMANCE_CONTEXT maps to the per-upstream
// `oauth` config: client_id, client_secret, private_key_pem (+ signing_algorithm), and the
// client-credentials scenarios select grant_type client_credentials.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "auth/oauth_client.h"
#include "auth/redirect.h"
#include "auth/token_store.h"
#include "common/log.h"
#include "net/http_client.h"
#include "protocol/jsonrpc.h"
#include "protocol/sse.h"
#include "upstream/client.h"
#include "upstream/transport.h"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace mcpproxy;
using std::chrono::milliseconds;

constexpr milliseconds kTimeout{20'000};
constexpr int kMaxChallengeRounds = 4;  // 401 -> login, 403 -> step-up, ... (OAuthClient limits)
constexpr const char* kRedirectUri = "http://localhost:3000/callback";
constexpr const char* kClientMetadataUrl = "https://conformance-test.local/client-metadata.json";

void say(const std::string& text) {
  std::fprintf(stderr, "[mcp_conformance_auth_client] %s\n", text.c_str());
}

// Streamable HTTP with the two auth hooks.
class AuthHttpTransport final : public upstream::Transport {
 public:
  AuthHttpTransport(net::HttpClient& http, std::string url, auth::OAuthClient& oauth)
      : http_(http), url_(std::move(url)), oauth_(oauth) {}

  asio::awaitable<Result<void>> start(Handlers handlers) override {
    handlers_ = std::move(handlers);
    co_return Result<void>{};
  }

  asio::awaitable<Result<void>> send(json::value message) override {
    json::value id = nullptr;
    if (const auto* obj = message.if_object(); obj && obj->contains("method")) {
      if (const auto* i = obj->if_contains("id")) id = *i;
    }
    const std::string body = json::serialize(message);
    for (int round = 0; round <= kMaxChallengeRounds; ++round) {
      net::HttpRequest request;
      request.method = "POST";
      request.url = url_;
      request.body = body;
      request.headers = {{"Content-Type", "application/json"},
                         {"Accept", "application/json, text/event-stream"}};
      if (!session_id_.empty()) request.headers.emplace_back("Mcp-Session-Id", session_id_);
      if (!protocol_version_.empty())
        request.headers.emplace_back("MCP-Protocol-Version", protocol_version_);
      // Hook 1: the Authorization header of this request (refreshed when close to expiry).
      auto authorization = co_await oauth_.authorization();
      if (authorization) request.headers.emplace_back("Authorization", authorization->reveal());
      auto response = co_await http_.send(std::move(request));
      if (!response) {
        fail(id, "HTTP exchange failed: " + response.error().message);
        co_return std::unexpected(response.error());
      }
      if (response->status == 401 || response->status == 403) {
        // Hook 2: a challenge. OAuthClient refreshes, logs in or steps up, and says whether to
        // send the request again.
        say("HTTP " + std::to_string(response->status) + ": " +
            response->header("www-authenticate").value_or("(no WWW-Authenticate)"));
        bool again = co_await oauth_.onChallenge(response->status,
                                                 response->headerValues("www-authenticate"));
        if (again) continue;
        fail(id, "upstream answered HTTP " + std::to_string(response->status) +
                     " (authorization failed)");
        co_return Result<void>{};
      }
      if (authorization && response->status < 300) oauth_.onAuthorizedResponse();
      if (auto sid = response->header("mcp-session-id"); sid && session_id_.empty())
        session_id_ = *sid;
      deliverBody(*response, id);
      co_return Result<void>{};
    }
    fail(id, "too many authorization rounds");
    co_return Result<void>{};
  }

  void onInitialized(std::string_view version) override {
    protocol_version_ = std::string(version);
  }
  asio::awaitable<void> close() override { co_return; }
  std::string describe() const override { return "http (conformance auth driver)"; }

 private:
  void deliver(std::string_view text) {
    auto parsed = protocol::parseJson(text, protocol::Limits{});
    if (parsed && handlers_.on_message) handlers_.on_message(std::move(*parsed));
  }
  void deliverBody(const net::HttpResponse& response, const json::value& id) {
    std::string type = response.header("content-type").value_or("");
    if (response.status == 202 || response.body.empty()) return;
    if (response.status >= 300) {
      fail(id, "upstream answered HTTP " + std::to_string(response.status));
      return;
    }
    if (type.starts_with("text/event-stream")) {
      protocol::SseParser sse(16 * 1024 * 1024);
      sse.feed(response.body, [&](protocol::SseEvent&& event) {
        if (!event.data.empty() && (event.event.empty() || event.event == "message"))
          deliver(event.data);
      });
    } else {
      deliver(response.body);
    }
  }
  void fail(const json::value& id, const std::string& message) {
    if (id.is_null() || !handlers_.on_message) return;
    json::object error;
    error["code"] = -32603;
    error["message"] = message;
    error["data"] = json::object{{"mcpproxy", upstream::kTransportFailure}};
    json::object reply;
    reply["jsonrpc"] = "2.0";
    reply["id"] = id;
    reply["error"] = std::move(error);
    handlers_.on_message(std::move(reply));
  }

  net::HttpClient& http_;
  std::string url_;
  auth::OAuthClient& oauth_;
  Handlers handlers_;
  std::string session_id_;
  std::string protocol_version_;
};

// The headless browser: GET the authorization URL without following redirects, and hand the
// redirect's query to the hub.
asio::awaitable<void> headlessBrowser(net::HttpClient& http, auth::RedirectHub& hub,
                                      std::string url) {
  net::HttpRequest request;
  request.url = std::move(url);
  auto response = co_await http.send(std::move(request));
  if (!response) {
    say("authorization request failed: " + response.error().message);
    co_return;
  }
  auto location = response->header("location");
  if (!location || !location->starts_with(kRedirectUri)) {
    say("the authorization endpoint answered HTTP " + std::to_string(response->status) +
        " without a redirect to us");
    co_return;
  }
  auto query = location->find('?');
  hub.deliver(query == std::string::npos ? std::string_view{}
                                         : std::string_view(*location).substr(query + 1));
}

auth::OAuthClientOptions optionsFor(const std::string& scenario) {
  auth::OAuthClientOptions options;
  options.client_name = "mcpproxy conformance driver";
  options.client_metadata_url = kClientMetadataUrl;
  if (scenario.starts_with("auth/client-credentials"))
    options.grant_type = auth::GrantType::kClientCredentials;
  const char* context = std::getenv("MCP_CONFORMANCE_CONTEXT");
  if (context == nullptr) return options;
  boost::system::error_code ec;
  auto parsed = json::parse(context, ec);
  if (ec || !parsed.is_object()) return options;
  auto text = [&](const char* name) {
    const auto* v = parsed.as_object().if_contains(name);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  options.client_id = text("client_id");
  options.client_secret = Secret(text("client_secret"));
  options.private_key_pem = text("private_key_pem");
  options.signing_algorithm = text("signing_algorithm");
  return options;
}

asio::awaitable<int> runScenario(std::string url, std::string scenario) {
  auto executor = co_await asio::this_coro::executor;
  net::HttpClient http(executor);
  auth::RedirectHub hub(executor);
  auto agent = auth::hubUserAgent(
      hub, kRedirectUri, kTimeout, [&](const std::string& authorize_url) -> Result<void> {
        asio::co_spawn(executor, headlessBrowser(http, hub, authorize_url), asio::detached);
        return {};
      });
  auth::OAuthClient oauth(executor, "conformance", url, optionsFor(scenario), http.fetcher(),
                          std::make_shared<auth::MemoryTokenStore>(), agent);
  oauth.on_status = [](const auth::AuthStatus& status) {
    say(std::string("auth status: ") + std::string(auth::authStateName(status.state)) +
        (status.error.empty() ? "" : " (" + status.error + ")"));
  };
  upstream::UpstreamClient client(executor, "conformance",
                                  std::make_unique<AuthHttpTransport>(http, url, oauth), {});
  auto call = [&](std::string method, json::value params) -> asio::awaitable<bool> {
    auto response = co_await client.request(method, std::move(params), kTimeout);
    if (!response) {
      say(method + " failed: " + response.error().describe());
      co_return false;
    }
    if (response->is_error) {
      say(method + " failed: " + json::serialize(response->error));
      co_return false;
    }
    say(method + ": " + json::serialize(response->result));
    co_return true;
  };
  auto info = co_await client.connect(kTimeout);
  if (!info) {
    say("connect failed: " + info.error().describe());
    co_await client.close();
    co_return 1;
  }
  int rc = 0;
  if (!co_await call("tools/list", json::object{})) rc = 1;
  if (rc == 0) {
    json::object params;
    params["name"] = "test-tool";
    params["arguments"] = json::object{};
    if (!co_await call("tools/call", std::move(params))) rc = 1;
  }
  co_await client.close();
  co_return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <server url>  (MCP_CONFORMANCE_SCENARIO names the scenario)\n",
                 argv[0]);
    return 2;
  }
  const char* scenario = std::getenv("MCP_CONFORMANCE_SCENARIO");
  std::string name = scenario ? scenario : "auth/metadata-default";
  say("scenario " + name + " against " + argv[1]);
  log::init({log::Level::kDebug, ""});
  asio::io_context io;
  int rc = 1;
  asio::co_spawn(io, runScenario(argv[1], name), [&](std::exception_ptr error, int result) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        say(std::string("failed: ") + e.what());
      }
    } else {
      rc = result;
    }
    io.stop();
  });
  io.run();
  return rc;
}
