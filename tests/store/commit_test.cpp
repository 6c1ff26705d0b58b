// Group commit, durability and the store's lifetime: appends queued together share one
// transaction; what an append acknowledged survives close, reopen and a crash-like copy of the
// files; close() finishes queued work; later calls fail with errc::closed through the Poster.
#include <sqlite3.h>

#include <filesystem>
#include <limits>

#include "store_test_support.hpp"

namespace grove::store::test {
namespace {

constexpr const char* kDev = "grove://relay.example/d/bob-phone";

struct Appends {
  std::vector<std::uint64_t> ids;  // in completion order
  std::size_t done = 0;
  std::size_t failed = 0;
  std::size_t handed_back = 0;  // failed appends whose copy came back unwritten (id 0)
};

// Issues `n` one-copy appends back to back without waiting.
void issue(Store& s, Appends& out, unsigned first, unsigned n, std::size_t size = 64) {
  for (unsigned i = first; i < first + n; ++i) {
    s.append({plain(kDev, i, size)}, [&out](std::error_code ec, std::vector<StoredMessage> back) {
      ++out.done;
      if (ec || back.size() != 1 || back[0].id == 0) {
        ++out.failed;
        if (ec && back.size() == 1 && back[0].id == 0 && back[0].data) ++out.handed_back;
        return;
      }
      out.ids.push_back(back[0].id);
    });
  }
}

// 1 append, hold the store thread in its post, 999 more, release: the 999 queued appends
// are written in as many transactions as the limits require, in issue order.
std::uint64_t held_batch_transactions(SqliteOptions opts, std::size_t size = 64) {
  TempDir dir;
  Loop loop;
  auto store = open_store(dir / "store.db", loop, opts);
  const std::uint64_t before = sqlite(*store).transactions();
  Appends a;
  loop.hold_next_post();
  issue(*store, a, 0, 1, size);
  EXPECT_TRUE(loop.wait_held());
  issue(*store, a, 1, 999, size);
  loop.release();
  EXPECT_TRUE(loop.run_until([&] { return a.done == 1000; }));
  EXPECT_EQ(a.failed, 0u);
  EXPECT_TRUE(std::is_sorted(a.ids.begin(), a.ids.end()));  // completions in issue order
  EXPECT_EQ(load_wait(loop, *store, kDev).messages.size(), 1000u);
  return sqlite(*store).transactions() - before - 1;  // minus the load's
}

TEST(StoreGroupCommit, QueuedAppendsShareOneTransaction) {
  EXPECT_EQ(held_batch_transactions(SqliteOptions{}), 2u);  // the first, then 999 at once
}

TEST(StoreGroupCommit, RespectsTheCopyLimit) {
  SqliteOptions o = fast_options();
  o.max_batch_copies = 100;
  EXPECT_EQ(held_batch_transactions(o), 1u + 10u);  // 999 = 9 x 100 + 99
}

TEST(StoreGroupCommit, RespectsTheByteLimit) {
  SqliteOptions o = fast_options();
  o.max_batch_bytes = 10 * 1024;
  EXPECT_EQ(held_batch_transactions(o, 1024), 1u + 100u);  // 10 copies of 1 KiB each
}

TEST(StoreGroupCommit, AJobAboveTheLimitsStillRuns) {
  TempDir dir;
  Loop loop;
  SqliteOptions o = fast_options();
  o.max_batch_copies = 1;
  o.max_batch_bytes = 1;
  auto store = open_store(dir / "store.db", loop, o);
  const AppendResult r =
      append_wait(loop, *store, {plain(kDev, 1, 100), plain(kDev, 2, 100), plain(kDev, 3, 0)});
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.ids.size(), 3u);
}

TEST(StoreGroupCommit, BackToBackAppendsTakeFarFewerTransactions) {
  // Without holding the thread: 1000 appends issued back to back with durable commits.
  TempDir dir;
  Loop loop;
  auto store = open_store(dir / "store.db", loop, SqliteOptions{});
  const std::uint64_t before = sqlite(*store).transactions();
  Appends a;
  issue(*store, a, 0, 1000);
  ASSERT_TRUE(loop.run_until([&] { return a.done == 1000; }));
  EXPECT_EQ(a.failed, 0u);
  const std::uint64_t used = sqlite(*store).transactions() - before;
  EXPECT_LE(used, 100u) << "group commit did not batch";
  std::printf("[ info ] 1000 back-to-back appends took %llu transactions\n",
              static_cast<unsigned long long>(used));
}

TEST(StoreDurability, EverythingSurvivesCloseAndReopen) {
  TempDir dir;
  Loop loop;
  std::vector<StoredMessage> copies;
  for (unsigned i = 0; i < 20; ++i) copies.push_back(plain(kDev, i, i * 100));
  std::vector<std::uint64_t> ids;
  {
    auto store = open_store(dir / "store.db", loop, SqliteOptions{});
    ASSERT_FALSE(store->add_device({kDev, auth::Secret{1, 2, 3}, true}));
    ids = append_wait(loop, *store, copies).ids;
    ASSERT_EQ(ids.size(), copies.size());
  }                                          // destructor closes
  for (int round = 0; round < 2; ++round) {  // the same file opened again, twice
    auto store = open_store(dir / "store.db", loop, SqliteOptions{});
    const LoadResult l = load_wait(loop, *store, kDev);
    ASSERT_EQ(l.messages.size(), copies.size());
    for (std::size_t i = 0; i < copies.size(); ++i) {
      copies[i].id = ids[i];
      expect_same(l.messages[i], copies[i]);
    }
    std::vector<DeviceRecord> devices;
    ASSERT_FALSE(store->list_devices(devices));
    ASSERT_EQ(devices.size(), 1u);
  }
}

TEST(StoreDurability, AcknowledgedAppendsSurviveACrash) {
  // The files are copied while the store is open and after done ran, as a power cut or a
  // kill -9 would leave them: the database, its WAL (not yet checkpointed), no clean close.
  TempDir dir;
  Loop loop;
  const std::string db = dir / "store.db";
  auto store = open_store(db, loop, SqliteOptions{});
  std::vector<std::uint64_t> ids;
  for (unsigned i = 0; i < 50; ++i) {
    const AppendResult r = append_wait(loop, *store, {plain(kDev, i, 1000)});
    ASSERT_FALSE(r.ec);
    ids.push_back(r.ids[0]);
  }
  ASSERT_TRUE(std::filesystem::exists(db + "-wal"));
  ASSERT_GT(std::filesystem::file_size(db + "-wal"), 0u);
  TempDir crash;
  std::filesystem::copy_file(db, crash / "store.db");
  std::filesystem::copy_file(db + "-wal", crash / "store.db-wal");

  auto after = open_store(crash / "store.db", loop, SqliteOptions{});
  const LoadResult l = load_wait(loop, *after, kDev);
  ASSERT_FALSE(l.ec);
  ASSERT_EQ(l.messages.size(), ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(l.messages[i].id, ids[i]);
    expect_same(l.messages[i], [&] {
      StoredMessage m = plain(kDev, static_cast<unsigned>(i), 1000);
      m.id = ids[i];
      return m;
    }());
  }
}

TEST(StoreLifetime, CloseFinishesQueuedWork) {
  TempDir dir;
  Loop loop;
  auto store = open_store(dir / "store.db", loop);
  Appends a;
  issue(*store, a, 0, 300);
  std::size_t loaded = 0;
  bool load_done = false;
  store->load_queue(kDev, 0, 1000, [&](std::error_code ec, std::vector<StoredMessage> m) {
    EXPECT_FALSE(ec);
    loaded = m.size();
    load_done = true;
  });
  store->close();  // returns once all of it ran; the completions wait on the loop
  loop.run_pending();
  EXPECT_EQ(a.done, 300u);
  EXPECT_EQ(a.failed, 0u);
  EXPECT_TRUE(load_done);
  EXPECT_EQ(loaded, 300u);

  auto again = open_store(dir / "store.db", loop);
  EXPECT_EQ(load_wait(loop, *again, kDev).messages.size(), 300u);
}

TEST(StoreLifetime, DestructorFinishesQueuedWork) {
  TempDir dir;
  Loop loop;
  Appends a;
  {
    auto store = open_store(dir / "store.db", loop);
    issue(*store, a, 0, 100);
  }
  loop.run_pending();
  EXPECT_EQ(a.done, 100u);
  EXPECT_EQ(a.failed, 0u);
}

TEST(StoreLifetime, CallsAfterCloseFailWithClosedThroughThePoster) {
  TempDir dir;
  Loop loop;
  auto store = open_store(dir / "store.db", loop);
  store->close();
  store->close();  // twice is fine

  std::vector<std::error_code> got;
  store->append({plain(kDev, 1)}, [&](std::error_code ec, std::vector<StoredMessage> back) {
    // The copy comes back unwritten: the caller still has what it handed over.
    EXPECT_EQ(back.size(), 1u);
    if (!back.empty()) {
      EXPECT_EQ(back[0].id, 0u);
      EXPECT_EQ(back[0].target_device, kDev);
    }
    got.push_back(ec);
  });
  store->load_queue(kDev, 0, 10, [&](std::error_code ec, std::vector<StoredMessage> m) {
    EXPECT_TRUE(m.empty());
    got.push_back(ec);
  });
  store->remove({1}, [&](std::error_code ec, std::uint64_t n) {
    EXPECT_EQ(n, 0u);
    got.push_back(ec);
  });
  store->purge(0, 0, [&](std::error_code ec, std::uint64_t n) {
    EXPECT_EQ(n, 0u);
    got.push_back(ec);
  });
  EXPECT_TRUE(got.empty()) << "done must not run inside the call";
  loop.run_pending();
  ASSERT_EQ(got.size(), 4u);
  for (auto ec : got) EXPECT_EQ(ec, errc::closed);

  std::vector<DeviceRecord> devices;
  std::vector<IdentityRecord> ids;
  std::multimap<std::string, std::string> regs;
  std::map<std::string, QueueTotal> totals;
  EXPECT_EQ(store->add_device({kDev, {}, true}), errc::closed);
  EXPECT_EQ(store->set_device_secret(kDev, {}), errc::closed);
  EXPECT_EQ(store->set_device_enabled(kDev, false), errc::closed);
  EXPECT_EQ(store->remove_device(kDev), errc::closed);
  EXPECT_EQ(store->list_devices(devices), errc::closed);
  EXPECT_EQ(store->add_identity({kDev, {}}), errc::closed);
  EXPECT_EQ(store->set_identity_secret(kDev, {}), errc::closed);
  EXPECT_EQ(store->remove_identity(kDev), errc::closed);
  EXPECT_EQ(store->list_identities(ids), errc::closed);
  EXPECT_EQ(store->add_registration(kDev, kDev), errc::closed);
  EXPECT_EQ(store->list_registrations(regs), errc::closed);
  EXPECT_EQ(store->queue_totals(totals), errc::closed);
}

TEST(StoreLifetime, AdminCallsRunWhileTheStoreThreadWrites) {
  // Two connections to one file: the admin calls wait for the store thread's commits (busy
  // timeout) instead of failing with "database is locked".
  TempDir dir;
  Loop loop;
  auto store = open_store(dir / "store.db", loop, SqliteOptions{});
  Appends a;
  issue(*store, a, 0, 500, 4096);
  for (int i = 0; i < 50; ++i) {
    const std::string url = "grove://relay.example/d/" + std::to_string(i);
    ASSERT_FALSE(store->add_device({url, auth::Secret{}, true}));
    std::map<std::string, QueueTotal> totals;
    ASSERT_FALSE(store->queue_totals(totals));
  }
  ASSERT_TRUE(loop.run_until([&] { return a.done == 500; }));
  EXPECT_EQ(a.failed, 0u);
}

// Another process holding the write lock past the busy timeout (a stuck groved CLI, say).
class WriteLock {
 public:
  explicit WriteLock(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  }
  ~WriteLock() {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db_);
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST(StoreErrors, ALockedDatabaseFailsTheWholeBatchWithItsCause) {
  TempDir dir;
  Loop loop;
  SqliteOptions o = fast_options();
  o.busy_timeout = 50ms;
  const std::string path = dir / "store.db";
  auto store = open_store(path, loop, o);
  ASSERT_FALSE(append_wait(loop, *store, {plain(kDev, 0)}).ec);
  {
    WriteLock lock(path);
    Appends a;
    loop.hold_next_post();  // queue three appends and a purge behind a load, as one batch
    bool load_done = false;
    store->load_queue(kDev, 0, 10, [&](std::error_code ec, std::vector<StoredMessage> m) {
      EXPECT_FALSE(ec);  // WAL: a read needs no lock
      EXPECT_EQ(m.size(), 1u);
      load_done = true;
    });
    ASSERT_TRUE(loop.wait_held());
    issue(*store, a, 1, 3);
    std::error_code purge_ec;
    store->purge(std::numeric_limits<std::int64_t>::max(), 0,
                 [&](std::error_code ec, std::uint64_t n) {
                   purge_ec = ec;
                   EXPECT_EQ(n, 0u);
                 });
    loop.release();
    ASSERT_TRUE(loop.run_until([&] { return load_done && a.done == 3 && purge_ec; }));
    EXPECT_EQ(a.failed, 3u);
    EXPECT_EQ(a.handed_back, 3u);  // ids written before the failure are not left in them
    EXPECT_EQ(purge_ec, errc::io_error);
    EXPECT_NE(store->last_error().find("locked"), std::string::npos) << store->last_error();

    EXPECT_EQ(store->add_device({kDev, {}, true}), errc::io_error);
    EXPECT_NE(store->last_error().find("add device"), std::string::npos) << store->last_error();
  }
  // The lock is gone: the store works again and nothing of the failed batch was kept.
  const LoadResult l = load_wait(loop, *store, kDev);
  ASSERT_FALSE(l.ec);
  EXPECT_EQ(l.messages.size(), 1u);
  EXPECT_FALSE(append_wait(loop, *store, {plain(kDev, 5)}).ec);
  EXPECT_FALSE(store->add_device({kDev, {}, true}));
}

}  // namespace
}  // namespace grove::store::test
