// SqliteStore's synchronous administration calls (devices, identities, registrations, queue
// totals) on the admin connection. Writes take the write lock up front (IMMEDIATE) and wait
// for the store thread's commit with the busy timeout.
#include <cstring>
#include <initializer_list>
#include <string_view>
#include <variant>

#include "store/detail/sqlite_impl.hpp"
#include "store/sqlite_store.hpp"

namespace grove::store {
namespace {

using detail::Failure;
using detail::StmtPtr;

// One bound value of a statement.
using Value = std::variant<std::string_view, const auth::Secret*, std::int64_t>;

int bind_all(sqlite3_stmt* st, std::initializer_list<Value> values) {
  int idx = 1;
  for (const Value& v : values) {
    int rc = SQLITE_OK;
    if (const auto* s = std::get_if<std::string_view>(&v)) {
      rc = detail::bind_text(st, idx, *s);
    } else if (const auto* k = std::get_if<const auth::Secret*>(&v)) {
      rc = detail::bind_blob(st, idx, (*k)->data(), (*k)->size());
    } else {
      rc = sqlite3_bind_int64(st, idx, std::get<std::int64_t>(v));
    }
    if (rc != SQLITE_OK) return rc;
    ++idx;
  }
  return SQLITE_OK;
}

// Runs one statement without results; `changes` receives the rows it touched.
int run(sqlite3* db, std::string_view sql, std::initializer_list<Value> values,
        std::int64_t* changes = nullptr) {
  StmtPtr st;
  int rc = detail::prepare(db, sql, st, false);
  if (rc == SQLITE_OK) rc = bind_all(st.get(), values);
  if (rc == SQLITE_OK) rc = sqlite3_step(st.get());
  if (rc != SQLITE_DONE) return rc;
  if (changes != nullptr) *changes = sqlite3_changes64(db);
  return SQLITE_OK;
}

// A statement's failure as an errc: a UNIQUE/PRIMARY KEY clash is `exists`, a missing parent
// of a FOREIGN KEY is `not_found`, everything else the generic mapping.
std::error_code fail(Failure& f, sqlite3* db, int rc, std::string_view what) {
  detail::set_failure(f, db, rc, what);
  if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) f.ec = errc::exists;
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) f.ec = errc::not_found;
  return f.ec;
}

bool read_secret(sqlite3_stmt* st, int col, auth::Secret& out) {
  if (static_cast<std::size_t>(sqlite3_column_bytes(st, col)) != out.size()) return false;
  std::memcpy(out.data(), sqlite3_column_blob(st, col), out.size());
  return true;
}

}  // namespace

// Runs `body(db, f)` on the admin connection; errc::closed after close(). Failures with a
// cause (io_error, corrupt) are recorded for last_error().
template <typename Body>
static std::error_code with_admin(SqliteStore::Impl& impl, Body&& body) {
  auto admin = impl.admin();
  if (admin.db == nullptr) return errc::closed;
  Failure f;
  const std::error_code ec = body(admin.db, f);
  if (ec == errc::io_error || ec == errc::corrupt) impl.record(f);
  return ec;
}

// A write of one statement that must touch exactly one row (else not_found).
static std::error_code update_one(SqliteStore::Impl& impl, std::string_view sql,
                                  std::initializer_list<Value> values, std::string_view what) {
  return with_admin(impl, [&](sqlite3* db, Failure& f) -> std::error_code {
    std::int64_t changes = 0;
    const int rc = run(db, sql, values, &changes);
    if (rc != SQLITE_OK) return fail(f, db, rc, what);
    return changes == 0 ? make_error_code(errc::not_found) : std::error_code();
  });
}

// Deletes one row and what hangs off it, in one IMMEDIATE transaction.
static std::error_code remove_with(SqliteStore::Impl& impl, std::string_view url,
                                   std::initializer_list<std::string_view> sqls,
                                   std::string_view what) {
  return with_admin(impl, [&](sqlite3* db, Failure& f) -> std::error_code {
    int rc = detail::exec(db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) return fail(f, db, rc, what);
    bool found = true;
    bool first = true;
    for (std::string_view sql : sqls) {
      std::int64_t changes = 0;
      rc = run(db, sql, {url}, &changes);
      if (rc != SQLITE_OK) break;
      // The first statement deletes the row itself; none deleted = unknown URL.
      if (first && changes == 0) {
        found = false;
        break;
      }
      first = false;
    }
    if (rc == SQLITE_OK && found) rc = detail::exec(db, "COMMIT");
    if (rc != SQLITE_OK || !found) {
      std::error_code ec = errc::not_found;
      if (rc != SQLITE_OK) ec = fail(f, db, rc, what);
      if (sqlite3_get_autocommit(db) == 0) (void)detail::exec(db, "ROLLBACK");
      return ec;
    }
    return {};
  });
}

std::error_code SqliteStore::add_device(const DeviceRecord& d) {
  return with_admin(*impl_, [&](sqlite3* db, Failure& f) -> std::error_code {
    const int rc = run(db, "INSERT INTO devices (url, secret, enabled) VALUES (?1, ?2, ?3)",
                       {d.url, &d.secret, std::int64_t{d.enabled ? 1 : 0}});
    return rc == SQLITE_OK ? std::error_code() : fail(f, db, rc, "add device");
  });
}

