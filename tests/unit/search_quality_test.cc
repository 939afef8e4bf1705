// Retrieval quality of the tool-search index on tests/data/retrieval-dev (180 Azure MCP tools,
// 474 hand-written prompts with one correct tool each; MIT, see the LICENSE beside the data).
// Prints R@1, R@5, MRR@10 and nDCG@10 and holds the defaults to R@1 >= 0.85 and R@5 >= 0.97
// (plain BM25 on name + description: 0.755 / 0.958). SearchQuality.Ablation (opt-in) prints
// what each technique contributes: added one after another, then switched off one at a time.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "index/search_index.h"

namespace mcpproxy::index {
namespace {

namespace json = boost::json;

struct Query {
  std::string text;
  std::string relevant;  // "server:tool"
};

struct Dataset {
  std::vector<ToolDocument> tools;
  std::vector<Query> queries;
};

std::filesystem::path dataDir() {
  return std::filesystem::path(MCPPROXY_TEST_DATA_DIR) / "retrieval-dev";
}

// Loads the dataset; returns false (with a reason) when it is missing or malformed.
bool loadDataset(Dataset& out, std::string& why) {
  std::ifstream tools(dataDir() / "tools.jsonl");
  std::ifstream queries(dataDir() / "queries.jsonl");
  if (!tools || !queries) {
    why = "dataset not found in " + dataDir().string();
    return false;
  }
  for (std::string line; std::getline(tools, line);) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) {
      why = "bad tools.jsonl line";
      return false;
    }
    const json::object& o = v.get_object();
    ToolDocument t;
    t.server = json::value_to<std::string>(o.at("server"));
    t.name = json::value_to<std::string>(o.at("name"));
    t.description = json::value_to<std::string>(o.at("description"));
    if (const auto* schema = o.if_contains("inputSchema")) t.input_schema = *schema;
    out.tools.push_back(std::move(t));
  }
  for (std::string line; std::getline(queries, line);) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) {
      why = "bad queries.jsonl line";
      return false;
    }
    const json::object& o = v.get_object();
    out.queries.push_back({json::value_to<std::string>(o.at("query")),
                           json::value_to<std::string>(o.at("relevant").as_array().at(0))});
  }
  return !out.tools.empty() && !out.queries.empty();
}

struct Metrics {
  double recall_at_1 = 0, recall_at_5 = 0, mrr_at_10 = 0, ndcg_at_10 = 0;
};

Metrics evaluate(const Dataset& data, const RankerOptions& options) {
  SearchIndex index(options);
  // One upsert per server, as the proxy does.
  std::vector<std::string> servers;
  for (const ToolDocument& t : data.tools) {
    if (std::find(servers.begin(), servers.end(), t.server) == servers.end()) {
      servers.push_back(t.server);
    }
  }
  for (const std::string& server : servers) {
    std::vector<ToolDocument> tools;
    for (const ToolDocument& t : data.tools) {
      if (t.server == server) tools.push_back(t);
    }
    index.upsertServer(server, std::move(tools));
  }
  Metrics m;
  for (const Query& q : data.queries) {
    std::vector<Hit> hits = index.search(q.text, 10);
    for (std::size_t rank = 0; rank < hits.size(); ++rank) {
      if (hits[rank].server + ":" + hits[rank].tool != q.relevant) continue;
      if (rank == 0) m.recall_at_1 += 1;
      if (rank < 5) m.recall_at_5 += 1;
      m.mrr_at_10 += 1.0 / static_cast<double>(rank + 1);
      m.ndcg_at_10 += 1.0 / std::log2(static_cast<double>(rank + 2));  // one relevant tool
      break;
    }
  }
  double n = static_cast<double>(data.queries.size());
  m.recall_at_1 /= n;
  m.recall_at_5 /= n;
  m.mrr_at_10 /= n;
  m.ndcg_at_10 /= n;
  return m;
}

void print(const char* label, const Metrics& m) {
  std::printf("  %-48s R@1 %.3f  R@5 %.3f  MRR@10 %.3f  nDCG@10 %.3f\n", label, m.recall_at_1,
              m.recall_at_5, m.mrr_at_10, m.ndcg_at_10);
}

TEST(SearchQuality, RetrievalDevMeetsTargets) {
  Dataset data;
  std::string why;
  if (!loadDataset(data, why)) GTEST_SKIP() << why;
  Metrics m = evaluate(data, RankerOptions{});
  std::printf("retrieval-dev: %zu tools, %zu queries\n", data.tools.size(), data.queries.size());
  print("defaults", m);
  EXPECT_GE(m.recall_at_1, 0.85);
  EXPECT_GE(m.recall_at_5, 0.97);
}

