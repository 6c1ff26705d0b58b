// Opening a store file: schema version and migrations (PRAGMA user_version), fixtures of every
// past version, and files that are too new, foreign, garbage, truncated or damaged
// (style.md rule 18). Also the "grove.store" error category.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "fixture_data.hpp"
#include "store_test_support.hpp"

namespace grove::store::test {
namespace {

namespace fs = std::filesystem;

const fs::path kFixtures = GROVE_STORE_FIXTURES;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
void spill(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

// Opening must fail with `want`; returns the error text.
std::string open_fails(const std::string& path, errc want, SqliteOptions opts = fast_options()) {
  Loop loop;
  std::error_code ec;
  std::string text;
  auto s = open_sqlite_store(path, loop.poster(), opts, ec, text);
  EXPECT_EQ(s, nullptr);
  EXPECT_EQ(ec, want) << ec.message() << ": " << text;
  EXPECT_FALSE(text.empty());
  return text;
}

// The value of a PRAGMA, as text, read with SQLite directly.
std::string pragma(const std::string& path, const char* name) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string v = "?";
  if (sqlite3_prepare_v2(db, (std::string("PRAGMA ") + name).c_str(), -1, &st, nullptr) ==
          SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

TEST(StoreOpen, NewFileGetsTheCurrentSchema) {
  TempDir dir;
  Loop loop;
  { auto s = open_store(dir / "store.db", loop); }
  EXPECT_EQ(pragma(dir / "store.db", "user_version"), "1");
  EXPECT_EQ(pragma(dir / "store.db", "application_id"), std::to_string(0x47525653));  // "GRVS"
  EXPECT_EQ(pragma(dir / "store.db", "journal_mode"), "wal");
  EXPECT_EQ(pragma(dir / "store.db", "page_size"), "65536");  // SqliteOptions::page_size
}

TEST(StoreOpen, NewFileTakesTheConfiguredPageSize) {
  TempDir dir;
  Loop loop;
  SqliteOptions o = fast_options();
  o.page_size = 8192;
  {
    auto s = open_store(dir / "store.db", loop, o);
    EXPECT_FALSE(append_wait(loop, *s, {plain("d", 1, 20000)}).ec);
  }
  EXPECT_EQ(pragma(dir / "store.db", "page_size"), "8192");
  // Reopened with another setting, the file keeps the size it was made with.
  o.page_size = 65536;
  auto s = open_store(dir / "store.db", loop, o);
  EXPECT_EQ(load_wait(loop, *s, "d").messages.size(), 1u);
  s.reset();
  EXPECT_EQ(pragma(dir / "store.db", "page_size"), "8192");
}

TEST(StoreOpen, AnEmptyPosterIsAProgrammingError) {
  TempDir dir;
  std::error_code ec;
  EXPECT_THROW((void)open_sqlite_store(dir / "store.db", Poster{}, {}, ec), std::invalid_argument);
}

TEST(StoreOpen, APageSizeSqliteCannotUseIsAProgrammingError) {
  TempDir dir;
  Loop loop;
  for (std::uint32_t size : {0u, 256u, 1000u, 131072u}) {
    SqliteOptions o;
    o.page_size = size;
    std::error_code ec;
    EXPECT_THROW((void)open_sqlite_store(dir / "store.db", loop.poster(), o, ec),
                 std::invalid_argument)
        << size;
  }
  EXPECT_FALSE(fs::exists(dir / "store.db"));  // refused before anything was created
}

TEST(StoreOpen, AnEmptyFileIsANewStore) {
  TempDir dir;
  spill(dir / "store.db", "");
  Loop loop;
  auto s = open_store(dir / "store.db", loop);
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(append_wait(loop, *s, {plain("d", 1)}).ec);
}

// A copy of a fixture in a temp folder (opening writes the WAL beside it).
class StoreFixtureTest : public ::testing::Test {
 protected:
  std::string copy(const char* name) {
    const std::string to = dir / "store.db";
    fs::copy_file(kFixtures / name, to);
    return to;
  }
  TempDir dir;
  Loop loop;
};

TEST_F(StoreFixtureTest, Version1OpensWithItsContent) {
  auto s = open_store(copy("v1.sqlite"), loop);
  ASSERT_NE(s, nullptr);

  std::vector<DeviceRecord> devices;
  ASSERT_FALSE(s->list_devices(devices));
  const auto want_devices = fixture::devices();
  ASSERT_EQ(devices.size(), want_devices.size());
  for (std::size_t i = 0; i < devices.size(); ++i) {
    EXPECT_EQ(devices[i].url, want_devices[i].url);
    EXPECT_EQ(devices[i].secret, want_devices[i].secret);
    EXPECT_EQ(devices[i].enabled, want_devices[i].enabled);
  }
  std::vector<IdentityRecord> ids;
  ASSERT_FALSE(s->list_identities(ids));
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].url, fixture::kBob);
  EXPECT_EQ(ids[0].secret, fixture::key(0x33));
  std::multimap<std::string, std::string> regs;
  ASSERT_FALSE(s->list_registrations(regs));
  EXPECT_EQ(regs, fixture::registrations());

  const auto appended = fixture::appended();
  std::vector<StoredMessage> want;
  for (const auto& m : appended) {
    if (m.target_device == fixture::kPhone && m.id != 1) want.push_back(m);
  }
  const LoadResult l = load_wait(loop, *s, fixture::kPhone);
  ASSERT_FALSE(l.ec);
  ASSERT_EQ(l.messages.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) expect_same(l.messages[i], want[i]);
  const LoadResult laptop = load_wait(loop, *s, fixture::kLaptop);
  ASSERT_EQ(laptop.messages.size(), 1u);
  expect_same(laptop.messages[0], appended.back());

  // Writing goes on where the file left off: ids are never reused.
  const AppendResult a = append_wait(loop, *s, {plain(fixture::kPhone, 9)});
  ASSERT_EQ(a.ids.size(), 1u);
  EXPECT_EQ(a.ids[0], 6u);
  s.reset();
  EXPECT_EQ(pragma(dir / "store.db", "page_size"), "4096");  // made before page_size existed
}

TEST_F(StoreFixtureTest, TooNewIsRefusedAndLeftUntouched) {
  const std::string path = copy("v999.sqlite");
  const std::string before = slurp(path);
  const std::string text = open_fails(path, errc::too_new);
  EXPECT_NE(text.find("999"), std::string::npos) << text;
  EXPECT_EQ(slurp(path), before);
  EXPECT_FALSE(fs::exists(path + "-wal"));
}

TEST_F(StoreFixtureTest, GarbageIsCorrupt) {
  const std::string text = open_fails(copy("garbage.sqlite"), errc::corrupt);
  EXPECT_NE(text.find("not a database"), std::string::npos) << text;
}

TEST_F(StoreFixtureTest, TruncatedIsCorrupt) {
  open_fails(copy("v1-truncated.sqlite"), errc::corrupt);
}

TEST(StoreOpen, DamagedPagesAreCorrupt) {
  // One b-tree page of version 1 overwritten at a time; the header and page 1 (the schema)
  // stay intact, so only the quick_check at open can tell.
  const std::string v1 = slurp(kFixtures / "v1.sqlite");
  for (std::size_t page = 2; page <= v1.size() / 4096; ++page) {
    SCOPED_TRACE(page);
    std::string damaged = v1;
    for (std::size_t i = (page - 1) * 4096; i < page * 4096; ++i) {
      damaged[i] = static_cast<char>(0xa5 ^ (i * 7));
    }
    TempDir dir;
    spill(dir / "store.db", damaged);
    open_fails(dir / "store.db", errc::corrupt);
  }
}

TEST_F(StoreFixtureTest, ForeignSqliteFileIsCorrupt) {
  const std::string text = open_fails(copy("foreign.sqlite"), errc::corrupt);
  EXPECT_NE(text.find("not a Grove store"), std::string::npos) << text;
}

TEST(StoreOpen, EveryTruncationOfVersion1IsCorrupt) {
  const std::string v1 = slurp(kFixtures / "v1.sqlite");
  ASSERT_GT(v1.size(), 4096u);
  for (std::size_t cut :
       {std::size_t{1}, std::size_t{50}, std::size_t{99}, std::size_t{100}, std::size_t{512},
        std::size_t{4095}, std::size_t{4096}, std::size_t{4097}, v1.size() / 2, v1.size() - 4096}) {
    SCOPED_TRACE(cut);
    TempDir dir;
    spill(dir / "store.db", v1.substr(0, cut));
    open_fails(dir / "store.db", errc::corrupt);
  }
}

TEST(StoreOpen, ShortGarbageIsCorrupt) {
  for (const char* bytes : {"x", "not a database at all", "SQLite format 3"}) {
    SCOPED_TRACE(bytes);
    TempDir dir;
    spill(dir / "store.db", bytes);
    open_fails(dir / "store.db", errc::corrupt);
  }
}

TEST(StoreErrc, EveryValueHasItsOwnMessage) {
  EXPECT_STREQ(store_category().name(), "grove.store");
  std::set<std::string> seen;
  for (errc e : {errc::ok, errc::exists, errc::not_found, errc::io_error, errc::corrupt,
                 errc::too_new, errc::closed}) {
    const std::error_code ec = e;
    EXPECT_EQ(&ec.category(), &store_category());
    EXPECT_FALSE(ec.message().empty());
    EXPECT_TRUE(seen.insert(ec.message()).second) << ec.message();
  }
  EXPECT_NE(std::error_code(99, store_category()).message().find("99"), std::string::npos);
}

// Wrote tests/store/fixtures/ once, with the version 1 schema; kept to show how they were made
// (fixtures/README.md). Run by hand only, and only to rewrite them on purpose:
//   store_test --gtest_also_run_disabled_tests --gtest_filter='StoreFixtureGenerator.*'
// Released fixtures are what older Grove versions left on disk: do not regenerate them.
TEST(StoreFixtureGenerator, DISABLED_WriteVersion1) {
  TempDir dir;
  Loop loop;
  const std::string db = dir / "v1.sqlite";
  {
    auto s = open_store(db, loop, SqliteOptions{});
    for (const auto& d : fixture::devices()) ASSERT_FALSE(s->add_device(d));
    for (const auto& i : fixture::identities()) ASSERT_FALSE(s->add_identity(i));
    for (const auto& [i, d] : fixture::registrations()) ASSERT_FALSE(s->add_registration(i, d));
    const AppendResult a = append_wait(loop, *s, fixture::appended());
    ASSERT_EQ(a.ids, (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
    ASSERT_FALSE(remove_wait(loop, *s, {1}));
  }  // the last close checkpoints the WAL into the file and deletes it
  ASSERT_FALSE(fs::exists(db + "-wal"));
  // This generator writes version 1 only; a later schema gets a generator of its own.
  ASSERT_EQ(pragma(db, "user_version"), "1");
  const std::string v1 = slurp(db);
  spill(kFixtures / "v1.sqlite", v1);
  // Page 3 onwards cut off: page 1 (the schema) still reads fine.
  spill(kFixtures / "v1-truncated.sqlite", v1.substr(0, 2 * 4096 + 1000));
  std::string garbage(2048, '\0');
  std::uint32_t x = 12345;
  for (char& c : garbage) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
  spill(kFixtures / "garbage.sqlite", garbage);

  // Written by SQLite directly, small pages: a newer Grove (user_version 999) and some other
  // program's database (no user_version, a table of its own).
  auto make = [](const fs::path& p, const char* sql) {
    fs::remove(p);
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(p.c_str(), &raw), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
    sqlite3_close(raw);
  };
  make(kFixtures / "v999.sqlite",
       "PRAGMA page_size = 512; PRAGMA application_id = 1196578387; PRAGMA user_version = 999;"
       "CREATE TABLE future (x);");
  make(kFixtures / "foreign.sqlite", "PRAGMA page_size = 512; CREATE TABLE notes (x TEXT);");
}

}  // namespace
}  // namespace grove::store::test
