// LineFramer: newline-delimited framing for stdio MCP. Lines split across chunks, CRLF, empty
// lines, and the bound: an oversize line is dropped and reported once, memory stays bounded.
#include "protocol/line_framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mcpproxy::protocol {
namespace {

struct Recorder {
  std::vector<std::string> lines;
  std::vector<std::size_t> oversize;

  void feed(LineFramer& framer, std::string_view chunk) {
    framer.feed(
        chunk, [this](std::string_view line) { lines.emplace_back(line); },
        [this](std::size_t dropped) { oversize.push_back(dropped); });
  }
};

using Lines = std::vector<std::string>;

TEST(LineFramer, CompleteLinesInOneChunk) {
  LineFramer framer(1024);
  Recorder r;
  r.feed(framer, "{\"a\":1}\n{\"b\":2}\n");
  EXPECT_EQ(r.lines, (Lines{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_TRUE(r.oversize.empty());
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(LineFramer, LineSplitAcrossChunks) {
  LineFramer framer(1024);
  Recorder r;
  r.feed(framer, "{\"jsonrpc\":");
  EXPECT_TRUE(r.lines.empty());
  EXPECT_EQ(framer.buffered(), 11u);
  r.feed(framer, "\"2.0\",");
  r.feed(framer, "\"method\":\"m\"}\n{\"second\"");
  EXPECT_EQ(r.lines, (Lines{R"({"jsonrpc":"2.0","method":"m"})"}));
  EXPECT_EQ(framer.buffered(), 9u);
  r.feed(framer, ":true}\n");
  EXPECT_EQ(r.lines, (Lines{R"({"jsonrpc":"2.0","method":"m"})", R"({"second":true})"}));
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(LineFramer, ByteByByteEqualsWhole) {
  const std::string stream = "one\r\ntwo\n\n\r\nthree\nfour";
  LineFramer whole_framer(64);
  Recorder whole;
  whole.feed(whole_framer, stream);
  LineFramer byte_framer(64);
  Recorder bytes;
  for (char c : stream) bytes.feed(byte_framer, std::string_view(&c, 1));
  EXPECT_EQ(whole.lines, (Lines{"one", "two", "three"}));
  EXPECT_EQ(bytes.lines, whole.lines);
  EXPECT_EQ(byte_framer.buffered(), whole_framer.buffered());
  EXPECT_EQ(whole_framer.buffered(), 4u);  // "four" waits for its newline
}

TEST(LineFramer, CrlfIsStripped) {
  LineFramer framer(1024);
  Recorder r;
  r.feed(framer, "a\r\nb\r");
  r.feed(framer, "\nc\n");
  EXPECT_EQ(r.lines, (Lines{"a", "b", "c"}));
}

TEST(LineFramer, OnlyOneTrailingCrIsStripped) {
  // A lone CR is not a line end in NDJSON, and only the CR of CRLF is removed.
  LineFramer framer(1024);
  Recorder r;
  r.feed(framer, "a\rb\nc\r\r\n");
  EXPECT_EQ(r.lines, (Lines{"a\rb", "c\r"}));
}

TEST(LineFramer, EmptyLinesAreSkipped) {
  LineFramer framer(1024);
  Recorder r;
  r.feed(framer, "\n\n\r\nx\n\n");
  r.feed(framer, "\n");
  r.feed(framer, "\r\n");
  EXPECT_EQ(r.lines, (Lines{"x"}));
  EXPECT_TRUE(r.oversize.empty());
}

TEST(LineFramer, WhitespaceOnlyLineIsDelivered) {
  // Only truly empty lines are skipped; the JSON parser rejects the rest.
  LineFramer framer(1024);
  Recorder r;
  r.feed(framer, " \n\t\n");
  EXPECT_EQ(r.lines, (Lines{" ", "\t"}));
}

TEST(LineFramer, LineAtTheLimitIsDelivered) {
  LineFramer framer(8);
  Recorder r;
  r.feed(framer, "12345678\n");
  r.feed(framer, "1234");
  r.feed(framer, "5678\n");
  EXPECT_EQ(r.lines, (Lines{"12345678", "12345678"}));
  EXPECT_TRUE(r.oversize.empty());
}

TEST(LineFramer, OversizeLineInOneChunkIsDroppedOnce) {
  LineFramer framer(8);
  Recorder r;
  r.feed(framer, "before\n123456789\nafter\n");
  EXPECT_EQ(r.lines, (Lines{"before", "after"}));
  EXPECT_EQ(r.oversize, (std::vector<std::size_t>{9}));
}

TEST(LineFramer, OversizeLineAcrossChunksIsDroppedOnceAndFollowingLinesDelivered) {
  LineFramer framer(16);
  Recorder r;
  r.feed(framer, "ok1\n0123456789");
  r.feed(framer, "0123456789");     // over the limit here, still no newline
  EXPECT_TRUE(r.oversize.empty());  // reported when the line ends
  r.feed(framer, "0123456789");
  r.feed(framer, "0123456789\nok2\nok");
  r.feed(framer, "3\n");
  EXPECT_EQ(r.lines, (Lines{"ok1", "ok2", "ok3"}));
  ASSERT_EQ(r.oversize.size(), 1u);
  EXPECT_EQ(r.oversize[0], 40u);  // every byte of the dropped line, without the newline
}

TEST(LineFramer, ConsecutiveOversizeLinesAreEachReported) {
  LineFramer framer(4);
  Recorder r;
  r.feed(framer, "aaaaaa\nbbbbbbbb\nok\n");
  EXPECT_EQ(r.lines, (Lines{"ok"}));
  EXPECT_EQ(r.oversize, (std::vector<std::size_t>{6, 8}));
}

TEST(LineFramer, CrlfCountsTowardsTheLimit) {
  // The CR is part of the line until the line is complete (documents current behaviour).
  LineFramer framer(4);
  Recorder r;
  r.feed(framer, "abc\r\nabcd\r\n");
  EXPECT_EQ(r.lines, (Lines{"abc"}));
  EXPECT_EQ(r.oversize, (std::vector<std::size_t>{5}));
}

TEST(LineFramer, BufferedStaysBoundedWhileFlooding) {
  constexpr std::size_t kMax = 1024;
  LineFramer framer(kMax);
  Recorder r;
  const std::string chunk(4096, 'x');
  std::size_t total = 0;
  for (int i = 0; i < 1000; ++i) {  // 4 MiB without a newline
    r.feed(framer, chunk);
    total += chunk.size();
    ASSERT_LE(framer.buffered(), kMax);
  }
  EXPECT_EQ(framer.buffered(), 0u);
  EXPECT_TRUE(r.oversize.empty());
  r.feed(framer, "tail\n{\"ok\":true}\n");
  EXPECT_EQ(r.lines, (Lines{"{\"ok\":true}"}));
  EXPECT_EQ(r.oversize, (std::vector<std::size_t>{total + 4}));
}

TEST(LineFramer, BufferedStaysBoundedWithSmallChunks) {
  LineFramer framer(100);
  Recorder r;
  for (int i = 0; i < 10000; ++i) {
    r.feed(framer, "0123456789");
    ASSERT_LE(framer.buffered(), 100u);
  }
  r.feed(framer, "\n");
  EXPECT_EQ(r.oversize, (std::vector<std::size_t>{100000}));
  EXPECT_TRUE(r.lines.empty());
}

TEST(LineFramer, EmptyChunkIsANoOp) {
  LineFramer framer(16);
  Recorder r;
  r.feed(framer, "");
  r.feed(framer, "ab");
  r.feed(framer, "");
  r.feed(framer, "c\n");
  EXPECT_EQ(r.lines, (Lines{"abc"}));
}

}  // namespace
}  // namespace mcpproxy::protocol
