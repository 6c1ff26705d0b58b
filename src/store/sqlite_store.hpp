// The embedded SQLite backend of Store (store.hpp; style.md rule 18).
//
// One database file in WAL mode. A dedicated thread owns the connection used by the hot path
// (append, load_queue, remove, purge): it takes every job queued at that moment (up to the
// group-commit limits below) and runs them, in the order they were issued, in ONE transaction,
// then hands each `done` to the Poster. With the default synchronous = full, a commit syncs the
// WAL, so a successful append is durable before the relay acknowledges (sstp.md §10.2).
// The synchronous administration calls use a second connection, serialised by a mutex.
//
// Files (auth.md §2.2, the store holds the device and identity secrets): missing parent
// directories are created with mode 0700, the database and its -wal/-shm files get mode 0600,
// whatever the umask. An existing parent directory is left as it is.
//
// Schema: PRAGMA user_version is the schema version, raised by numbered migrations
// (detail/schema.hpp); PRAGMA application_id marks the file as a Grove store.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

#include "store/store.hpp"

namespace grove::store {

struct SqliteOptions {
  // PRAGMA synchronous. In WAL mode `full` syncs the WAL at every commit, so an acknowledged
  // append survives power loss (style.md rule 18). `normal` syncs only at checkpoints: still
  // consistent after a crash, but the last commits may be lost; for tests and benchmarks only.
  enum class Synchronous { normal, full, extra };
  Synchronous synchronous = Synchronous::full;

  // Group-commit limits: one transaction takes at most this many copies (each load, remove
  // or purge job counts as one) ...
  std::size_t max_batch_copies = 1024;
  // ... and at most this many data bytes. A single job above either limit still runs, alone.
  // 64 MiB is one maximal message sequence (sstp.md §10.8), so one huge append does not delay
  // the acknowledgement of many small ones by more than one such write.
  std::uint64_t max_batch_bytes = std::uint64_t{64} << 20;

  // If set, load_queue stops after the copy that brings the data it returns to this many
  // bytes, even below max_count (always at least one copy if one is queued), so one call
  // holds about this much plus one sequence in memory; callers must then page on with
  // after_id until an empty result, not stop at a short page. 0 (the default) = no byte limit:
  // load_queue returns fewer than max_count copies only when the queue has no more.
  std::uint64_t max_load_bytes = 0;

  // PRAGMA page_size of a new database file (a power of two, 512 to 65536); an existing file
  // keeps the size it was made with. SQLite writes the WAL and checkpoints a page at a time,
  // one write call per page, so large pages cut the kernel work per stored copy several times
  // over (docs/performance.md, "Store page size").
  std::uint32_t page_size = 65536;

  // PRAGMA cache_size of each connection, in bytes. A transaction whose changed pages do not
  // fit is spilled to the WAL while it runs, and pages that drop out of the cache are read and
  // written again: with SQLite's default (2 MiB, 32 pages of 64 KiB) a group commit of 1 KiB
  // copies wrote its index pages many times over. The memory is taken only as pages are used.
  std::uint64_t cache_bytes = std::uint64_t{32} << 20;

  // PRAGMA journal_size_limit: after a checkpoint the WAL file is cut back to this size, so
  // one large transaction does not leave a large file behind.
  std::int64_t wal_size_limit = std::int64_t{64} << 20;

  // How long a connection waits for another writer (the other connection of this store, or a
  // second process such as the groved CLI) before a call fails with io_error.
  std::chrono::milliseconds busy_timeout{5000};

  // Run PRAGMA quick_check at open: a truncated or damaged file is then refused with
  // errc::corrupt at start-up instead of failing later on the hot path. Reads the whole file
  // once (about 1 s per GB on an SSD).
  bool quick_check_on_open = true;
};

class SqliteStore final : public Store {
 public:
  class Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);
  ~SqliteStore() override;  // calls close()
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  [[nodiscard]] std::error_code add_device(const DeviceRecord& d) override;
  [[nodiscard]] std::error_code set_device_secret(const std::string& url,
                                                  const auth::Secret& s) override;
  [[nodiscard]] std::error_code set_device_enabled(const std::string& url, bool on) override;
  [[nodiscard]] std::error_code remove_device(const std::string& url) override;
  [[nodiscard]] std::error_code list_devices(std::vector<DeviceRecord>& out) override;
  [[nodiscard]] std::error_code add_identity(const IdentityRecord& i) override;
  [[nodiscard]] std::error_code set_identity_secret(const std::string& url,
                                                    const auth::Secret& s) override;
  [[nodiscard]] std::error_code remove_identity(const std::string& url) override;
  [[nodiscard]] std::error_code list_identities(std::vector<IdentityRecord>& out) override;
  [[nodiscard]] std::error_code add_registration(const std::string& identity_url,
                                                 const std::string& device_url) override;
  [[nodiscard]] std::error_code list_registrations(
      std::multimap<std::string, std::string>& identity_to_device) override;
  [[nodiscard]] std::error_code queue_totals(std::map<std::string, QueueTotal>& out) override;

  void append(std::vector<StoredMessage> copies,
              std::function<void(std::error_code, std::vector<StoredMessage>)> done) override;
  void load_queue(std::string device, std::uint64_t after_id, std::size_t max_count,
                  std::function<void(std::error_code, std::vector<StoredMessage>)> done) override;
  void remove(std::vector<std::uint64_t> ids,
              std::function<void(std::error_code, std::uint64_t)> done) override;
  void purge(std::int64_t arrival_before_unix, std::int64_t now_unix,
             std::function<void(std::error_code, std::uint64_t removed)> done) override;
  void register_device(std::string identity_url, std::string device_url,
                       std::function<void(std::error_code, Registration)> done) override;

  // Must not be called from the store thread (that is, not from inside the Poster itself).
  void close() override;
  std::string last_error() const override;

  // Committed hot-path transactions so far (for tests and metrics: appends per transaction
  // shows how well group commit works). Any thread.
  std::uint64_t transactions() const;

 private:
  std::unique_ptr<Impl> impl_;
};

// Opens (creating if needed) the store at `path` and starts its thread. `post` must be
// callable from the store thread, must not throw, and should queue the function to run on the
// event loop; an empty `post` or a page_size SQLite cannot use is a programming error
// (std::invalid_argument).
// Errors: errc::too_new (written by a newer Grove), errc::corrupt (not a Grove store, not a
// SQLite file, truncated or damaged), errc::io_error (cannot create the folder or file, disk
// or permission problem). Returns nullptr on error.
[[nodiscard]] std::unique_ptr<Store> open_sqlite_store(const std::string& path, Poster post,
                                                       SqliteOptions opts, std::error_code& ec);
// The same; on error `error_text` receives the cause for the log (SQLite's or the OS's text).
[[nodiscard]] std::unique_ptr<Store> open_sqlite_store(const std::string& path, Poster post,
                                                       SqliteOptions opts, std::error_code& ec,
                                                       std::string& error_text);

}  // namespace grove::store
