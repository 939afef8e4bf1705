// Helpers for the auth tests: running a coroutine to completion on an io_context, a scripted
// fake of net::Fetch (routes by method + URL without query, records every request), and JWT
// minting with keys made on the spot.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/jose.h"
#include "net/http_client.h"

namespace mcpproxy::auth::testing {

namespace asio = boost::asio;
namespace json = boost::json;

// Runs `task` until it completes (other work on `io`, such as a listener's accept loop, stays
// pending for the next call).
template <class T>
T runAsync(asio::io_context& io, asio::awaitable<T> task) {
  std::optional<T> out;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) out.emplace(std::move(value));
    io.stop();
  });
  io.restart();
  io.run();
  if (error) std::rethrow_exception(error);
  return std::move(*out);
}

inline std::string stripQuery(const std::string& url) {
  return url.substr(0, url.find('?'));
}

struct FakeNet {
  using Handler = std::function<net::HttpResponse(const net::HttpRequest&)>;
  std::map<std::string, Handler> routes;  // "GET https://as/x"
  std::vector<net::HttpRequest> requests;

  void on(const std::string& method, const std::string& url, Handler handler) {
    routes[method + " " + url] = std::move(handler);
  }
  void json(const std::string& method, const std::string& url, std::string body,
            unsigned status = 200) {
    on(method, url, [body, status](const net::HttpRequest&) {
      net::HttpResponse r;
      r.status = status;
      r.headers = {{"Content-Type", "application/json"}};
      r.body = body;
      return r;
    });
  }
  std::size_t count(const std::string& method, const std::string& url) const {
    std::size_t n = 0;
    for (const auto& r : requests) n += r.method == method && stripQuery(r.url) == url;
    return n;
  }
  const net::HttpRequest* last(const std::string& method, const std::string& url) const {
    for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
      if (it->method == method && stripQuery(it->url) == url) return &*it;
    }
    return nullptr;
  }
  net::Fetch fetch() {
    return [this](net::HttpRequest request) -> asio::awaitable<Result<net::HttpResponse>> {
      requests.push_back(request);
      auto it = routes.find(request.method + " " + stripQuery(request.url));
      if (it == routes.end()) {
        net::HttpResponse r;
        r.status = 404;
        r.body = "not found";
        co_return r;
      }
      co_return it->second(request);
    };
  }
};

inline std::string formValue(const std::string& body, const std::string& name) {
  for (auto& [k, v] : net::parseQuery(body)) {
    if (k == name) return v;
  }
  return "";
}

inline std::string header(const net::HttpRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

struct TestKey {
  PrivateKey key;
  std::string kid;
  JwsAlg alg;
  json::object jwk() const {
    auto j = publicJwk(key, kid);
    EXPECT_TRUE(j.has_value());
    return *j;
  }
};

inline TestKey makeKey(JwsAlg alg, std::string kid) {
  auto key = generatePrivateKey(alg);
  EXPECT_TRUE(key.has_value());
  return TestKey{*key, std::move(kid), alg};
}

inline std::string jwks(const std::vector<const TestKey*>& keys) {
  json::array array;
  for (const auto* k : keys) array.push_back(k->jwk());
  json::object set;
  set["keys"] = std::move(array);
  return json::serialize(set);
}

inline std::string mint(const TestKey& key, json::object claims, std::string typ = "at+jwt") {
  json::object header;
  if (!key.kid.empty()) header["kid"] = key.kid;
  if (!typ.empty()) header["typ"] = typ;
  auto token = signJwt(std::move(header), claims, key.key, key.alg);
  EXPECT_TRUE(token.has_value()) << (token ? "" : token.error().message);
  return token ? *token : "";
}

inline std::int64_t nowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace mcpproxy::auth::testing
