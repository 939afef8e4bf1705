// Loading the distilled word vectors (format in word_vectors.h and distill.mjs).
#include "index/word_vectors.h"

#include <cmath>
#include <cstring>
#include <fstream>

namespace mcpproxy::index {
namespace {

constexpr std::string_view kMagic = "MCPWVEC1";
constexpr std::size_t kHeaderBytes = 20;
// SIF's smoothing constant: words more frequent than about 1 in 1,000 are damped.
constexpr double kSifA = 1e-3;

std::uint32_t readU32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);  // the file is little-endian, like every target we build for
  return v;
}

}  // namespace

std::shared_ptr<const WordVectors> WordVectors::parse(std::string_view bytes, std::string& error) {
  if (bytes.size() < kHeaderBytes || bytes.substr(0, kMagic.size()) != kMagic) {
    error = "not a word-vector file (bad header)";
    return nullptr;
  }
  std::size_t dims = readU32(bytes.data() + 8);
  std::size_t count = readU32(bytes.data() + 12);
  float scale;
  std::memcpy(&scale, bytes.data() + 16, 4);
  if (dims == 0 || dims > kMaxVectorDims || count == 0 || count > kMaxVectorWords) {
    error = "word-vector file: dimensions or word count out of range";
    return nullptr;
  }
  if (!std::isfinite(scale) || scale <= 0) {
    error = "word-vector file: bad scale";
    return nullptr;
  }
  auto out = std::shared_ptr<WordVectors>(new WordVectors());
  out->dims_ = dims;
  out->scale_ = scale;
  out->words_.reserve(count);
  out->ids_.reserve(count);
  std::size_t at = kHeaderBytes;
  for (std::size_t i = 0; i < count; ++i) {
    if (at >= bytes.size()) {
      error = "word-vector file: truncated vocabulary";
      return nullptr;
    }
    std::size_t length = static_cast<unsigned char>(bytes[at++]);
    if (length == 0 || at + length > bytes.size()) {
      error = "word-vector file: bad word entry";
      return nullptr;
    }
    std::string word(bytes.substr(at, length));
    at += length;
    // A repeated word keeps its first (most frequent) row.
    out->ids_.emplace(word, static_cast<std::int32_t>(i));
    out->words_.push_back(std::move(word));
  }
  if (bytes.size() - at != count * dims) {
    error = "word-vector file: vector block has the wrong size";
    return nullptr;
  }
  out->rows_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at), bytes.end());
  // Zipf: p(rank r) ≈ 1 / (r × H), H the harmonic number of the vocabulary.
  double harmonic = std::log(static_cast<double>(count)) + 0.5772;
  out->weights_.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    double p = 1.0 / (static_cast<double>(i + 1) * harmonic);
    out->weights_[i] = static_cast<float>(kSifA / (kSifA + p));
  }
  return out;
}

std::shared_ptr<const WordVectors> WordVectors::load(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open " + path;
    return nullptr;
  }
  in.seekg(0, std::ios::end);
  auto size = static_cast<std::streamoff>(in.tellg());
  if (size < 0 || static_cast<std::size_t>(size) > kMaxVectorFileBytes) {
    error = path + ": too large for a word-vector file";
    return nullptr;
  }
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  in.read(bytes.data(), size);
  if (!in) {
    error = "cannot read " + path;
    return nullptr;
  }
  auto vectors = parse(bytes, error);
  if (!vectors) error = path + ": " + error;
  return vectors;
}

std::int32_t WordVectors::find(std::string_view word) const {
  auto it = ids_.find(word);
  return it == ids_.end() ? -1 : it->second;
}

std::size_t WordVectors::memoryBytes() const {
  std::size_t bytes = rows_.capacity() + weights_.capacity() * sizeof(float);
  bytes += words_.size() * (sizeof(std::string) + 48);  // strings (short: inline) + hash nodes
  return bytes + ids_.bucket_count() * sizeof(void*);
}

}  // namespace mcpproxy::index
