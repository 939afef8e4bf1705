// Static word vectors for the search index's semantic signal: a vocabulary of plain English
// words, each with a unit-length int8 vector, in corpus-frequency order. Distilled offline from
// GloVe (scripts/search-model/distill.mjs) and committed under data/search/, so nothing is
// downloaded at build or run time. The index embeds a tool as the weighted mean of its words'
// vectors and compares it with the query's (search_index.h, "semantic signal").
//
// The file is untrusted input as far as parsing goes: every size is checked against the named
// limits below and a bad file is refused with a reason, never half-loaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mcpproxy::index {

inline constexpr std::size_t kMaxVectorDims = 512;
inline constexpr std::size_t kMaxVectorWords = 2'000'000;
inline constexpr std::size_t kMaxVectorFileBytes = std::size_t{256} * 1024 * 1024;

class WordVectors {
 public:
  // Parses the format written by distill.mjs (header "MCPWVEC1", dims, count, scale, words,
  // int8 rows). Returns null and sets `error` when the bytes are not a valid file.
  static std::shared_ptr<const WordVectors> parse(std::string_view bytes, std::string& error);
  // Reads and parses a file (at most kMaxVectorFileBytes).
  static std::shared_ptr<const WordVectors> load(const std::string& path, std::string& error);

  std::size_t dims() const { return dims_; }
  std::size_t size() const { return words_.size(); }
  float scale() const { return scale_; }  // int8 units per 1.0

  // The word's row (dims() int8 values), or -1 for an unknown word. Expects lower case.
  std::int32_t find(std::string_view word) const;
  const std::int8_t* row(std::int32_t id) const { return &rows_[std::size_t(id) * dims_]; }
  // Smooth inverse frequency weight a / (a + p(word)) (Arora et al., 2017), with p estimated
  // from the word's frequency rank by Zipf's law: common words count little.
  float weight(std::int32_t id) const { return weights_[std::size_t(id)]; }

  std::size_t memoryBytes() const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::size_t dims_ = 0;
  float scale_ = 1;
  std::vector<std::string> words_;
  std::unordered_map<std::string, std::int32_t, Hash, std::equal_to<>> ids_;
  std::vector<std::int8_t> rows_;
  std::vector<float> weights_;
};

}  // namespace mcpproxy::index
