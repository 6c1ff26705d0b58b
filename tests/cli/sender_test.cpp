// `grove send`'s resume logic without sockets: a Sender and an inbox Receiver on two engines
// wired back to back in memory. The connection is cut after the receiver has handled some
// messages whose acknowledgements never reach the sender; a second connection must finish
// the job with nothing lost and nothing stored twice (sstp.md §9.5, docs/protocol.md "Message
// ids and duplicates", "Reconnecting grove send").
#include "cli/sender.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "cli/common.hpp"
#include "cli/inbox.hpp"

namespace grove::cli {
namespace {

namespace fs = std::filesystem;
using engine::Connection;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One connection: the sending device's engine and the receiving device's engine.
struct Link {
  Connection client, server;
  std::unique_ptr<Receiver> receiver;
  Link(InboxShared& shared, const engine::TimePoint now)
      : client(client_options(), now),
        server(server_options(), now),
        receiver(make_receiver(shared, "test")) {}

  static engine::Options client_options() {
    engine::Options o;
    o.role = engine::Role::initiator;
    o.local_device_url = "grove://peer/d/alice";
    o.target_device_url = "grove://peer/d/bob";
    return o;
  }
  static engine::Options server_options() {
    engine::Options o;
    o.role = engine::Role::acceptor;
    o.require_authentication = false;
    return o;
  }
};

void drain(Connection& c, net::ConnectionHandler& h) {
  while (auto e = c.next_event()) h.on_event(c, *e);
}

// Moves up to `limit` bytes of what `from` has written into `to`, handing events to `h` as they
// come (small steps let a test stop between two commands of a long transfer).
void carry(Connection& from, Connection& to, net::ConnectionHandler& h, engine::TimePoint now,
           std::size_t limit = SIZE_MAX) {
  const ByteView pending = from.pending_output();
  const Bytes out(pending.begin(),
                  pending.begin() + static_cast<std::ptrdiff_t>(std::min(limit, pending.size())));
  from.consume_output(out.size());
  ByteView in(out);
  while (!in.empty() && !to.finished()) {
    const std::size_t used = to.receive(in, now);
    drain(to, h);
    in = in.subspan(used);
  }
}

class SenderResume : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/grove-sender-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    fs::create_directories(dir_ / "in");
    std::mt19937 rng(3);
    std::string data(100 * 1024 + 123, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    std::ofstream(dir_ / "file.bin", std::ios::binary) << data;
    o_.to_url = "grove://peer/d/bob";
    o_.identity_url = "grove://peer/i/bob";
    o_.resource_url = "grove:chat";
    o_.device_url = "grove://peer/d/alice";
    o_.texts = {"one", "two", "three", "four", "five"};
    o_.files = {(dir_ / "file.bin").string()};
    o_.fragment_size = 16 * 1024;  // 7 fragments
    o_.progress = false;
    shared_.out_dir = (dir_ / "in").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs the link until `stop()` holds right after the receiver took the sender's bytes (its
  // answers are then still unsent), or until nothing moves.
  void run(Link& l, Sender& s, const std::function<bool()>& stop) {
    for (int round = 0; round < 100000; ++round) {
      drain(l.client, s);
      drain(l.server, *l.receiver);
      carry(l.client, l.server, *l.receiver, now_, 4096);
      if (stop()) return;
      carry(l.server, l.client, s, now_);
      s.on_output_drained(l.client);
      if (l.client.pending_output().empty() && l.server.pending_output().empty()) return;
    }
    FAIL() << "the link never went quiet";
  }

  fs::path dir_;
  SendOptions o_;
  InboxShared shared_;
  engine::TimePoint now_ = engine::Clock::now();
};

TEST_F(SenderResume, CutMidFileThenEverythingArrivesOnce) {
  std::uint64_t total = 0;
  auto messages = plan(o_, total);
  ASSERT_EQ(messages.size(), 12u);
  Sender sender(o_, std::move(messages), total);

  // First connection: cut once the receiver has stored three fragments.
  {
    Link first(shared_, now_);
    run(first, sender, [&] {
      return !shared_.partial_files.empty() &&
             shared_.partial_files.begin()->second->next_index >= 3;
    });
    ASSERT_EQ(sender.result(), -1) << "finished before the cut";
    first.client.receive_eof();  // the proxy died: both ends see the stream go
    drain(first.client, sender);
    first.server.receive_eof();
    drain(first.server, *first.receiver);
  }
  EXPECT_TRUE(sender.wants_reconnect());
  EXPECT_GT(sender.requeued(), 0u);
  EXPECT_LT(sender.requeued(), 12u) << "acknowledged fragments are not sent again";
  const std::size_t confirmed_before = sender.confirmed();

  // Second connection: the rest, with repeats that the receiver drops.
  Link second(shared_, now_);
  run(second, sender, [] { return false; });
  EXPECT_EQ(sender.result(), kOk);
  EXPECT_EQ(sender.confirmed(), 12u);
  EXPECT_GE(sender.confirmed(), confirmed_before);
  EXPECT_GT(shared_.duplicates, 0u) << "the unacknowledged texts came again and were dropped";

  const char* texts[] = {"one", "two", "three", "four", "five"};
  for (int i = 0; i < 5; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "message-%06d.bin", i + 1);
    EXPECT_EQ(read_all(dir_ / "in" / name), texts[i]) << name;
  }
  EXPECT_EQ(read_all(dir_ / "in" / "file.bin"), read_all(dir_ / "file.bin"));
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "in")) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 6u) << "a duplicate or a leftover .part file";
}

TEST_F(SenderResume, NoRetryEndsTheRunOnALostConnection) {
  o_.retry_for = std::chrono::milliseconds(0);
  std::uint64_t total = 0;
  Sender sender(o_, plan(o_, total), total);
  Link first(shared_, now_);
  run(first, sender, [&] { return shared_.received >= 2; });
  first.client.receive_eof();
  drain(first.client, sender);
  EXPECT_FALSE(sender.wants_reconnect());
  EXPECT_EQ(sender.result(), kUnconfirmed);
}

}  // namespace
}  // namespace grove::cli
