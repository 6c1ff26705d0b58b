// The hot path of SqliteStore (store.hpp): append, load_queue, remove, purge; every field of a
// stored copy round-trips exactly (sstp.md §10.2); paging; FIFO order of the calls.
#include <sqlite3.h>

#include <limits>

#include "store_test_support.hpp"

namespace grove::store::test {
namespace {

namespace flag = sstp::message_flag;

constexpr const char* kDev = "grove://relay.example/d/bob-phone";
constexpr const char* kOther = "grove://relay.example/d/bob-laptop";

// One copy per shape of sstp.md §5.13: no group, E, S, F, all three, edge values.
std::vector<StoredMessage> every_shape() {
  std::vector<StoredMessage> v;
  v.push_back(plain(kDev, 1, 0));  // empty data, no optional group
  v.back().header.user_ref.clear();

  v.push_back(plain(kDev, 2));
  v.back().header.flags = flag::Ephemeral | flag::DoNotDeliverIfOffline | flag::Track;
  v.back().header.expiration_time = 1700000123;
  v.back().identity_targeted = true;

  v.push_back(plain(kDev, 3, 2048));
  v.back().header.flags = flag::StreamSize | flag::AcknowledgeImmediately;
  v.back().header.stream_size.total_size = std::numeric_limits<std::uint64_t>::max();

  v.push_back(plain(kDev, 4, 1));
  v.back().header.flags = flag::Fragmentation;
  v.back().header.fragmentation = {
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xff}, 7, 0xffffffffu};

