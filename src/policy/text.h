// Text helpers shared by the poisoning scanner (scanner.cc) and the cross-server checks
// (cross_server.cc): ASCII lower-casing with byte spans kept, word bytes, sentence spans, and the
// list of obligations addressed to the model. Internal to src/policy.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpproxy::policy::text {

// A copy with A-Z lowered and every other byte unchanged (so spans match the original).
std::string lowerAscii(std::string_view s);

inline bool isWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
inline bool isIdentByte(char c) {
  return isWordByte(c) || c == '-' || c == '.';
}

// Sentence spans: a sentence ends after '.', '!' or '?' followed by whitespace (so "~/.ssh" and
// "example.com" do not end one), or at a blank line (one holding only spaces or tabs too).
std::vector<std::pair<std::size_t, std::size_t>> splitSentences(std::string_view t);

// The first obligation addressed to the reader ("you must", "always ", ...) in lower[b, e):
// {position, length}, or {npos, 0}.
std::pair<std::size_t, std::size_t> findObligation(std::string_view lower, std::size_t b,
                                                   std::size_t e);

}  // namespace mcpproxy::policy::text
