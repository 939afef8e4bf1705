// The proxy's one SQLite database (<data dir>/mcpproxy.db): servers, tool definitions with their
// canonical hashes, per-tool statistics and a bounded activity log of calls.
//
// SQLite is blocking, so the connection lives on a worker thread of its own and the event loop
// never waits on it: `co_await store.xxx()` suspends the calling coroutine while the worker runs
// the statement, and fire-and-forget writes (recordCall) are queued. WAL journal, a busy
// timeout for a second process on the same file, versioned migrations (PRAGMA user_version),
// and a quick_check on open: a corrupt file is moved aside and a fresh one created, so a bad
// disk never keeps the proxy from starting.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace mcpproxy::storage {

namespace json = boost::json;

struct StoreOptions {
  std::size_t activity_retention = 10'000;  // newest calls kept in the activity log
};

struct ToolRecord {
  std::string server;
  std::string name;
  std::string hash;         // canonical SHA-256, see tool_hash.h
  json::object definition;  // as the upstream sent it
  std::int64_t first_seen_ms = 0;
  std::int64_t last_seen_ms = 0;
  bool present = true;  // false once the server stopped listing it
};

struct CallRecord {
  std::int64_t time_ms = 0;  // wall clock, ms since the epoch
  std::string server;
  std::string tool;
  double duration_ms = 0;
  bool ok = true;
  std::string error;  // a short reason; never arguments or secrets
  std::size_t response_bytes = 0;
  std::string caller;  // short session id of the client
  std::size_t args_bytes = 0;
  std::string args_hash;  // first 16 hex chars of the SHA-256 of the canonical arguments
};

struct ToolStats {
  std::string server;
  std::string tool;
  std::int64_t calls = 0;
  std::int64_t errors = 0;
  double total_ms = 0;
  double p50_ms = 0;  // over the calls still in the activity log
  std::int64_t last_used_ms = 0;
};

// Trust decisions (issue 5): a server's stored state and the approved hash of each tool.
struct TrustSnapshot {
  std::int64_t version = 0;  // bumped by every trust change, from any process
  std::map<std::string, std::string> server_state;  // server -> "approved" | "quarantined"
  std::map<std::pair<std::string, std::string>, std::string> approved;  // (server, tool) -> hash
};

struct SecurityEvent {
  std::int64_t time_ms = 0;
  std::string kind;  // quarantined, approved, tool_approved, tool_changed, tool_pending, ...
  std::string server;
  std::string tool;    // may be empty
  std::string detail;  // a short human sentence; never secrets
};

// A pinned tool next to what the server lists now.
struct ToolDiff {
  std::optional<ToolRecord> approved;  // absent: never approved
  std::optional<ToolRecord> current;   // absent: the server no longer lists it
  std::optional<ToolRecord> previous;  // the approval before the current one (rollback)
};

// One approval of a tool, kept for history and rollback. Versions count from 1 per tool and
// only grow: a rollback is itself a new version (with a note) re-pinning an earlier definition.
struct ToolVersion {
  std::int64_t version = 0;
  std::string hash;
  json::object definition;  // as the upstream sent it when approved
  std::int64_t approved_at_ms = 0;
  std::string approved_by;  // "cli", "config", "trust_mode auto", ...; "" before schema 4
  std::string note;         // e.g. "rollback to v2"
  bool current = false;     // the pin in force (the newest version)
};

class Store {
 public:
  // Opens (creating and migrating as needed) the database at `file`. Completion handlers run on
  // `executor` (the event loop).
  static Result<std::unique_ptr<Store>> open(const std::filesystem::path& file,
                                             boost::asio::any_io_executor executor,
                                             StoreOptions options = {});
  ~Store();  // finishes queued writes, then closes
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Records what `server` lists now: inserts new tools, updates changed ones (hash and
  // definition), refreshes last_seen, and marks tools it no longer lists as not present.
  boost::asio::awaitable<Result<void>> syncServerTools(std::string server,
                                                       std::vector<json::object> tools);

  // The same without waiting for the result (failures are logged, rate-limited).
  void rememberServerTools(std::string server, std::vector<json::object> tools);

  // Queues one call for the activity log and statistics; never waits, never fails the caller
  // (a full disk is logged, rate-limited).
  void recordCall(CallRecord call);

  boost::asio::awaitable<Result<std::vector<ToolRecord>>> tools();
  boost::asio::awaitable<Result<std::vector<ToolStats>>> toolStats();
  boost::asio::awaitable<Result<std::vector<CallRecord>>> recentCalls(std::size_t limit);

  // --- Trust (quarantine and pinning) ---
  boost::asio::awaitable<Result<TrustSnapshot>> trust();
  // Only the version of the trust decisions: one primary-key read, cheap enough to poll.
  boost::asio::awaitable<Result<std::int64_t>> trustVersion();
  // Sets a server's state. Approving also pins every tool the server currently lists (the
  // baseline); `by` says who decided ("cli", "config", "agent").
  boost::asio::awaitable<Result<void>> setServerState(std::string server, std::string state,
                                                      std::string by, bool pin_current = true);
  // Pins the current definition of the named tools of `server` (all listed tools when `names`
  // is empty). The replaced approval is kept for rollback. Returns how many were pinned.
  boost::asio::awaitable<Result<std::size_t>> approveTools(std::string server,
                                                           std::vector<std::string> names,
                                                           std::string by);
  boost::asio::awaitable<Result<ToolDiff>> toolDiff(std::string server, std::string tool);
  // Every approved (pinned) tool of `server` with its approved definition, sorted by name
  // (first_seen_ms/last_seen_ms hold the approval time; `present` is whether the server lists
  // it now). What `mcpproxy manifest sign` vouches for.
  boost::asio::awaitable<Result<std::vector<ToolRecord>>> approvedTools(std::string server);
  // Every approval of SERVER:TOOL, oldest first (empty: never approved).
  boost::asio::awaitable<Result<std::vector<ToolVersion>>> toolHistory(std::string server,
                                                                       std::string tool);
  // Re-pins the definition of `to_version` (default: the newest version whose definition
  // differs from the pinned one) as a new version, so a server presenting the newer definition
  // is blocked again until a person decides. kNotFound: no such tool or version;
  // kInvalidArgument: nothing to go back to, or the target is the pinned definition.
  boost::asio::awaitable<Result<ToolVersion>> rollbackTool(std::string server, std::string tool,
                                                           std::optional<std::int64_t> to_version,
                                                           std::string by);
  void recordEvent(SecurityEvent event);  // queued, like recordCall
  // Queued versions for the event loop's synchronous paths (failures are logged).
  void queueServerState(std::string server, std::string state, std::string by,
                        bool pin_current = true);
  void queueApproveTools(std::string server, std::vector<std::string> names, std::string by);
  boost::asio::awaitable<Result<std::vector<SecurityEvent>>> events(std::size_t limit);

  // Waits until every write queued so far is done (tests, shutdown).
  boost::asio::awaitable<void> flush();

  const std::filesystem::path& file() const;

  static constexpr int kSchemaVersion = 4;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mcpproxy::storage
