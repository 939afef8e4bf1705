// SseParser (WHATWG event-stream rules, bounded) and formatSseEvent: line endings, chunking,
// fields, comments, BOM, the size limit, and format -> parse round trips.
#include "protocol/sse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mcpproxy::protocol {

// Found by argument-dependent lookup from GoogleTest, so not in the unnamed namespace.
bool operator==(const SseEvent& a, const SseEvent& b) {
  return a.id == b.id && a.event == b.event && a.data == b.data && a.retry_ms == b.retry_ms;
}

void PrintTo(const SseEvent& e, std::ostream* os) {
  *os << "{id=" << testing::PrintToString(e.id) << " event=" << testing::PrintToString(e.event)
      << " data=" << testing::PrintToString(e.data)
      << " retry=" << (e.retry_ms ? std::to_string(*e.retry_ms) : "none") << "}";
}

namespace {

constexpr std::size_t kLimit = 1 << 20;

struct Outcome {
  std::vector<SseEvent> events;
  bool ok = true;
};

// Feeds the chunks in order into one parser.
Outcome feedChunks(SseParser& parser, const std::vector<std::string>& chunks) {
  Outcome out;
  for (const auto& chunk : chunks) {
    bool ok = parser.feed(chunk, [&](SseEvent&& e) { out.events.push_back(std::move(e)); });
    out.ok = out.ok && ok;
  }
  return out;
}

Outcome feedWhole(std::string_view stream, std::size_t limit = kLimit) {
  SseParser parser(limit);
  return feedChunks(parser, {std::string(stream)});
}

Outcome feedByteByByte(std::string_view stream, std::size_t limit = kLimit) {
  SseParser parser(limit);
  std::vector<std::string> chunks;
  for (char c : stream) chunks.emplace_back(1, c);
  return feedChunks(parser, chunks);
}

SseEvent event(std::string data, std::string type = "", std::string id = "",
               std::optional<std::uint64_t> retry = std::nullopt) {
  return SseEvent{std::move(id), std::move(type), std::move(data), retry};
}

// ---------------------------------------------------------------------------------------------
// Line endings and chunking

TEST(SseParser, LfLineEndings) {
  Outcome out = feedWhole("data: hello\n\n");
  EXPECT_TRUE(out.ok);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0], event("hello"));
}

TEST(SseParser, CrLineEndings) {
  Outcome out = feedWhole("data: a\rdata: b\r\r");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, "a\nb");
}

TEST(SseParser, CrlfLineEndings) {
  Outcome out = feedWhole("data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n");
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].data, "a\nb");
  EXPECT_EQ(out.events[1].data, "c");
}

TEST(SseParser, MixedLineEndings) {
  Outcome out = feedWhole("data: a\rdata: b\ndata: c\r\n\n");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, "a\nb\nc");
}

TEST(SseParser, CrlfSplitAcrossChunksIsOneLineEnd) {
  // Were the LF taken as a second line end, the blank line would dispatch "a" on its own.
  SseParser parser(kLimit);
  Outcome out = feedChunks(parser, {"data: a\r", "\ndata: b\r", "\n\r", "\n"});
  EXPECT_TRUE(out.ok);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, "a\nb");
}

TEST(SseParser, CrThenEmptyChunkThenLf) {
  SseParser parser(kLimit);
  Outcome out = feedChunks(parser, {"data: a\r", "", "\n", "data: b\n\n"});
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, "a\nb");
}

TEST(SseParser, CrCrIsABlankLine) {
  SseParser parser(kLimit);
  Outcome out = feedChunks(parser, {"data: a\r", "\r", "data: b\n\n"});
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].data, "a");
  EXPECT_EQ(out.events[1].data, "b");
}

const std::string kRichStream =
    "\xEF\xBB\xBF"
    ": a comment\r\n"
    "retry: 2500\r\n"
    "event: update\r\n"
    "id: 17\r\n"
    "data: {\"a\":1}\r\n"
    "data:second\r\n"
    "\r\n"
    "data: cr only\r\r"
    "event: no data\n\n"
    "id: 18\ndata\n\n"
    "unknown: field\ndata:  two spaces\n\n"
    "data: trailing, never terminated";

