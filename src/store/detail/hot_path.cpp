#include "store/detail/hot_path.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <string_view>
#include <type_traits>

namespace grove::store::detail {
namespace {

namespace flag = sstp::message_flag;

// An append writes its copies with ids it chose (HotPath::next_id_), up to kRowsPerInsert rows
// per statement: one statement per row cost more CPU than SQLite's own b-tree work. Parameter
// ?1 of a row is its id, ?2 its target_device, and so on, in the column order of kColumns.
// OR FAIL: a statement that writes several rows and may abort on a constraint keeps a
// statement journal, a copy of every page it changes (64 KiB each), written to a temporary
// file; it would double the bytes written. A failure fails the whole batch (run() rolls back
// the transaction), so the rows of a failed statement are never kept anyway.
constexpr std::size_t kRowsPerInsert = 16;
constexpr int kParamsPerRow = 16;
constexpr std::string_view kColumns =
    "INSERT OR FAIL INTO messages (id, target_device, resource_url, identity_url, "
    "identity_targeted, "
    "flags, user_ref, expiration_time, total_size, fragment_message_id, fragment_index, "
    "fragment_count, sender_device, arrival_unix, size, data) VALUES ";
std::string insert_sql(std::size_t rows) {
  std::string sql(kColumns);
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (int p = 0; p < kParamsPerRow; ++p) {
      sql += (p == 0 ? "?" : ", ?") + std::to_string(r * kParamsPerRow + p + 1);
    }
    sql += ")";
  }
  return sql;
}
// The largest id ever used: AUTOINCREMENT keeps it in sqlite_sequence even after the newest
// copy is deleted, and explicit ids above it move it up, so ids are never reused.
constexpr std::string_view kLastId =
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0), "
    "coalesce((SELECT max(id) FROM messages), 0))";
// kLoad's columns: 0 is id, then target_device onwards as in kColumns.
constexpr std::string_view kLoad =
    "SELECT id, target_device, resource_url, identity_url, identity_targeted, flags, user_ref, "
    "expiration_time, total_size, fragment_message_id, fragment_index, fragment_count, "
    "sender_device, arrival_unix, data "
    "FROM messages WHERE target_device = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
constexpr std::string_view kRemove = "DELETE FROM messages WHERE id = ?1";
// Never fails on a vanished identity or device (the foreign keys would fail the whole group
// commit, appends included): it then adds nothing.
constexpr std::string_view kRegister =
    "INSERT OR IGNORE INTO registrations (identity_url, device_url) "
    "SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM identities WHERE url = ?1) "
    "AND EXISTS (SELECT 1 FROM devices WHERE url = ?2)";
constexpr std::string_view kRegistered =
    "SELECT 1 FROM registrations WHERE identity_url = ?1 AND device_url = ?2";
// The pending queue's name is store.hpp pending_queue(): "pending " + IdentityURL.
constexpr std::string_view kPendingTotal =
    "SELECT count(*), coalesce(sum(size), 0) FROM messages WHERE target_device = 'pending ' || ?1";
constexpr std::string_view kCopyPending =
    "INSERT INTO messages (target_device, resource_url, identity_url, identity_targeted, flags, "
    "user_ref, expiration_time, total_size, fragment_message_id, fragment_index, fragment_count, "
    "sender_device, arrival_unix, size, data) "
    "SELECT ?2, resource_url, identity_url, identity_targeted, flags, user_ref, expiration_time, "
    "total_size, fragment_message_id, fragment_index, fragment_count, sender_device, "
    "arrival_unix, size, data FROM messages WHERE target_device = 'pending ' || ?1 ORDER BY id";
// sstp.md §10.2/§10.8: non-ephemeral copies are kept at most the retention time ...
constexpr std::string_view kPurgeRetained =
    "DELETE FROM messages WHERE expiration_time IS NULL AND arrival_unix < ?1";
// ... ephemeral ones until their ExpirationTime (§10.6). A stored value below 0 is an
// ExpirationTime of 2^63 or more, which never comes.
constexpr std::string_view kPurgeExpired =
    "DELETE FROM messages WHERE expiration_time IS NOT NULL AND expiration_time >= 0 AND "
    "expiration_time <= ?1";

// Unsigned protocol values are kept as their two's-complement int64 (exact round trip).
std::int64_t as_i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }
std::uint64_t as_u64(std::int64_t v) { return static_cast<std::uint64_t>(v); }
std::int64_t clamp_i64(std::uint64_t v) {
  return static_cast<std::int64_t>(
      std::min<std::uint64_t>(v, std::numeric_limits<std::int64_t>::max()));
}

