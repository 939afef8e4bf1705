// Retrieval evaluation for the tool-search index: loads a dataset in the retrieval-dev format
// (tools.jsonl + queries.jsonl, see tests/data/*/README.md), builds a SearchIndex from it one
// server at a time (as the proxy does), runs every query and computes the standard metrics.
// Shared by the quality tests (tests/unit/search_quality_test.cc) and the command-line
// evaluator (tests/search/search_eval.cc) that prints the ablation tables of
// docs/benchmarks.md. Test-side code: nothing here ships in the proxy.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "index/search_index.h"

namespace mcpproxy::index::eval {

struct Query {
  std::string id;
  std::string text;
  // The tools the task needs; each group lists interchangeable tools ("server:tool"), any one
  // of which answers that need (several servers may offer the same tool).
  std::vector<std::vector<std::string>> groups;
};

struct Dataset {
  std::string name;
  std::vector<ToolDocument> tools;
  std::vector<Query> queries;
};

// Reads <dir>/tools.jsonl and <dir>/queries.jsonl. Returns false with a reason in `why` when a
// file is missing or a line is malformed.
bool loadDataset(const std::string& dir, Dataset& out, std::string& why);

// Tools only, from a file of {"server", "tool": {...}} lines (tests/data/security-dev's benign
// MCP-Universe tools): used as distractor servers.
bool loadNestedTools(const std::string& path, Dataset& out, std::string& why);

// A dataset whose tasks join `per_task` queries of `base` (from different categories, fixed
// seed): a multi-step task whose needs are the parts' needs. Joined with the connectives people
// use ("..., then ...", "... and ..."), so a task splitter has something real to split.
Dataset joinedTasks(const Dataset& base, std::size_t per_task, std::size_t count, unsigned seed);

// Adds `extra`'s tools (other servers, as distractors) to `base`.
Dataset withDistractors(Dataset base, const Dataset& extra);

struct Metrics {
  std::size_t queries = 0;
  double recall_at_1 = 0;     // share of a task's needs met by the top 1, averaged over tasks
  double recall_at_5 = 0;     // ... by the top 5
  double recall_at_10 = 0;    // ... by the top 10
  double complete_at_10 = 0;  // tasks with every need met in the top 10
  double mrr_at_10 = 0;       // 1 / rank of the first useful tool
  double ndcg_at_10 = 0;      // one gain per need, at the first tool that meets it
};

using SearchFn = std::function<std::vector<Hit>(std::string_view query, std::size_t limit)>;

// Runs every query through `search` (limit 10) and scores the answers.
Metrics evaluate(const Dataset& data, const SearchFn& search);

// Builds an index over `data` with `options` (one upsertServer per server).
SearchIndex buildIndex(const Dataset& data, const SearchOptions& options);

// Plain BM25 (k1 1.2, b 0.75) over name + description, words kept whole: the published
// baseline every table compares against.
SearchOptions plainBm25();

std::string formatMetrics(const Metrics& m);

}  // namespace mcpproxy::index::eval