TEST(SseParser, ByteByByteEqualsWhole) {
  Outcome whole = feedWhole(kRichStream);
  Outcome bytes = feedByteByByte(kRichStream);
  EXPECT_TRUE(whole.ok);
  EXPECT_TRUE(bytes.ok);
  EXPECT_EQ(bytes.events, whole.events);
  ASSERT_EQ(whole.events.size(), 4u);
  EXPECT_EQ(whole.events[0], event("{\"a\":1}\nsecond", "update", "17", 2500));
  EXPECT_EQ(whole.events[1], event("cr only"));
  EXPECT_EQ(whole.events[2], event("", "", "18"));
  EXPECT_EQ(whole.events[3], event(" two spaces"));
}

TEST(SseParser, EveryTwoWaySplitEqualsWhole) {
  Outcome whole = feedWhole(kRichStream);
  for (std::size_t cut = 0; cut <= kRichStream.size(); ++cut) {
    SseParser parser(kLimit);
    Outcome split = feedChunks(parser, {kRichStream.substr(0, cut), kRichStream.substr(cut)});
    EXPECT_EQ(split.events, whole.events) << "cut at " << cut;
    EXPECT_EQ(split.ok, whole.ok);
  }
}

// ---------------------------------------------------------------------------------------------
// Fields

TEST(SseParser, CommentsAreIgnored) {
  EXPECT_TRUE(feedWhole(": keep-alive\n\n").events.empty());
  EXPECT_TRUE(feedWhole(":\n\n").events.empty());
  Outcome out = feedWhole(":c1\ndata: x\n: c2\ndata: y\n\n");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, "x\ny");
}

TEST(SseParser, MultiLineDataJoinedWithLf) {
  Outcome out = feedWhole("data: line1\ndata: line2\ndata:\ndata: line4\n\n");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, "line1\nline2\n\nline4");
}

TEST(SseParser, OnlyOneLeadingSpaceIsStripped) {
  Outcome out = feedWhole("data:x\n\ndata: x\n\ndata:  x\n\ndata:\tx\n\n");
  ASSERT_EQ(out.events.size(), 4u);
  EXPECT_EQ(out.events[0].data, "x");
  EXPECT_EQ(out.events[1].data, "x");
  EXPECT_EQ(out.events[2].data, " x");
  EXPECT_EQ(out.events[3].data, "\tx");
}

TEST(SseParser, ValueKeepsLaterColons) {
  Outcome out = feedWhole("data: a: b:c\n\n");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, "a: b:c");
}

TEST(SseParser, FieldWithoutColonHasEmptyValue) {
  // "data" alone appends an empty line, so the event is dispatched with empty data.
  Outcome out = feedWhole("data\n\n");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, "");
  Outcome two = feedWhole("data\ndata\n\n");
  ASSERT_EQ(two.events.size(), 1u);
  EXPECT_EQ(two.events[0].data, "\n");
}

TEST(SseParser, EventIdRetryFields) {
  SseParser parser(kLimit);
  EXPECT_EQ(parser.lastEventId(), "");
  EXPECT_FALSE(parser.retryMs().has_value());
  Outcome out = feedChunks(parser, {"event: update\nid: 42\nretry: 1500\ndata: d\n\n"});
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0], event("d", "update", "42", 1500));
  EXPECT_EQ(parser.lastEventId(), "42");
  EXPECT_EQ(parser.retryMs(), 1500u);
}

TEST(SseParser, PerEventFieldsResetButStreamStatePersists) {
  SseParser parser(kLimit);
  Outcome out = feedChunks(parser, {"event: e\nid: 1\nretry: 10\ndata: a\n\n", "data: b\n\n"});
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[1], event("b"));  // no type, id or retry carried over
  EXPECT_EQ(parser.lastEventId(), "1");
  EXPECT_EQ(parser.retryMs(), 10u);
}

TEST(SseParser, LastFieldValueWins) {
  Outcome out = feedWhole("event: a\nevent: b\nid: 1\nid: 2\ndata: x\n\n");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].event, "b");
  EXPECT_EQ(out.events[0].id, "2");
}

