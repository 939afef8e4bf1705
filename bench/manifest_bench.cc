// Signed-manifest benchmark: what the manifest filter costs per tool-list change. Tool sets of
// 10, 100 and 1000 tools built from the 180 real definitions in tests/data/retrieval-dev (cycled,
// renamed when reused), signed with one Ed25519 key.
//
//   BM_Sign/N          serialise the payload and sign it (what `manifest sign` does)
//   BM_CheckServer/N   parse + verify + compare with the server's list (the filter's decision)
//   BM_Compare/N       the comparison alone, on a list where one tool is tampered
//
//   ./build/release/manifest_bench
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "manifest/check.h"
#include "manifest/compare.h"
#include "manifest/format.h"
#include "manifest/signing.h"
#include "storage/tool_hash.h"

namespace {

using namespace mcpproxy::manifest;
namespace json = boost::json;

std::vector<json::object> realTools(std::size_t count) {
  std::vector<json::object> base;
  std::ifstream in(MCPPROXY_TEST_DATA_DIR "/retrieval-dev/tools.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto value = json::parse(line).as_object();
    json::object tool{{"name", value.at("name")},
                      {"description", value.at("description")},
                      {"inputSchema", value.at("inputSchema")}};
    base.push_back(std::move(tool));
  }
  std::vector<json::object> out;
  for (std::size_t i = 0; i < count; ++i) {
    json::object tool = base[i % base.size()];
    tool["name"] = std::string(tool.at("name").as_string()) + "_" + std::to_string(i);
    out.push_back(std::move(tool));
  }
  return out;
}

Manifest manifestOf(const std::vector<json::object>& tools) {
  Manifest m;
  m.server = {"bench", "", ""};
  m.version = "1";
  m.issued_at = *parseTime("2025-01-01T00:00:00Z");
  for (const auto& t : tools) {
    m.tools.push_back(
        {std::string(t.at("name").as_string()), mcpproxy::storage::toolHash(t), pinnedFields(t)});
  }
  return m;
}

const SigningKey& key() {
  static const SigningKey k = SigningKey::generate("bench");
  return k;
}

void BM_Sign(benchmark::State& state) {
  auto m = manifestOf(realTools(state.range(0)));
  const SigningKey* signer = &key();
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = signManifest(m, std::span<const SigningKey* const>(&signer, 1));
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["manifest_bytes"] = static_cast<double>(bytes);
}

void BM_CheckServer(benchmark::State& state) {
  auto tools = realTools(state.range(0));
  const SigningKey* signer = &key();
  auto text = signManifest(manifestOf(tools), std::span<const SigningKey* const>(&signer, 1));
  TrustedKey trusted{"bench", key().publicKey(), std::nullopt, std::nullopt, false};
  for (auto _ : state) {
    auto check = checkServer(text, std::span<const TrustedKey>(&trusted, 1),
                             *parseTime("2025-01-02T00:00:00Z"), tools, "");
    if (check.server_blocked || !check.comparison.clean()) state.SkipWithError("not clean");
    benchmark::DoNotOptimize(check);
  }
}

void BM_Compare(benchmark::State& state) {
  auto tools = realTools(state.range(0));
  auto m = manifestOf(tools);
  tools[0]["description"] = "Tampered.";
  for (auto _ : state) {
    auto comparison = compareTools(m, tools);
    if (comparison.count(ToolStatus::kTampered) != 1) state.SkipWithError("wrong result");
    benchmark::DoNotOptimize(comparison);
  }
}

BENCHMARK(BM_Sign)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CheckServer)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Compare)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
