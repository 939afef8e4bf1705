// Prometheus metrics (text exposition format 0.0.4) for GET /metrics: tool calls, errors and a
// latency histogram per upstream, fed by the router's call observer; upstream states, sessions,
// tools and the process's resident memory are sampled when the page is rendered.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mcpproxy::api {

struct UpstreamSample {
  std::string name;
  std::string state;  // connecting | ready | failed | disabled | stopped
};

struct MetricsSnapshot {
  std::vector<UpstreamSample> upstreams;
  std::size_t sessions = 0;
  std::size_t tools = 0;
  std::int64_t resident_bytes = -1;  // < 0: unknown, not reported
};

class Metrics {
 public:
  // Upper bounds of the latency buckets, in seconds (+Inf is implicit).
  static constexpr std::array<double, 14> kBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                   1,     2.5,  5,     10,   30,  60,   120};

  void recordCall(const std::string& server, bool ok, double seconds);
  // The whole page.
  std::string render(const MetricsSnapshot& snapshot) const;

 private:
  struct Series {
    std::uint64_t ok = 0;
    std::uint64_t errors = 0;
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // cumulative counts at render time
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::map<std::string, Series> series_;  // by server, sorted for stable output
};

// A label value with \, " and newlines escaped.
std::string escapeLabel(std::string_view value);

// The resident set size of this process from /proc/self/statm, or -1.
std::int64_t residentMemoryBytes();

}  // namespace mcpproxy::api