TEST(SseParser, InvalidRetryIsIgnored) {
  for (std::string_view bad :
       {"retry: 12a\n", "retry: -1\n", "retry: +5\n", "retry:  5\n", "retry: \n", "retry\n",
        "retry: 1.5\n", "retry: 99999999999999999999999\n"}) {
    SCOPED_TRACE(std::string(bad));
    SseParser parser(kLimit);
    Outcome out = feedChunks(parser, {std::string(bad) + "data: x\n\n"});
    ASSERT_EQ(out.events.size(), 1u);
    EXPECT_FALSE(out.events[0].retry_ms.has_value());
    EXPECT_FALSE(parser.retryMs().has_value());
  }
}

TEST(SseParser, RetryAcceptsZeroAndMaxUint64) {
  SseParser parser(kLimit);
  feedChunks(parser, {"retry: 0\ndata: a\n\n"});
  EXPECT_EQ(parser.retryMs(), 0u);
  feedChunks(parser, {"retry: 18446744073709551615\ndata: a\n\n"});
  EXPECT_EQ(parser.retryMs(), UINT64_MAX);
}

TEST(SseParser, IdWithNulIsIgnored) {
  SseParser parser(kLimit);
  feedChunks(parser, {"id: good\ndata: a\n\n"});
  const std::string with_nul("id: b\0d\ndata: x\n\n", 17);
  Outcome out = feedChunks(parser, {with_nul});
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].id, "");
  EXPECT_EQ(parser.lastEventId(), "good");
}

TEST(SseParser, NulInDataIsKept) {
  Outcome out = feedWhole(std::string("data: a\0b\n\n", 11));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, std::string("a\0b", 3));
}

TEST(SseParser, EmptyIdResetsLastEventId) {
  SseParser parser(kLimit);
  feedChunks(parser, {"id: 5\ndata: a\n\n"});
  EXPECT_EQ(parser.lastEventId(), "5");
  Outcome out = feedChunks(parser, {"id:\ndata: b\n\n"});
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(parser.lastEventId(), "");
}

TEST(SseParser, IdOfAnUnfinishedEventIsNotYetTheLastEventId) {
  SseParser parser(kLimit);
  feedChunks(parser, {"id: 9\ndata: a\n"});
  EXPECT_EQ(parser.lastEventId(), "");
  feedChunks(parser, {"\n"});
  EXPECT_EQ(parser.lastEventId(), "9");
}

TEST(SseParser, UnknownFieldsAreIgnored) {
  Outcome out = feedWhole("foo: bar\nDATA: upper\ndata : spaced\ndata: x\n\n");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0], event("x"));
}

// ---------------------------------------------------------------------------------------------
// Dispatch rules

TEST(SseParser, EventWithoutDataIsNotDispatched) {
  EXPECT_TRUE(feedWhole("event: ping\n\n").events.empty());
  EXPECT_TRUE(feedWhole("\n\n\n").events.empty());
  // The type of the undelivered event does not leak into the next one.
  Outcome out = feedWhole("event: ping\n\ndata: x\n\n");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0], event("x"));
}

TEST(SseParser, IdOrRetryOnlyEventsAreDeliveredWithEmptyData) {
  // Deliberate (sse.cc dispatch): an MCP server primes reconnection with an id-only event, and
  // the consumer needs to see it. A WHATWG EventSource would not fire these.
  SseParser parser(kLimit);
  Outcome out = feedChunks(parser, {"id: 7\n\nretry: 300\n\n"});
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0], event("", "", "7"));
  EXPECT_EQ(out.events[1], event("", "", "", 300));
  EXPECT_EQ(parser.lastEventId(), "7");
  EXPECT_EQ(parser.retryMs(), 300u);
}

TEST(SseParser, UnterminatedEventIsHeldUntilTheBlankLine) {
  SseParser parser(kLimit);
  Outcome first = feedChunks(parser, {"data: x\n"});
  EXPECT_TRUE(first.events.empty());
  Outcome second = feedChunks(parser, {"\n"});
  ASSERT_EQ(second.events.size(), 1u);
  EXPECT_EQ(second.events[0].data, "x");
}

