// Thin RAII over the SQLite C API, shared by the store thread and the admin connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "store/sqlite_store.hpp"
#include "store/store.hpp"

namespace grove::store::detail {

struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbClose>;

struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalize>;

// Resets a (cached) statement and clears its bindings when the scope ends, so it never keeps
// a read snapshot open nor holds a SQLITE_STATIC pointer past the data it points into.
class StmtScope {
 public:
  explicit StmtScope(sqlite3_stmt* s) : s_(s) {}
  ~StmtScope() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StmtScope(const StmtScope&) = delete;
  StmtScope& operator=(const StmtScope&) = delete;

 private:
  sqlite3_stmt* s_;
};

// A failure: the errc for the caller, the text for last_error().
struct Failure {
  std::error_code ec;
  std::string text;
};

// SQLITE_CORRUPT and SQLITE_NOTADB mean the file is damaged or not a database; every other
// failure (I/O, full disk, busy past the timeout, out of memory) is io_error.
[[nodiscard]] errc errc_from_sqlite(int rc);

// Fills `f` from the connection's last error: "<what>: <sqlite3_errmsg>". Returns f.ec.
std::error_code set_failure(Failure& f, sqlite3* db, int rc, std::string_view what);
// The same with a text of our own (no SQLite call failed).
std::error_code set_failure(Failure& f, errc e, std::string text);

// Runs SQL without results (may hold several statements).
[[nodiscard]] int exec(sqlite3* db, const char* sql);

// Prepares one statement, flagged persistent when it is cached for the store's lifetime.
[[nodiscard]] int prepare(sqlite3* db, std::string_view sql, StmtPtr& out, bool persistent);

// Runs a single-integer query such as "PRAGMA user_version".
[[nodiscard]] int query_int(sqlite3* db, const char* sql, std::int64_t& out);

// Opens a connection with the store's settings: extended result codes, busy timeout,
// foreign keys on, PRAGMA synchronous and journal_size_limit from `opts`. Does not touch the
// schema.
[[nodiscard]] std::error_code open_connection(const std::string& path, const SqliteOptions& opts,
                                              DbPtr& out, Failure& f);

// Text binding without a copy; `s` must outlive the statement's next reset.
[[nodiscard]] int bind_text(sqlite3_stmt* st, int idx, std::string_view s);
// Blob binding without a copy (SQLITE_STATIC); never binds NULL for an empty blob.
[[nodiscard]] int bind_blob(sqlite3_stmt* st, int idx, const void* data, std::size_t size);
std::string column_string(sqlite3_stmt* st, int col);

}  // namespace grove::store::detail
