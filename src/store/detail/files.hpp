// File-system side of the store: folders 0700 and files 0600 (auth.md §2.2: the store holds
// the device and identity secrets).
#pragma once

#include <string>
#include <system_error>

#include "store/detail/sqlite_db.hpp"

namespace grove::store::detail {

// Creates the missing parent folders of `path` with mode 0700, and `path` itself if missing;
// sets the file's mode to 0600. Both modes are set with chmod after creation, so the umask
// does not matter. An existing folder keeps its mode (it may be shared, like /tmp).
// A non-empty file without a complete SQLite header is corrupt.
[[nodiscard]] std::error_code prepare_files(const std::string& path, Failure& f);

// Sets mode 0600 on `path` + "-wal" and "-shm" if they exist. SQLite already gives them the
// database file's mode; this makes the rule hold even if that ever changes.
[[nodiscard]] std::error_code protect_wal_files(const std::string& path, Failure& f);

}  // namespace grove::store::detail