TEST(SseParser, SeveralEventsInOneChunk) {
  Outcome out = feedWhole("data: 1\n\ndata: 2\n\ndata: 3\n\n");
  ASSERT_EQ(out.events.size(), 3u);
  EXPECT_EQ(out.events[2].data, "3");
}

// ---------------------------------------------------------------------------------------------
// BOM

TEST(SseParser, LeadingBomIsStripped) {
  Outcome out = feedWhole(
      "\xEF\xBB\xBF"
      "data: x\n\n");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, "x");
}

TEST(SseParser, BomSplitAcrossChunksIsStripped) {
  SseParser parser(kLimit);
  Outcome out = feedChunks(parser, {"\xEF", "\xBB",
                                    "\xBF"
                                    "da",
                                    "ta: x\n\n"});
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, "x");
}

TEST(SseParser, OnlyTheFirstBomIsStripped) {
  // A second BOM is part of the field name, which makes the line an unknown field.
  Outcome out = feedWhole(
      "\xEF\xBB\xBF\xEF\xBB\xBF"
      "data: x\n\n");
  EXPECT_TRUE(out.events.empty());

  SseParser parser(kLimit);
  Outcome later = feedChunks(parser, {"data: a\n\n",
                                      "\xEF\xBB\xBF"
                                      "data: b\n\n"});
  ASSERT_EQ(later.events.size(), 1u);
  EXPECT_EQ(later.events[0].data, "a");
}

TEST(SseParser, PartialBomIsOrdinaryInput) {
  // "\xEF\xBB" followed by something else is not a BOM; those bytes start the first line, and
  // the parser must neither lose them nor treat them as a BOM.
  Outcome whole = feedWhole(
      "\xEF\xBB"
      "x\ndata: y\n\n");
  Outcome bytes = feedByteByByte(
      "\xEF\xBB"
      "x\ndata: y\n\n");
  ASSERT_EQ(whole.events.size(), 1u);
  EXPECT_EQ(whole.events[0].data, "y");
  EXPECT_EQ(bytes.events, whole.events);

  // A partial BOM glued to "data" makes the field name unknown, so nothing is dispatched.
  EXPECT_TRUE(feedWhole("\xEF"
                        "data: z\n\n")
                  .events.empty());
  EXPECT_TRUE(feedByteByByte("\xEF"
                             "data: z\n\n")
                  .events.empty());
}

// ---------------------------------------------------------------------------------------------
// Size limit

TEST(SseParser, EventUnderTheLimitIsDelivered) {
  Outcome out = feedWhole("data: 0123456789\n\n", 64);
  EXPECT_TRUE(out.ok);
  ASSERT_EQ(out.events.size(), 1u);
}

TEST(SseParser, OversizeLineFails) {
  std::string stream = "data: " + std::string(200, 'x') + "\n\n";
  Outcome whole = feedWhole(stream, 64);
  EXPECT_FALSE(whole.ok);
  EXPECT_TRUE(whole.events.empty());
  Outcome bytes = feedByteByByte(stream, 64);
  EXPECT_FALSE(bytes.ok);
  EXPECT_TRUE(bytes.events.empty());
}

TEST(SseParser, ManySmallDataLinesOverTheLimitFail) {
  std::string stream;
  for (int i = 0; i < 20; ++i) stream += "data: 0123456789\n";
  stream += "\n";
  Outcome out = feedWhole(stream, 64);
  EXPECT_FALSE(out.ok);
  EXPECT_TRUE(out.events.empty());
}

TEST(SseParser, LongCommentCountsAgainstTheLimit) {
  // Memory stays bounded even for lines that would be ignored.
  Outcome out = feedWhole(": " + std::string(1000, 'c') + "\n", 64);
  EXPECT_FALSE(out.ok);
}

