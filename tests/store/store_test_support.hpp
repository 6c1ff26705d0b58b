// Helpers of the store tests: an event loop stand-in that the test thread drains (the Poster
// target), blocking wrappers around the asynchronous calls, and message builders.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/sqlite_store.hpp"
#include "store/store.hpp"
#include "support/process.hpp"

namespace grove::store::test {

using namespace std::chrono_literals;
using grove::test::TempDir;

// The relay's event loop in miniature: the store posts completions from its own thread, the
// thread that created the Loop (the test thread) runs them. Every completion checks that it
// runs there and never on the store thread.
class Loop {
 public:
  Loop() : owner_(std::this_thread::get_id()) {}

  Poster poster() {
    return [this](std::function<void()> fn) { push(std::move(fn)); };
  }

  // Runs posted functions on this thread until `pred()` holds; false after `timeout`.
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mu_);
    while (!pred()) {
      if (tasks_.empty()) {
        if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && tasks_.empty()) {
          return pred();
        }
        continue;
      }
      auto fn = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
    return true;
  }
  // Runs what is queued now, without waiting.
  void run_pending() {
    std::deque<std::function<void()>> now;
    {
      std::lock_guard lock(mu_);
      now.swap(tasks_);
    }
    for (auto& fn : now) fn();
  }
  std::size_t queued() {
    std::lock_guard lock(mu_);
    return tasks_.size();
  }

  // Group-commit tests: the next post blocks (holding the store thread right after a commit)
  // until release(), so that everything issued meanwhile queues up.
  void hold_next_post() {
    std::lock_guard lock(mu_);
    hold_ = true;
    held_ = false;
  }
  // Waits until the store thread is parked in the held post.
  bool wait_held(std::chrono::milliseconds timeout = 60s) {
    std::unique_lock lock(mu_);
    return gate_.wait_for(lock, timeout, [this] { return held_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    gate_.notify_all();
  }

  std::thread::id owner() const { return owner_; }
  // Threads other than the owner that posted (the store thread).
  std::set<std::thread::id> posting_threads() {
    std::lock_guard lock(mu_);
    return posters_;
  }

 private:
  void push(std::function<void()> fn) {
    std::unique_lock lock(mu_);
    if (std::this_thread::get_id() != owner_) posters_.insert(std::this_thread::get_id());
    if (hold_) {
      held_ = true;
      gate_.notify_all();
      gate_.wait(lock, [this] { return !hold_; });
    }
    tasks_.push_back([this, fn = std::move(fn)] {
      EXPECT_EQ(std::this_thread::get_id(), owner_) << "done ran off the event loop";
      fn();
    });
    cv_.notify_all();
  }

  const std::thread::id owner_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable gate_;
  std::deque<std::function<void()>> tasks_;
  std::set<std::thread::id> posters_;
  bool hold_ = false;
  bool held_ = false;
};

// Fast settings for tests that do not test durability (synchronous = normal skips the fsync).
inline SqliteOptions fast_options() {
  SqliteOptions o;
  o.synchronous = SqliteOptions::Synchronous::normal;
  return o;
}

inline std::unique_ptr<Store> open_store(const std::string& path, Loop& loop,
                                         SqliteOptions opts = fast_options()) {
  std::error_code ec;
  std::string text;
  auto s = open_sqlite_store(path, loop.poster(), opts, ec, text);
  EXPECT_FALSE(ec) << ec.message() << ": " << text;
  EXPECT_NE(s, nullptr);
  return s;
}

inline SqliteStore& sqlite(Store& s) { return dynamic_cast<SqliteStore&>(s); }

// ---- blocking wrappers: issue the call, then run the loop until its done has run ----

struct AppendResult {
  std::error_code ec;
  std::vector<std::uint64_t> ids;     // the new ids; empty on failure
  std::vector<StoredMessage> copies;  // as handed back by the store
};
inline AppendResult append_wait(Loop& loop, Store& s, std::vector<StoredMessage> copies) {
  AppendResult r;
  bool done = false;
  s.append(std::move(copies), [&](std::error_code ec, std::vector<StoredMessage> back) {
    r.ec = ec;
    if (!ec)
      for (const StoredMessage& m : back) r.ids.push_back(m.id);
    r.copies = std::move(back);
    done = true;
  });
  EXPECT_TRUE(loop.run_until([&] { return done; }));
  return r;
}

struct LoadResult {
  std::error_code ec;
  std::vector<StoredMessage> messages;
};
inline LoadResult load_wait(Loop& loop, Store& s, const std::string& device,
                            std::uint64_t after_id = 0, std::size_t max_count = 1000000) {
  LoadResult r;
  bool done = false;
  s.load_queue(device, after_id, max_count, [&](std::error_code ec, std::vector<StoredMessage> m) {
    r = {ec, std::move(m)};
    done = true;
  });
  EXPECT_TRUE(loop.run_until([&] { return done; }));
  return r;
}

// `removed`, when given, gets the number of rows the store reported deleted.
inline std::error_code remove_wait(Loop& loop, Store& s, std::vector<std::uint64_t> ids,
                                   std::uint64_t* removed = nullptr) {
  std::error_code r;
  bool done = false;
  s.remove(std::move(ids), [&](std::error_code ec, std::uint64_t n) {
    r = ec;
    if (removed) *removed = n;
    done = true;
  });
  EXPECT_TRUE(loop.run_until([&] { return done; }));
  return r;
}

struct PurgeResult {
  std::error_code ec;
  std::uint64_t removed = 0;
};
inline PurgeResult purge_wait(Loop& loop, Store& s, std::int64_t before, std::int64_t now) {
  PurgeResult r;
  bool done = false;
  s.purge(before, now, [&](std::error_code ec, std::uint64_t n) {
    r = {ec, n};
    done = true;
  });
  EXPECT_TRUE(loop.run_until([&] { return done; }));
  return r;
}

// ---- messages ----

inline std::shared_ptr<const Bytes> pattern(std::size_t size, unsigned seed) {
  auto b = std::make_shared<Bytes>(size);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : *b) {
    x = x * 1103515245u + 12345u;
    c = static_cast<Byte>(x >> 24);
  }
  return b;
}

// A device-targeted copy with no optional group.
inline StoredMessage plain(const std::string& device, unsigned n, std::size_t size = 16) {
  StoredMessage m;
  m.target_device = device;
  m.resource_url = "grove://relay.example/r/" + std::to_string(n % 3);
  m.identity_url = "grove://relay.example/i/alice";
  m.header.user_ref = "ref-" + std::to_string(n);
  m.sender_device = "grove://relay.example/d/sender";
  m.arrival_unix = 1700000000 + n;
  m.data = pattern(size, n);
  return m;
}

// Every field of two copies, data by content; `id` too unless ignore_id.
inline void expect_same(const StoredMessage& a, const StoredMessage& b, bool ignore_id = false) {
  if (!ignore_id) {
    EXPECT_EQ(a.id, b.id);
  }
  EXPECT_EQ(a.target_device, b.target_device);
  EXPECT_EQ(a.resource_url, b.resource_url);
  EXPECT_EQ(a.identity_url, b.identity_url);
  EXPECT_EQ(a.identity_targeted, b.identity_targeted);
  EXPECT_EQ(a.header, b.header);
  EXPECT_EQ(a.sender_device, b.sender_device);
  EXPECT_EQ(a.arrival_unix, b.arrival_unix);
  ASSERT_TRUE(a.data && b.data);
  EXPECT_TRUE(*a.data == *b.data) << "data differs: " << a.data->size() << " vs " << b.data->size()
                                  << " bytes";
}

}  // namespace grove::store::test
