// UpstreamClient against a scripted fake transport: id remapping, out-of-order responses,
// deadlines with notifications/cancelled, connection loss, and the server's own requests.
#include "upstream/client.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>
#include <functional>
#include <vector>

#include "protocol/jsonrpc.h"

namespace mcpproxy::upstream {
namespace {

namespace asio = boost::asio;

// Records what the client sends; the test plays the server by calling deliver()/closeFromServer().
class FakeTransport : public Transport {
 public:
  struct Shared {
    std::vector<json::value> sent;
    Handlers handlers;
    bool closed = false;
    // Called for every message sent, so a test can answer synchronously (e.g. initialize).
    std::function<void(const json::object&)> on_send;
  };

  explicit FakeTransport(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  asio::awaitable<Result<void>> start(Handlers handlers) override {
    shared_->handlers = std::move(handlers);
    co_return Result<void>{};
  }
  asio::awaitable<Result<void>> send(json::value message) override {
    if (shared_->closed) co_return makeError(ErrorCode::kUnavailable, "closed");
    shared_->sent.push_back(message);
    if (shared_->on_send) shared_->on_send(message.as_object());
    co_return Result<void>{};
  }
  asio::awaitable<void> close() override {
    shared_->closed = true;
    co_return;
  }
  std::string describe() const override { return "fake"; }

 private:
  std::shared_ptr<Shared> shared_;
};

json::value parse(std::string_view text) {
  return *protocol::parseJson(text, protocol::Limits{});
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shared_ = std::make_shared<FakeTransport::Shared>();
    UpstreamClient::Handlers handlers;
    handlers.on_notification = [this](const std::string& method, const json::value&) {
      notifications_.push_back(method);
    };
    handlers.on_closed = [this](const Error& error) { closed_errors_.push_back(error); };
    client_ = std::make_unique<UpstreamClient>(io_.get_executor(), "fake",
                                               std::make_unique<FakeTransport>(shared_), handlers);
  }

