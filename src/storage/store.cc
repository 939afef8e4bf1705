// See store.h. All SQLite calls happen on the store's single worker thread; the event loop only
// posts jobs and is resumed with their results, so there are no locks around the connection.
#include "storage/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>

#include "common/log.h"
#include "protocol/jsonrpc.h"
#include "storage/tool_hash.h"

namespace mcpproxy::storage {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

std::int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Schema migrations, applied in order; PRAGMA user_version is the index of the last one.
// Never edit a released migration: add a new one.
constexpr const char* kMigrations[] = {
    // 1: servers, tools with canonical hashes, statistics, activity log.
    R"sql(
CREATE TABLE servers (
  name TEXT PRIMARY KEY,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE TABLE tools (
  server TEXT NOT NULL,
  name TEXT NOT NULL,
  hash TEXT NOT NULL,
  definition TEXT NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  present INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (server, name)
);
CREATE TABLE tool_stats (
  server TEXT NOT NULL,
  tool TEXT NOT NULL,
  calls INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  total_ms REAL NOT NULL DEFAULT 0,
  last_used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (server, tool)
);
CREATE TABLE activity (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  server TEXT NOT NULL,
  tool TEXT NOT NULL,
  duration_ms REAL NOT NULL,
  ok INTEGER NOT NULL,
  error TEXT,
  response_bytes INTEGER NOT NULL
);
CREATE INDEX activity_by_tool ON activity (server, tool, duration_ms);
)sql",
    // 2: quarantine and tool pinning, security events.
    R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta (key, value) VALUES ('trust_version', 0);
CREATE TABLE server_trust (
  server TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('approved', 'quarantined')),
  changed_at INTEGER NOT NULL,
  changed_by TEXT NOT NULL
);
CREATE TABLE tool_approvals (
  server TEXT NOT NULL,
  name TEXT NOT NULL,
  hash TEXT NOT NULL,
  definition TEXT NOT NULL,
  approved_at INTEGER NOT NULL,
  approved_by TEXT NOT NULL,
  PRIMARY KEY (server, name)
);
CREATE TABLE tool_approval_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  server TEXT NOT NULL,
  name TEXT NOT NULL,
  hash TEXT NOT NULL,
  definition TEXT NOT NULL,
  approved_at INTEGER NOT NULL,
  replaced_at INTEGER NOT NULL
);
CREATE TABLE security_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  kind TEXT NOT NULL,
  server TEXT NOT NULL,
  tool TEXT NOT NULL,
  detail TEXT NOT NULL
);
)sql",
    // 3: who called, and the arguments as size and hash only (they may hold secrets).
    R"sql(
ALTER TABLE activity ADD COLUMN caller TEXT NOT NULL DEFAULT '';
ALTER TABLE activity ADD COLUMN args_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activity ADD COLUMN args_hash TEXT NOT NULL DEFAULT '';
)sql",
    // 4: every approval kept as a numbered version (history and rollback, issue 16). The
    // approvals made before are carried over: the replaced ones in the order they were
    // replaced (who approved them was not recorded), then the current one.
    R"sql(
CREATE TABLE tool_versions (
  server TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  hash TEXT NOT NULL,
  definition TEXT NOT NULL,
  approved_at INTEGER NOT NULL,
  approved_by TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (server, name, version)
);
INSERT INTO tool_versions(server, name, version, hash, definition, approved_at, approved_by, note)
  SELECT server, name, ROW_NUMBER() OVER (PARTITION BY server, name ORDER BY id), hash,
         definition, approved_at, '', 'approved before versions were kept'
  FROM tool_approval_history;
INSERT INTO tool_versions(server, name, version, hash, definition, approved_at, approved_by)
  SELECT a.server, a.name,
         1 + coalesce((SELECT max(v.version) FROM tool_versions v
                       WHERE v.server = a.server AND v.name = a.name), 0),
         a.hash, a.definition, a.approved_at, a.approved_by
  FROM tool_approvals a;
)sql",
};
static_assert(std::size(kMigrations) == Store::kSchemaVersion);

// A definition as stored (serialised by us, so it parses; an unreadable one reads as empty).
json::object storedDefinition(const std::string& text) {
  auto definition = protocol::parseJson(text, protocol::Limits{64 << 20, 1000});
  return definition && definition->is_object() ? definition->get_object() : json::object();
}