  // All groups, values above INT64_MAX, a user_ref with every printable byte, 5 MB of data.
  v.push_back(plain(kDev, 5, 5u << 20));
  auto& h = v.back().header;
  h.flags = flag::Ephemeral | flag::StreamSize | flag::Fragmentation | flag::Reserved;
  h.expiration_time = (std::uint64_t{1} << 63) + 5;
  h.stream_size.total_size = 5u << 20;
  h.fragmentation = {{0xff, 0xfe}, 0, 1};
  h.user_ref.clear();
  for (char c = 0x20; c < 0x7f; ++c) h.user_ref += c;
  v.back().arrival_unix = std::numeric_limits<std::int64_t>::min();
  return v;
}

class StoreQueueTest : public ::testing::Test {
 protected:
  TempDir dir;
  Loop loop;
  std::unique_ptr<Store> store = open_store(dir / "store.db", loop);
};

TEST_F(StoreQueueTest, AppendThenLoadRoundTripsEveryField) {
  auto copies = every_shape();
  copies.insert(copies.begin() + 2, plain(kOther, 9));  // another queue, in the same append
  const AppendResult a = append_wait(loop, *store, copies);
  ASSERT_FALSE(a.ec) << a.ec.message();
  ASSERT_EQ(a.ids.size(), copies.size());
  for (std::size_t i = 1; i < a.ids.size(); ++i) EXPECT_GT(a.ids[i], a.ids[i - 1]);
  for (std::size_t i = 0; i < copies.size(); ++i) copies[i].id = a.ids[i];

  const LoadResult l = load_wait(loop, *store, kDev);
  ASSERT_FALSE(l.ec);
  ASSERT_EQ(l.messages.size(), copies.size() - 1);
  std::size_t k = 0;
  for (const StoredMessage& want : copies) {
    if (want.target_device != kDev) continue;
    SCOPED_TRACE(k);
    expect_same(l.messages[k++], want);
  }

  const LoadResult o = load_wait(loop, *store, kOther);
  ASSERT_EQ(o.messages.size(), 1u);
  expect_same(o.messages[0], copies[2]);
  // load_queue hands out fresh buffers, never the appended ones.
  EXPECT_NE(o.messages[0].data.get(), copies[2].data.get());
}

TEST_F(StoreQueueTest, FieldsOfAnAbsentGroupAreNotStored) {
  // §5.13: expiration_time, stream_size and fragmentation are valid only with E, S, F.
  StoredMessage m = plain(kDev, 1);
  m.header.expiration_time = 99;
  m.header.stream_size.total_size = 99;
  m.header.fragmentation.fragment_index = 99;
  m.header.session_id = 7;     // not stored either (store.hpp)
  m.header.message_count = 8;  // idem
  ASSERT_FALSE(append_wait(loop, *store, {m}).ec);
  const LoadResult l = load_wait(loop, *store, kDev);
  ASSERT_EQ(l.messages.size(), 1u);
  sstp::Message want;
  want.user_ref = m.header.user_ref;
  EXPECT_EQ(l.messages[0].header, want);
}

TEST_F(StoreQueueTest, NullDataIsStoredAsEmpty) {
  StoredMessage m = plain(kDev, 1);
  m.data.reset();
  ASSERT_FALSE(append_wait(loop, *store, {m}).ec);
  const LoadResult l = load_wait(loop, *store, kDev);
  ASSERT_EQ(l.messages.size(), 1u);
  ASSERT_NE(l.messages[0].data, nullptr);
  EXPECT_TRUE(l.messages[0].data->empty());
}

TEST_F(StoreQueueTest, PagesByAfterIdAndMaxCount) {
  std::vector<StoredMessage> copies;
  for (unsigned i = 0; i < 10; ++i) copies.push_back(plain(kDev, i));
  const AppendResult a = append_wait(loop, *store, copies);
  ASSERT_FALSE(a.ec);

  std::vector<std::uint64_t> seen;
  std::uint64_t after = 0;
  for (;;) {
    const LoadResult page = load_wait(loop, *store, kDev, after, 3);
    ASSERT_FALSE(page.ec);
    ASSERT_LE(page.messages.size(), 3u);
    if (page.messages.empty()) break;
    for (const auto& m : page.messages) seen.push_back(m.id);
    after = page.messages.back().id;
  }
  EXPECT_EQ(seen, a.ids);
  EXPECT_TRUE(load_wait(loop, *store, kDev, 0, 0).messages.empty());
  EXPECT_TRUE(load_wait(loop, *store, kDev, a.ids.back()).messages.empty());
  EXPECT_TRUE(
      load_wait(loop, *store, kDev, std::numeric_limits<std::uint64_t>::max()).messages.empty());
  EXPECT_TRUE(load_wait(loop, *store, "grove://relay.example/d/nobody").messages.empty());
  const LoadResult mid = load_wait(loop, *store, kDev, a.ids[4], std::size_t(-1));
  ASSERT_EQ(mid.messages.size(), 5u);
  EXPECT_EQ(mid.messages[0].id, a.ids[5]);
}

TEST(StoreQueueLimits, LoadStopsAtMaxLoadBytes) {
  TempDir dir;
  Loop loop;
  SqliteOptions o = fast_options();
  o.max_load_bytes = 250;
  auto store = open_store(dir / "store.db", loop, o);
  const AppendResult a =
      append_wait(loop, *store,
                  {plain(kDev, 0, 1000), plain(kDev, 1, 100), plain(kDev, 2, 100),
                   plain(kDev, 3, 100), plain(kDev, 4, 100), plain(kDev, 5, 0)});
  ASSERT_FALSE(a.ec);
  // A copy above the limit comes alone; then pages stop after the copy reaching 250 bytes.
  std::vector<std::size_t> pages;
  std::uint64_t after = 0;
  for (;;) {
    const LoadResult l = load_wait(loop, *store, kDev, after, 100);
    ASSERT_FALSE(l.ec);
    if (l.messages.empty()) break;
    pages.push_back(l.messages.size());
    after = l.messages.back().id;
  }
  EXPECT_EQ(pages, (std::vector<std::size_t>{1, 3, 2}));
}

TEST_F(StoreQueueTest, RemoveDeletesOnlyTheGivenIds) {
  std::vector<StoredMessage> copies;
  for (unsigned i = 0; i < 6; ++i) copies.push_back(plain(i % 2 ? kOther : kDev, i, 100));
  const AppendResult a = append_wait(loop, *store, copies);
  ASSERT_FALSE(a.ec);
  // Unknown ids (never used, or beyond int64) are ignored and not counted.
  std::uint64_t removed = 99;
  EXPECT_FALSE(remove_wait(loop, *store,
                           {a.ids[0], a.ids[3], 999999, std::numeric_limits<std::uint64_t>::max()},
                           &removed));
  EXPECT_EQ(removed, 2u);
  EXPECT_FALSE(remove_wait(loop, *store, {}, &removed));
  EXPECT_EQ(removed, 0u);
  // A copy acknowledged twice (by an old and a new connection of its device) goes once.
  EXPECT_FALSE(remove_wait(loop, *store, {a.ids[0]}, &removed));
  EXPECT_EQ(removed, 0u);

  const LoadResult d = load_wait(loop, *store, kDev);
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(d.messages[0].id, a.ids[2]);
  EXPECT_EQ(d.messages[1].id, a.ids[4]);

  std::map<std::string, QueueTotal> totals;
  ASSERT_FALSE(store->queue_totals(totals));
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[kDev].messages, 2u);
  EXPECT_EQ(totals[kDev].bytes, 200u);
  EXPECT_EQ(totals[kOther].messages, 2u);
}

