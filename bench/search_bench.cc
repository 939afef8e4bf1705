// Tool-search benchmark: search latency (p50/p99), index build time and memory, and the cost of
// replacing one server, on synthetic corpora of 10,000 and 100,000 tools.
//
// The corpora are generated from the 180 real tool definitions in tests/data/retrieval-dev:
// each synthetic tool takes a real tool as template, swaps the resource words of its name,
// about a third of its description words and some parameter names for words drawn from the
// dataset's own vocabulary (frequency-weighted, so common words stay common) or from a pool of
// made-up words (so the vocabulary grows with the corpus, as it does across many servers), and
// keeps the long shared parameters (tenant, retry-*) in only 30% of the tools. Tools are
// grouped 50 per server under random server names. Queries are the dataset's 474 prompts, and
// "long" queries join three of them into one multi-step task.
//
//   ./build/release/search_bench [--benchmark_filter=Search]
//   ./build/release/search_bench --write-corpus=N:FILE   (the N-tool corpus as JSONL, one tool
//       a line named <server>_<tool>, for the end-to-end search benchmark in bench/run.mjs)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "index/search_index.h"
#include "index/word_vectors.h"

namespace {

using mcpproxy::index::SearchIndex;
using mcpproxy::index::ToolDocument;
namespace json = boost::json;

constexpr std::size_t kToolsPerServer = 50;
constexpr std::string_view kDataDir = MCPPROXY_TEST_DATA_DIR "/retrieval-dev/";

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

struct Dataset {
  std::vector<ToolDocument> tools;
  std::vector<std::string> queries;
  std::vector<std::string> words;     // every description word, repeated by frequency
  std::vector<std::string> invented;  // made-up words
};

const Dataset& dataset() {
  static const Dataset data = [] {
    Dataset d;
    for (const std::string& line : readLines(std::string(kDataDir) + "tools.jsonl")) {
      json::object o = json::parse(line).as_object();
      ToolDocument t;
      t.name = std::string(o.at("name").as_string());
      t.description = std::string(o.at("description").as_string());
      t.input_schema = o.at("inputSchema");
      d.tools.push_back(std::move(t));
    }
    for (const std::string& line : readLines(std::string(kDataDir) + "queries.jsonl")) {
      d.queries.emplace_back(json::parse(line).as_object().at("query").as_string());
    }
    for (const ToolDocument& t : d.tools) {
      std::string word;
      for (char c : t.description + " ") {
        if (std::isalpha(static_cast<unsigned char>(c))) {
          word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        } else {
          if (word.size() >= 3) d.words.push_back(word);
          word.clear();
        }
      }
    }
    static constexpr const char* kSyllables[] = {"ka",  "lo", "mi", "ne",  "pur", "sta", "vex",
                                                 "dra", "qu", "ix", "zen", "tor", "bel", "gri",
                                                 "op",  "ux", "ha", "fen", "rod", "sil"};
    std::mt19937 rng(7);
    for (int i = 0; i < 30000; ++i) {
      std::string w;
      int n = 2 + static_cast<int>(rng() % 3);
      for (int k = 0; k < n; ++k) w += kSyllables[rng() % std::size(kSyllables)];
      d.invented.push_back(w);
    }
    return d;
  }();
  return data;
}

class Generator {
 public:
  explicit Generator(unsigned seed) : rng_(seed) {}