// Pins a tool: the one statement that writes tool_approvals (?1 server, ?2 name, ?3 hash,
// ?4 definition, ?5 approved_at, ?6 approved_by).
constexpr const char* kUpsertApproval =
    "INSERT INTO tool_approvals(server, name, hash, definition, approved_at, approved_by) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(server, name) DO UPDATE SET hash = ?3, "
    "definition = ?4, approved_at = ?5, approved_by = ?6";

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  Statement& bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, std::int64_t value) {
    sqlite3_bind_int64(stmt_, i, value);
    return *this;
  }
  Statement& bind(int i, double value) {
    sqlite3_bind_double(stmt_, i, value);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return stmt_ ? sqlite3_step(stmt_) : SQLITE_ERROR; }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string error() const { return sqlite3_errmsg(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

std::unexpected<Error> sqlError(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db);
  auto kind = (code & 0xff) == SQLITE_FULL ? ErrorCode::kIo : ErrorCode::kInternal;
  return makeError(kind, std::string(what) + ": " + sqlite3_errmsg(db));
}

Result<void> exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return makeError(ErrorCode::kInternal, text);
  }
  return {};
}

// Opens the file, applies pragmas and migrations. Returns the error so the caller can decide to
// move a corrupt file aside.
Result<sqlite3*> openAndMigrate(const fs::path& file) {
  // Create the file with mode 0600 first: it holds tool definitions and activity.
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return makeError(ErrorCode::kIo,
                     "cannot create " + file.string() + ": " + std::strerror(errno));
  }
  ::close(fd);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  auto fail = [&](std::string what) -> Result<sqlite3*> {
    std::string text = what + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close_v2(db);
    return makeError(ErrorCode::kInternal, text);
  };
  if (rc != SQLITE_OK) return fail("cannot open");
  sqlite3_busy_timeout(db, 5000);  // another mcpproxy process on the same data dir
  sqlite3_extended_result_codes(db, 1);
  if (auto r = exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !r) {
    return fail("cannot enable WAL");
  }
  {
    Statement check(db, "PRAGMA quick_check");
    if (!check.ok() || check.step() != SQLITE_ROW || check.text(0) != "ok") {
      return fail("integrity check failed");
    }
  }
  Statement version_query(db, "PRAGMA user_version");
  if (!version_query.ok() || version_query.step() != SQLITE_ROW) return fail("cannot read schema");
  auto version = static_cast<int>(version_query.integer(0));
  if (version > Store::kSchemaVersion) {
    sqlite3_close_v2(db);
    return makeError(ErrorCode::kInvalidArgument,
                     "the database was written by a newer mcpproxy (schema " +
                         std::to_string(version) + ", this build knows " +
                         std::to_string(Store::kSchemaVersion) + ")");
  }
  for (int next = version; next < Store::kSchemaVersion; ++next) {
    std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrations[next] +
                      "PRAGMA user_version=" + std::to_string(next + 1) + "; COMMIT;";
    if (auto r = exec(db, sql.c_str()); !r) {
      exec(db, "ROLLBACK");
      return fail("migration " + std::to_string(next + 1) + " failed");
    }
  }
  return db;
}

}  // namespace

struct Store::Impl {
  fs::path file;
  asio::any_io_executor executor;
  StoreOptions options;
  sqlite3* db = nullptr;
  asio::thread_pool worker{1};
  std::int64_t inserts_since_trim = 0;  // worker thread only
  std::mutex pending_mu;                // guards pending_calls (event loop and worker)
  std::vector<CallRecord> pending_calls;
  std::int64_t last_write_warning_ms = 0;
  std::int64_t events_since_trim = 0;

  ~Impl() {
    asio::post(worker, [this] {
      sqlite3_close_v2(db);
      db = nullptr;
    });
    worker.join();
  }

  // Runs `f` on the worker and resumes the awaiting coroutine on the event loop with its result.
  template <class F>
  auto run(F f) -> asio::awaitable<decltype(f())> {
    using R = decltype(f());
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(R)>(
        [this](auto handler, F job) {
          auto work = asio::make_work_guard(asio::get_associated_executor(handler, executor));
          asio::post(worker, [job = std::move(job), handler = std::move(handler),
                              work = std::move(work)]() mutable {
            R result = job();
            auto target = work.get_executor();
            asio::post(target,
                       [handler = std::move(handler), result = std::move(result)]() mutable {
                         std::move(handler)(std::move(result));
                       });
          });
        },
        asio::use_awaitable, std::move(f));
  }