TEST_F(StoreQueueTest, PurgeByRetentionAndByExpiration) {
  auto at = [](unsigned n, std::int64_t arrival) {
    StoredMessage m = plain(kDev, n);
    m.arrival_unix = arrival;
    return m;
  };
  auto ephemeral = [&](unsigned n, std::int64_t arrival, std::uint64_t expires) {
    StoredMessage m = at(n, arrival);
    m.header.flags = flag::Ephemeral;
    m.header.expiration_time = expires;
    return m;
  };
  const AppendResult a = append_wait(
      loop, *store,
      {at(0, 100), at(1, 200), at(2, 300),            // retention applies
       ephemeral(3, 10, 150), ephemeral(4, 10, 250),  // old, but kept until ExpirationTime
       ephemeral(5, 10, std::numeric_limits<std::uint64_t>::max())});
  ASSERT_FALSE(a.ec);

  // Before 250: copies 0 and 1 by retention (300 stays); expired at 150: copy 3 only (§10.6).
  PurgeResult p = purge_wait(loop, *store, 250, 150);
  ASSERT_FALSE(p.ec);
  EXPECT_EQ(p.removed, 3u);
  std::vector<std::uint64_t> left;
  for (const auto& m : load_wait(loop, *store, kDev).messages) left.push_back(m.id);
  EXPECT_EQ(left, (std::vector<std::uint64_t>{a.ids[2], a.ids[4], a.ids[5]}));

  // ExpirationTime <= now goes: exactly 250 expires at 250. The 2^64-1 one never does.
  p = purge_wait(loop, *store, 0, 250);
  EXPECT_EQ(p.removed, 1u);
  p = purge_wait(loop, *store, 301, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(p.removed, 1u);
  left.clear();
  for (const auto& m : load_wait(loop, *store, kDev).messages) left.push_back(m.id);
  EXPECT_EQ(left, std::vector<std::uint64_t>{a.ids[5]});
  EXPECT_EQ(purge_wait(loop, *store, 0, 0).removed, 0u);
}

// Many appends queued together are written several rows to a statement: every field of
// every copy still round-trips, in issue order, whatever the statement boundaries.
TEST_F(StoreQueueTest, AppendsQueuedTogetherRoundTripEveryField) {
  std::vector<std::vector<StoredMessage>> appends;
  for (int round = 0; round < 4; ++round) {  // 4 x 5 shapes in one append, 17 single ones
    auto shapes = every_shape();
    shapes.pop_back();  // not the 5 MB one
    shapes.push_back(plain(kDev, 50 + round, 3));
    appends.push_back(shapes);
  }
  for (unsigned n = 0; n < 17; ++n) appends.push_back({plain(kDev, 100 + n, n)});
  std::size_t done = 0;
  std::vector<StoredMessage> want;
  loop.hold_next_post();
  store->append({plain(kOther, 1)}, [&](std::error_code, auto) {});
  ASSERT_TRUE(loop.wait_held());
  for (auto& a : appends) {
    store->append(a, [&](std::error_code ec, std::vector<StoredMessage> back) {
      EXPECT_FALSE(ec);
      for (auto& m : back) want.push_back(m);
      ++done;
    });
  }
  loop.release();
  ASSERT_TRUE(loop.run_until([&] { return done == appends.size(); }));
  ASSERT_EQ(want.size(), 37u);
  const LoadResult l = load_wait(loop, *store, kDev);
  ASSERT_FALSE(l.ec);
  ASSERT_EQ(l.messages.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(want[i].id, want[0].id + i);  // ids in issue order, none skipped
    expect_same(l.messages[i], want[i]);
  }
}

TEST_F(StoreQueueTest, CallsCompleteInIssueOrder) {
  // All issued before any completion runs: a load after an append sees it, a load after a
  // remove does not, and the completions arrive in issue order.
  std::vector<std::string> order;
  std::vector<std::uint64_t> ids;
  std::vector<std::size_t> loaded;
  store->append({plain(kDev, 1), plain(kDev, 2)}, [&](std::error_code ec, auto back) {
    EXPECT_FALSE(ec);
    for (const StoredMessage& m : back) ids.push_back(m.id);
    order.push_back("append");
  });
  store->load_queue(kDev, 0, 100, [&](std::error_code ec, std::vector<StoredMessage> m) {
    EXPECT_FALSE(ec);
    loaded.push_back(m.size());
    order.push_back("load");
  });
  store->purge(1700000002, 0, [&](std::error_code ec, std::uint64_t n) {  // removes copy 1
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, 1u);
    order.push_back("purge");
  });
  store->load_queue(kDev, 0, 100, [&](std::error_code, std::vector<StoredMessage> m) {
    loaded.push_back(m.size());
    order.push_back("load");
  });
  store->append({plain(kDev, 3)}, [&](std::error_code, auto) { order.push_back("append"); });
  store->load_queue(kDev, 0, 100, [&](std::error_code, std::vector<StoredMessage> m) {
    loaded.push_back(m.size());
    order.push_back("load");
  });
  ASSERT_TRUE(loop.run_until([&] { return order.size() == 6; }));
  EXPECT_EQ(order, (std::vector<std::string>{"append", "load", "purge", "load", "append", "load"}));
  EXPECT_EQ(loaded, (std::vector<std::size_t>{2, 1, 2}));
  for (auto t : loop.posting_threads()) EXPECT_NE(t, loop.owner());
  EXPECT_EQ(loop.posting_threads().size(), 1u);  // the store thread, only
}