  std::string word() {
    const Dataset& d = dataset();
    if (chance(0.3)) return d.invented[rng_() % d.invented.size()];
    return d.words[rng_() % d.words.size()];
  }

  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  ToolDocument tool() {
    const Dataset& d = dataset();
    const ToolDocument& base = d.tools[rng_() % d.tools.size()];
    ToolDocument t;
    // Name: keep the verb (last part), swap most resource words.
    std::vector<std::string> parts;
    std::string part;
    for (char c : base.name + "_") {
      if (c == '_') {
        if (!part.empty() && part != "azmcp") parts.push_back(part);
        part.clear();
      } else {
        part.push_back(c);
      }
    }
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      if (chance(0.6)) parts[i] = word();
    }
    for (const std::string& p : parts) t.name += (t.name.empty() ? "" : "_") + p;
    // Description: a third of the words swapped.
    std::string token;
    for (char c : base.description + " ") {
      if (c == ' ') {
        if (!token.empty()) t.description += (chance(0.33) ? word() : token) + " ";
        token.clear();
      } else {
        token.push_back(c);
      }
    }
    // Parameters: the shared ones (tenant, auth, retry) in 30% of tools; others renamed half
    // the time.
    json::object props;
    bool shared = chance(0.3);
    if (const auto* schema = base.input_schema.if_object()) {
      if (const auto* p = schema->if_contains("properties"); p && p->is_object()) {
        for (const auto& [key, value] : p->as_object()) {
          std::string name(key);
          bool common = name == "tenant" || name == "auth-method" || name.starts_with("retry");
          if (common && !shared) continue;
          if (!common && chance(0.5)) name = word() + "-" + word();
          props[name] = value;
        }
      }
    }
    t.input_schema = json::object{{"type", "object"}, {"properties", std::move(props)}};
    return t;
  }

  std::vector<std::pair<std::string, std::vector<ToolDocument>>> corpus(std::size_t tools) {
    std::vector<std::pair<std::string, std::vector<ToolDocument>>> servers;
    for (std::size_t i = 0; i < tools; i += kToolsPerServer) {
      std::string name = word() + "-" + word() + "-" + std::to_string(i / kToolsPerServer);
      std::vector<ToolDocument> list;
      std::set<std::string> names;
      for (std::size_t k = 0; k < kToolsPerServer && i + k < tools; ++k) {
        list.push_back(tool());
        if (!names.insert(list.back().name).second) list.back().name += "_" + std::to_string(k);
      }
      servers.emplace_back(std::move(name), std::move(list));
    }
    return servers;
  }

 private:
  std::mt19937 rng_;
};

using Corpus = std::vector<std::pair<std::string, std::vector<ToolDocument>>>;

const Corpus& corpus(std::size_t tools) {
  static std::map<std::size_t, Corpus> cache;
  auto it = cache.find(tools);
  if (it == cache.end()) it = cache.emplace(tools, Generator(42).corpus(tools)).first;
  return it->second;
}

std::size_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// The shipped configuration: every signal on, with the committed word vectors
// (MCPPROXY_BENCH_LEXICAL_ONLY=1: the lexical ranker alone, as before issue 21).
mcpproxy::index::SearchOptions benchOptions() {
  mcpproxy::index::SearchOptions o;
  if (std::getenv("MCPPROXY_BENCH_LEXICAL_ONLY") != nullptr) {
    o.decompose = false;
    o.server_weight = 0;
    return o;
  }
  static const auto vectors = [] {
    std::string error;
    auto v =
        mcpproxy::index::WordVectors::load(MCPPROXY_SEARCH_DATA_DIR "/word-vectors.bin", error);
    if (!v) std::fprintf(stderr, "search_bench: no word vectors (%s)\n", error.c_str());
    return v;
  }();
  o.vectors = vectors;
  return o;
}

void build(SearchIndex& index, const Corpus& c) {
  for (const auto& [server, tools] : c) index.upsertServer(server, tools);
}

const SearchIndex& builtIndex(std::size_t tools) {
  static std::map<std::size_t, SearchIndex> cache;
  auto it = cache.find(tools);
  if (it == cache.end()) {
    SearchIndex index(benchOptions());
    build(index, corpus(tools));
    it = cache.emplace(tools, std::move(index)).first;
  }
  return it->second;
}

