#include "store/detail/sqlite_db.hpp"

#include <algorithm>
#include <string>

namespace grove::store::detail {

errc errc_from_sqlite(int rc) {
  switch (rc & 0xff) {  // primary code of an extended result code
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return errc::corrupt;
    default:
      return errc::io_error;
  }
}

std::error_code set_failure(Failure& f, sqlite3* db, int rc, std::string_view what) {
  f.ec = errc_from_sqlite(rc);
  f.text.assign(what);
  f.text += ": ";
  // sqlite3_errmsg describes the connection's most recent failure; without a connection (open
  // itself failed to allocate one) only the generic text of the code is known.
  // A code we made up ourselves (a stored value that cannot be Grove's) has no errmsg.
  const bool has_msg = db != nullptr && (sqlite3_errcode(db) & 0xff) == (rc & 0xff);
  f.text += has_msg ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return f.ec;
}

std::error_code set_failure(Failure& f, errc e, std::string text) {
  f.ec = e;
  f.text = std::move(text);
  return f.ec;
}

int exec(sqlite3* db, const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

int prepare(sqlite3* db, std::string_view sql, StmtPtr& out, bool persistent) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    persistent ? SQLITE_PREPARE_PERSISTENT : 0, &s, nullptr);
  out.reset(s);
  return rc;
}

int query_int(sqlite3* db, const char* sql, std::int64_t& out) {
  StmtPtr st;
  int rc = prepare(db, sql, st, false);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(st.get());
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
  out = sqlite3_column_int64(st.get(), 0);
  return SQLITE_OK;
}

namespace {

const char* synchronous_pragma(SqliteOptions::Synchronous s) {
  switch (s) {
    case SqliteOptions::Synchronous::normal:
      return "PRAGMA synchronous = NORMAL";
    case SqliteOptions::Synchronous::extra:
      return "PRAGMA synchronous = EXTRA";
    case SqliteOptions::Synchronous::full:
      break;
  }
  return "PRAGMA synchronous = FULL";
}

}  // namespace

std::error_code open_connection(const std::string& path, const SqliteOptions& opts, DbPtr& out,
                                Failure& f) {
  sqlite3* raw = nullptr;
  // NOMUTEX: each connection is used by one thread at a time (the store thread, or callers
  // serialised by the admin mutex), so SQLite's own per-connection mutex is not needed.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);
  if (rc != SQLITE_OK) return set_failure(f, db.get(), rc, "open " + path);
  sqlite3_extended_result_codes(db.get(), 1);
  const auto ms = opts.busy_timeout.count();
  rc = sqlite3_busy_timeout(db.get(), ms > 0x7fffffff ? 0x7fffffff : static_cast<int>(ms));
  if (rc != SQLITE_OK) return set_failure(f, db.get(), rc, "busy_timeout");
  // foreign_keys: registrations follow their device and identity (ON DELETE CASCADE).
  rc = exec(db.get(), "PRAGMA foreign_keys = ON");
  if (rc == SQLITE_OK) rc = exec(db.get(), synchronous_pragma(opts.synchronous));
  if (rc == SQLITE_OK) {
    const std::string limit = "PRAGMA journal_size_limit = " + std::to_string(opts.wal_size_limit);
    rc = exec(db.get(), limit.c_str());
  }
  if (rc == SQLITE_OK) {  // a negative cache_size is in KiB
    const std::uint64_t kib = std::max<std::uint64_t>(opts.cache_bytes / 1024, 1);
    const std::string cache = "PRAGMA cache_size = -" + std::to_string(kib);
    rc = exec(db.get(), cache.c_str());
  }
  if (rc != SQLITE_OK) return set_failure(f, db.get(), rc, "connection settings");
  out = std::move(db);
  return {};
}

int bind_text(sqlite3_stmt* st, int idx, std::string_view s) {
  // A zero-length view may have a null data(), which SQLite would bind as NULL.
  return sqlite3_bind_text64(st, idx, s.empty() ? "" : s.data(), s.size(), SQLITE_STATIC,
                             SQLITE_UTF8);
}

int bind_blob(sqlite3_stmt* st, int idx, const void* data, std::size_t size) {
  static const unsigned char empty = 0;
  return sqlite3_bind_blob64(st, idx, size == 0 ? &empty : data, size, SQLITE_STATIC);
}

std::string column_string(sqlite3_stmt* st, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, col));
  const int n = sqlite3_column_bytes(st, col);
  return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(n));
}

}  // namespace grove::store::detail
