// Command-line retrieval evaluation: prints the metrics of plain BM25 and of the ranker's
// configurations (the ablation tables of docs/benchmarks.md) on the datasets in tests/data.
//
//   ./build/opt/tests/search_eval [--data=DIR ...]
//
// Datasets: retrieval-dev (the dev set: the only one weights are chosen on), its joined
// three-step tasks with MCP-Universe servers as distractors (dev, multi-step), and
// livemcpbench (the unseen benchmark: measured, never tuned on).
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "index/schema_compress.h"
#include "index/word_vectors.h"
#include "retrieval_eval.h"

using namespace mcpproxy::index;
using namespace mcpproxy::index::eval;

namespace {

struct Config {
  std::string label;
  SearchOptions options;
};

std::shared_ptr<const WordVectors> g_vectors;

// --set=name=value,... overrides of the defaults, for trying a value on the dev set.
std::vector<std::pair<std::string, float>> g_overrides;

void applyOverrides(SearchOptions& o) {
  for (const auto& [name, v] : g_overrides) {
    RankerOptions& r = o.ranker;
    if (name == "name_coverage_weight")
      r.name_coverage_weight = v;
    else if (name == "surface_weight")
      r.surface_weight = v;
    else if (name == "list_intent_weight")
      r.list_intent_weight = v;
    else if (name == "get_intent_weight")
      r.get_intent_weight = v;
    else if (name == "coverage_exponent")
      r.coverage_exponent = v;
    else if (name == "synonym_weight")
      r.synonym_weight = v;
    else if (name == "k1")
      r.k1 = v;
    else if (name == "semantic_weight")
      o.semantic_weight = v;
    else if (name == "semantic_depth")
      o.semantic_depth = static_cast<std::size_t>(v);
    else if (name == "server_weight")
      o.server_weight = v;
    else if (name == "whole_task_slot")
      o.whole_task_slot = v != 0;
    else if (name == "fb_sim")
      o.feedback.min_similarity = v;
    else if (name == "fb_ignored")
      o.feedback.ignored_penalty = v;
    else if (name == "fb_weight")
      o.feedback.weight = v;
    else if (name.starts_with("fw"))
      r.field_weight[std::stoul(name.substr(2))] = v;
    else if (name.starts_with("fb"))
      r.field_b[std::stoul(name.substr(2))] = v;
    else if (name.starts_with("sfw"))
      o.semantic_field_weight[std::stoul(name.substr(3))] = v;
    else
      std::fprintf(stderr, "unknown option %s\n", name.c_str());
  }
}

SearchOptions full() {
  SearchOptions o;
  o.vectors = g_vectors;
  applyOverrides(o);
  return o;
}

std::vector<Config> configs() {
  std::vector<Config> out;
  if (!g_overrides.empty()) {
    out.push_back({"with --set", full()});
    return out;
  }
  out.push_back({"plain BM25 (name + description)", plainBm25()});
  SearchOptions step;
  step.decompose = false;
  step.server_weight = 0;
  out.push_back({"lexical ranker (BM25F + analysis, before)", step});
  if (g_vectors) {
    step.vectors = g_vectors;
    out.push_back({"+ semantic signal (word vectors)", step});
  }
  step.decompose = true;
  out.push_back({"+ task decomposition", step});
  step.server_weight = SearchOptions{}.server_weight;
  out.push_back({"+ server evidence (= defaults)", step});
  if (g_vectors) {
    SearchOptions o = full();
    o.vectors = nullptr;
    out.push_back({"defaults - semantic signal", o});
  }
  SearchOptions o = full();
  o.decompose = false;
  out.push_back({"defaults - task decomposition", o});
  o = full();
  o.server_weight = 0;
  out.push_back({"defaults - server evidence", o});
  return out;
}

// Dev-only tuning grid (--tune): the semantic signal's fusion weight and depth.
std::vector<Config> tuningGrid() {
  std::vector<Config> out;
  for (float w : {0.0f, 0.1f, 0.2f, 0.3f, 0.5f}) {
    for (std::size_t depth : {20u, 50u, 100u}) {
      SearchOptions o = full();
      o.semantic_weight = w;
      o.semantic_depth = depth;
      out.push_back({"w " + std::to_string(w).substr(0, 4) + " depth " + std::to_string(depth), o});
      if (w == 0.0f) break;
    }
  }
  return out;
}

void run(const Dataset& data, const std::vector<Config>& list) {
  std::printf("\n%s: %zu tools, %zu queries\n", data.name.c_str(), data.tools.size(),
              data.queries.size());
  for (const Config& c : list) {
    SearchIndex index = buildIndex(data, c.options);
    auto started = std::chrono::steady_clock::now();
    Metrics m =
        evaluate(data, [&](std::string_view q, std::size_t k) { return index.search(q, k); });
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    std::printf("  %-44s %s  (%.2f ms/query)\n", c.label.c_str(), formatMetrics(m).c_str(),
                ms / static_cast<double>(data.queries.size()));
  }
}

// Learning from use, simulated two-fold: the model's calls on one half of the tasks (the
// needed tools it was shown in the top 10) are recorded, then the other half is scored.
void runFeedback(const Dataset& data) {
  Metrics total;
  for (int fold = 0; fold < 2; ++fold) {
    SearchIndex index = buildIndex(data, full());
    Dataset train = data, test = data;
    train.queries.clear();
    test.queries.clear();
    for (std::size_t i = 0; i < data.queries.size(); ++i) {
      (static_cast<int>(i % 2) == fold ? test : train).queries.push_back(data.queries[i]);
    }
    for (const Query& q : train.queries) {
      std::vector<std::string> shown, called;
      for (const Hit& h : index.search(q.text, 10)) shown.push_back(h.server + ":" + h.tool);
      for (const auto& group : q.groups) {
        for (const std::string& s : shown) {
          if (std::find(group.begin(), group.end(), s) != group.end()) {
            called.push_back(s);
            break;
          }
        }
      }
      index.recordFeedback(q.text, shown, called);
    }
    Metrics m =
        evaluate(test, [&](std::string_view q, std::size_t k) { return index.search(q, k); });
    Metrics before;
    SearchIndex fresh = buildIndex(data, full());
    before = evaluate(test, [&](std::string_view q, std::size_t k) { return fresh.search(q, k); });
    if (fold == 1) total = m;
    std::printf("  fold %d: before  %s\n          after   %s\n", fold,
                formatMetrics(before).c_str(), formatMetrics(m).c_str());
  }
}

// Writes, for every query of `data`, the retrieve_tools answer (top 15, entries shaped like
// the proxy's: name, server, tool, description, inputSchema) three ways — as the upstream
// defined the tools, with noise dropped, and with descriptions also cut to 300 bytes — one
// JSON line {"full", "compressed", "short"} of serialized answers per query, for
// scripts/count-answer-tokens.mjs.
bool dumpAnswers(const Dataset& data, const std::string& path) {
  std::map<std::string, const ToolDocument*> by_name;
  for (const ToolDocument& t : data.tools) by_name[t.server + ":" + t.name] = &t;
  SearchIndex index = buildIndex(data, full());
  std::ofstream out(path);
  CompressOptions noise;
  CompressOptions cut;
  cut.max_description_bytes = 300;
  for (const Query& q : data.queries) {
    boost::json::array answers[3];
    for (const Hit& h : index.search(q.text, 15)) {
      const ToolDocument& t = *by_name.at(h.server + ":" + h.tool);
      for (int variant = 0; variant < 3; ++variant) {
        boost::json::object e{
            {"name", h.server + ":" + h.tool}, {"server", h.server}, {"tool", h.tool}};
        if (variant == 0) {
          e["description"] = t.description;
          e["inputSchema"] = t.input_schema;
        } else {
          const CompressOptions& o = variant == 1 ? noise : cut;
          bool shortened = false;
          std::string d(shortenDescription(t.description, o.max_description_bytes, shortened));
          if (shortened) d += "…";
          e["description"] = d;
          e["inputSchema"] = compressSchema(t.input_schema, o);
        }
        answers[variant].push_back(std::move(e));
      }
    }
    out << boost::json::serialize(boost::json::object{
               {"full", boost::json::serialize(boost::json::object{{"tools", answers[0]}})},
               {"compressed", boost::json::serialize(boost::json::object{{"tools", answers[1]}})},
               {"short", boost::json::serialize(boost::json::object{{"tools", answers[2]}})}})
        << '\n';
  }
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  std::string root = MCPPROXY_TEST_DATA_DIR;
  std::vector<std::string> dirs;
  bool unseen = false, tune = false, misses = false, feedback = false;
  std::string dump;  // DIR: answers of retrieval-dev and livemcpbench for token counting
  std::string vectors_path = MCPPROXY_SEARCH_DATA_DIR "/word-vectors.bin";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--data=", 7) == 0) dirs.emplace_back(argv[i] + 7);
    if (std::strncmp(argv[i], "--vectors=", 10) == 0) vectors_path = argv[i] + 10;
    if (std::strcmp(argv[i], "--unseen") == 0) unseen = true;
    if (std::strcmp(argv[i], "--tune") == 0) tune = true;
    if (std::strcmp(argv[i], "--misses") == 0) misses = true;
    if (std::strcmp(argv[i], "--feedback") == 0) feedback = true;
    if (std::strncmp(argv[i], "--dump-answers=", 15) == 0) dump = argv[i] + 15;
    if (std::strncmp(argv[i], "--set=", 6) == 0) {
      std::string list = argv[i] + 6;
      for (std::size_t at = 0; at < list.size();) {
        std::size_t end = list.find(',', at);
        if (end == std::string::npos) end = list.size();
        std::string item = list.substr(at, end - at);
        std::size_t eq = item.find('=');
        if (eq != std::string::npos)
          g_overrides.emplace_back(item.substr(0, eq), std::stof(item.substr(eq + 1)));
        at = end + 1;
      }
    }
  }
  std::string why;
  if (!vectors_path.empty()) {
    g_vectors = WordVectors::load(vectors_path, why);
    if (!g_vectors) std::fprintf(stderr, "no semantic signal: %s\n", why.c_str());
  }
  if (dirs.empty()) {
    Dataset dev, distractors, bench;
    if (!loadDataset(root + "/retrieval-dev", dev, why)) {
      std::fprintf(stderr, "%s\n", why.c_str());
      return 1;
    }
    if (misses) {  // dev only: the queries whose first answer is wrong
      SearchIndex index = buildIndex(dev, full());
      for (const Query& q : dev.queries) {
        auto hits = index.search(q.text, 3);
        std::string got = hits.empty() ? "-" : hits[0].server + ":" + hits[0].tool;
        if (got == q.groups[0][0]) continue;
        std::printf("%s\n   want %s\n   got  %s | %s\n", q.text.c_str(), q.groups[0][0].c_str(),
                    got.c_str(), hits.size() > 1 ? hits[1].tool.c_str() : "");
      }
      return 0;
    }
    if (!dump.empty()) {
      Dataset bench;
      bool ok = dumpAnswers(dev, dump + "/retrieval-dev.jsonl") &&
                loadDataset(root + "/livemcpbench", bench, why) &&
                dumpAnswers(bench, dump + "/livemcpbench.jsonl");
      return ok ? 0 : 1;
    }
    if (feedback) {
      std::printf("learning from use on %s (two-fold):\n", dev.name.c_str());
      runFeedback(dev);
      return 0;
    }
    const std::vector<Config> list = tune ? tuningGrid() : configs();
    run(dev, list);
    Dataset universe;
    if (loadNestedTools(root + "/security-dev/benign_tools_mcpuniverse.jsonl", universe, why)) {
      run(withDistractors(joinedTasks(dev, 2, 300, 7), universe), list);
      run(withDistractors(joinedTasks(dev, 3, 300, 11), universe), list);
    } else {
      run(joinedTasks(dev, 3, 300, 11), list);
    }
    // The unseen benchmark only on request: tuning runs must not see it.
    if (unseen && loadDataset(root + "/livemcpbench", bench, why)) run(bench, configs());
    return 0;
  }
  for (const std::string& dir : dirs) {
    Dataset data;
    if (!loadDataset(dir, data, why)) {
      std::fprintf(stderr, "%s\n", why.c_str());
      return 1;
    }
    run(data, configs());
  }
  return 0;
}