std::vector<std::string> longQueries() {
  const auto& q = dataset().queries;
  std::vector<std::string> out;
  for (std::size_t i = 0; i + 2 < q.size(); i += 3) {
    out.push_back(q[i] + ", then " + q[i + 1] + " and finally " + q[i + 2]);
  }
  return out;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// One query per iteration, cycling through the set; reports per-query p50/p99 in µs.
void searchBenchmark(benchmark::State& state, bool long_queries) {
  auto tools = static_cast<std::size_t>(state.range(0));
  const SearchIndex& index = builtIndex(tools);
  const std::vector<std::string> queries = long_queries ? longQueries() : dataset().queries;
  std::vector<double> micros;
  std::size_t i = 0, hits = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    auto result = index.search(queries[i++ % queries.size()], 10);
    auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    benchmark::DoNotOptimize(result);
    hits += result.size();
    state.SetIterationTime(elapsed.count());
    micros.push_back(elapsed.count() * 1e6);
  }
  state.counters["p50_us"] = percentile(micros, 0.50);
  state.counters["p99_us"] = percentile(micros, 0.99);
  state.counters["max_us"] = percentile(micros, 1.0);
  state.counters["hits/q"] = static_cast<double>(hits) / static_cast<double>(micros.size());
}

void BM_Search(benchmark::State& state) {
  searchBenchmark(state, false);
}
void BM_SearchLongQuery(benchmark::State& state) {
  searchBenchmark(state, true);
}

// Index build from scratch (one upsert per server); memory by the index's own accounting and by
// the growth of the resident set.
void BM_Build(benchmark::State& state) {
  auto tools = static_cast<std::size_t>(state.range(0));
  const Corpus& c = corpus(tools);
  for (auto _ : state) {
    std::size_t rss_before = residentBytes();
    auto start = std::chrono::steady_clock::now();
    SearchIndex index(benchOptions());
    build(index, c);
    auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
    state.SetIterationTime(elapsed.count());
    state.counters["index_MB"] = static_cast<double>(index.memoryBytes()) / 1e6;
    state.counters["rss_delta_MB"] =
        static_cast<double>(residentBytes() - std::min(residentBytes(), rss_before)) / 1e6;
    state.counters["tools"] = static_cast<double>(index.size());
  }
}

// Replacing one server's 50 tools in a full index (what a tools/list_changed costs).
void BM_UpsertServer(benchmark::State& state) {
  auto tools = static_cast<std::size_t>(state.range(0));
  SearchIndex index(benchOptions());
  build(index, corpus(tools));
  Generator gen(99);
  const Corpus& c = corpus(tools);
  std::size_t i = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<ToolDocument> replacement;
    for (std::size_t k = 0; k < kToolsPerServer; ++k) replacement.push_back(gen.tool());
    const std::string& server = c[(i++ * 7919) % c.size()].first;
    state.ResumeTiming();
    index.upsertServer(server, std::move(replacement));
  }
}

BENCHMARK(BM_Build)->Arg(1000)->Arg(10000)->Arg(100000)->Iterations(1)->UseManualTime()->Unit(
    benchmark::kMillisecond);
BENCHMARK(BM_Search)->Arg(1000)->Arg(10000)->Arg(100000)->Iterations(2000)->UseManualTime()->Unit(
    benchmark::kMicrosecond);
BENCHMARK(BM_SearchLongQuery)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Iterations(500)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UpsertServer)->Arg(10000)->Arg(100000)->Iterations(20)->Unit(benchmark::kMillisecond);

// Writes the `tools`-tool corpus to `path` as JSONL; returns false when the file cannot be written.
bool writeCorpus(std::size_t tools, const std::string& path) {
  std::ofstream out(path);
  for (const auto& [server, list] : corpus(tools)) {
    for (const ToolDocument& t : list) {
      json::object o{{"name", server + "_" + t.name},
                     {"description", t.description},
                     {"inputSchema", t.input_schema}};
      out << json::serialize(o) << '\n';
    }
  }
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--write-corpus=")) continue;
    arg.remove_prefix(std::string_view("--write-corpus=").size());
    auto colon = arg.find(':');
    if (colon == std::string_view::npos) return 2;
    std::size_t tools = std::stoul(std::string(arg.substr(0, colon)));
    return writeCorpus(tools, std::string(arg.substr(colon + 1))) ? 0 : 1;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