// Binds row `row` of an insert statement to `m`, with m.id as its id.
int bind_message(sqlite3_stmt* st, int row, const StoredMessage& m) {
  const int p = row * kParamsPerRow;  // parameter p + 1 is the row's id
  const sstp::Message& h = m.header;
  const std::size_t size = m.data ? m.data->size() : 0;
  int rc = sqlite3_bind_int64(st, p + 1, as_i64(m.id));
  if (rc == SQLITE_OK) rc = bind_text(st, p + 2, m.target_device);
  if (rc == SQLITE_OK) rc = bind_text(st, p + 3, m.resource_url);
  if (rc == SQLITE_OK) rc = bind_text(st, p + 4, m.identity_url);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, p + 5, m.identity_targeted ? 1 : 0);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, p + 6, h.flags);
  if (rc == SQLITE_OK) rc = bind_text(st, p + 7, h.user_ref);
  // Optional groups: bound only when their flag is set (§5.13), otherwise left NULL.
  if (rc == SQLITE_OK && (h.flags & flag::Ephemeral) != 0) {
    rc = sqlite3_bind_int64(st, p + 8, as_i64(h.expiration_time));
  }
  if (rc == SQLITE_OK && (h.flags & flag::StreamSize) != 0) {
    rc = sqlite3_bind_int64(st, p + 9, as_i64(h.stream_size.total_size));
  }
  if (rc == SQLITE_OK && (h.flags & flag::Fragmentation) != 0) {
    const auto& fr = h.fragmentation;
    rc = bind_blob(st, p + 10, fr.fragment_message_id.data(), fr.fragment_message_id.size());
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, p + 11, fr.fragment_index);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, p + 12, fr.fragment_count);
  }
  if (rc == SQLITE_OK) rc = bind_text(st, p + 13, m.sender_device);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, p + 14, m.arrival_unix);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, p + 15, static_cast<std::int64_t>(size));
  // SQLITE_STATIC: the job keeps m.data alive until the statement is reset (no copy here).
  if (rc == SQLITE_OK) rc = bind_blob(st, p + 16, m.data ? m.data->data() : nullptr, size);
  return rc;
}

// One row of kLoad. Returns SQLITE_CORRUPT if a stored value cannot be a Grove value.
int read_message(sqlite3_stmt* st, StoredMessage& m) {
  m.id = as_u64(sqlite3_column_int64(st, 0));
  m.target_device = column_string(st, 1);
  m.resource_url = column_string(st, 2);
  m.identity_url = column_string(st, 3);
  m.identity_targeted = sqlite3_column_int(st, 4) != 0;
  m.header.flags = static_cast<std::uint8_t>(sqlite3_column_int(st, 5));
  m.header.user_ref = column_string(st, 6);
  if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
    m.header.expiration_time = as_u64(sqlite3_column_int64(st, 7));
  }
  if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
    m.header.stream_size.total_size = as_u64(sqlite3_column_int64(st, 8));
  }
  if (sqlite3_column_type(st, 9) != SQLITE_NULL) {
    auto& fr = m.header.fragmentation;
    const void* id = sqlite3_column_blob(st, 9);
    if (static_cast<std::size_t>(sqlite3_column_bytes(st, 9)) != fr.fragment_message_id.size()) {
      return SQLITE_CORRUPT;
    }
    std::memcpy(fr.fragment_message_id.data(), id, fr.fragment_message_id.size());
    fr.fragment_index = static_cast<std::uint32_t>(sqlite3_column_int64(st, 10));
    fr.fragment_count = static_cast<std::uint32_t>(sqlite3_column_int64(st, 11));
  }
  m.sender_device = column_string(st, 12);
  m.arrival_unix = sqlite3_column_int64(st, 13);
  // A fresh buffer per copy: the row's memory is SQLite's and ends at the next step.
  const auto* p = static_cast<const Byte*>(sqlite3_column_blob(st, 14));
  const auto n = static_cast<std::size_t>(sqlite3_column_bytes(st, 14));
  m.data = p == nullptr ? std::make_shared<const Bytes>() : std::make_shared<const Bytes>(p, p + n);
  return SQLITE_OK;
}

}  // namespace

