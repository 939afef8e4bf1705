// Cross-server lookups for the router's tool scan: the scanner context of one server (every
// other server's tool and server names, indexed) and, for the shadowing checks, which servers
// offer a tool name and which tool descriptions mention it. Built once per change of any
// server's tools instead of once per scanned tool: with 70 servers of 15 real tools, the
// per-tool rebuild and name-by-name text search made start-up quadratic-times-passes (the
// proxy stayed busy for over a minute; see docs/benchmarks.md).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "policy/scanner.h"
#include "upstream/upstream.h"

namespace mcpproxy::router {

class ScanLookup {
 public:
  using Upstreams = std::vector<std::shared_ptr<upstream::Upstream>>;

  // Forgets everything; the next call rebuilds from the upstreams it is given.
  void invalidate();

  // The scanner context for a tool of `server`. Valid until the next call or invalidate().
  const policy::ScanContext& contextFor(const std::string& server, const Upstreams& upstreams);

  // Servers offering a tool named exactly `name`, in upstream order.
  const std::vector<std::string>& serversWithTool(const std::string& name,
                                                  const Upstreams& upstreams);

  // (server, tool) pairs, in upstream order, whose description mentions `lower_name` (ASCII
  // lower-case) as a whole word (bounded by bytes other than [A-Za-z0-9_]).
  std::vector<std::pair<std::string, std::string>> mentionsOf(const std::string& lower_name,
                                                              const Upstreams& upstreams);

 private:
  void ensure(const Upstreams& upstreams);

  bool built_ = false;
  std::unordered_map<std::string, std::vector<std::string>> servers_by_tool_;
  // Lower-case word -> (server, tool) whose description contains it; only words that are some
  // tool's name, so a server with 100k tools costs no more than its names.
  std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> mentions_;
  std::string context_server_;
  policy::ScanContext context_;
  bool context_valid_ = false;
};

}  // namespace mcpproxy::router
