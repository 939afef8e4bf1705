// Retrieval quality of the tool-search index on the public datasets in tests/data, with the
// shipped configuration (every signal on, the committed word vectors of data/search/):
//   - retrieval-dev (180 Azure tools, 474 prompts, one tool each; MIT): the dev set, the only
//     data weights were chosen on;
//   - the same prompts joined into three-step tasks, with MCP-Universe's 13 servers as
//     distractors: multi-step behaviour on dev data;
//   - livemcpbench (527 tools of 70 servers, 94 real multi-step tasks; Apache-2.0): the unseen
//     benchmark, measured only.
// The floors sit a little under the measured values (docs/benchmarks.md), so a regression
// fails. The full ablation tables: ./build/<preset>/tests/search_eval --unseen.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "index/embedded_vectors.h"
#include "index/word_vectors.h"
#include "retrieval_eval.h"

namespace mcpproxy::index::eval {
namespace {

const std::string kData = MCPPROXY_TEST_DATA_DIR;

std::shared_ptr<const WordVectors> vectors() {
  static const auto v = [] {
    std::string error;
    return WordVectors::load(MCPPROXY_SEARCH_DATA_DIR "/word-vectors.bin", error);
  }();
  return v;
}

SearchOptions shipped() {
  SearchOptions o;
  o.vectors = vectors();
  return o;
}

Metrics run(const Dataset& data, const SearchOptions& options) {
  SearchIndex index = buildIndex(data, options);
  return evaluate(data, [&](std::string_view q, std::size_t k) { return index.search(q, k); });
}

TEST(SearchQuality, WordVectorsShipWithTheSource) {
  ASSERT_NE(vectors(), nullptr);
  EXPECT_EQ(vectors()->dims(), 64u);
  EXPECT_GE(vectors()->size(), 50000u);
  // The copy built into the binary is the same file and parses the same way.
  std::string error;
  auto embedded = WordVectors::parse(embeddedWordVectors(), error);
  ASSERT_NE(embedded, nullptr) << error;
  EXPECT_EQ(embedded->size(), vectors()->size());
  EXPECT_EQ(embedded->find("calendar"), vectors()->find("calendar"));
}

TEST(SearchQuality, RetrievalDevMeetsTargets) {
  Dataset dev;
  std::string why;
  ASSERT_TRUE(loadDataset(kData + "/retrieval-dev", dev, why)) << why;
  Metrics m = run(dev, shipped());
  std::printf("retrieval-dev: %s\n", formatMetrics(m).c_str());
  EXPECT_GE(m.recall_at_1, 0.87);
  EXPECT_GE(m.recall_at_5, 0.975);
  Metrics bm25 = run(dev, plainBm25());
  EXPECT_GE(m.recall_at_1, bm25.recall_at_1 + 0.10);
}

TEST(SearchQuality, MultiStepTasksGetASlotPerStep) {
  Dataset dev, universe;
  std::string why;
  ASSERT_TRUE(loadDataset(kData + "/retrieval-dev", dev, why)) << why;
  ASSERT_TRUE(
      loadNestedTools(kData + "/security-dev/benign_tools_mcpuniverse.jsonl", universe, why))
      << why;
  Dataset tasks = withDistractors(joinedTasks(dev, 3, 300, 11), universe);
  Metrics m = run(tasks, shipped());
  SearchOptions whole = shipped();
  whole.decompose = false;
  Metrics undivided = run(tasks, whole);
  std::printf("dev, three-step tasks: %s (without decomposition R@5 %.3f)\n",
              formatMetrics(m).c_str(), undivided.recall_at_5);
  EXPECT_GE(m.recall_at_5, 0.89);
  EXPECT_GE(m.recall_at_5, undivided.recall_at_5 + 0.15);
}

TEST(SearchQuality, UnseenBenchmarkLiveMcpBench) {
  Dataset bench;
  std::string why;
  ASSERT_TRUE(loadDataset(kData + "/livemcpbench", bench, why)) << why;
  Metrics m = run(bench, shipped());
  Metrics bm25 = run(bench, plainBm25());
  std::printf("livemcpbench: %s\n  plain BM25:  %s\n", formatMetrics(m).c_str(),
              formatMetrics(bm25).c_str());
  EXPECT_GE(m.recall_at_5, 0.36);
  EXPECT_GE(m.recall_at_5, bm25.recall_at_5 + 0.12);
  EXPECT_GE(m.ndcg_at_10, bm25.ndcg_at_10 + 0.12);
}

}  // namespace
}  // namespace mcpproxy::index::eval
