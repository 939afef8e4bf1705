// See line_framer.h.
#include "protocol/line_framer.h"

namespace mcpproxy::protocol {

void LineFramer::feed(std::string_view chunk, const LineHandler& on_line,
                      const OversizeHandler& on_oversize) {
  while (!chunk.empty()) {
    std::size_t newline = chunk.find('\n');
    std::string_view piece = chunk.substr(0, newline);
    bool complete = newline != std::string_view::npos;
    chunk = complete ? chunk.substr(newline + 1) : std::string_view{};

    if (discarding_) {
      discarded_ += piece.size();
      if (complete) {
        on_oversize(discarded_);
        discarding_ = false;
        discarded_ = 0;
      }
      continue;
    }
    if (buffer_.size() + piece.size() > max_line_bytes_) {
      discarded_ = buffer_.size() + piece.size();
      buffer_.clear();
      buffer_.shrink_to_fit();
      if (complete) {
        on_oversize(discarded_);
        discarded_ = 0;
      } else {
        discarding_ = true;
      }
      continue;
    }
    if (!complete) {
      buffer_.append(piece);
      continue;
    }
    std::string_view line = piece;
    if (!buffer_.empty()) {
      buffer_.append(piece);
      line = buffer_;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) on_line(line);
    buffer_.clear();
  }
}

}  // namespace mcpproxy::protocol
