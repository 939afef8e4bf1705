// libFuzzer target for the SSE parser and formatter. The first two bytes choose a size limit
// and a split point; the rest is the stream. Checks that feeding the stream whole, in two
// chunks at the chosen point, and byte by byte gives the same events and the same verdict;
// that delivered events respect the limit and the line rules; and that every parsed event
// survives formatSseEvent + parse unchanged. A second check builds an event from the input
// and checks the formatter's documented round trip (line breaks in data come back as LF, CR
// and LF are dropped from id and event).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/sse.h"

namespace {

using namespace mcpproxy::protocol;

void check(bool condition) {
  if (!condition) std::abort();
}

bool sameEvent(const SseEvent& a, const SseEvent& b) {
  return a.id == b.id && a.event == b.event && a.data == b.data && a.retry_ms == b.retry_ms;
}

struct Run {
  std::vector<SseEvent> events;
  bool ok = true;
};

Run feedAll(std::size_t limit, const std::vector<std::string_view>& chunks, std::string* last_id) {
  SseParser parser(limit);
  Run run;
  for (std::string_view chunk : chunks) {
    bool ok = parser.feed(chunk, [&](SseEvent&& e) { run.events.push_back(std::move(e)); });
    check(run.ok || !ok);  // once a feed has failed, every later one fails too
    if (!ok) run.ok = false;
  }
  if (last_id != nullptr) *last_id = parser.lastEventId();
  return run;
}

bool sameRun(const Run& a, const Run& b) {
  if (a.ok != b.ok || a.events.size() != b.events.size()) return false;
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    if (!sameEvent(a.events[i], b.events[i])) return false;
  }
  return true;
}

std::vector<SseEvent> parseAll(std::string_view stream) {
  return feedAll(std::size_t{1} << 30, {stream}, nullptr).events;
}

std::string withoutLineBreaks(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
  return out;
}

std::string normalizeLineBreaks(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t limit = data[0] < 128 ? 1 + data[0] : std::size_t{1} << 20;
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::size_t cut = stream.empty() ? 0 : data[1] % (stream.size() + 1);

  std::string whole_id;
  Run whole = feedAll(limit, {stream}, &whole_id);
  std::string split_id;
  Run split = feedAll(limit, {stream.substr(0, cut), stream.substr(cut)}, &split_id);
  check(sameRun(whole, split));
  check(whole_id == split_id);
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i) bytes.push_back(stream.substr(i, 1));
  std::string bytes_id;
  Run by_byte = feedAll(limit, bytes, &bytes_id);
  check(sameRun(whole, by_byte));
  check(whole_id == bytes_id);

  for (const SseEvent& e : whole.events) {
    check(e.data.size() <= limit);
    check(e.data.find('\r') == std::string::npos);
    check(withoutLineBreaks(e.id) == e.id);
    check(e.id.find('\0') == std::string::npos);
    check(withoutLineBreaks(e.event) == e.event);
    // Whatever the parser produced, the formatter writes back exactly.
    std::vector<SseEvent> again = parseAll(formatSseEvent(e));
    check(again.size() == 1);
    check(sameEvent(again[0], e));
  }
  check(whole_id.find('\0') == std::string::npos);

  // Formatter round trip for an arbitrary event: the stream bytes are split into id, event and
  // data at the first two 0x01 bytes.
  SseEvent made;
  std::string_view rest = stream;
  std::size_t first = rest.find('\x01');
  if (first != std::string_view::npos) {
    made.id = std::string(rest.substr(0, first));
    rest.remove_prefix(first + 1);
    std::size_t second = rest.find('\x01');
    if (second != std::string_view::npos) {
      made.event = std::string(rest.substr(0, second));
      rest.remove_prefix(second + 1);
    }
  }
  made.data = std::string(rest);
  if (data[1] & 1) made.retry_ms = static_cast<std::uint64_t>(data[0]) * 1000 + data[1];
  std::vector<SseEvent> parsed = parseAll(formatSseEvent(made));
  check(parsed.size() == 1);
  std::string expected_id = withoutLineBreaks(made.id);
  if (expected_id.find('\0') != std::string::npos) expected_id.clear();  // parsers ignore it
  check(parsed[0].id == expected_id);
  check(parsed[0].event == withoutLineBreaks(made.event));
  check(parsed[0].data == normalizeLineBreaks(made.data));
  check(parsed[0].retry_ms == made.retry_ms);
  return 0;
}