  // Runs a coroutine to completion on the test's io_context (with a deadline).
  template <class T>
  T run(asio::awaitable<T> task) {
    auto future = asio::co_spawn(io_, std::move(task), asio::use_future);
    io_.restart();
    io_.run_for(std::chrono::seconds(5));
    EXPECT_EQ(future.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    return future.get();
  }

  void answerInitialize(std::string version = "2025-06-18") {
    shared_->on_send = [this, version](const json::object& message) {
      if (message.contains("method") && message.at("method") == "initialize") {
        json::object result{{"protocolVersion", version},
                            {"capabilities", json::object{{"tools", json::object{}}}},
                            {"serverInfo", json::object{{"name", "fake"}, {"version", "1"}}}};
        shared_->handlers.on_message(
            json::object{{"jsonrpc", "2.0"}, {"id", message.at("id")}, {"result", result}});
      }
    };
  }

  asio::io_context io_;
  std::shared_ptr<FakeTransport::Shared> shared_;
  std::unique_ptr<UpstreamClient> client_;
  std::vector<std::string> notifications_;
  std::vector<Error> closed_errors_;
};

TEST_F(ClientTest, ConnectNegotiatesAndSendsInitialized) {
  answerInitialize("2025-06-18");
  auto info = run(client_->connect(std::chrono::seconds(1)));
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->protocol_version, "2025-06-18");
  ASSERT_EQ(shared_->sent.size(), 2u);
  const auto& init = shared_->sent[0].as_object();
  EXPECT_EQ(init.at("method"), "initialize");
  EXPECT_EQ(init.at("params").as_object().at("protocolVersion"), "2025-11-25");
  EXPECT_TRUE(init.at("id").is_int64());
  EXPECT_EQ(shared_->sent[1].as_object().at("method"), "notifications/initialized");
  EXPECT_FALSE(shared_->sent[1].as_object().contains("id"));
}

TEST_F(ClientTest, RejectsAnUnsupportedServerVersion) {
  answerInitialize("1999-01-01");
  auto info = run(client_->connect(std::chrono::seconds(1)));
  ASSERT_FALSE(info);
  EXPECT_NE(info.error().message.find("1999-01-01"), std::string::npos);
}

TEST_F(ClientTest, CorrelatesOutOfOrderResponsesByOwnIds) {
  answerInitialize();
  ASSERT_TRUE(run(client_->connect(std::chrono::seconds(1))));
  shared_->on_send = nullptr;
  auto first = asio::co_spawn(
      io_, client_->request("tools/call", json::object{{"n", 1}}, std::chrono::seconds(2)),
      asio::use_future);
  auto second = asio::co_spawn(
      io_, client_->request("tools/call", json::object{{"n", 2}}, std::chrono::seconds(2)),
      asio::use_future);
  io_.restart();
  io_.poll();
  ASSERT_EQ(shared_->sent.size(), 4u);
  auto id1 = shared_->sent[2].as_object().at("id");
  auto id2 = shared_->sent[3].as_object().at("id");
  EXPECT_NE(id1, id2);
  // Answer the second first.
  shared_->handlers.on_message(
      json::object{{"jsonrpc", "2.0"}, {"id", id2}, {"result", json::object{{"r", 2}}}});
  shared_->handlers.on_message(
      json::object{{"jsonrpc", "2.0"},
                   {"id", id1},
                   {"error", json::object{{"code", -32000}, {"message", "boom"}}}});
  io_.run_for(std::chrono::seconds(1));
  auto r1 = first.get();
  auto r2 = second.get();
  ASSERT_TRUE(r1 && r2);
  EXPECT_TRUE(r1->is_error);
  EXPECT_EQ(r1->error.at("message"), "boom");
  EXPECT_FALSE(r2->is_error);
  EXPECT_EQ(r2->result.as_object().at("r"), 2);
  EXPECT_EQ(client_->pendingCount(), 0u);
}

TEST_F(ClientTest, TimeoutSendsCancelledAndIgnoresALateResponse) {
  answerInitialize();
  ASSERT_TRUE(run(client_->connect(std::chrono::seconds(1))));
  shared_->on_send = nullptr;
  auto result = run(client_->request("tools/call", json::object{}, std::chrono::milliseconds(50)));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kTimeout);
  ASSERT_EQ(shared_->sent.size(), 4u);
  auto request_id = shared_->sent[2].as_object().at("id");
  const auto& cancel = shared_->sent[3].as_object();
  EXPECT_EQ(cancel.at("method"), "notifications/cancelled");
  EXPECT_EQ(cancel.at("params").as_object().at("requestId"), request_id);
  // The late answer is dropped without effect.
  shared_->handlers.on_message(
      json::object{{"jsonrpc", "2.0"}, {"id", request_id}, {"result", json::object{}}});
  EXPECT_EQ(client_->pendingCount(), 0u);
}

TEST_F(ClientTest, ConnectionLossFailsPendingRequestsAtOnce) {
  answerInitialize();
  ASSERT_TRUE(run(client_->connect(std::chrono::seconds(1))));
  shared_->on_send = nullptr;
  auto pending =
      asio::co_spawn(io_, client_->request("tools/call", json::object{}, std::chrono::seconds(30)),
                     asio::use_future);
  io_.restart();
  io_.poll();
  shared_->handlers.on_closed(Error{ErrorCode::kUnavailable, "process exited with status 3"});
  io_.run_for(std::chrono::milliseconds(200));
  ASSERT_EQ(pending.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  auto result = pending.get();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("status 3"), std::string::npos);
  ASSERT_EQ(closed_errors_.size(), 1u);
  EXPECT_FALSE(client_->isOpen());
}

TEST_F(ClientTest, AnswersServerPingAndRefusesUnsupportedRequests) {
  answerInitialize();
  ASSERT_TRUE(run(client_->connect(std::chrono::seconds(1))));
  shared_->on_send = nullptr;
  shared_->handlers.on_message(parse(R"({"jsonrpc":"2.0","id":"srv-1","method":"ping"})"));
  shared_->handlers.on_message(parse(R"({"jsonrpc":"2.0","id":9,"method":"roots/list"})"));
  shared_->handlers.on_message(
      parse(R"({"jsonrpc":"2.0","method":"notifications/tools/list_changed"})"));
  io_.restart();
  io_.run_for(std::chrono::milliseconds(100));
  ASSERT_EQ(shared_->sent.size(), 4u);
  EXPECT_EQ(shared_->sent[2].as_object().at("id"), "srv-1");
  EXPECT_TRUE(shared_->sent[2].as_object().at("result").as_object().empty());
  EXPECT_EQ(shared_->sent[3].as_object().at("id"), 9);
  EXPECT_EQ(shared_->sent[3].as_object().at("error").as_object().at("code"), -32601);
  ASSERT_EQ(notifications_.size(), 1u);
  EXPECT_EQ(notifications_[0], "notifications/tools/list_changed");
}

TEST_F(ClientTest, BatchArraysFromTheServerAreUnpacked) {
  answerInitialize();
  ASSERT_TRUE(run(client_->connect(std::chrono::seconds(1))));
  shared_->on_send = nullptr;
  auto pending =
      asio::co_spawn(io_, client_->request("tools/list", json::object{}, std::chrono::seconds(2)),
                     asio::use_future);
  io_.restart();
  io_.poll();
  auto id = shared_->sent.back().as_object().at("id");
  json::array batch{
      json::object{{"jsonrpc", "2.0"}, {"method", "notifications/message"}},
      json::object{
          {"jsonrpc", "2.0"}, {"id", id}, {"result", json::object{{"tools", json::array{}}}}}};
  shared_->handlers.on_message(batch);
  io_.run_for(std::chrono::milliseconds(100));
  auto result = pending.get();
  ASSERT_TRUE(result);
  EXPECT_EQ(notifications_.size(), 1u);
}

}  // namespace
}  // namespace mcpproxy::upstream
