// SqliteStore's state, shared by sqlite_store.cpp (job queue, store thread, open, close) and
// sqlite_admin.cpp (the synchronous administration calls).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/detail/hot_path.hpp"
#include "store/detail/jobs.hpp"
#include "store/detail/sqlite_db.hpp"
#include "store/sqlite_store.hpp"

namespace grove::store {

class SqliteStore::Impl {
 public:
  Impl(Poster post, SqliteOptions opts, detail::DbPtr admin, std::unique_ptr<detail::HotPath> hot);
  ~Impl();  // close()

  // Queues a hot-path job; after close() it completes at once with errc::closed (through the
  // Poster, like every completion).
  void enqueue(detail::Job job);
  void close();

  // Remembers a failure's text for last_error() and returns its code.
  std::error_code record(const detail::Failure& f);
  std::string last_error() const;
  std::uint64_t transactions() const { return transactions_.load(std::memory_order_relaxed); }

  // The admin connection, for the synchronous calls: `db` is null once the store is closed.
  // Hold `lock` while using it.
  struct Admin {
    std::unique_lock<std::mutex> lock;
    sqlite3* db;
  };
  Admin admin();

 private:
  void run();  // the store thread

  const Poster post_;
  const SqliteOptions opts_;

  std::mutex admin_mu_;
  detail::DbPtr admin_db_;  // guarded by admin_mu_

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<detail::Job> queue_;  // guarded by mu_
  bool stopping_ = false;          // guarded by mu_

  std::mutex close_mu_;                   // serialises close(): one caller joins the thread
  std::unique_ptr<detail::HotPath> hot_;  // used only by the store thread
  std::atomic<std::uint64_t> transactions_{0};

  mutable std::mutex error_mu_;
  std::string last_error_;  // guarded by error_mu_

  std::thread thread_;  // last: started once everything above exists
};

}  // namespace grove::store
