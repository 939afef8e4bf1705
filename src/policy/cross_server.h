// Cross-server checks of the poisoning scanner: what a tool definition means next to the other
// servers a client uses together. Pure functions over plain data (every server's name and tool
// definitions), shared by the daemon's router and `mcpproxy security scan --with-config`, so
// both give the same verdicts.
//
// What counts (docs/security.md): a description that refers to another server's tool or to
// another server in a way that looks like a reference — a code-like name (snake_case, dotted,
// camelCase as written, `name(`), a quoted name, the word "tool"/"function" next to it, "call
// NAME", "server:tool" or "server__tool" — is a finding (medium; high when the sentence orders
// the model or redirects it: "instead of", "before using", "you must"). A plain word that merely
// equals some tool's name ("query", "from", "path") is prose, not a reference. The same server's
// own tools are never cross-server references. The same name on two servers, and being referred
// to by another server's tool, are recorded as low findings (context for a person, not an
// attack by this tool).
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "policy/scanner.h"

namespace mcpproxy::policy {

// Referring tools kept per tool name for its "referred to by" finding (the rest are counted).
inline constexpr std::size_t kMaxReferrersKept = 8;
// References reported per definition (one per name and text; the rest add nothing new).
inline constexpr std::size_t kMaxReferencesPerTool = 32;
// Word runs joined by '-' or '.' tried as one name ("api-get-user", "fetch.url").
inline constexpr std::size_t kMaxJoinedParts = 8;

// One server's tools as the client sees them. Borrowed: only read while an index is built.
struct ServerTools {
  std::string server;
  std::span<const boost::json::object> tools;
};
// Every server the client uses together, in any order; server names are unique.
using ToolUniverse = std::vector<ServerTools>;

// Everything the cross-server checks need from a universe, precomputed once per change of any
// server's tools (names by server, which tools refer to which names). Owns its data.
class CrossServerIndex {
 public:
  CrossServerIndex();  // no servers
  explicit CrossServerIndex(const ToolUniverse& universe);
  ~CrossServerIndex();
  CrossServerIndex(CrossServerIndex&&) noexcept;
  CrossServerIndex& operator=(CrossServerIndex&&) noexcept;

  // The tool names `server` listed (empty when it is not in the universe).
  std::span<const std::string> toolsOf(std::string_view server) const;
  // Their titles (title and annotations.title), in listing order.
  std::span<const std::string> titlesOf(std::string_view server) const;
  std::size_t serverCount() const;

  struct Data;
  const Data& data() const { return *data_; }

 private:
  std::unique_ptr<Data> data_;
};

// The findings that `definition`, a tool of `server`, gets from the other servers of the index:
// references to their tools or names, the same name elsewhere, being referred to. `server` need
// not be in the index (a candidate server scanned against a configuration).
std::vector<Finding> crossServerFindings(std::string_view server,
                                         const boost::json::object& definition,
                                         const CrossServerIndex& index);

// The verdict a client's proxy gives: scanTool with the server's own tools as siblings, plus
// crossServerFindings, scored together.
ScanResult scanInUniverse(std::string_view server, const boost::json::object& definition,
                          const CrossServerIndex& index);

}  // namespace mcpproxy::policy
