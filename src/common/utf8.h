// Counting and cutting UTF-8 text by characters (code points), for limits that users and
// models read as "characters". Invalid bytes count as one character each; nothing here fails.
#pragma once

#include <cstddef>
#include <string_view>

namespace mcpproxy {

// Number of characters in `text`.
inline std::size_t utf8Length(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

// Byte offset where the `chars`-th character of `text` starts (text.size() when shorter), so a
// cut there never splits a character.
inline std::size_t utf8Offset(std::string_view text, std::size_t chars) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (seen == chars) return i;
      ++seen;
    }
  }
  return text.size();
}

}  // namespace mcpproxy
