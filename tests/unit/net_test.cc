// net::HttpClient against real loopback sockets: the LoopbackListener as the server, and a raw
// acceptor that never answers for the deadline. Redirect policy, size limits, plain-http policy.
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "auth_test_util.h"
#include "net/http_client.h"
#include "net/loopback_listener.h"

namespace mcpproxy::net {
namespace {

using auth::testing::runAsync;
namespace asio = boost::asio;

class NetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto listener = LoopbackListener::open(
        io_.get_executor(), 0, [this](std::string_view path, std::string_view query) {
          seen_.emplace_back(std::string(path) + "?" + std::string(query));
          if (path == "/big") return std::pair<unsigned, std::string>(200, std::string(5000, 'x'));
          if (path == "/missing") return std::pair<unsigned, std::string>(404, "nope");
          return std::pair<unsigned, std::string>(200, "hello " + std::string(query));
        });
    ASSERT_TRUE(listener) << listener.error().message;
    listener_ = std::move(*listener);
  }
  Result<HttpResponse> get(HttpClient& client, std::string url, Headers headers = {}) {
    HttpRequest request;
    request.url = std::move(url);
    request.headers = std::move(headers);
    return runAsync(io_, client.send(std::move(request)));
  }
  asio::io_context io_;
  std::unique_ptr<LoopbackListener> listener_;
  std::vector<std::string> seen_;
};

TEST_F(NetTest, GetsFromLoopbackListener) {
  HttpClient client(io_.get_executor());
  auto r = get(client, listener_->baseUrl() + "/oauth/callback?code=1&state=2");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "hello code=1&state=2");
  EXPECT_EQ(r->header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r->header("X-Frame-Options"), "DENY");
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0], "/oauth/callback?code=1&state=2");
  auto missing = get(client, listener_->baseUrl() + "/missing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404u);  // a status is an answer, not an error
}

TEST_F(NetTest, EnforcesTheBodyLimit) {
  HttpClientOptions options;
  options.max_response_bytes = 1000;
  HttpClient client(io_.get_executor(), options);
  auto r = get(client, listener_->baseUrl() + "/big");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kLimitExceeded);
}

TEST_F(NetTest, RefusesPlainHttpElsewhereAndHeaderInjection) {
  HttpClient client(io_.get_executor());
  auto r = get(client, "http://example.com/x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(get(client, "ftp://127.0.0.1/x"));
  EXPECT_FALSE(get(client, "http://user:pw@127.0.0.1/x"));
  auto injected = get(client, listener_->baseUrl() + "/", {{"X-A", "1\r\nX-B: 2"}});
  ASSERT_FALSE(injected);
  EXPECT_EQ(injected.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(seen_.empty());
}

TEST_F(NetTest, BlocksLoopbackWhenAskedTo) {
  HttpClientOptions options;
  options.block_private_addresses = true;
  options.allow_loopback = false;
  HttpClient client(io_.get_executor(), options);
  EXPECT_FALSE(get(client, listener_->baseUrl() + "/"));
  EXPECT_TRUE(seen_.empty());
}

TEST_F(NetTest, TimesOutOnASilentServer) {
  asio::ip::tcp::acceptor silent(io_, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket held(io_);
  silent.async_accept(held, [](boost::system::error_code) {});
  HttpClientOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  HttpClient client(io_.get_executor(), options);
  auto start = std::chrono::steady_clock::now();
  auto r = get(client, "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(NetTest, RedirectsOnlyWhenEnabled) {
  // A second listener that redirects to the first, relatively and absolutely.
  std::string target = listener_->baseUrl() + "/final";
  // LoopbackListener cannot set Location: a raw server answers the redirects.
  asio::ip::tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
  auto port = acceptor.local_endpoint().port();
  auto serve = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 2; ++i) {
      auto socket = co_await acceptor.async_accept(asio::use_awaitable);
      std::array<char, 4096> buf;
      co_await socket.async_read_some(asio::buffer(buf), asio::use_awaitable);
      std::string reply = "HTTP/1.1 302 Found\r\nLocation: " + target +
                          "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      co_await asio::async_write(socket, asio::buffer(reply), asio::use_awaitable);
    }
  };
  asio::co_spawn(io_, serve(), asio::detached);
  HttpClient plain(io_.get_executor());
  auto r = get(plain, "http://127.0.0.1:" + std::to_string(port) + "/start");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 302u);
  EXPECT_EQ(r->header("location"), target);

  HttpClientOptions follow;
  follow.max_redirects = 3;
  HttpClient follower(io_.get_executor(), follow);
  auto followed = get(follower, "http://127.0.0.1:" + std::to_string(port) + "/start",
                      {{"Authorization", "Bearer secret"}});
  ASSERT_TRUE(followed) << followed.error().message;
  EXPECT_EQ(followed->status, 200u);
  EXPECT_EQ(followed->url, target);
  ASSERT_FALSE(seen_.empty());
  EXPECT_EQ(seen_.back(), "/final?");
}

TEST(NetHelpers, EncodeAndParse) {
  EXPECT_EQ(percentEncode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(formEncode({{"a", "1 2"}, {"b", "x+y"}}), "a=1%202&b=x%2By");
  auto q = parseQuery("a=1+2&b=%41%4&c&=x&d=%zz");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0].second, "1 2");
  EXPECT_EQ(q[1].second, "A%4");
  EXPECT_EQ(q[2].first, "c");
  EXPECT_EQ(q[4].second, "%zz");
  EXPECT_TRUE(isLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(isLoopbackHost("[::1]"));
  EXPECT_TRUE(isLoopbackHost("LOCALHOST"));
  EXPECT_FALSE(isLoopbackHost("127.example.com"));
  auto url = parseUrl("HTTPS://Example.COM:443/a?b#c");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->origin(), "https://example.com");
  EXPECT_EQ(url->path, "/a");
  EXPECT_EQ(url->query, "b");
}

}  // namespace
}  // namespace mcpproxy::net
