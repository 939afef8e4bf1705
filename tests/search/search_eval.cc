// Command-line retrieval evaluation: prints the metrics of plain BM25 and of the ranker's
// configurations (the ablation tables of docs/benchmarks.md) on the datasets in tests/data.
//
//   ./build/opt/tests/search_eval [--data=DIR ...]
//
// Datasets: retrieval-dev (the dev set: the only one weights are chosen on), its joined
// three-step tasks with MCP-Universe servers as distractors (dev, multi-step), and
// livemcpbench (the unseen benchmark: measured, never tuned on).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "retrieval_eval.h"

using namespace mcpproxy::index;
using namespace mcpproxy::index::eval;

namespace {

struct Config {
  std::string label;
  SearchOptions options;
};

std::vector<Config> configs() {
  std::vector<Config> out;
  out.push_back({"plain BM25 (name + description)", plainBm25()});
  out.push_back({"mcpproxy defaults", SearchOptions{}});
  return out;
}

void run(const Dataset& data, const std::vector<Config>& list) {
  std::printf("\n%s: %zu tools, %zu queries\n", data.name.c_str(), data.tools.size(),
              data.queries.size());
  for (const Config& c : list) {
    SearchIndex index = buildIndex(data, c.options);
    auto started = std::chrono::steady_clock::now();
    Metrics m = evaluate(data, [&](std::string_view q, std::size_t k) { return index.search(q, k); });
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                    .count();
    std::printf("  %-44s %s  (%.2f ms/query)\n", c.label.c_str(), formatMetrics(m).c_str(),
                ms / static_cast<double>(data.queries.size()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string root = MCPPROXY_TEST_DATA_DIR;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--data=", 7) == 0) dirs.emplace_back(argv[i] + 7);
  }
  std::string why;
  if (dirs.empty()) {
    Dataset dev, distractors, bench;
    if (!loadDataset(root + "/retrieval-dev", dev, why)) {
      std::fprintf(stderr, "%s\n", why.c_str());
      return 1;
    }
    run(dev, configs());
    Dataset universe;
    if (loadNestedTools(root + "/security-dev/benign_tools_mcpuniverse.jsonl", universe, why)) {
      run(withDistractors(joinedTasks(dev, 3, 300, 11), universe), configs());
    } else {
      run(joinedTasks(dev, 3, 300, 11), configs());
    }
    if (loadDataset(root + "/livemcpbench", bench, why)) run(bench, configs());
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