std::error_code HotPath::create(DbPtr db, const SqliteOptions& opts, std::unique_ptr<HotPath>& out,
                                Failure& f) {
  std::unique_ptr<HotPath> h(new HotPath(std::move(db), opts.max_load_bytes));
  sqlite3* d = h->db_.get();
  const std::string insert_one = insert_sql(1), insert_many = insert_sql(kRowsPerInsert);
  const std::pair<StmtPtr*, std::string_view> stmts[] = {
      {&h->begin_, "BEGIN"},
      {&h->begin_immediate_, "BEGIN IMMEDIATE"},
      {&h->commit_, "COMMIT"},
      {&h->rollback_, "ROLLBACK"},
      {&h->insert_, insert_one},
      {&h->insert_many_, insert_many},
      {&h->last_id_, kLastId},
      {&h->load_, kLoad},
      {&h->remove_, kRemove},
      {&h->register_, kRegister},
      {&h->registered_, kRegistered},
      {&h->pending_total_, kPendingTotal},
      {&h->copy_pending_, kCopyPending},
      {&h->purge_retained_, kPurgeRetained},
      {&h->purge_expired_, kPurgeExpired},
  };
  for (const auto& [stmt, sql] : stmts) {
    const int rc = prepare(d, sql, *stmt, true);
    if (rc != SQLITE_OK) {
      set_failure(f, d, rc, "prepare");
      // "no such table/column": a SQLite file at our version without our tables.
      if ((rc & 0xff) == SQLITE_ERROR) f.ec = errc::corrupt;
      return f.ec;
    }
  }
  out = std::move(h);
  return {};
}

