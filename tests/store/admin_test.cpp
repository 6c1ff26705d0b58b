// The synchronous administration calls of SqliteStore (devices, identities, registrations,
// queue totals) and the file modes of auth.md §2.2.
#include <sys/stat.h>

#include <fstream>

#include "store_test_support.hpp"

namespace grove::store::test {
namespace {

constexpr const char* kPhone = "grove://relay.example/d/bob-phone";
constexpr const char* kLaptop = "grove://relay.example/d/bob-laptop";
constexpr const char* kBob = "grove://relay.example/i/bob";
constexpr const char* kCarol = "grove://relay.example/i/carol";

auth::Secret secret(Byte first) {
  auth::Secret s{};
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<Byte>(first + i * 7);
  s[5] = 0;  // a zero byte inside must survive (BLOB, not text)
  return s;
}

class StoreAdminTest : public ::testing::Test {
 protected:
  TempDir dir;
  Loop loop;
  std::unique_ptr<Store> store = open_store(dir / "store.db", loop);
};

TEST_F(StoreAdminTest, DevicesAddListUpdateRemove) {
  ASSERT_FALSE(store->add_device({kPhone, secret(1), true}));
  ASSERT_FALSE(store->add_device({kLaptop, secret(2), false}));
  EXPECT_EQ(store->add_device({kPhone, secret(3), true}), errc::exists);

  std::vector<DeviceRecord> devices;
  ASSERT_FALSE(store->list_devices(devices));
  ASSERT_EQ(devices.size(), 2u);  // ordered by URL
  EXPECT_EQ(devices[0].url, kLaptop);
  EXPECT_EQ(devices[0].secret, secret(2));
  EXPECT_FALSE(devices[0].enabled);
  EXPECT_EQ(devices[1].url, kPhone);
  EXPECT_EQ(devices[1].secret, secret(1));  // the failed add changed nothing
  EXPECT_TRUE(devices[1].enabled);

  EXPECT_FALSE(store->set_device_secret(kPhone, secret(9)));
  EXPECT_FALSE(store->set_device_enabled(kLaptop, true));
  EXPECT_FALSE(store->set_device_enabled(kPhone, false));
  EXPECT_EQ(store->set_device_secret("grove://relay.example/d/nobody", secret(9)), errc::not_found);
  EXPECT_EQ(store->set_device_enabled("grove://relay.example/d/nobody", true), errc::not_found);
  ASSERT_FALSE(store->list_devices(devices));
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_TRUE(devices[0].enabled);
  EXPECT_EQ(devices[1].secret, secret(9));
  EXPECT_FALSE(devices[1].enabled);

  EXPECT_FALSE(store->remove_device(kLaptop));
  EXPECT_EQ(store->remove_device(kLaptop), errc::not_found);
  devices.push_back({});  // list replaces the contents
  ASSERT_FALSE(store->list_devices(devices));
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].url, kPhone);
}

TEST_F(StoreAdminTest, IdentitiesAddListUpdateRemove) {
  ASSERT_FALSE(store->add_identity({kBob, secret(4)}));
  EXPECT_EQ(store->add_identity({kBob, secret(5)}), errc::exists);
  ASSERT_FALSE(store->add_identity({kCarol, secret(6)}));
  EXPECT_FALSE(store->set_identity_secret(kCarol, secret(7)));
  EXPECT_EQ(store->set_identity_secret("grove://relay.example/i/nobody", secret(7)),
            errc::not_found);

  std::vector<IdentityRecord> ids;
  ASSERT_FALSE(store->list_identities(ids));
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0].url, kBob);
  EXPECT_EQ(ids[0].secret, secret(4));
  EXPECT_EQ(ids[1].url, kCarol);
  EXPECT_EQ(ids[1].secret, secret(7));

  EXPECT_FALSE(store->remove_identity(kBob));
  EXPECT_EQ(store->remove_identity(kBob), errc::not_found);
  ASSERT_FALSE(store->list_identities(ids));
  ASSERT_EQ(ids.size(), 1u);
}

TEST_F(StoreAdminTest, RegistrationsFollowTheirDeviceAndIdentity) {
  ASSERT_FALSE(store->add_device({kPhone, secret(1), true}));
  ASSERT_FALSE(store->add_device({kLaptop, secret(2), true}));
  ASSERT_FALSE(store->add_identity({kBob, secret(3)}));
  ASSERT_FALSE(store->add_identity({kCarol, secret(4)}));

  EXPECT_FALSE(store->add_registration(kBob, kPhone));
  EXPECT_FALSE(store->add_registration(kBob, kLaptop));
  EXPECT_FALSE(store->add_registration(kCarol, kLaptop));
  EXPECT_EQ(store->add_registration(kBob, kPhone), errc::exists);
  EXPECT_EQ(store->add_registration("grove://relay.example/i/nobody", kPhone), errc::not_found);
  EXPECT_EQ(store->add_registration(kBob, "grove://relay.example/d/nobody"), errc::not_found);

  std::multimap<std::string, std::string> regs;
  ASSERT_FALSE(store->list_registrations(regs));
  EXPECT_EQ(regs, (std::multimap<std::string, std::string>{
                      {kBob, kLaptop}, {kBob, kPhone}, {kCarol, kLaptop}}));

  ASSERT_FALSE(store->remove_device(kLaptop));
  ASSERT_FALSE(store->list_registrations(regs));
  EXPECT_EQ(regs, (std::multimap<std::string, std::string>{{kBob, kPhone}}));
  ASSERT_FALSE(store->remove_identity(kBob));
  ASSERT_FALSE(store->list_registrations(regs));
  EXPECT_TRUE(regs.empty());
}