TEST(SseParser, AfterOverflowNothingMoreIsDelivered) {
  SseParser parser(64);
  Outcome out = feedChunks(parser, {"data: ok\n\n", "data: a\ndata: " + std::string(100, 'x'),
                                    "\n\n", "data: later\n\n"});
  EXPECT_FALSE(out.ok);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, "ok");
  EXPECT_FALSE(parser.feed("data: more\n\n", [](SseEvent&&) { FAIL() << "delivered"; }));
}

TEST(SseParser, EventsBeforeTheOversizeOneInTheSameChunkAreDelivered) {
  Outcome out = feedWhole("data: first\n\ndata: " + std::string(100, 'y') + "\n\n", 64);
  EXPECT_FALSE(out.ok);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, "first");
}

TEST(SseParser, LimitIsPerEventNotPerStream) {
  std::string stream;
  for (int i = 0; i < 1000; ++i) stream += "data: 0123456789\n\n";
  Outcome out = feedWhole(stream, 64);
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(out.events.size(), 1000u);
}

// ---------------------------------------------------------------------------------------------
// formatSseEvent

SseEvent parseOne(const std::string& text) {
  Outcome out = feedWhole(text);
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(out.events.size(), 1u) << text;
  return out.events.empty() ? SseEvent{} : out.events[0];
}

TEST(SseFormat, ExactOutput) {
  EXPECT_EQ(formatSseEvent(event("{}", "message")), "event: message\ndata: {}\n\n");
  EXPECT_EQ(formatSseEvent(event("a\nb", "t", "3", 100)),
            "id: 3\nevent: t\nretry: 100\ndata: a\ndata: b\n\n");
  EXPECT_EQ(formatSseEvent(event("")), "data: \n\n");
}

TEST(SseFormat, RoundTrips) {
  for (const SseEvent& e : {
           event("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", "message"),
           event("line1\nline2\n\nline4"),
           event("trailing newline\n"),
           event("\n\n"),
           event(""),
           event(" leading space", " spaced type", " spaced id"),
           event("x", "", "", 0),
           event("x", "e", "id:with:colons", UINT64_MAX),
           event(std::string("nul\0inside", 10)),
           event("data: looks like a field\nid: not an id"),
       }) {
    SCOPED_TRACE(formatSseEvent(e));
    EXPECT_EQ(parseOne(formatSseEvent(e)), e);
  }
}

TEST(SseFormat, CarriageReturnsInDataBecomeLineBreaks) {
  SseEvent parsed = parseOne(formatSseEvent(event("a\r\nb\rc\n\rd")));
  EXPECT_EQ(parsed.data, "a\nb\nc\n\nd");
}

TEST(SseFormat, LineBreaksCannotInjectFields) {
  SseEvent parsed = parseOne(formatSseEvent(event("x\rid: evil\revent: evil", "", "")));
  EXPECT_EQ(parsed.id, "");
  EXPECT_EQ(parsed.event, "");
  EXPECT_EQ(parsed.data, "x\nid: evil\nevent: evil");

  SseEvent forged = parseOne(formatSseEvent(event("real", "t\r\ndata: injected", "1\n\ndata: x")));
  EXPECT_EQ(forged.data, "real");
  EXPECT_EQ(forged.event, "tdata: injected");
  EXPECT_EQ(forged.id, "1data: x");

  // An id made only of line breaks is not written at all.
  EXPECT_EQ(formatSseEvent(event("d", "\n", "\r\n")), "data: d\n\n");
}

TEST(SseFormat, ConcatenatedEventsParseInOrder) {
  std::string stream = formatSseEvent(event("one", "message", "1")) +
                       formatSseEvent(event("two\nlines", "message", "2")) + ": keepalive\n\n" +
                       formatSseEvent(event("three", "", "", 5));
  Outcome whole = feedWhole(stream);
  Outcome bytes = feedByteByByte(stream);
  ASSERT_EQ(whole.events.size(), 3u);
  EXPECT_EQ(whole.events[0], event("one", "message", "1"));
  EXPECT_EQ(whole.events[1], event("two\nlines", "message", "2"));
  EXPECT_EQ(whole.events[2], event("three", "", "", 5));
  EXPECT_EQ(bytes.events, whole.events);
}

}  // namespace
}  // namespace mcpproxy::protocol