// About 25 evaluations (8 s in a debug build), so opt-in:
//   MCPPROXY_SEARCH_ABLATION=1 ./build/debug/tests/unit_tests --gtest_filter='SearchQuality.*'
TEST(SearchQuality, Ablation) {
  if (std::getenv("MCPPROXY_SEARCH_ABLATION") == nullptr) {
    GTEST_SKIP() << "set MCPPROXY_SEARCH_ABLATION=1 to print the ablation table";
  }
  Dataset data;
  std::string why;
  if (!loadDataset(data, why)) GTEST_SKIP() << why;

  // Plain BM25 (k1 1.2, b 0.75) over name + description, words kept whole, no analysis.
  RankerOptions bm25;
  bm25.field_weight = {1, 0, 0, 1, 0, 0};
  bm25.field_b = {0.75f, 0, 0, 0.75f, 0, 0};
  bm25.split_identifiers = bm25.stem = bm25.stop_words = false;
  bm25.prose_keeps_camel_case = bm25.query_pair_joins = bm25.decompound = false;
  bm25.synonym_weight = 0;
  bm25.synonym_coverage = bm25.distinct_query_terms = false;
  bm25.coverage_exponent = 0;
  bm25.name_coverage_weight = bm25.name_bigram_weight = bm25.list_intent_weight = 0;
  bm25.surface_weight = 0;
  // Cumulative: each technique added on top of the previous ones, ending at the defaults.
  const RankerOptions defaults;
  struct Step {
    const char* label;
    void (*apply)(RankerOptions&);
  };
  const Step steps[] = {
      {"plain BM25 (name + description)", [](RankerOptions&) {}},
      {"+ identifier splitting", [](RankerOptions& o) { o.split_identifiers = true; }},
      {"+ BM25F over six fields",
       [](RankerOptions& o) {
         o.field_weight = RankerOptions{}.field_weight;
         o.field_b = RankerOptions{}.field_b;
       }},
      {"+ stop words, stemming",
       [](RankerOptions& o) { o.stop_words = o.stem = o.distinct_query_terms = true; }},
      {"+ coverage factor", [](RankerOptions& o) { o.coverage_exponent = 1; }},
      {"+ name coverage rerank",
       [](RankerOptions& o) { o.name_coverage_weight = RankerOptions{}.name_coverage_weight; }},
      {"+ synonyms (with coverage credit)",
       [](RankerOptions& o) {
         o.synonym_weight = RankerOptions{}.synonym_weight;
         o.synonym_coverage = true;
       }},
      {"+ plural -> list intent",
       [](RankerOptions& o) { o.list_intent_weight = RankerOptions{}.list_intent_weight; }},
      {"+ surface-form agreement",
       [](RankerOptions& o) { o.surface_weight = RankerOptions{}.surface_weight; }},
      {"+ brands whole in prose, pair joins, decompound",
       [](RankerOptions& o) {
         o.prose_keeps_camel_case = o.query_pair_joins = o.decompound = true;
       }},
  };
  RankerOptions step = bm25;
  Metrics last;
  for (const Step& s : steps) {
    s.apply(step);
    last = evaluate(data, step);
    print(s.label, last);
  }
  EXPECT_EQ(last.recall_at_1, evaluate(data, defaults).recall_at_1);  // the steps end at defaults

  // Knock-outs: the defaults with one technique switched off.
  struct Knockout {
    const char* label;
    void (*apply)(RankerOptions&);
  };
  const Knockout knockouts[] = {
      {"- identifier splitting", [](RankerOptions& o) { o.split_identifiers = false; }},
      {"- stemming", [](RankerOptions& o) { o.stem = false; }},
      {"- stop words", [](RankerOptions& o) { o.stop_words = false; }},
      {"- brands whole in prose (MySQL)",
       [](RankerOptions& o) { o.prose_keeps_camel_case = false; }},
      {"- parameter fields", [](RankerOptions& o) { o.field_weight[4] = o.field_weight[5] = 0; }},
      {"- query pair joins (key vault)", [](RankerOptions& o) { o.query_pair_joins = false; }},
      {"- decompounding (cosmosdb)", [](RankerOptions& o) { o.decompound = false; }},
      {"- synonyms", [](RankerOptions& o) { o.synonym_weight = 0; }},
      {"- synonym coverage credit", [](RankerOptions& o) { o.synonym_coverage = false; }},
      {"- distinct query terms", [](RankerOptions& o) { o.distinct_query_terms = false; }},
      {"- coverage factor", [](RankerOptions& o) { o.coverage_exponent = 0; }},
      {"- name coverage rerank", [](RankerOptions& o) { o.name_coverage_weight = 0; }},
      {"- name IDF in rerank", [](RankerOptions& o) { o.name_idf_in_rerank = false; }},
      {"- plural -> list intent", [](RankerOptions& o) { o.list_intent_weight = 0; }},
      {"- surface-form agreement", [](RankerOptions& o) { o.surface_weight = 0; }},
  };
  for (const Knockout& k : knockouts) {
    RankerOptions o = defaults;
    k.apply(o);
    print(k.label, evaluate(data, o));
  }
  RankerOptions bigrams = defaults;
  bigrams.name_bigram_weight = 0.1f;
  print("+ name bigram bonus 0.1 (off by default)", evaluate(data, bigrams));
}

}  // namespace
}  // namespace mcpproxy::index
