// libFuzzer target for the search index's input surfaces that are not upstream tool text (the
// tokenizer is covered by the index tests): a word-vector file (WordVectors::parse), a saved
// learning-from-use state (FeedbackModel::load), task splitting, and schema compression of
// whatever JSON the input parses to. The first byte picks the surface.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "index/feedback.h"
#include "index/schema_compress.h"
#include "index/task_split.h"
#include "index/word_vectors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string error;
  switch (data[0] % 4) {
    case 0: {
      auto v = mcpproxy::index::WordVectors::parse(input, error);
      if (v) (void)v->find("a");
      break;
    }
    case 1: {
      mcpproxy::index::FeedbackModel m;
      if (m.load(input, error)) (void)m.votes({"a", "b"}, {1.0f, 2.0f});
      break;
    }
    case 2:
      (void)mcpproxy::index::splitTask(input);
      break;
    default: {
      boost::system::error_code ec;
      auto v = boost::json::parse(input, ec);
      if (!ec) (void)mcpproxy::index::compressSchema(v, {.max_description_bytes = 16});
      break;
    }
  }
  return 0;
}
