// Embeds data/search/word-vectors.bin with the assembler's .incbin (ELF targets, g++ and
// clang): no generated source, so the 7 MB file costs no compile time. The path comes from
// CMake (MCPPROXY_WORD_VECTORS_FILE), which also rebuilds this file when the data changes.
#include "index/embedded_vectors.h"

#include <cstddef>

#ifndef MCPPROXY_WORD_VECTORS_FILE
#error "MCPPROXY_WORD_VECTORS_FILE must name the word-vector file to embed"
#endif

asm(".section .rodata\n"
    ".balign 16\n"
    ".global mcpproxy_word_vectors_begin\n"
    "mcpproxy_word_vectors_begin:\n"
    ".incbin \"" MCPPROXY_WORD_VECTORS_FILE
    "\"\n"
    ".global mcpproxy_word_vectors_end\n"
    "mcpproxy_word_vectors_end:\n"
    ".previous\n");

extern "C" const char mcpproxy_word_vectors_begin[];
extern "C" const char mcpproxy_word_vectors_end[];

namespace mcpproxy::index {

std::string_view embeddedWordVectors() {
  return {mcpproxy_word_vectors_begin,
          static_cast<std::size_t>(mcpproxy_word_vectors_end - mcpproxy_word_vectors_begin)};
}

}  // namespace mcpproxy::index