std::error_code SqliteStore::set_device_secret(const std::string& url, const auth::Secret& s) {
  return update_one(*impl_, "UPDATE devices SET secret = ?2 WHERE url = ?1", {url, &s},
                    "set device secret");
}

std::error_code SqliteStore::set_device_enabled(const std::string& url, bool on) {
  return update_one(*impl_, "UPDATE devices SET enabled = ?2 WHERE url = ?1",
                    {url, std::int64_t{on ? 1 : 0}}, "set device enabled");
}

std::error_code SqliteStore::remove_device(const std::string& url) {
  return remove_with(
      *impl_, url,
      {"DELETE FROM devices WHERE url = ?1", "DELETE FROM registrations WHERE device_url = ?1",
       "DELETE FROM messages WHERE target_device = ?1"},
      "remove device");
}

std::error_code SqliteStore::list_devices(std::vector<DeviceRecord>& out) {
  out.clear();
  return with_admin(*impl_, [&](sqlite3* db, Failure& f) -> std::error_code {
    StmtPtr st;
    int rc =
        detail::prepare(db, "SELECT url, secret, enabled FROM devices ORDER BY url", st, false);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      DeviceRecord& d = out.emplace_back();
      d.url = detail::column_string(st.get(), 0);
      if (!read_secret(st.get(), 1, d.secret)) rc = SQLITE_CORRUPT;
      d.enabled = sqlite3_column_int(st.get(), 2) != 0;
      if (rc == SQLITE_ROW) rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE) return {};
    out.clear();
    return fail(f, db, rc, "list devices");
  });
}

std::error_code SqliteStore::add_identity(const IdentityRecord& i) {
  return with_admin(*impl_, [&](sqlite3* db, Failure& f) -> std::error_code {
    const int rc =
        run(db, "INSERT INTO identities (url, secret) VALUES (?1, ?2)", {i.url, &i.secret});
    return rc == SQLITE_OK ? std::error_code() : fail(f, db, rc, "add identity");
  });
}

std::error_code SqliteStore::set_identity_secret(const std::string& url, const auth::Secret& s) {
  return update_one(*impl_, "UPDATE identities SET secret = ?2 WHERE url = ?1", {url, &s},
                    "set identity secret");
}

std::error_code SqliteStore::remove_identity(const std::string& url) {
  return remove_with(
      *impl_, url,
      {"DELETE FROM identities WHERE url = ?1", "DELETE FROM registrations WHERE identity_url = ?1",
       // its pending queue: store.hpp pending_queue()
       "DELETE FROM messages WHERE target_device = 'pending ' || ?1"},
      "remove identity");
}

std::error_code SqliteStore::list_identities(std::vector<IdentityRecord>& out) {
  out.clear();
  return with_admin(*impl_, [&](sqlite3* db, Failure& f) -> std::error_code {
    StmtPtr st;
    int rc = detail::prepare(db, "SELECT url, secret FROM identities ORDER BY url", st, false);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      IdentityRecord& i = out.emplace_back();
      i.url = detail::column_string(st.get(), 0);
      if (!read_secret(st.get(), 1, i.secret)) rc = SQLITE_CORRUPT;
      if (rc == SQLITE_ROW) rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE) return {};
    out.clear();
    return fail(f, db, rc, "list identities");
  });
}

std::error_code SqliteStore::add_registration(const std::string& identity_url,
                                              const std::string& device_url) {
  // One statement: the foreign keys report an unknown identity or device (not_found), the
  // primary key a registration that is already there (exists).
  return with_admin(*impl_, [&](sqlite3* db, Failure& f) -> std::error_code {
    const int rc = run(db, "INSERT INTO registrations (identity_url, device_url) VALUES (?1, ?2)",
                       {identity_url, device_url});
    return rc == SQLITE_OK ? std::error_code() : fail(f, db, rc, "add registration");
  });
}

std::error_code SqliteStore::list_registrations(
    std::multimap<std::string, std::string>& identity_to_device) {
  identity_to_device.clear();
  return with_admin(*impl_, [&](sqlite3* db, Failure& f) -> std::error_code {
    StmtPtr st;
    int rc = detail::prepare(
        db, "SELECT identity_url, device_url FROM registrations ORDER BY identity_url, device_url",
        st, false);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      identity_to_device.emplace(detail::column_string(st.get(), 0),
                                 detail::column_string(st.get(), 1));
      rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE) return {};
    identity_to_device.clear();
    return fail(f, db, rc, "list registrations");
  });
}

std::error_code SqliteStore::queue_totals(std::map<std::string, QueueTotal>& out) {
  out.clear();
  return with_admin(*impl_, [&](sqlite3* db, Failure& f) -> std::error_code {
    StmtPtr st;
    int rc = detail::prepare(
        db, "SELECT target_device, count(*), sum(size) FROM messages GROUP BY target_device", st,
        false);
    while (rc == SQLITE_OK && (rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      QueueTotal& t = out[detail::column_string(st.get(), 0)];
      t.messages = static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 1));
      t.bytes = static_cast<std::uint64_t>(sqlite3_column_int64(st.get(), 2));
      rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE) return {};
    out.clear();
    return fail(f, db, rc, "queue totals");
  });
}

}  // namespace grove::store
