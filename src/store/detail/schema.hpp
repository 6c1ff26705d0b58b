// The store's schema: numbered migrations, PRAGMA user_version, PRAGMA application_id
// (style.md rule 18).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

#include "store/detail/sqlite_db.hpp"
#include "store/sqlite_store.hpp"

namespace grove::store::detail {

// PRAGMA application_id of every Grove store: "GRVS".
inline constexpr std::int64_t kApplicationId = 0x47525653;

// Migration N takes a version N-1 database to version N, inside the same transaction that
// sets PRAGMA user_version = N. Never edit a released migration: add the next one, and commit
// a fixture written at the previous version (tests/store/fixtures/).
struct Migration {
  int version;
  std::string_view sql;
};
std::span<const Migration> migrations();
// The version this build writes: the last migration's.
int schema_version();

// Checks the file and brings its schema to schema_version():
//  * not a SQLite file, or a SQLite file that is not a Grove store → corrupt;
//  * user_version above schema_version() → too_new (the file is not modified);
//  * switches the file to WAL mode;
//  * quick_check when opts.quick_check_on_open (a truncated or damaged file → corrupt);
//  * applies the missing migrations, each in its own IMMEDIATE transaction.
[[nodiscard]] std::error_code check_and_migrate(sqlite3* db, const SqliteOptions& opts, Failure& f);

}  // namespace grove::store::detail
