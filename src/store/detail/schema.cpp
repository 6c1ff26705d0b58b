#include "store/detail/schema.hpp"

#include <string>

namespace grove::store::detail {
namespace {

// Version 1 (Grove 1.0). Tables are STRICT so a wrong type is an error, not a silent
// conversion. Unsigned 64-bit protocol values are stored as their two's-complement int64.
constexpr std::string_view kV1 = R"sql(
-- auth.md §2.2 and sstp.md §10.2: DeviceURL -> secret, enabled flag.
CREATE TABLE devices (
  url     TEXT PRIMARY KEY NOT NULL,
  secret  BLOB NOT NULL CHECK (length(secret) = 32),
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1))
) STRICT;

CREATE TABLE identities (
  url    TEXT PRIMARY KEY NOT NULL,
  secret BLOB NOT NULL CHECK (length(secret) = 32)
) STRICT;

-- sstp.md §11: devices registered for an identity's identity-targeted messages.
CREATE TABLE registrations (
  identity_url TEXT NOT NULL REFERENCES identities (url) ON DELETE CASCADE,
  device_url   TEXT NOT NULL REFERENCES devices (url) ON DELETE CASCADE,
  PRIMARY KEY (identity_url, device_url)
) STRICT;
CREATE INDEX registrations_by_device ON registrations (device_url);

-- sstp.md §10.2: one row per stored copy. AUTOINCREMENT so an id is never reused, even after
-- the newest copy was delivered and deleted: the relay pages queues by id.
CREATE TABLE messages (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  target_device       TEXT NOT NULL,
  resource_url        TEXT NOT NULL,
  identity_url        TEXT NOT NULL,
  identity_targeted   INTEGER NOT NULL CHECK (identity_targeted IN (0, 1)),
  flags               INTEGER NOT NULL CHECK (flags BETWEEN 0 AND 255),
  user_ref            TEXT NOT NULL,
  expiration_time     INTEGER,  -- NULL unless E (§6.6)
  total_size          INTEGER,  -- NULL unless S
  fragment_message_id BLOB,     -- these three NULL unless F
  fragment_index      INTEGER,
  fragment_count      INTEGER,
  sender_device       TEXT NOT NULL,
  arrival_unix        INTEGER NOT NULL,
  size                INTEGER NOT NULL,  -- length(data), for quotas without reading data
  data                BLOB NOT NULL
) STRICT;
CREATE INDEX messages_by_queue ON messages (target_device, id);
-- purge (sstp.md §10.6, §10.8) without a full scan: retention, then expiry.
CREATE INDEX messages_by_arrival ON messages (arrival_unix) WHERE expiration_time IS NULL;
CREATE INDEX messages_by_expiry ON messages (expiration_time) WHERE expiration_time IS NOT NULL;

PRAGMA application_id = 1196578387;  -- kApplicationId, "GRVS"
)sql";

constexpr Migration kMigrations[] = {
    {1, kV1},
};

// The first row of a PRAGMA returning text ("wal", "ok").
int query_text(sqlite3* db, const char* sql, std::string& out) {
  StmtPtr st;
  int rc = prepare(db, sql, st, false);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(st.get());
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
  out = column_string(st.get(), 0);
  return SQLITE_OK;
}

std::error_code too_new(Failure& f, std::int64_t version) {
  return set_failure(f, errc::too_new,
                     "schema version " + std::to_string(version) + " is newer than this build's " +
                         std::to_string(schema_version()));
}

std::error_code migrate(sqlite3* db, Failure& f) {
  for (const Migration& m : migrations()) {
    // IMMEDIATE: takes the write lock before reading user_version, so two processes opening a
    // new store at once cannot both apply the same migration.
    int rc = exec(db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) return set_failure(f, db, rc, "migration begin");
    std::int64_t version = 0;
    rc = query_int(db, "PRAGMA user_version", version);
    if (rc == SQLITE_OK && version > schema_version()) {
      (void)exec(db, "ROLLBACK");
      return too_new(f, version);
    }
    if (rc == SQLITE_OK && version < m.version) {
      const std::string sql =
          std::string(m.sql) + "\nPRAGMA user_version = " + std::to_string(m.version) + ";";
      rc = exec(db, sql.c_str());
    }
    if (rc == SQLITE_OK) rc = exec(db, "COMMIT");
    if (rc != SQLITE_OK) {
      set_failure(f, db, rc, "migration to version " + std::to_string(m.version));
      if (sqlite3_get_autocommit(db) == 0) (void)exec(db, "ROLLBACK");
      return f.ec;
    }
  }
  return {};
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int schema_version() { return kMigrations[std::size(kMigrations) - 1].version; }

std::error_code check_and_migrate(sqlite3* db, const SqliteOptions& opts, Failure& f) {
  // The first read of the header: a file that is not SQLite fails here with SQLITE_NOTADB.
  std::int64_t version = 0;
  int rc = query_int(db, "PRAGMA user_version", version);
  if (rc != SQLITE_OK) return set_failure(f, db, rc, "read schema version");
  if (version > schema_version()) return too_new(f, version);

  if (version > 0) {
    std::int64_t app = 0;
    rc = query_int(db, "PRAGMA application_id", app);
    if (rc != SQLITE_OK) return set_failure(f, db, rc, "read application_id");
    if (app != kApplicationId) return set_failure(f, errc::corrupt, "not a Grove store");
  } else {
    // Version 0 is a new, empty file; anything already in it belongs to someone else.
    std::int64_t objects = 0;
    rc = query_int(db, "SELECT count(*) FROM sqlite_schema", objects);
    if (rc != SQLITE_OK) return set_failure(f, db, rc, "read schema");
    if (objects != 0) return set_failure(f, errc::corrupt, "not a Grove store");
    // Only a file with no pages yet takes a page size, and only before it turns to WAL.
    const std::string page = "PRAGMA page_size = " + std::to_string(opts.page_size);
    rc = exec(db, page.c_str());
    if (rc != SQLITE_OK) return set_failure(f, db, rc, "page_size");
  }

  // WAL: readers do not block the writer, and a commit appends to one file (one sync).
  std::string mode;
  rc = query_text(db, "PRAGMA journal_mode = WAL", mode);
  if (rc != SQLITE_OK) return set_failure(f, db, rc, "journal_mode");
  if (mode != "wal")
    return set_failure(f, errc::io_error, "journal_mode: WAL refused (" + mode + ")");

  if (opts.quick_check_on_open && version > 0) {
    std::string result;
    rc = query_text(db, "PRAGMA quick_check(1)", result);
    if (rc != SQLITE_OK) return set_failure(f, db, rc, "quick_check");
    if (result != "ok") return set_failure(f, errc::corrupt, "quick_check: " + result);
  }
  return migrate(db, f);
}

}  // namespace grove::store::detail