TEST_F(StoreQueueTest, IdsAreNeverReused) {
  TempDir d2;
  std::uint64_t last = 0;
  {
    auto s = open_store(d2 / "s.db", loop);
    const AppendResult a = append_wait(loop, *s, {plain(kDev, 1), plain(kDev, 2)});
    last = a.ids.back();
    // Deleting the newest copy must not hand its id out again (AUTOINCREMENT), even after
    // a reopen.
    ASSERT_FALSE(remove_wait(loop, *s, a.ids));
  }
  auto s = open_store(d2 / "s.db", loop);
  const AppendResult b = append_wait(loop, *s, {plain(kDev, 3)});
  ASSERT_EQ(b.ids.size(), 1u);
  EXPECT_GT(b.ids[0], last);
}

// Sets the largest id ever used, as SQLite keeps it for AUTOINCREMENT, behind the store's back.
void set_last_id(const std::string& path, std::int64_t value) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const std::string sql =
      "UPDATE sqlite_sequence SET seq = " + std::to_string(value) + " WHERE name = 'messages'";
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
}

TEST_F(StoreQueueTest, IdsEndAtTheLargestInt64) {
  TempDir d2;
  const std::string path = d2 / "s.db";
  {
    auto s = open_store(path, loop);
    ASSERT_FALSE(append_wait(loop, *s, {plain(kDev, 1)}).ec);
  }
  set_last_id(path, std::numeric_limits<std::int64_t>::max() - 1);
  auto s = open_store(path, loop);
  const AppendResult a = append_wait(loop, *s, {plain(kDev, 2)});
  ASSERT_FALSE(a.ec);
  EXPECT_EQ(a.ids, std::vector<std::uint64_t>{std::numeric_limits<std::int64_t>::max()});
  // No id is left: the append fails whole, and hands its copies back unwritten.
  const AppendResult b = append_wait(loop, *s, {plain(kDev, 3), plain(kDev, 4)});
  EXPECT_TRUE(b.ec);
  ASSERT_EQ(b.copies.size(), 2u);
  EXPECT_EQ(b.copies[0].id, 0u);
  EXPECT_EQ(load_wait(loop, *s, kDev).messages.size(), 2u);
}

}  // namespace
}  // namespace grove::store::test