// Appends write ids they choose themselves, several rows per statement; a registration's
// copies in the same transaction take theirs from SQLite. Issued as one batch, none of them
// may share an id, and the queue keeps issue order.
TEST_F(StoreAdminTest, RegistrationBetweenAppendsInOneTransactionSharesNoId) {
  ASSERT_FALSE(store->add_device({kPhone, secret(1), true}));
  ASSERT_FALSE(store->add_identity({kBob, secret(3)}));
  auto for_bob = [](unsigned n) {
    StoredMessage m = plain(pending_queue(kBob), n);
    m.identity_url = kBob;
    m.identity_targeted = true;
    return m;
  };
  ASSERT_FALSE(append_wait(loop, *store, {for_bob(1), for_bob(2)}).ec);

  std::vector<std::uint64_t> ids;
  bool registered = false;
  std::size_t appended = 0;
  auto keep = [&](std::error_code ec, std::vector<StoredMessage> back) {
    EXPECT_FALSE(ec);
    for (const StoredMessage& m : back) ids.push_back(m.id);
    ++appended;
  };
  loop.hold_next_post();
  store->append({plain(kPhone, 100)}, keep);  // runs alone; its post is held
  ASSERT_TRUE(loop.wait_held());
  store->append({plain(kPhone, 101), plain(kPhone, 102)}, keep);
  store->register_device(kBob, kPhone, [&](std::error_code ec, Registration r) {
    EXPECT_FALSE(ec);
    EXPECT_EQ(r.copied, 2u);
    registered = true;
  });
  store->append({plain(kPhone, 103)}, keep);
  loop.release();
  ASSERT_TRUE(loop.run_until([&] { return registered && appended == 3; }));

  const auto got = load_wait(loop, *store, kPhone, 0, 100);
  ASSERT_FALSE(got.ec);
  ASSERT_EQ(got.messages.size(), 6u);  // 100, 101, 102, two copies of bob's, 103
  for (std::size_t i = 1; i < got.messages.size(); ++i) {
    EXPECT_GT(got.messages[i].id, got.messages[i - 1].id);
  }
  EXPECT_EQ(*got.messages[3].data, *for_bob(1).data);
  EXPECT_EQ(*got.messages[4].data, *for_bob(2).data);
  EXPECT_EQ(*got.messages[5].data, *plain(kPhone, 103).data);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids.back(), got.messages[5].id);
}

// The relay's Register path: asynchronous, on the store thread, never failing the group
// commit, and copying the identity's pending queue in the same transaction (sstp.md §11 R2).
TEST_F(StoreAdminTest, RegisterDeviceCopiesThePendingQueue) {
  ASSERT_FALSE(store->add_device({kPhone, secret(1), true}));
  ASSERT_FALSE(store->add_device({kLaptop, secret(2), true}));
  ASSERT_FALSE(store->add_identity({kBob, secret(3)}));
  std::vector<StoredMessage> pending;
  for (unsigned n = 1; n <= 3; ++n) {
    pending.push_back(plain(pending_queue(kBob), n, 100 * n));
    pending.back().identity_url = kBob;
    pending.back().identity_targeted = true;
  }
  ASSERT_FALSE(append_wait(loop, *store, pending).ec);
  auto reg = [&](const std::string& identity, const std::string& device) {
    std::pair<std::error_code, Registration> r;
    bool done = false;
    store->register_device(identity, device, [&](std::error_code ec, Registration got) {
      r = {ec, got};
      done = true;
    });
    EXPECT_TRUE(loop.run_until([&] { return done; }));
    return r;
  };
  auto r = reg(kBob, kPhone);
  ASSERT_FALSE(r.first);
  EXPECT_TRUE(r.second.added);
  EXPECT_EQ(r.second.copied, 3u);
  EXPECT_EQ(r.second.copied_bytes, 600u);
  auto got = load_wait(loop, *store, kPhone, 0, 10);
  ASSERT_EQ(got.messages.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got.messages[i].target_device, kPhone);
    EXPECT_TRUE(got.messages[i].identity_targeted);
    EXPECT_EQ(*got.messages[i].data, *pending[i].data);  // in queue order
  }
  r = reg(kBob, kPhone);  // again: harmless, no second copies
  EXPECT_FALSE(r.second.added);
  EXPECT_TRUE(r.second.existed);
  EXPECT_EQ(load_wait(loop, *store, kPhone, 0, 10).messages.size(), 3u);
  r = reg(kBob, kLaptop);  // the pending queue is retained for later registrations
  EXPECT_EQ(r.second.copied, 3u);
  r = reg("grove://relay.example/i/nobody", kPhone);  // vanished identity: nothing, no error
  EXPECT_FALSE(r.first);
  EXPECT_FALSE(r.second.added || r.second.existed);
  std::multimap<std::string, std::string> regs;
  ASSERT_FALSE(store->list_registrations(regs));
  EXPECT_EQ(regs, (std::multimap<std::string, std::string>{{kBob, kLaptop}, {kBob, kPhone}}));
  ASSERT_FALSE(store->remove_identity(kBob));  // takes its pending queue along
  EXPECT_TRUE(load_wait(loop, *store, pending_queue(kBob), 0, 10).messages.empty());
}

