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
};
static_assert(std::size(kMigrations) == Store::kSchemaVersion);

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
  std::int64_t last_write_warning_ms = 0;

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

  void recordCall(const CallRecord& call) {
    if (auto r = exec(db, "BEGIN IMMEDIATE"); !r) {
      warnWriteFailure("cannot record a call: " + std::string(sqlite3_errmsg(db)));
      return;
    }
    Statement insert(db,
                     "INSERT INTO activity(time, server, tool, duration_ms, ok, error, "
                     "response_bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    insert.bind(1, call.time_ms)
        .bind(2, call.server)
        .bind(3, call.tool)
        .bind(4, call.duration_ms)
        .bind(5, std::int64_t{call.ok ? 1 : 0})
        .bind(6, std::string_view(call.error).substr(0, 500))
        .bind(7, static_cast<std::int64_t>(call.response_bytes));
    Statement stats(db,
                    "INSERT INTO tool_stats(server, tool, calls, errors, total_ms, last_used) "
                    "VALUES(?1, ?2, 1, ?3, ?4, ?5) ON CONFLICT(server, tool) DO UPDATE SET "
                    "calls = calls + 1, errors = errors + ?3, total_ms = total_ms + ?4, "
                    "last_used = max(last_used, ?5)");
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
    // Trim the log in batches rather than on every insert.
    if (++inserts_since_trim >= 100) {
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
      auto definition = protocol::parseJson(query.text(3), protocol::Limits{64 << 20, 1000});
      if (definition && definition->is_object()) record.definition = definition->get_object();
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
                    "SELECT time, server, tool, duration_ms, ok, error, response_bytes "
                    "FROM activity ORDER BY id DESC LIMIT ?1");
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
  asio::post(impl->worker, [impl, call = std::move(call)] { impl->recordCall(call); });
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

const fs::path& Store::file() const {
  return impl_->file;
}

}  // namespace mcpproxy::storage
