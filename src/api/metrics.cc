// See metrics.h. The page lists every metric family with HELP and TYPE lines; counters and the
// histogram keep their values for servers that were removed (Prometheus counters must not go
// backwards while the process lives).
#include "api/metrics.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace mcpproxy::api {

std::string escapeLabel(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::int64_t residentMemoryBytes() {
  std::FILE* file = std::fopen("/proc/self/statm", "r");
  if (!file) return -1;
  long long size = 0, resident = 0;
  int fields = std::fscanf(file, "%lld %lld", &size, &resident);
  std::fclose(file);
  if (fields != 2) return -1;
  return static_cast<std::int64_t>(resident) * ::sysconf(_SC_PAGESIZE);
}

void Metrics::recordCall(const std::string& server, bool ok, double seconds) {
  auto& s = series_[server];
  (ok ? s.ok : s.errors)++;
  ++s.count;
  s.sum += seconds;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++s.buckets[i];
      break;
    }
  }
}

std::string Metrics::render(const MetricsSnapshot& snapshot) const {
  std::string out;
  auto line = [&](std::string text) {
    out += text;
    out += '\n';
  };
  line("# HELP mcpproxy_calls_total Tool calls routed to upstream servers, by outcome.");
  line("# TYPE mcpproxy_calls_total counter");
  for (const auto& [server, s] : series_) {
    std::string label = escapeLabel(server);
    line(fmt::format("mcpproxy_calls_total{{server=\"{}\",status=\"ok\"}} {}", label, s.ok));
    line(fmt::format("mcpproxy_calls_total{{server=\"{}\",status=\"error\"}} {}", label, s.errors));
  }
  line("# HELP mcpproxy_call_duration_seconds Latency of tool calls to upstream servers.");
  line("# TYPE mcpproxy_call_duration_seconds histogram");
  for (const auto& [server, s] : series_) {
    std::string label = escapeLabel(server);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += s.buckets[i];
      line(fmt::format("mcpproxy_call_duration_seconds_bucket{{server=\"{}\",le=\"{}\"}} {}", label,
                       kBuckets[i], cumulative));
    }
    line(fmt::format("mcpproxy_call_duration_seconds_bucket{{server=\"{}\",le=\"+Inf\"}} {}", label,
                     s.count));
    line(fmt::format("mcpproxy_call_duration_seconds_sum{{server=\"{}\"}} {}", label, s.sum));
    line(fmt::format("mcpproxy_call_duration_seconds_count{{server=\"{}\"}} {}", label, s.count));
  }
  line("# HELP mcpproxy_upstream_state Current state of each upstream server (1 for the state).");
  line("# TYPE mcpproxy_upstream_state gauge");
  static constexpr std::string_view kStates[] = {"connecting", "ready", "failed", "disabled",
                                                 "stopped"};
  for (const auto& upstream : snapshot.upstreams) {
    std::string label = escapeLabel(upstream.name);
    for (auto state : kStates) {
      line(fmt::format("mcpproxy_upstream_state{{server=\"{}\",state=\"{}\"}} {}", label, state,
                       upstream.state == state ? 1 : 0));
    }
  }
  line("# HELP mcpproxy_upstreams Configured upstream servers.");
  line("# TYPE mcpproxy_upstreams gauge");
  line(fmt::format("mcpproxy_upstreams {}", snapshot.upstreams.size()));
  line("# HELP mcpproxy_sessions Open downstream MCP sessions.");
  line("# TYPE mcpproxy_sessions gauge");
  line(fmt::format("mcpproxy_sessions {}", snapshot.sessions));
  line("# HELP mcpproxy_tools Upstream tools exposed to clients.");
  line("# TYPE mcpproxy_tools gauge");
  line(fmt::format("mcpproxy_tools {}", snapshot.tools));
  if (snapshot.resident_bytes >= 0) {
    line("# HELP process_resident_memory_bytes Resident memory size in bytes.");
    line("# TYPE process_resident_memory_bytes gauge");
    line(fmt::format("process_resident_memory_bytes {}", snapshot.resident_bytes));
  }
  return out;
}

}  // namespace mcpproxy::api
