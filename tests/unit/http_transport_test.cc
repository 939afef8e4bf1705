// HttpTransport against a canned HTTP server on loopback: JSON and SSE replies, session id and
// protocol-version headers, the GET stream, failures turned into JSON-RPC errors for the waiting
// request, session expiry (404), refused connections, DELETE on close, and resuming a POST
// stream the server closed before answering (GET with Last-Event-ID after the `retry` delay).
#include "upstream/http_transport.h"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/serialize.hpp>
#include <functional>
#include <sstream>
#include <vector>

#include "protocol/jsonrpc.h"

namespace mcpproxy::upstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

struct SeenRequest {
  std::string method;
  std::string target;
  std::string session_id;
  std::string protocol_version;
  std::string accept;
  std::string authorization;
  std::string body;
  std::string last_event_id;
  std::chrono::steady_clock::time_point at;
};

// Accepts connections on 127.0.0.1 and answers each request with raw bytes from `respond`.
class CannedServer {
 public:
  explicit CannedServer(asio::io_context& io)
      : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io, accept(), asio::detached);
  }
  ~CannedServer() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/mcp";
  }

  std::function<std::string(const SeenRequest&)> respond;
  std::vector<SeenRequest> seen;

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
      if (ec) co_return;
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(socket, buffer, req, kAwait);
      if (ec) co_return;
      SeenRequest r{std::string(req.method_string()),
                    std::string(req.target()),
                    std::string(req["Mcp-Session-Id"]),
                    std::string(req["MCP-Protocol-Version"]),
                    std::string(req[http::field::accept]),
                    std::string(req[http::field::authorization]),
                    req.body()};
      r.last_event_id = std::string(req["Last-Event-ID"]);
      r.at = std::chrono::steady_clock::now();
      seen.push_back(r);
      std::string reply =
          respond ? respond(r) : "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
      auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(reply), kAwait);
      // "X-Test-Close" makes the server drop the connection after replying, without telling the
      // client (as idle keep-alive timeouts do).
      if (wec || reply.find("Connection: close") != std::string::npos ||
          reply.find("X-Test-Close") != std::string::npos) {
        co_return;
      }
    }
  }

  tcp::acceptor acceptor_;
};

// An SSE reply with `events` as one chunk; `end` adds the last chunk (the server ends the stream),
// otherwise the stream stays open.
std::string sseReply(const std::string& events, bool end) {
  std::ostringstream chunked;
  chunked << std::hex << events.size() << "\r\n" << events << "\r\n" << (end ? "0\r\n\r\n" : "");
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
         "chunked\r\n\r\n" +
         chunked.str();
}

