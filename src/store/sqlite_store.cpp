// SqliteStore: open, the job queue and the store thread (group commit), close.
#include "store/sqlite_store.hpp"

#include <cassert>
#include <stdexcept>
#include <utility>

#include "store/detail/files.hpp"
#include "store/detail/schema.hpp"
#include "store/detail/sqlite_impl.hpp"

namespace grove::store {

using detail::Failure;
using detail::Job;

SqliteStore::Impl::Impl(Poster post, SqliteOptions opts, detail::DbPtr admin,
                        std::unique_ptr<detail::HotPath> hot)
    : post_(std::move(post)),
      opts_(opts),
      admin_db_(std::move(admin)),
      hot_(std::move(hot)),
      thread_([this] { run(); }) {}

SqliteStore::Impl::~Impl() { close(); }

void SqliteStore::Impl::enqueue(Job job) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(job));
      wake_.notify_one();
      return;
    }
  }
  post_(detail::completion(std::move(job), errc::closed));
}

void SqliteStore::Impl::run() {
  for (;;) {
    std::vector<Job> batch;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // close() lets the queue drain: the thread ends only when stopping and nothing is left.
      if (queue_.empty()) break;
      // Group commit: everything queued now, in issue order, up to the limits. The first job
      // is always taken, so a job above the limits runs alone instead of never.
      std::size_t copies = 0;
      std::uint64_t bytes = 0;
      do {
        const detail::JobWeight w = detail::weight(queue_.front());
        if (!batch.empty() && (copies + w.copies > opts_.max_batch_copies ||
                               bytes + w.bytes > opts_.max_batch_bytes)) {
          break;
        }
        copies += w.copies;
        bytes += w.bytes;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      } while (!queue_.empty());
    }

    Failure f;
    const std::error_code ec = hot_->run(batch, f);
    if (ec) {
      record(f);
    } else {
      transactions_.fetch_add(1, std::memory_order_relaxed);
    }
    // Only now, after the commit (durable with synchronous = full), may the relay learn of
    // it: an append's done is the permission to acknowledge (sstp.md §10.2).
    // One post for the whole batch, run in issue order: one wake-up of the event loop per
    // transaction instead of one per job.
    std::vector<std::function<void()>> done;
    done.reserve(batch.size());
    for (Job& job : batch) done.push_back(detail::completion(std::move(job), ec));
    post_([done = std::move(done)]() mutable {
      for (auto& d : done) d();
    });
  }
  hot_.reset();  // the store thread closes the connection it used
}

void SqliteStore::Impl::close() {
  std::lock_guard closing(close_mu_);
  assert(!thread_.joinable() || thread_.get_id() != std::this_thread::get_id());
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(admin_mu_);
  admin_db_.reset();
}

std::error_code SqliteStore::Impl::record(const Failure& f) {
  std::lock_guard lock(error_mu_);
  last_error_ = f.text;
  return f.ec;
}

std::string SqliteStore::Impl::last_error() const {
  std::lock_guard lock(error_mu_);
  return last_error_;
}

SqliteStore::Impl::Admin SqliteStore::Impl::admin() {
  std::unique_lock lock(admin_mu_);
  sqlite3* db = admin_db_.get();
  return {std::move(lock), db};
}

// ---- SqliteStore: hot path and lifetime ----

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() { close(); }

void SqliteStore::append(std::vector<StoredMessage> copies,
                         std::function<void(std::error_code, std::vector<StoredMessage>)> done) {
  impl_->enqueue(detail::AppendJob{std::move(copies), std::move(done)});
}

void SqliteStore::load_queue(
    std::string device, std::uint64_t after_id, std::size_t max_count,
    std::function<void(std::error_code, std::vector<StoredMessage>)> done) {
  impl_->enqueue(detail::LoadJob{std::move(device), after_id, max_count, std::move(done), {}});
}

void SqliteStore::remove(std::vector<std::uint64_t> ids,
                         std::function<void(std::error_code, std::uint64_t)> done) {
  impl_->enqueue(detail::RemoveJob{std::move(ids), std::move(done), 0});
}

void SqliteStore::register_device(std::string identity_url, std::string device_url,
                                  std::function<void(std::error_code, Registration)> done) {
  impl_->enqueue(
      detail::RegisterJob{std::move(identity_url), std::move(device_url), std::move(done), {}});
}

void SqliteStore::purge(std::int64_t arrival_before_unix, std::int64_t now_unix,
                        std::function<void(std::error_code, std::uint64_t removed)> done) {
  impl_->enqueue(detail::PurgeJob{arrival_before_unix, now_unix, std::move(done), 0});
}

void SqliteStore::close() { impl_->close(); }
std::string SqliteStore::last_error() const { return impl_->last_error(); }
std::uint64_t SqliteStore::transactions() const { return impl_->transactions(); }

// ---- open ----

std::unique_ptr<Store> open_sqlite_store(const std::string& path, Poster post, SqliteOptions opts,
                                         std::error_code& ec, std::string& error_text) {
  if (!post) throw std::invalid_argument("open_sqlite_store: empty Poster");
  if (opts.page_size < 512 || opts.page_size > 65536 || (opts.page_size & (opts.page_size - 1)))
    throw std::invalid_argument("open_sqlite_store: page_size must be a power of two, 512-65536");
  Failure f;
  detail::DbPtr admin;
  detail::DbPtr worker;
  std::unique_ptr<detail::HotPath> hot;
  // Files first (modes), then the schema on the admin connection, then the store thread's
  // connection, whose cached statements also prove the tables are there.
  ec = detail::prepare_files(path, f);
  if (!ec) ec = detail::open_connection(path, opts, admin, f);
  if (!ec) {
    // secure_delete: a replaced or removed secret is overwritten in the file, not just
    // unlinked from the b-tree (auth.md §2.2). Only this connection writes secrets.
    const int rc = detail::exec(admin.get(), "PRAGMA secure_delete = ON");
    if (rc != SQLITE_OK) ec = detail::set_failure(f, admin.get(), rc, "secure_delete");
  }
  if (!ec) ec = detail::check_and_migrate(admin.get(), opts, f);
  if (!ec) ec = detail::protect_wal_files(path, f);
  if (!ec) ec = detail::open_connection(path, opts, worker, f);
  if (!ec) ec = detail::HotPath::create(std::move(worker), opts, hot, f);
  if (ec) {
    error_text = std::move(f.text);
    return nullptr;
  }
  error_text.clear();
  auto impl =
      std::make_unique<SqliteStore::Impl>(std::move(post), opts, std::move(admin), std::move(hot));
  return std::make_unique<SqliteStore>(std::move(impl));
}

std::unique_ptr<Store> open_sqlite_store(const std::string& path, Poster post, SqliteOptions opts,
                                         std::error_code& ec) {
  std::string ignored;
  return open_sqlite_store(path, std::move(post), opts, ec, ignored);
}

}  // namespace grove::store
