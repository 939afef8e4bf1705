// Newline-delimited framing for stdio MCP (one JSON-RPC message per line). Bounded: a line
// longer than the limit is dropped (and reported) without buffering it, so a peer that floods
// stdout without newlines cannot grow our memory.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace mcpproxy::protocol {

class LineFramer {
 public:
  using LineHandler = std::function<void(std::string_view line)>;
  using OversizeHandler = std::function<void(std::size_t dropped_bytes)>;

  explicit LineFramer(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // Feeds raw bytes; calls on_line for each complete line (without "\n" or a trailing "\r").
  // Empty lines are skipped. on_oversize is called once per dropped line.
  void feed(std::string_view chunk, const LineHandler& on_line, const OversizeHandler& on_oversize);

  std::size_t buffered() const { return buffer_.size(); }

 private:
  std::size_t max_line_bytes_;
  std::string buffer_;
  bool discarding_ = false;  // inside an oversize line, skipping until the next newline
  std::size_t discarded_ = 0;
};

}  // namespace mcpproxy::protocol
