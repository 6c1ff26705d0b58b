// Append throughput of the SQLite store (src/store/sqlite_store.hpp): 1 KiB messages, one
// copy per append, with `in_flight` appends outstanding at a time, as many inbound sessions
// completing at once would issue them. Every append is durable before its done runs
// (synchronous = full: one WAL sync per transaction), so group commit is what turns one sync
// per message into one sync per batch. items/s = messages/s. Runs in a fresh temp folder.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>

#include "store/sqlite_store.hpp"

namespace {

namespace store = grove::store;

// The event loop stand-in: the store thread posts, the benchmark thread runs.
class Loop {
 public:
  store::Poster poster() {
    return [this](std::function<void()> fn) {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(fn));
      cv_.notify_one();
    };
  }
  void run_one() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !tasks_.empty(); });
    auto fn = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    fn();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "grove-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const char* name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void run_appends(benchmark::State& state, store::SqliteOptions opts) {
  const auto in_flight = static_cast<std::size_t>(state.range(0));
  TempDir dir;
  Loop loop;
  std::error_code ec;
  auto s = store::open_sqlite_store(dir.file("store.db"), loop.poster(), opts, ec);
  if (!s) {
    state.SkipWithError(ec.message().c_str());
    return;
  }
  auto& sq = dynamic_cast<store::SqliteStore&>(*s);

  auto data = std::make_shared<const grove::Bytes>(1024, grove::Byte{0x5a});
  store::StoredMessage m;
  m.target_device = "grove://relay.example/d/bench";
  m.resource_url = "grove://relay.example/r/bench";
  m.identity_url = "grove://relay.example/i/bench";
  m.sender_device = "grove://relay.example/d/sender";
  m.arrival_unix = 1700000000;
  m.data = data;

  std::size_t outstanding = 0;
  std::size_t failed = 0;
  const std::uint64_t tx_before = sq.transactions();
  std::int64_t issued = 0;
  for (auto _ : state) {
    // One iteration = `in_flight` appends issued back to back, then all their completions.
    for (std::size_t i = 0; i < in_flight; ++i) {
      ++outstanding;
      s->append({m}, [&](std::error_code e, std::vector<store::StoredMessage>) {
        --outstanding;
        if (e) ++failed;
      });
    }
    while (outstanding > 0) loop.run_one();
    issued += static_cast<std::int64_t>(in_flight);
  }
  if (failed > 0) state.SkipWithError("append failed");
  state.SetItemsProcessed(issued);
  state.SetBytesProcessed(issued * 1024);
  state.counters["msgs_per_tx"] = benchmark::Counter(
      static_cast<double>(issued) / static_cast<double>(sq.transactions() - tx_before));
  s->close();
}

void BM_AppendDurable(benchmark::State& state) { run_appends(state, store::SqliteOptions{}); }
void BM_AppendNormalSync(benchmark::State& state) {
  store::SqliteOptions o;
  o.synchronous = store::SqliteOptions::Synchronous::normal;
  run_appends(state, o);
}

BENCHMARK(BM_AppendDurable)->Arg(1)->Arg(16)->Arg(256)->Arg(4096)->UseRealTime();
BENCHMARK(BM_AppendNormalSync)->Arg(1)->Arg(256)->Arg(4096)->UseRealTime();

}  // namespace
