// Internal to the two files that serve HTTP with Beast (downstream/http_server.cc and
// api/socket_server.cc): converts a Beast request into an api::HttpRequest and writes an
// api::HttpResponse, including the SSE stream of GET /events. Never include it from a header.
#pragma once

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "api/http_types.h"

namespace mcpproxy::api {

template <class Body>
HttpRequest fromBeast(const boost::beast::http::request<Body>& req, bool local) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  parseTarget(req.target(), out.path, out.query);
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = req.body();
  out.local = local;
  return out;
}

template <class Stream>
boost::asio::awaitable<bool> writeChunk(Stream& stream, const std::string& text) {
  boost::system::error_code ec;
  co_await boost::asio::async_write(stream,
                                    boost::beast::http::make_chunk(boost::asio::buffer(text)),
                                    boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  co_return !ec;
}

// Writes `res`; returns whether the connection may be reused. An SSE answer streams until its
// subscription closes or a write fails, with a comment ping every `ping_interval`.
template <class Stream>
boost::asio::awaitable<bool> writeResponse(Stream& stream, unsigned version, HttpResponse res,
                                           bool keep_alive,
                                           std::chrono::milliseconds ping_interval) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  boost::system::error_code ec;
  if (!res.events) {
    http::response<http::string_body> out{static_cast<http::status>(res.status), version};
    out.set(http::field::server, "mcpproxy");
    if (!res.content_type.empty()) out.set(http::field::content_type, res.content_type);
    out.set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : res.headers) out.set(name, value);
    out.body() = std::move(res.body);
    out.keep_alive(keep_alive);
    out.prepare_payload();
    co_await http::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec && keep_alive;
  }
  http::response<http::empty_body> head{http::status::ok, version};
  head.set(http::field::server, "mcpproxy");
  head.set(http::field::content_type, "text/event-stream");
  head.set(http::field::cache_control, "no-cache");
  head.set("X-Accel-Buffering", "no");
  head.chunked(true);
  http::response_serializer<http::empty_body> serializer{head};
  co_await http::async_write_header(stream, serializer,
                                    asio::redirect_error(asio::use_awaitable, ec));
  auto events = res.events;
  bool ok = !ec;
  if (ok && !res.body.empty()) ok = co_await writeChunk(stream, res.body);
  while (ok && !events->closed) {
    if (events->frames.empty()) {
      events->signal.expires_after(ping_interval);
      boost::system::error_code wait_ec;
      co_await events->signal.async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
      if (!wait_ec && events->frames.empty() && !events->closed) {
        ok = co_await writeChunk(stream, ": ping\n\n");
      }
      continue;
    }
    std::string frame = std::move(events->frames.front());
    events->frames.pop_front();
    ok = co_await writeChunk(stream, frame);
  }
  events->closed = true;
  if (ok) {
    co_await asio::async_write(stream, http::make_chunk_last(),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return false;  // a stream's connection is not reused
}

}  // namespace mcpproxy::api
