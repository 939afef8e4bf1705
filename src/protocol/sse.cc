// See sse.h. The parser keeps at most one event in memory.
#include "protocol/sse.h"

#include <charconv>

namespace mcpproxy::protocol {

bool SseParser::feed(std::string_view chunk, const EventHandler& on_event) {
  if (overflow_) return false;  // the stream is to be dropped; deliver nothing more from it
  if (!bom_checked_) {
    // A UTF-8 BOM may start the stream; it is not part of the first field. It may arrive split
    // across chunks, so count how much of it has matched so far.
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    while (!chunk.empty() && bom_matched_ < kBom.size() && chunk.front() == kBom[bom_matched_]) {
      ++bom_matched_;
      chunk.remove_prefix(1);
    }
    if (bom_matched_ < kBom.size() && chunk.empty()) return true;  // undecided yet
    bom_checked_ = true;
    if (bom_matched_ > 0 && bom_matched_ < kBom.size()) {
      // Not a BOM after all: the bytes held back are ordinary input.
      if (!feedBytes(kBom.substr(0, bom_matched_), on_event)) return false;
    }
  }
  return feedBytes(chunk, on_event);
}

bool SseParser::feedBytes(std::string_view chunk, const EventHandler& on_event) {
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    char c = chunk[i];
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') continue;  // the LF of a CRLF split across chunks
    }
    if (c == '\r' || c == '\n') {
      processLine(line_, on_event);
      line_.clear();
      if (c == '\r') pending_cr_ = true;
      if (overflow_) return false;
      continue;
    }
    line_.push_back(c);
    if (line_.size() + data_.size() > max_event_bytes_) {
      overflow_ = true;
      line_.clear();
      data_.clear();
      return false;
    }
  }
  return !overflow_;
}

void SseParser::processLine(std::string_view line, const EventHandler& on_event) {
  if (line.empty()) {
    dispatch(on_event);
    return;
  }
  if (line.front() == ':') return;  // comment / keep-alive
  std::string_view field = line;
  std::string_view value;
  if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
    if (data_.size() > max_event_bytes_) overflow_ = true;
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      id_.assign(value);
      id_set_ = true;
    }
  } else if (field == "retry") {
    std::uint64_t ms = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (ec == std::errc() && end == value.data() + value.size() && !value.empty()) {
      event_retry_ = ms;
      retry_ms_ = ms;
    }
  }
  // Unknown fields are ignored, as the standard says.
}

void SseParser::dispatch(const EventHandler& on_event) {
  if (id_set_) last_event_id_ = id_;
  SseEvent event;
  event.id = id_set_ ? id_ : std::string();
  event.event = std::move(event_);
  event.data = std::move(data_);
  event.retry_ms = event_retry_;
  bool deliver = has_data_ || event_retry_.has_value() || id_set_;
  data_.clear();
  event_.clear();
  id_.clear();
  id_set_ = false;
  has_data_ = false;
  event_retry_.reset();
  if (deliver) on_event(std::move(event));
}

namespace {

// Appends "name: value\n" with CR and LF removed from value; nothing when that leaves it empty.
void appendSingleLineField(std::string& out, std::string_view name, std::string_view value) {
  std::string clean;
  for (char c : value) {
    if (c != '\r' && c != '\n') clean.push_back(c);
  }
  if (clean.empty()) return;
  out.append(name).append(": ").append(clean).push_back('\n');
}

}  // namespace

std::string formatSseEvent(const SseEvent& event) {
  std::string out;
  out.reserve(event.data.size() + 64);
  appendSingleLineField(out, "id", event.id);
  appendSingleLineField(out, "event", event.event);
  if (event.retry_ms) out.append("retry: ").append(std::to_string(*event.retry_ms)).push_back('\n');
  std::string_view data = event.data;
  while (true) {
    std::size_t eol = data.find_first_of("\r\n");
    out.append("data: ").append(data.substr(0, eol)).push_back('\n');
    if (eol == std::string_view::npos) break;
    bool crlf = data[eol] == '\r' && eol + 1 < data.size() && data[eol + 1] == '\n';
    data.remove_prefix(eol + (crlf ? 2 : 1));
  }
  out.push_back('\n');
  return out;
}

}  // namespace mcpproxy::protocol
