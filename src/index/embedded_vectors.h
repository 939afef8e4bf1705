// The committed word vectors (data/search/word-vectors.bin) built into the binary, so the
// semantic signal needs no file at run time: WordVectors::parse(embeddedWordVectors(), error).
// A separate library (mcpproxy_index_vectors, 7 MB of read-only data): only what links it pays.
#pragma once

#include <string_view>

namespace mcpproxy::index {

std::string_view embeddedWordVectors();

}  // namespace mcpproxy::index
