// Server-sent events (text/event-stream): an incremental parser for what upstreams send us and
// a formatter for what we send downstream. Follows the WHATWG event-stream rules (fields id,
// event, data, retry; comments; CR, LF and CRLF line ends) with a bound on event size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mcpproxy::protocol {

struct SseEvent {
  std::string id;     // empty when the event set none
  std::string event;  // empty means "message"
  std::string data;   // data lines joined with "\n"
  std::optional<std::uint64_t> retry_ms;
};

class SseParser {
 public:
  using EventHandler = std::function<void(SseEvent&& event)>;

  explicit SseParser(std::size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

  // Feeds raw bytes and calls on_event for each complete event. Returns false when an event
  // exceeded the size limit; the stream should then be dropped (later calls deliver nothing and
  // return false). Feeding a stream in any split gives the same events as feeding it whole.
  bool feed(std::string_view chunk, const EventHandler& on_event);

  // The last event id seen on this stream (for Last-Event-ID on reconnect).
  const std::string& lastEventId() const { return last_event_id_; }
  // The last retry value the server sent, if any.
  std::optional<std::uint64_t> retryMs() const { return retry_ms_; }

 private:
  bool feedBytes(std::string_view chunk, const EventHandler& on_event);
  void processLine(std::string_view line, const EventHandler& on_event);
  void dispatch(const EventHandler& on_event);

  std::size_t max_event_bytes_;
  std::string line_;
  bool pending_cr_ = false;  // last chunk ended with '\r'; a following '\n' belongs to it
  bool bom_checked_ = false;
  std::size_t bom_matched_ = 0;  // leading bytes that matched the BOM so far
  std::string data_;
  bool has_data_ = false;
  std::string event_;
  std::string id_;
  bool id_set_ = false;
  std::optional<std::uint64_t> event_retry_;
  std::string last_event_id_;
  std::optional<std::uint64_t> retry_ms_;
  bool overflow_ = false;
};

// Formats one event. Data containing line breaks (LF, CR or CRLF) is split into several data:
// lines, so a parser gets it back with every line break as LF. CR and LF cannot be expressed in
// id and event and are dropped from them (they would otherwise inject fields).
std::string formatSseEvent(const SseEvent& event);

}  // namespace mcpproxy::protocol