std::string jsonReply(const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string status(int code, const std::string& reason, const std::string& body = "") {
  return "HTTP/1.1 " + std::to_string(code) + " " + reason +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

json::value request(std::int64_t id, const std::string& method) {
  return json::object{
      {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", json::object{}}};
}

std::string idOf(const SeenRequest& r) {
  auto parsed = protocol::parseJson(r.body, protocol::Limits{});
  if (!parsed || !parsed->is_object() || !parsed->as_object().contains("id")) return "null";
  return json::serialize(parsed->as_object().at("id"));
}

class HttpTransportTest : public ::testing::Test {
 protected:
  void start(HttpOptions options) {
    transport_ = makeHttpTransport(io_.get_executor(), std::move(options));
    Transport::Handlers handlers;
    handlers.on_message = [this](json::value message) { messages_.push_back(std::move(message)); };
    handlers.on_closed = [this](Error error) { closed_.push_back(std::move(error)); };
    auto started = run(transport_->start(std::move(handlers)));
    ASSERT_TRUE(started) << started.error().message;
  }
  void start() {
    HttpOptions options;
    options.server_name = "test";
    options.url = server_.url();
    options.headers = {{"Authorization", "Bearer t0ken"}};
    start(std::move(options));
  }

  bool runUntil(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    io_.restart();
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_for(milliseconds(5));
    return done();
  }

  template <class T>
  T run(asio::awaitable<T> task) {
    auto future = asio::co_spawn(io_, std::move(task), asio::use_future);
    runUntil([&] { return future.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
    EXPECT_EQ(future.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    return future.get();
  }

  asio::io_context io_;
  CannedServer server_{io_};
  std::unique_ptr<Transport> transport_;
  std::vector<json::value> messages_;
  std::vector<Error> closed_;
};

TEST_F(HttpTransportTest, JsonReplyThenSessionHeadersAndGetStream) {
  server_.respond = [](const SeenRequest& r) {
    if (r.method == "GET") return status(405, "Method Not Allowed");
    if (r.method == "DELETE") return status(200, "OK");
    if (r.body.find("\"initialize\"") != std::string::npos) {
      return jsonReply(R"({"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18"}})",
                       "Mcp-Session-Id: sess-42\r\n");
    }
    if (r.body.find("\"id\"") == std::string::npos) return status(202, "Accepted");
    return jsonReply(R"({"jsonrpc":"2.0","id":)" + idOf(r) + R"(,"result":{"tools":[]}})");
  };
  start();
  ASSERT_TRUE(run(transport_->send(request(1, "initialize"))));
  ASSERT_TRUE(runUntil([&] { return messages_.size() == 1; }));
  EXPECT_EQ(messages_[0].as_object().at("id"), 1);
  EXPECT_EQ(server_.seen[0].accept, "application/json, text/event-stream");
  EXPECT_EQ(server_.seen[0].authorization, "Bearer t0ken");
  EXPECT_EQ(server_.seen[0].session_id, "");

  transport_->onInitialized("2025-06-18");
  ASSERT_TRUE(run(
      transport_->send(json::object{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}})));
  ASSERT_TRUE(run(transport_->send(request(2, "tools/list"))));
  ASSERT_TRUE(runUntil([&] { return messages_.size() == 2; }));
  EXPECT_EQ(messages_[1].as_object().at("id"), 2);

  bool saw_get = false;
  for (const auto& r : server_.seen) {
    if (r.method == "GET") {
      saw_get = true;
      EXPECT_EQ(r.accept, "text/event-stream");
      EXPECT_EQ(r.session_id, "sess-42");
    }
    if (r.method == "POST" && r.body.find("tools/list") != std::string::npos) {
      EXPECT_EQ(r.session_id, "sess-42");
      EXPECT_EQ(r.protocol_version, "2025-06-18");
    }
  }
  EXPECT_TRUE(saw_get);

  run(transport_->close());
  ASSERT_FALSE(server_.seen.empty());
  EXPECT_EQ(server_.seen.back().method, "DELETE");
  EXPECT_EQ(server_.seen.back().session_id, "sess-42");
  EXPECT_TRUE(closed_.empty());
}

TEST_F(HttpTransportTest, SseReplyDeliversEveryMessageInOrder) {
  server_.respond = [](const SeenRequest& r) {
    std::string id = idOf(r);
    std::string events =
        "id: p1\nretry: 500\ndata:\n\n"  // priming event: no data
        ": comment\n\n"
        "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
        "\"params\":{\"progress\":1}}\n\n"
        "data: {\"jsonrpc\":\"2.0\",\"id\":" +
        id + ",\"result\":{\"content\":[]}}\n\n";
    std::ostringstream chunked;
    chunked << std::hex << events.size() << "\r\n" << events << "\r\n0\r\n\r\n";
    return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
           "chunked\r\n\r\n" +
           chunked.str();
  };
  start();
  ASSERT_TRUE(run(transport_->send(request(7, "tools/call"))));
  ASSERT_TRUE(runUntil([&] { return messages_.size() == 2; }));
  EXPECT_EQ(messages_[0].as_object().at("method"), "notifications/progress");
  EXPECT_EQ(messages_[1].as_object().at("id"), 7);
  io_.run_for(milliseconds(50));
  EXPECT_EQ(messages_.size(), 2u) << "no synthesized error after a real answer";
}

TEST_F(HttpTransportTest, ServerErrorBecomesJsonRpcErrorForTheRequest) {
  server_.respond = [](const SeenRequest&) {
    return status(500, "Internal Server Error", "database down");
  };
  start();
  ASSERT_TRUE(run(transport_->send(request(3, "tools/call"))));
  ASSERT_TRUE(runUntil([&] { return !messages_.empty(); }));
  const auto& error = messages_[0].as_object();
  EXPECT_EQ(error.at("id"), 3);
  EXPECT_EQ(error.at("error").as_object().at("code"), protocol::rpc_error::kInternalError);
  std::string message(error.at("error").as_object().at("message").as_string());
  EXPECT_NE(message.find("HTTP 500"), std::string::npos) << message;
  EXPECT_NE(message.find("database down"), std::string::npos) << message;
}

TEST_F(HttpTransportTest, JsonRpcErrorBodyOnHttpErrorIsPassedThrough) {
  server_.respond = [](const SeenRequest& r) {
    std::string body =
        R"({"jsonrpc":"2.0","id":)" + idOf(r) + R"(,"error":{"code":-32602,"message":"bad args"}})";
    return "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  start();
  ASSERT_TRUE(run(transport_->send(request(4, "tools/call"))));
  ASSERT_TRUE(runUntil([&] { return !messages_.empty(); }));
  EXPECT_EQ(messages_[0].as_object().at("error").as_object().at("code"), -32602);
  io_.run_for(milliseconds(50));
  EXPECT_EQ(messages_.size(), 1u);
}

TEST_F(HttpTransportTest, NotFoundForOurSessionReportsSessionExpired) {
  server_.respond = [](const SeenRequest& r) {
    if (r.body.find("\"initialize\"") != std::string::npos) {
      return jsonReply(R"({"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2024-11-05"}})",
                       "Mcp-Session-Id: s1\r\n");
    }
    return status(404, "Not Found");
  };
  start();
  ASSERT_TRUE(run(transport_->send(request(1, "initialize"))));
  transport_->onInitialized("2024-11-05");  // no GET stream before 2025-03-26
  ASSERT_TRUE(run(transport_->send(request(2, "tools/list"))));
  ASSERT_TRUE(runUntil([&] { return !closed_.empty(); }));
  EXPECT_EQ(closed_[0].code, ErrorCode::kSessionExpired);
  ASSERT_EQ(messages_.size(), 2u);
  EXPECT_EQ(messages_[1].as_object().at("id"), 2);
  EXPECT_TRUE(messages_[1].as_object().contains("error"));
  for (const auto& r : server_.seen) EXPECT_NE(r.method, "GET");
}

TEST_F(HttpTransportTest, ReusesKeepAliveConnectionsAndRecoversFromClosedOnes) {
  int count = 0;
  server_.respond = [&](const SeenRequest& r) {
    ++count;
    std::string body = R"({"jsonrpc":"2.0","id":)" + idOf(r) + R"(,"result":{}})";
    // Some replies close their connection, announced or silently: the next send must still
    // succeed (a dead pooled connection is detected, not written to).
    return jsonReply(body, count % 3 == 1   ? "Connection: close\r\n"
                           : count % 3 == 2 ? "X-Test-Close: 1\r\n"
                                            : "");
  };
  start();
  for (int i = 1; i <= 9; ++i) {
    ASSERT_TRUE(run(transport_->send(request(i, "ping")))) << i;
    ASSERT_TRUE(runUntil([&] { return messages_.size() == static_cast<std::size_t>(i); })) << i;
    io_.run_for(milliseconds(20));  // let a silent close reach the client's socket
  }
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(messages_[i].as_object().at("id"), i + 1);
    EXPECT_TRUE(messages_[i].as_object().contains("result")) << json::serialize(messages_[i]);
  }
}

TEST_F(HttpTransportTest, RefusedConnectionFailsTheSend) {
  HttpOptions options;
  {
    asio::io_context other;
    tcp::acceptor probe(other, {asio::ip::make_address("127.0.0.1"), 0});
    options.url = "http://127.0.0.1:" + std::to_string(probe.local_endpoint().port()) + "/mcp";
  }  // closed: nothing listens there now
  start(std::move(options));
  auto sent = run(transport_->send(request(1, "initialize")));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(sent.error().message.find("cannot connect"), std::string::npos) << sent.error().message;
}

TEST_F(HttpTransportTest, RejectsBadUrlsAndHeaderInjection) {
  HttpOptions options;
  options.url = "ftp://example.com/";
  transport_ = makeHttpTransport(io_.get_executor(), options);
  EXPECT_FALSE(run(transport_->start({})));

  options.url = server_.url();
  options.headers = {{"X-Token", "a\r\nX-Evil: 1"}};
  transport_ = makeHttpTransport(io_.get_executor(), options);
  auto started = run(transport_->start({}));
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().message.find("a\r\n"), std::string::npos) << "header values are secret";
}

// Events on a stream that stays open (the GET stream) are delivered as they arrive, not when the
// stream ends or a read buffer fills up.
TEST_F(HttpTransportTest, GetStreamDeliversEventsWhileItStaysOpen) {
  server_.respond = [](const SeenRequest& r) {
    if (r.method == "GET") {
      return sseReply(
          "id: g1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n",
          /*end=*/false);
    }
    if (r.body.find("\"initialize\"") != std::string::npos) {
      return jsonReply(R"({"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18"}})",
                       "Mcp-Session-Id: s-open\r\n");
    }
    return status(202, "Accepted");
  };
  start();
  ASSERT_TRUE(run(transport_->send(request(1, "initialize"))));
  ASSERT_TRUE(runUntil([&] { return messages_.size() == 1; }));
  transport_->onInitialized("2025-06-18");
  ASSERT_TRUE(runUntil([&] { return messages_.size() == 2; }));
  EXPECT_EQ(messages_[1].as_object().at("method"), "notifications/tools/list_changed");
}

// SEP-1699 polling: the server primes the POST stream (event id + retry), closes it before the
// response, and replays the response on a GET carrying Last-Event-ID, whose stream it keeps
// open. The transport must wait `retry`, resume, deliver the response once and not wait for
// the resumed stream to end.
TEST_F(HttpTransportTest, ResumesAPostStreamClosedBeforeTheResponse) {
  std::chrono::steady_clock::time_point post_answered;
  std::string call_id;
  server_.respond = [&](const SeenRequest& r) {
    if (r.method == "POST") {
      call_id = idOf(r);
      post_answered = std::chrono::steady_clock::now();
      return sseReply("id: ev-1\nretry: 300\ndata:\n\n", /*end=*/true);
    }
    if (r.method == "GET" && r.last_event_id == "ev-1") {
      return sseReply("id: ev-2\ndata: {\"jsonrpc\":\"2.0\",\"id\":" + call_id +
                          ",\"result\":{\"content\":[]}}\n\n",
                      /*end=*/false);
    }
    return status(400, "Bad Request");
  };
  start();
  ASSERT_TRUE(run(transport_->send(request(7, "tools/call"))));
  ASSERT_TRUE(runUntil([&] { return !messages_.empty(); }));
  ASSERT_EQ(messages_.size(), 1u) << json::serialize(messages_[0]);
  EXPECT_EQ(messages_[0].as_object().at("id"), 7);
  EXPECT_TRUE(messages_[0].as_object().contains("result")) << json::serialize(messages_[0]);

  ASSERT_EQ(server_.seen.size(), 2u);
  const auto& get = server_.seen[1];
  EXPECT_EQ(get.method, "GET");
  EXPECT_EQ(get.last_event_id, "ev-1");
  EXPECT_EQ(get.accept, "text/event-stream");
  auto waited = std::chrono::duration_cast<milliseconds>(get.at - post_answered);
  EXPECT_GE(waited.count(), 280) << "the retry field (300 ms) was not honoured";
  EXPECT_LT(waited.count(), 2000);
  io_.run_for(milliseconds(100));
  EXPECT_EQ(messages_.size(), 1u) << "no synthesized error after the resumed answer";
}

// A server that keeps ending the stream without the response: a bounded number of resumptions
// (each from the newest event id), then a JSON-RPC error for the waiting request.
TEST_F(HttpTransportTest, GivesUpResumingAfterBoundedAttempts) {
  int gets = 0;
  std::vector<std::string> last_ids;
  server_.respond = [&](const SeenRequest& r) {
    if (r.method == "POST") return sseReply("id: p-0\nretry: 20\ndata:\n\n", /*end=*/true);
    ++gets;
    last_ids.push_back(r.last_event_id);
    return sseReply("id: p-" + std::to_string(gets) + "\ndata:\n\n", /*end=*/true);
  };
  start();
  ASSERT_TRUE(run(transport_->send(request(9, "tools/call"))));
  ASSERT_TRUE(runUntil([&] { return !messages_.empty(); }));
  const auto& error = messages_[0].as_object();
  EXPECT_EQ(error.at("id"), 9);
  ASSERT_TRUE(error.contains("error"));
  std::string message(error.at("error").as_object().at("message").as_string());
  EXPECT_NE(message.find("ended before the response"), std::string::npos) << message;
  EXPECT_EQ(gets, 3);
  EXPECT_EQ(last_ids, (std::vector<std::string>{"p-0", "p-1", "p-2"}));
  io_.run_for(milliseconds(100));
  EXPECT_EQ(gets, 3) << "no more attempts after giving up";
  EXPECT_EQ(messages_.size(), 1u);
}

// Without an event id there is nothing to resume from: the request fails at once, as before.
TEST_F(HttpTransportTest, StreamWithoutEventIdIsNotResumed) {
  server_.respond = [&](const SeenRequest& r) {
    if (r.method == "POST") return sseReply("retry: 20\ndata:\n\n", /*end=*/true);
    return status(400, "Bad Request");
  };
  start();
  ASSERT_TRUE(run(transport_->send(request(5, "tools/call"))));
  ASSERT_TRUE(runUntil([&] { return !messages_.empty(); }));
  EXPECT_TRUE(messages_[0].as_object().contains("error"));
  for (const auto& r : server_.seen) EXPECT_NE(r.method, "GET");
}

}  // namespace
}  // namespace mcpproxy::upstream