TEST_F(StoreAdminTest, RemoveDeviceRemovesItsQueueOnly) {
  ASSERT_FALSE(store->add_device({kPhone, secret(1), true}));
  ASSERT_FALSE(store->add_device({kLaptop, secret(2), true}));
  ASSERT_FALSE(
      append_wait(loop, *store, {plain(kPhone, 1, 10), plain(kPhone, 2, 20), plain(kLaptop, 3, 5)})
          .ec);

  std::map<std::string, QueueTotal> totals;
  ASSERT_FALSE(store->queue_totals(totals));
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[kPhone].messages, 2u);
  EXPECT_EQ(totals[kPhone].bytes, 30u);
  EXPECT_EQ(totals[kLaptop].messages, 1u);
  EXPECT_EQ(totals[kLaptop].bytes, 5u);

  ASSERT_FALSE(store->remove_device(kPhone));
  EXPECT_TRUE(load_wait(loop, *store, kPhone).messages.empty());
  EXPECT_EQ(load_wait(loop, *store, kLaptop).messages.size(), 1u);
  ASSERT_FALSE(store->queue_totals(totals));
  EXPECT_EQ(totals.size(), 1u);
  EXPECT_EQ(totals.count(kPhone), 0u);
}

TEST_F(StoreAdminTest, SecretsSurviveReopen) {
  ASSERT_FALSE(store->add_device({kPhone, secret(0xf0), false}));
  ASSERT_FALSE(store->add_identity({kBob, secret(0x80)}));
  store->close();
  store = open_store(dir / "store.db", loop);
  std::vector<DeviceRecord> devices;
  std::vector<IdentityRecord> ids;
  ASSERT_FALSE(store->list_devices(devices));
  ASSERT_FALSE(store->list_identities(ids));
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].secret, secret(0xf0));
  EXPECT_FALSE(devices[0].enabled);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].secret, secret(0x80));
}

mode_t mode_of(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// Sets the umask for one scope (process-wide; the tests of this binary run one at a time).
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t m) : old_(::umask(m)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

TEST(StoreFiles, FoldersAre0700AndFiles0600WhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
    SCOPED_TRACE(mask);
    ScopedUmask um(mask);
    TempDir dir;
    ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
    Loop loop;
    const std::string db = dir / "a/b/store.db";
    auto s = open_store(db, loop, SqliteOptions{});
    ASSERT_NE(s, nullptr);
    ASSERT_FALSE(append_wait(loop, *s, {plain("d", 1)}).ec);  // the WAL is in use
    EXPECT_EQ(mode_of(dir / "a"), 0700u);
    EXPECT_EQ(mode_of(dir / "a/b"), 0700u);
    EXPECT_EQ(mode_of(dir.path().string()), 0755u);  // an existing folder is left alone
    EXPECT_EQ(mode_of(db), 0600u);
    EXPECT_EQ(mode_of(db + "-wal"), 0600u);
    EXPECT_EQ(mode_of(db + "-shm"), 0600u);
  }
}

TEST(StoreFiles, AnExistingStoreIsMade0600) {
  TempDir dir;
  Loop loop;
  const std::string db = dir / "store.db";
  { auto s = open_store(db, loop); }
  ASSERT_EQ(::chmod(db.c_str(), 0644), 0);
  auto s = open_store(db, loop);
  EXPECT_EQ(mode_of(db), 0600u);
}

TEST(StoreFiles, UncreatableFolderIsAnIoErrorWithItsCause) {
  TempDir dir;
  std::ofstream(dir / "file") << "x";
  Loop loop;
  std::error_code ec;
  std::string text;
  auto s = open_sqlite_store(dir / "file/sub/store.db", loop.poster(), {}, ec, text);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(ec, errc::io_error);
  EXPECT_NE(text.find("Not a directory"), std::string::npos) << text;
}

TEST(StoreFiles, SymlinkInPlaceOfTheStoreIsRefused) {
  TempDir dir;
  ASSERT_EQ(::symlink((dir / "elsewhere.db").c_str(), (dir / "store.db").c_str()), 0);
  Loop loop;
  std::error_code ec;
  auto s = open_sqlite_store(dir / "store.db", loop.poster(), {}, ec);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(ec, errc::io_error);
}

}  // namespace
}  // namespace grove::store::test