int HotPath::step_done(sqlite3_stmt* st) {
  const int rc = sqlite3_step(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// Gives every copy of jobs [first, last) (all appends) its id, then writes them in
// statements of kRowsPerInsert rows and one-row statements for the rest, in order.
int HotPath::append(std::vector<Job>& batch, std::size_t first, std::size_t last) {
  if (next_id_ == 0) {  // the first append of this transaction: where ids go on
    StmtScope scope(last_id_.get());
    const int rc = sqlite3_step(last_id_.get());
    if (rc != SQLITE_ROW) return rc;
    next_id_ = as_u64(sqlite3_column_int64(last_id_.get(), 0)) + 1;  // >= 1: kLastId's max
  }
  rows_.clear();
  for (std::size_t i = first; i < last; ++i) {
    for (StoredMessage& m : std::get<AppendJob>(batch[i]).copies) {
      if (next_id_ > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return SQLITE_FULL;  // 2^63 ids: as AUTOINCREMENT would fail
      }
      m.id = next_id_++;
      rows_.push_back(&m);
    }
  }
  std::size_t done = 0;
  while (done < rows_.size()) {
    const bool many = rows_.size() - done >= kRowsPerInsert;
    sqlite3_stmt* st = many ? insert_many_.get() : insert_.get();
    const std::size_t n = many ? kRowsPerInsert : 1;
    StmtScope scope(st);
    int rc = SQLITE_OK;
    for (std::size_t r = 0; rc == SQLITE_OK && r < n; ++r) {
      rc = bind_message(st, static_cast<int>(r), *rows_[done + r]);
    }
    if (rc == SQLITE_OK) rc = step_done(st);
    if (rc != SQLITE_OK) return rc;
    done += n;
  }
  return SQLITE_OK;
}

int HotPath::run_job(LoadJob& j) {
  if (j.max_count == 0) return SQLITE_OK;
  StmtScope scope(load_.get());
  sqlite3_stmt* st = load_.get();
  int rc = bind_text(st, 1, j.device);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 2, clamp_i64(j.after_id));
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 3, clamp_i64(j.max_count));
  std::uint64_t bytes = 0;
  while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    StoredMessage& m = j.messages.emplace_back();
    rc = read_message(st, m);
    bytes += m.data ? m.data->size() : 0;
    // SqliteOptions::max_load_bytes: stop after the copy that reaches it.
    if (rc == SQLITE_OK && max_load_bytes_ != 0 && bytes >= max_load_bytes_) return SQLITE_OK;
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int HotPath::run_job(RemoveJob& j) {
  for (std::uint64_t id : j.ids) {
    if (id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) continue;
    StmtScope scope(remove_.get());
    int rc = sqlite3_bind_int64(remove_.get(), 1, as_i64(id));
    if (rc == SQLITE_OK) rc = step_done(remove_.get());
    if (rc != SQLITE_OK) return rc;
    j.removed += static_cast<std::uint64_t>(sqlite3_changes64(db_.get()));
  }
  return SQLITE_OK;
}

int HotPath::run_job(RegisterJob& j) {
  auto bind2 = [&](sqlite3_stmt* st) {
    int rc = bind_text(st, 1, j.identity_url);
    return rc == SQLITE_OK ? bind_text(st, 2, j.device_url) : rc;
  };
  Registration& r = j.result;
  int rc = SQLITE_OK;
  {
    StmtScope scope(register_.get());
    rc = bind2(register_.get());
    if (rc == SQLITE_OK) rc = step_done(register_.get());
    if (rc != SQLITE_OK) return rc;
    r.added = sqlite3_changes64(db_.get()) > 0;
  }
  if (!r.added) {
    StmtScope scope(registered_.get());
    rc = bind2(registered_.get());
    if (rc == SQLITE_OK) rc = sqlite3_step(registered_.get());
    r.existed = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  {
    StmtScope scope(pending_total_.get());
    rc = bind_text(pending_total_.get(), 1, j.identity_url);
    if (rc == SQLITE_OK && (rc = sqlite3_step(pending_total_.get())) == SQLITE_ROW) {
      r.copied = as_u64(sqlite3_column_int64(pending_total_.get(), 0));
      r.copied_bytes = as_u64(sqlite3_column_int64(pending_total_.get(), 1));
      rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) return rc;
  }
  if (r.copied == 0) return SQLITE_OK;
  StmtScope scope(copy_pending_.get());
  rc = bind2(copy_pending_.get());
  return rc == SQLITE_OK ? step_done(copy_pending_.get()) : rc;
}

int HotPath::run_job(PurgeJob& j) {
  const std::pair<sqlite3_stmt*, std::int64_t> steps[] = {
      {purge_retained_.get(), j.arrival_before_unix},
      {purge_expired_.get(), j.now_unix},
  };
  for (const auto& [st, bound] : steps) {
    StmtScope scope(st);
    int rc = sqlite3_bind_int64(st, 1, bound);
    if (rc == SQLITE_OK) rc = step_done(st);
    if (rc != SQLITE_OK) return rc;
    j.removed += static_cast<std::uint64_t>(sqlite3_changes64(db_.get()));
  }
  return SQLITE_OK;
}

std::error_code HotPath::run(std::vector<Job>& batch, Failure& f) {
  const bool writes = std::any_of(batch.begin(), batch.end(),
                                  [](const Job& j) { return !std::holds_alternative<LoadJob>(j); });
  sqlite3* d = db_.get();
  int rc = SQLITE_OK;
  const char* what = "begin";
  try {
    {
      StmtScope scope(writes ? begin_immediate_.get() : begin_.get());
      rc = step_done(writes ? begin_immediate_.get() : begin_.get());
    }
    if (rc == SQLITE_OK) what = "store";
    next_id_ = 0;
    for (std::size_t i = 0; rc == SQLITE_OK && i < batch.size();) {
      if (std::holds_alternative<AppendJob>(batch[i])) {  // a run of appends, together
        std::size_t end = i + 1;
        while (end < batch.size() && std::holds_alternative<AppendJob>(batch[end])) ++end;
        rc = append(batch, i, end);
        i = end;
      } else {
        rc = std::visit(
            [this](auto& j) -> int {
              if constexpr (std::is_same_v<std::decay_t<decltype(j)>, AppendJob>) {
                return SQLITE_MISUSE;  // unreachable: appends took the branch above
              } else {
                return run_job(j);
              }
            },
            batch[i]);
        next_id_ = 0;  // a registration's copies took ids of their own: read again
        ++i;
      }
    }
    if (rc == SQLITE_OK) {
      what = "commit";
      StmtScope scope(commit_.get());
      rc = step_done(commit_.get());
    }
  } catch (const std::bad_alloc&) {
    rc = SQLITE_NOMEM;
    set_failure(f, errc::io_error, std::string(what) + ": out of memory");
  }
  if (rc == SQLITE_OK) return {};
  if (rc != SQLITE_NOMEM || !f.ec) set_failure(f, d, rc, what);
  // Some errors (SQLITE_FULL, SQLITE_IOERR) already rolled back; otherwise roll back here.
  if (sqlite3_get_autocommit(d) == 0) {
    StmtScope scope(rollback_.get());
    (void)step_done(rollback_.get());
  }
  return f.ec;
}

}  // namespace grove::store::detail