  void warnWriteFailure(const std::string& what) {
    auto now = nowMs();
    if (now - last_write_warning_ms < 60'000) return;  // a full disk would flood the log
    last_write_warning_ms = now;
    log::error("store {}: {}", file.string(), what);
  }

  Result<void> syncServerTools(const std::string& server, const std::vector<json::object>& tools) {
    auto now = nowMs();
    if (auto r = exec(db, "BEGIN IMMEDIATE"); !r) return sqlError(db, "begin");
    auto rollback = [&](std::string_view what) {
      auto error = sqlError(db, what);
      exec(db, "ROLLBACK");
      return error;
    };
    Statement upsert_server(db,
                            "INSERT INTO servers(name, first_seen, last_seen) VALUES(?1, ?2, ?2) "
                            "ON CONFLICT(name) DO UPDATE SET last_seen = ?2");
    upsert_server.bind(1, server).bind(2, now);
    if (upsert_server.step() != SQLITE_DONE) return rollback("servers");
    Statement absent(db, "UPDATE tools SET present = 0 WHERE server = ?1");
    absent.bind(1, server);
    if (absent.step() != SQLITE_DONE) return rollback("tools");
    Statement upsert_tool(
        db,
        "INSERT INTO tools(server, name, hash, definition, first_seen, last_seen, present) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?5, 1) ON CONFLICT(server, name) DO UPDATE SET "
        "hash = ?3, definition = ?4, last_seen = ?5, present = 1");
    for (const auto& tool : tools) {
      const auto* name = tool.if_contains("name");
      if (!name || !name->is_string()) continue;
      upsert_tool.bind(1, server)
          .bind(2, std::string_view(name->get_string()))
          .bind(3, toolHash(tool))
          .bind(4, json::serialize(tool))
          .bind(5, now);
      if (upsert_tool.step() != SQLITE_DONE) return rollback("tools");
      upsert_tool.reset();
    }
    if (auto r = exec(db, "COMMIT"); !r) return rollback("commit");
    return {};
  }

  // Writes every call queued by Store::recordCall in one transaction with one prepared
  // statement each: under load the calls of a burst share a commit (one transaction and two
  // statement compilations per call cost ~20% of the proxy's CPU at 8 concurrent calls).
  void recordPendingCalls() {
    std::vector<CallRecord> calls;
    {
      std::lock_guard lock(pending_mu);
      calls.swap(pending_calls);
    }
    if (calls.empty()) return;
    if (auto r = exec(db, "BEGIN IMMEDIATE"); !r) {
      warnWriteFailure("cannot record a call: " + std::string(sqlite3_errmsg(db)));
      return;
    }
    Statement insert(db,
                     "INSERT INTO activity(time, server, tool, duration_ms, ok, error, "
                     "response_bytes, caller, args_bytes, args_hash) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    Statement stats(db,
                    "INSERT INTO tool_stats(server, tool, calls, errors, total_ms, last_used) "
                    "VALUES(?1, ?2, 1, ?3, ?4, ?5) ON CONFLICT(server, tool) DO UPDATE SET "
                    "calls = calls + 1, errors = errors + ?3, total_ms = total_ms + ?4, "
                    "last_used = max(last_used, ?5)");
    for (const CallRecord& call : calls) {
      insert.bind(1, call.time_ms)
          .bind(2, call.server)
          .bind(3, call.tool)
          .bind(4, call.duration_ms)
          .bind(5, std::int64_t{call.ok ? 1 : 0})
          .bind(6, std::string_view(call.error).substr(0, 500))
          .bind(7, static_cast<std::int64_t>(call.response_bytes))
          .bind(8, call.caller)
          .bind(9, static_cast<std::int64_t>(call.args_bytes))
          .bind(10, call.args_hash);
      stats.bind(1, call.server)
          .bind(2, call.tool)
          .bind(3, std::int64_t{call.ok ? 0 : 1})
          .bind(4, call.duration_ms)
          .bind(5, call.time_ms);
      if (insert.step() != SQLITE_DONE || stats.step() != SQLITE_DONE) {
        warnWriteFailure("cannot record a call: " + std::string(sqlite3_errmsg(db)));
        exec(db, "ROLLBACK");
        return;
      }
      insert.reset();
      stats.reset();
      ++inserts_since_trim;
    }
    // Trim the log in batches rather than on every insert.
    if (inserts_since_trim >= 100) {
      inserts_since_trim = 0;
      Statement trim(db, "DELETE FROM activity WHERE id <= (SELECT max(id) FROM activity) - ?1");
      trim.bind(1, static_cast<std::int64_t>(options.activity_retention));
      trim.step();
    }
    if (!exec(db, "COMMIT")) {
      warnWriteFailure("cannot record a call: " + std::string(sqlite3_errmsg(db)));
      exec(db, "ROLLBACK");
    }
  }

  Result<void> bumpTrustVersion() {
    if (auto r = exec(db, "UPDATE meta SET value = value + 1 WHERE key = 'trust_version'"); !r) {
      return sqlError(db, "trust version");
    }
    return {};
  }

  void insertEvent(const SecurityEvent& event) {
    Statement insert(db,
                     "INSERT INTO security_events(time, kind, server, tool, detail) "
                     "VALUES(?1, ?2, ?3, ?4, ?5)");
    insert.bind(1, event.time_ms ? event.time_ms : nowMs())
        .bind(2, event.kind)
        .bind(3, event.server)
        .bind(4, event.tool)
        .bind(5, std::string_view(event.detail).substr(0, 1000));
    if (insert.step() != SQLITE_DONE) {
      warnWriteFailure("cannot record a security event: " + std::string(sqlite3_errmsg(db)));
    }
    if (++events_since_trim >= 100) {
      events_since_trim = 0;
      Statement trim(db,
                     "DELETE FROM security_events WHERE id <= (SELECT max(id) FROM "
                     "security_events) - ?1");
      trim.bind(1, static_cast<std::int64_t>(options.activity_retention));
      trim.step();
    }
  }

  Result<std::int64_t> trustVersion() {
    Statement version(db, "SELECT value FROM meta WHERE key = 'trust_version'");
    if (version.step() != SQLITE_ROW) return sqlError(db, "trust version");
    return version.integer(0);
  }

  Result<TrustSnapshot> trust() {
    TrustSnapshot snapshot;
    auto version = trustVersion();
    if (!version) return std::unexpected(version.error());
    snapshot.version = *version;
    Statement servers(db, "SELECT server, state FROM server_trust");
    int rc;
    while ((rc = servers.step()) == SQLITE_ROW) {
      snapshot.server_state[servers.text(0)] = servers.text(1);
    }
    if (rc != SQLITE_DONE) return sqlError(db, "server_trust");
    Statement tools(db, "SELECT server, name, hash FROM tool_approvals");
    while ((rc = tools.step()) == SQLITE_ROW) {
      snapshot.approved[{tools.text(0), tools.text(1)}] = tools.text(2);
    }
    if (rc != SQLITE_DONE) return sqlError(db, "tool_approvals");
    return snapshot;
  }

  // Inside a transaction: records an approval as the tool's next version; returns its number.
  Result<std::int64_t> appendVersion(const std::string& server, const std::string& name,
                                     const std::string& hash, const std::string& definition,
                                     std::int64_t now, const std::string& by,
                                     const std::string& note) {
    Statement next(db,
                   "SELECT coalesce(max(version), 0) + 1 FROM tool_versions "
                   "WHERE server = ?1 AND name = ?2");
    next.bind(1, server).bind(2, name);
    if (next.step() != SQLITE_ROW) return sqlError(db, "tool_versions");
    std::int64_t version = next.integer(0);
    Statement insert(db,
                     "INSERT INTO tool_versions(server, name, version, hash, definition, "
                     "approved_at, approved_by, note) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    insert.bind(1, server)
        .bind(2, name)
        .bind(3, version)
        .bind(4, hash)
        .bind(5, definition)
        .bind(6, now)
        .bind(7, by)
        .bind(8, note);
    if (insert.step() != SQLITE_DONE) return sqlError(db, "tool_versions");
    return version;
  }

  Result<std::vector<ToolVersion>> toolHistory(const std::string& server, const std::string& name) {
    Statement query(db,
                    "SELECT version, hash, definition, approved_at, approved_by, note "
                    "FROM tool_versions WHERE server = ?1 AND name = ?2 ORDER BY version");
    if (!query.ok()) return sqlError(db, "tool_versions");
    query.bind(1, server).bind(2, name);
    std::vector<ToolVersion> out;
    int rc;
    while ((rc = query.step()) == SQLITE_ROW) {
      ToolVersion v;
      v.version = query.integer(0);
      v.hash = query.text(1);
      v.definition = storedDefinition(query.text(2));
      v.approved_at_ms = query.integer(3);
      v.approved_by = query.text(4);
      v.note = query.text(5);
      out.push_back(std::move(v));
    }
    if (rc != SQLITE_DONE) return sqlError(db, "tool_versions");
    if (!out.empty()) out.back().current = true;
    return out;
  }

  // Inside a transaction: re-pins an earlier version's definition as a new version.
  Result<ToolVersion> rollbackTool(const std::string& server, const std::string& name,
                                   std::optional<std::int64_t> to, const std::string& by) {
    auto history = toolHistory(server, name);
    if (!history) return std::unexpected(history.error());
    if (history->empty()) {
      return makeError(ErrorCode::kNotFound,
                       "'" + server + ":" + name + "' has never been approved");
    }
    const ToolVersion& current = history->back();
    const ToolVersion* target = nullptr;
    if (to) {
      for (const auto& v : *history) {
        if (v.version == *to) target = &v;
      }
      if (!target) {
        return makeError(ErrorCode::kNotFound,
                         "'" + server + ":" + name + "' has no version " + std::to_string(*to));
      }
      if (target->hash == current.hash) {
        return makeError(ErrorCode::kInvalidArgument, "v" + std::to_string(*to) +
                                                          " is the definition pinned now (v" +
                                                          std::to_string(current.version) + ")");
      }
    } else {
      for (auto it = history->rbegin(); it != history->rend(); ++it) {
        if (it->hash != current.hash) {
          target = &*it;
          break;
        }
      }
      if (!target) {
        return makeError(ErrorCode::kInvalidArgument,
                         "'" + server + ":" + name + "' has no earlier definition to go back to");
      }
    }
    auto now = nowMs();
    std::string definition = json::serialize(target->definition);
    Statement history_insert(db,
                             "INSERT INTO tool_approval_history(server, name, hash, definition, "
                             "approved_at, replaced_at) SELECT server, name, hash, definition, "
                             "approved_at, ?3 FROM tool_approvals WHERE server = ?1 AND name = ?2");
    history_insert.bind(1, server).bind(2, name).bind(3, now);
    if (history_insert.step() != SQLITE_DONE) return sqlError(db, "tool_approval_history");
    Statement upsert(db, kUpsertApproval);
    upsert.bind(1, server)
        .bind(2, name)
        .bind(3, target->hash)
        .bind(4, definition)
        .bind(5, now)
        .bind(6, by);
    if (upsert.step() != SQLITE_DONE) return sqlError(db, "tool_approvals");
    std::string note = "rollback to v" + std::to_string(target->version);
    auto version = appendVersion(server, name, target->hash, definition, now, by, note);
    if (!version) return std::unexpected(version.error());
    insertEvent({now, "tool_rolled_back", server, name,
                 "re-pinned v" + std::to_string(target->version) + " as v" +
                     std::to_string(*version) + " by " + by + "; the definition of v" +
                     std::to_string(current.version) + " is blocked again"});
    ToolVersion out = *target;
    out.version = *version;
    out.approved_at_ms = now;
    out.approved_by = by;
    out.note = note;
    out.current = true;
    return out;
  }

  // Inside a transaction: pins the listed (present) tools of `server`, all when names is empty.
  Result<std::size_t> pinTools(const std::string& server, const std::vector<std::string>& names,
                               const std::string& by) {
    auto now = nowMs();
    Statement current(db,
                      "SELECT name, hash, definition FROM tools WHERE server = ?1 AND present = 1");
    current.bind(1, server);
    Statement old(db,
                  "SELECT hash, definition, approved_at FROM tool_approvals "
                  "WHERE server = ?1 AND name = ?2");
    Statement history(db,
                      "INSERT INTO tool_approval_history(server, name, hash, definition, "
                      "approved_at, replaced_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    Statement upsert(db, kUpsertApproval);
    std::size_t pinned = 0;
    int rc;
    while ((rc = current.step()) == SQLITE_ROW) {
      std::string name = current.text(0);
      if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) continue;
      std::string hash = current.text(1);
      old.reset();
      old.bind(1, server).bind(2, name);
      if (old.step() == SQLITE_ROW) {
        if (old.text(0) == hash) continue;  // already pinned at this definition
        history.reset();
        history.bind(1, server)
            .bind(2, name)
            .bind(3, old.text(0))
            .bind(4, old.text(1))
            .bind(5, old.integer(2))
            .bind(6, now);
        if (history.step() != SQLITE_DONE) return sqlError(db, "tool_approval_history");
      }
      upsert.reset();
      upsert.bind(1, server)
          .bind(2, name)
          .bind(3, hash)
          .bind(4, current.text(2))
          .bind(5, now)
          .bind(6, by);
      if (upsert.step() != SQLITE_DONE) return sqlError(db, "tool_approvals");
      auto version = appendVersion(server, name, hash, current.text(2), now, by, "");
      if (!version) return std::unexpected(version.error());
      insertEvent({now, "tool_approved", server, name,
                   "pinned by " + by + " as v" + std::to_string(*version)});
      ++pinned;
    }
    if (rc != SQLITE_DONE) return sqlError(db, "tools");
    return pinned;
  }

  template <class F>
  auto transaction(F body) -> decltype(body()) {
    if (auto r = exec(db, "BEGIN IMMEDIATE"); !r) return sqlError(db, "begin");
    auto result = body();
    if (!result) {
      exec(db, "ROLLBACK");
      return result;
    }
    if (auto r = bumpTrustVersion(); !r) {
      exec(db, "ROLLBACK");
      return std::unexpected(r.error());
    }
    if (auto r = exec(db, "COMMIT"); !r) {
      auto error = sqlError(db, "commit");
      exec(db, "ROLLBACK");
      return error;
    }
    return result;
  }

  Result<void> setServerState(const std::string& server, const std::string& state,
                              const std::string& by, bool pin_current) {
    return transaction([&]() -> Result<void> {
      Statement upsert(db,
                       "INSERT INTO server_trust(server, state, changed_at, changed_by) "
                       "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(server) DO UPDATE SET state = ?2, "
                       "changed_at = ?3, changed_by = ?4");
      upsert.bind(1, server).bind(2, state).bind(3, nowMs()).bind(4, by);
      if (upsert.step() != SQLITE_DONE) return sqlError(db, "server_trust");
      insertEvent({0, state, server, "", "by " + by});
      if (state == "approved" && pin_current) {
        if (auto pinned = pinTools(server, {}, by); !pinned) return std::unexpected(pinned.error());
      }
      return {};
    });
  }

  Result<std::size_t> approveTools(const std::string& server, const std::vector<std::string>& names,
                                   const std::string& by) {
    return transaction([&] { return pinTools(server, names, by); });
  }

  std::optional<ToolRecord> readTool(const char* sql, const std::string& server,
                                     const std::string& name) {
    Statement query(db, sql);
    query.bind(1, server).bind(2, name);
    if (query.step() != SQLITE_ROW) return std::nullopt;
    ToolRecord record;
    record.server = server;
    record.name = name;
    record.hash = query.text(0);
    record.definition = storedDefinition(query.text(1));
    record.first_seen_ms = query.integer(2);
    record.last_seen_ms = query.integer(2);
    return record;
  }

  Result<ToolDiff> toolDiff(const std::string& server, const std::string& name) {
    ToolDiff diff;
    diff.approved = readTool(
        "SELECT hash, definition, approved_at FROM tool_approvals WHERE server = ?1 AND name = ?2",
        server, name);
    diff.current = readTool(
        "SELECT hash, definition, last_seen FROM tools WHERE server = ?1 AND name = ?2 AND "
        "present = 1",
        server, name);
    diff.previous = readTool(
        "SELECT hash, definition, approved_at FROM tool_approval_history WHERE server = ?1 AND "
        "name = ?2 ORDER BY id DESC LIMIT 1",
        server, name);
    return diff;
  }

  Result<ToolVersion> rollback(const std::string& server, const std::string& name,
                               std::optional<std::int64_t> to, const std::string& by) {
    return transaction([&] { return rollbackTool(server, name, to, by); });
  }

  Result<std::vector<ToolRecord>> approvedTools(const std::string& server) {
    Statement query(db,
                    "SELECT a.name, a.hash, a.definition, a.approved_at, "
                    "coalesce(t.present, 0) FROM tool_approvals a LEFT JOIN tools t "
                    "ON t.server = a.server AND t.name = a.name WHERE a.server = ?1 "
                    "ORDER BY a.name");
    if (!query.ok()) return sqlError(db, "tool_approvals");
    query.bind(1, server);
    std::vector<ToolRecord> out;
    int rc;
    while ((rc = query.step()) == SQLITE_ROW) {
      ToolRecord record;
      record.server = server;
      record.name = query.text(0);
      record.hash = query.text(1);
      record.definition = storedDefinition(query.text(2));
      record.first_seen_ms = record.last_seen_ms = query.integer(3);
      record.present = query.integer(4) != 0;
      out.push_back(std::move(record));
    }
    if (rc != SQLITE_DONE) return sqlError(db, "tool_approvals");
    return out;
  }

  Result<std::vector<SecurityEvent>> events(std::size_t limit) {
    Statement query(db,
                    "SELECT time, kind, server, tool, detail FROM security_events "
                    "ORDER BY id DESC LIMIT ?1");
    query.bind(1, static_cast<std::int64_t>(limit));
    std::vector<SecurityEvent> out;
    int rc;
    while ((rc = query.step()) == SQLITE_ROW) {
      out.push_back({query.integer(0), query.text(1), query.text(2), query.text(3), query.text(4)});
    }
    if (rc != SQLITE_DONE) return sqlError(db, "security_events");
    return out;
  }

  Result<std::vector<ToolRecord>> tools() {
    Statement query(db,
                    "SELECT server, name, hash, definition, first_seen, last_seen, present "
                    "FROM tools ORDER BY server, name");
    if (!query.ok()) return sqlError(db, "tools");
    std::vector<ToolRecord> out;
    int rc;
    while ((rc = query.step()) == SQLITE_ROW) {
      ToolRecord record;
      record.server = query.text(0);
      record.name = query.text(1);
      record.hash = query.text(2);
      record.definition = storedDefinition(query.text(3));
      record.first_seen_ms = query.integer(4);
      record.last_seen_ms = query.integer(5);
      record.present = query.integer(6) != 0;
      out.push_back(std::move(record));
    }
    if (rc != SQLITE_DONE) return sqlError(db, "tools");
    return out;
  }

  Result<std::vector<ToolStats>> toolStats() {
    Statement query(db,
                    "SELECT server, tool, calls, errors, total_ms, last_used FROM tool_stats "
                    "ORDER BY calls DESC, server, tool");
    Statement durations(db,
                        "SELECT server, tool, duration_ms FROM activity "
                        "ORDER BY server, tool, duration_ms");
    if (!query.ok() || !durations.ok()) return sqlError(db, "tool_stats");
    std::map<std::pair<std::string, std::string>, std::vector<double>> samples;
    int rc;
    while ((rc = durations.step()) == SQLITE_ROW) {
      samples[{durations.text(0), durations.text(1)}].push_back(durations.real(2));
    }
    if (rc != SQLITE_DONE) return sqlError(db, "activity");
    std::vector<ToolStats> out;
    while ((rc = query.step()) == SQLITE_ROW) {
      ToolStats stats;
      stats.server = query.text(0);
      stats.tool = query.text(1);
      stats.calls = query.integer(2);
      stats.errors = query.integer(3);
      stats.total_ms = query.real(4);
      stats.last_used_ms = query.integer(5);
      if (auto it = samples.find({stats.server, stats.tool}); it != samples.end()) {
        const auto& v = it->second;  // sorted by the query
        stats.p50_ms = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
      }
      out.push_back(std::move(stats));
    }
    if (rc != SQLITE_DONE) return sqlError(db, "tool_stats");
    return out;
  }

  Result<std::vector<CallRecord>> recentCalls(std::size_t limit) {
    Statement query(db,
                    "SELECT time, server, tool, duration_ms, ok, error, response_bytes, caller, "
                    "args_bytes, args_hash FROM activity ORDER BY id DESC LIMIT ?1");
    if (!query.ok()) return sqlError(db, "activity");
    query.bind(1, static_cast<std::int64_t>(limit));
    std::vector<CallRecord> out;
    int rc;
    while ((rc = query.step()) == SQLITE_ROW) {
      CallRecord call;
      call.time_ms = query.integer(0);
      call.server = query.text(1);
      call.tool = query.text(2);
      call.duration_ms = query.real(3);
      call.ok = query.integer(4) != 0;
      call.error = query.text(5);
      call.response_bytes = static_cast<std::size_t>(query.integer(6));
      call.caller = query.text(7);
      call.args_bytes = static_cast<std::size_t>(query.integer(8));
      call.args_hash = query.text(9);
      out.push_back(std::move(call));
    }
    if (rc != SQLITE_DONE) return sqlError(db, "activity");
    return out;
  }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const fs::path& file, asio::any_io_executor executor,
                                           StoreOptions options) {
  auto db = openAndMigrate(file);
  if (!db && db.error().code == ErrorCode::kInternal) {
    // Corrupt or unreadable: keep the evidence, start fresh. Losing statistics is better than
    // a proxy that cannot start.
    auto aside = file.string() + ".corrupt-" + std::to_string(nowMs());
    log::error("database {} is unusable ({}); moving it to {} and starting a new one",
               file.string(), db.error().message, aside);
    std::error_code ignored;
    fs::rename(file, aside, ignored);
    for (const char* suffix : {"-wal", "-shm"}) {
      fs::rename(file.string() + suffix, aside + suffix, ignored);
    }
    db = openAndMigrate(file);
  }
  if (!db) return std::unexpected(db.error());
  auto impl = std::make_unique<Impl>();
  impl->file = file;
  impl->executor = std::move(executor);
  impl->options = options;
  impl->db = *db;
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

asio::awaitable<Result<void>> Store::syncServerTools(std::string server,
                                                     std::vector<json::object> tools) {
  auto* impl = impl_.get();
  return impl->run([impl, server = std::move(server), tools = std::move(tools)] {
    return impl->syncServerTools(server, tools);
  });
}

void Store::rememberServerTools(std::string server, std::vector<json::object> tools) {
  auto* impl = impl_.get();
  asio::post(impl->worker, [impl, server = std::move(server), tools = std::move(tools)] {
    if (auto r = impl->syncServerTools(server, tools); !r) {
      impl->warnWriteFailure("cannot record the tools of '" + server + "': " + r.error().message);
    }
  });
}

void Store::recordCall(CallRecord call) {
  auto* impl = impl_.get();
  bool schedule = false;
  {
    std::lock_guard lock(impl->pending_mu);
    schedule = impl->pending_calls.empty();  // else a queued job will take this one too
    impl->pending_calls.push_back(std::move(call));
  }
  if (schedule) asio::post(impl->worker, [impl] { impl->recordPendingCalls(); });
}

asio::awaitable<Result<std::vector<ToolRecord>>> Store::tools() {
  auto* impl = impl_.get();
  return impl->run([impl] { return impl->tools(); });
}

asio::awaitable<Result<std::vector<ToolStats>>> Store::toolStats() {
  auto* impl = impl_.get();
  return impl->run([impl] { return impl->toolStats(); });
}

asio::awaitable<Result<std::vector<CallRecord>>> Store::recentCalls(std::size_t limit) {
  auto* impl = impl_.get();
  return impl->run([impl, limit] { return impl->recentCalls(limit); });
}

asio::awaitable<void> Store::flush() {
  // The worker runs jobs in order: when this one runs, everything queued before it is done.
  auto* impl = impl_.get();
  co_await impl->run([] { return true; });
}

asio::awaitable<Result<TrustSnapshot>> Store::trust() {
  auto* impl = impl_.get();
  return impl->run([impl] { return impl->trust(); });
}

asio::awaitable<Result<std::int64_t>> Store::trustVersion() {
  auto* impl = impl_.get();
  return impl->run([impl] { return impl->trustVersion(); });
}

asio::awaitable<Result<void>> Store::setServerState(std::string server, std::string state,
                                                    std::string by, bool pin_current) {
  auto* impl = impl_.get();
  return impl->run([impl, server = std::move(server), state = std::move(state), by = std::move(by),
                    pin_current] { return impl->setServerState(server, state, by, pin_current); });
}

asio::awaitable<Result<std::size_t>> Store::approveTools(std::string server,
                                                         std::vector<std::string> names,
                                                         std::string by) {
  auto* impl = impl_.get();
  return impl->run([impl, server = std::move(server), names = std::move(names),
                    by = std::move(by)] { return impl->approveTools(server, names, by); });
}

asio::awaitable<Result<ToolDiff>> Store::toolDiff(std::string server, std::string tool) {
  auto* impl = impl_.get();
  return impl->run([impl, server = std::move(server), tool = std::move(tool)] {
    return impl->toolDiff(server, tool);
  });
}

asio::awaitable<Result<std::vector<ToolVersion>>> Store::toolHistory(std::string server,
                                                                     std::string tool) {
  auto* impl = impl_.get();
  return impl->run([impl, server = std::move(server), tool = std::move(tool)] {
    return impl->toolHistory(server, tool);
  });
}

asio::awaitable<Result<ToolVersion>> Store::rollbackTool(std::string server, std::string tool,
                                                         std::optional<std::int64_t> to_version,
                                                         std::string by) {
  auto* impl = impl_.get();
  return impl->run([impl, server = std::move(server), tool = std::move(tool), to_version,
                    by = std::move(by)] { return impl->rollback(server, tool, to_version, by); });
}

asio::awaitable<Result<std::vector<ToolRecord>>> Store::approvedTools(std::string server) {
  auto* impl = impl_.get();
  return impl->run([impl, server = std::move(server)] { return impl->approvedTools(server); });
}

void Store::queueServerState(std::string server, std::string state, std::string by,
                             bool pin_current) {
  auto* impl = impl_.get();
  asio::post(impl->worker, [impl, server = std::move(server), state = std::move(state),
                            by = std::move(by), pin_current] {
    if (auto r = impl->setServerState(server, state, by, pin_current); !r) {
      impl->warnWriteFailure("cannot store the state of '" + server + "': " + r.error().message);
    }
  });
}

void Store::queueApproveTools(std::string server, std::vector<std::string> names, std::string by) {
  auto* impl = impl_.get();
  asio::post(impl->worker, [impl, server = std::move(server), names = std::move(names),
                            by = std::move(by)] {
    if (auto r = impl->approveTools(server, names, by); !r) {
      impl->warnWriteFailure("cannot pin tools of '" + server + "': " + r.error().message);
    }
  });
}

void Store::recordEvent(SecurityEvent event) {
  auto* impl = impl_.get();
  asio::post(impl->worker, [impl, event = std::move(event)] { impl->insertEvent(event); });
}

asio::awaitable<Result<std::vector<SecurityEvent>>> Store::events(std::size_t limit) {
  auto* impl = impl_.get();
  return impl->run([impl, limit] { return impl->events(limit); });
}

const fs::path& Store::file() const {
  return impl_->file;
}

}  // namespace mcpproxy::storage
