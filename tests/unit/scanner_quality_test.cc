// Detection quality of the tool-poisoning scanner on tests/data/security-dev (MCP-SafetyBench:
// 159 poisoned tool definitions, 156 benign tools of 13 real servers; BSD-3-Clause, see the
// LICENSE beside the data). Only each line's "tool" is shown to the scanner. "Caught" and
// "flagged" both mean a verdict of warn or block. Prints the rates, per-rule hit counts on both
// sets and the time per tool; holds caught >= 0.80 and flagged <= 0.03.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "policy/scanner.h"

namespace mcpproxy::policy {
namespace {

namespace json = boost::json;

std::filesystem::path dataDir() {
  return std::filesystem::path(MCPPROXY_TEST_DATA_DIR) / "security-dev";
}

// Loads the "tool" objects of a JSONL file; false when missing or malformed.
bool loadTools(const std::string& file, std::vector<json::object>& out) {
  std::ifstream in(dataDir() / file);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) return false;
    const json::value* tool = v.get_object().if_contains("tool");
    if (!tool || !tool->is_object()) return false;
    out.push_back(tool->get_object());
  }
  return true;
}

struct SetStats {
  std::size_t tools = 0;
  std::size_t hits = 0;  // verdict warn or block
  std::size_t blocked = 0;
  std::map<std::string, std::size_t> rules;  // tools with at least one finding of the rule
  double seconds = 0;
};

SetStats scanAll(const std::vector<json::object>& tools) {
  SetStats s;
  for (const auto& t : tools) {
    auto start = std::chrono::steady_clock::now();
    ScanResult r = scanTool(t);
    s.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++s.tools;
    s.hits += r.verdict != Verdict::kPass;
    s.blocked += r.verdict == Verdict::kBlock;
    std::set<std::string> seen;
    for (const auto& f : r.findings) seen.insert(f.rule);
    for (const auto& rule : seen) ++s.rules[rule];
  }
  return s;
}

TEST(ScannerQuality, SecurityDevSet) {
  std::vector<json::object> poisoned, benign;
  ASSERT_TRUE(loadTools("poisoned_tools.jsonl", poisoned)) << dataDir();
  ASSERT_TRUE(loadTools("benign_tools_mcpuniverse.jsonl", benign)) << dataDir();
  ASSERT_EQ(poisoned.size(), 159u);
  ASSERT_EQ(benign.size(), 156u);

  SetStats p = scanAll(poisoned);
  SetStats b = scanAll(benign);
  double caught = static_cast<double>(p.hits) / p.tools;
  double flagged = static_cast<double>(b.hits) / b.tools;
  double us_per_tool = (p.seconds + b.seconds) / (p.tools + b.tools) * 1e6;
#ifdef NDEBUG
  const char* build = "optimised";
#else
  const char* build = "debug";
#endif
  std::printf(
      "[ scanner ] poisoned caught %zu/%zu = %.3f (block %zu), benign flagged %zu/%zu = "
      "%.3f; %.1f us per tool (%s build)\n",
      p.hits, p.tools, caught, p.blocked, b.hits, b.tools, flagged, us_per_tool, build);
  std::set<std::string> rules;
  for (const auto& [rule, n] : p.rules) rules.insert(rule);
  for (const auto& [rule, n] : b.rules) rules.insert(rule);
  std::printf("[ scanner ] %-28s %8s %8s\n", "rule (tools with a finding)", "poisoned", "benign");
  for (const auto& rule : rules) {
    std::printf("[ scanner ] %-28s %8zu %8zu\n", rule.c_str(), p.rules[rule], b.rules[rule]);
  }

  EXPECT_GE(caught, 0.80);
  EXPECT_LE(flagged, 0.03);
  // The target is 1 ms per tool optimised; leave room for debug and sanitizer builds.
  EXPECT_LT(us_per_tool, 10000.0);
}

}  // namespace
}  // namespace mcpproxy::policy
