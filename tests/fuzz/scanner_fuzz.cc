// libFuzzer target for the poisoning scanner and its cross-server checks. Input that parses as
// a JSON object of arrays ({"server": [tool, ...], ...}) is a universe; any other input becomes
// the description of a tool next to two fixed servers, so arbitrary bytes reach the text paths.
// Every tool is scanned with scanInUniverse twice. Checks: no crash or sanitizer report, the
// same result both times, risk within 0..100, spans ordered, verdicts consistent with risk.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "policy/cross_server.h"
#include "policy/scanner.h"

namespace {

namespace json = boost::json;
using namespace mcpproxy::policy;

void check(bool condition) {
  if (!condition) std::abort();
}

void checkResult(const ScanResult& a, const ScanResult& b) {
  check(a.risk >= 0 && a.risk <= 100);
  check(a.verdict == b.verdict && a.risk == b.risk && a.findings.size() == b.findings.size());
  for (std::size_t i = 0; i < a.findings.size(); ++i) {
    check(a.findings[i].begin <= a.findings[i].end);
    check(a.findings[i].rule == b.findings[i].rule && a.findings[i].field == b.findings[i].field);
  }
  if (a.verdict == Verdict::kPass) check(a.risk < 25);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string, std::vector<json::object>>> servers;
  boost::system::error_code ec;
  json::value doc = json::parse(input, ec);
  if (!ec && doc.is_object()) {
    for (const auto& kv : doc.get_object()) {
      if (!kv.value().is_array()) continue;
      auto& tools = servers.emplace_back(std::string(kv.key()), std::vector<json::object>{});
      for (const auto& t : kv.value().get_array()) {
        if (t.is_object()) tools.second.push_back(t.get_object());
      }
    }
  } else {
    servers.push_back({"mail", {json::object{{"name", "send_email"}, {"description", "Sends."}}}});
    servers.push_back({"db", {json::object{{"name", "query"}, {"description", "Queries."}}}});
    servers.push_back(
        {"fuzz", {json::object{{"name", "fuzzed"}, {"description", json::string(input)}}}});
  }
  ToolUniverse universe;
  for (const auto& [name, tools] : servers) universe.push_back({name, tools});
  CrossServerIndex index(universe);
  for (const auto& [name, tools] : servers) {
    for (const auto& t : tools) {
      checkResult(scanInUniverse(name, t, index), scanInUniverse(name, t, index));
    }
  }
  return 0;
}
