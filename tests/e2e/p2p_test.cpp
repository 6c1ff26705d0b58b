// Two real `grove` processes exchanging messages directly over TCP on loopback (issue 2).
#include <gtest/gtest.h>

#include "support/process.hpp"
#include "support/test_env.hpp"

namespace grove::test {
namespace {

const std::string kGrove = std::string(GROVE_BIN_DIR) + "/cli/grove";

struct Listener {
  TempDir& dir;
  std::unique_ptr<Process> proc;
  int port = -1;
  Listener(TempDir& d, std::vector<std::string> extra) : dir(d) {
    std::vector<std::string> argv{kGrove, "listen", "-l", "127.0.0.1:0", "-v"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc = std::make_unique<Process>(argv, dir / "listen.out", dir / "listen.err");
    port = listening_port(dir / "listen.err");
  }
  std::string addr() const { return "127.0.0.1:" + std::to_string(port); }
};

int send(TempDir& dir, std::vector<std::string> args, const std::string& stdin_path = {},
         std::chrono::seconds timeout = std::chrono::seconds(60)) {
  std::vector<std::string> argv{kGrove, "send", "--no-progress"};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv, dir / "send.out", dir / "send.err", stdin_path);
  auto rc = p.wait(timeout);
  return rc ? *rc : -1;
}

const std::vector<uint8_t> kConnectCloseProtocolError = {0x04, 0x0b, 0x00, 0x03, 0x00, 0x00,
                                                         0x00, 0x00, 0x00, 0x00, 0x00};

TEST(P2P, TextMessagesArriveInOrder) {
  TempDir dir;
  Listener l(dir, {"-n", "3"});
  ASSERT_GT(l.port, 0) << l.proc->err();
  EXPECT_EQ(send(dir, {"-c", l.addr(), "hello", "big world", "third"}), 0)
      << read_file(dir / "send.err");
  EXPECT_EQ(l.proc->wait(), 0);
  EXPECT_EQ(l.proc->out(), "hello\nbig world\nthird\n");
}

TEST(P2P, TenThousandSmallMessagesInOrder) {
  TempDir dir;
  std::string expected;
  {
    std::ofstream in(dir / "lines.txt");
    for (int i = 1; i <= 10000; ++i) {
      in << "message " << i << "\n";
      expected += "message " + std::to_string(i) + "\n";
    }
  }
  Listener l(dir, {"-n", "10000"});
  ASSERT_GT(l.port, 0);
  EXPECT_EQ(send(dir, {"-c", l.addr(), "--lines"}, dir / "lines.txt"), 0)
      << read_file(dir / "send.err");
  EXPECT_EQ(l.proc->wait(), 0);
  EXPECT_EQ(l.proc->out(), expected);
}

TEST(P2P, TwoHundredMegabyteFileArrivesByteIdentical) {
  TempDir dir;
  const std::string src = dir / "big.bin";
  write_random_file(src, 200u << 20, 42);

  std::filesystem::create_directories(dir.path() / "in");
  Listener l(dir, {"-n", "1", "-o", dir / "in"});
  ASSERT_GT(l.port, 0);
  EXPECT_EQ(send(dir, {"-c", l.addr(), "-f", src}, {}, std::chrono::seconds(120)), 0)
      << read_file(dir / "send.err");
  EXPECT_EQ(l.proc->wait(), 0) << l.proc->err();
  EXPECT_EQ(l.proc->out(), (dir.path() / "in" / "big.bin").string() + "\n");
  EXPECT_TRUE(read_file(dir / "in/big.bin") == read_file(src)) << "received file differs";
}

TEST(P2P, EmptyFileAndSmallFile) {
  TempDir dir;
  { std::ofstream(dir / "empty.txt"); }
  { std::ofstream(dir / "small.txt") << "small file\n"; }
  std::filesystem::create_directories(dir.path() / "in");
  Listener l(dir, {"-n", "2", "-o", dir / "in"});
  EXPECT_EQ(send(dir, {"-c", l.addr(), "-f", dir / "empty.txt", "-f", dir / "small.txt"}), 0);
  EXPECT_EQ(l.proc->wait(), 0);
  EXPECT_EQ(read_file(dir / "in/empty.txt"), "");
  EXPECT_EQ(read_file(dir / "in/small.txt"), "small file\n");
}

TEST(P2P, SharedSecretAuthenticates) {
  TempDir dir;
  Process kg({kGrove, "keygen"}, dir / "peer.key", dir / "kg.err");
  ASSERT_EQ(kg.wait(), 0);
  Process kg2({kGrove, "keygen"}, dir / "wrong.key", dir / "kg2.err");
  ASSERT_EQ(kg2.wait(), 0);
  ::chmod((dir / "peer.key").c_str(), 0600);
  ::chmod((dir / "wrong.key").c_str(), 0600);
  Listener l(dir, {"-n", "1", "--secret-file", dir / "peer.key"});
  ASSERT_GT(l.port, 0);
  // Wrong secret: refused with a clear error, exit code 4; the listener keeps serving.
  EXPECT_EQ(send(dir, {"-c", l.addr(), "--secret-file", dir / "wrong.key", "x"}), 4);
  EXPECT_NE(read_file(dir / "send.err").find("DeviceAuthenticationFailed"), std::string::npos)
      << read_file(dir / "send.err");
  // No secret at all: the listener requires one.
  EXPECT_EQ(send(dir, {"-c", l.addr(), "x"}), 4);
  EXPECT_NE(read_file(dir / "send.err").find("AuthenticationFailed"), std::string::npos);
  EXPECT_EQ(send(dir, {"-c", l.addr(), "--secret-file", dir / "peer.key", "secret hello"}), 0)
      << read_file(dir / "send.err");
  EXPECT_EQ(l.proc->wait(), 0);
  EXPECT_EQ(l.proc->out(), "secret hello\n");
}

TEST(P2P, WrongDeviceIsRefused) {
  TempDir dir;
  Listener l(dir, {"--device-url", "grove://here/d/me"});
  EXPECT_EQ(send(dir, {"-c", l.addr(), "--to", "grove://here/d/someone-else", "x"}), 4);
  EXPECT_NE(read_file(dir / "send.err").find("WrongDevice"), std::string::npos);
  EXPECT_EQ(send(dir, {"-c", l.addr(), "--to", "grove://here/d/me", "x"}), 0);
}

TEST(P2P, UnreachablePeerExitsThree) {
  TempDir dir;
  EXPECT_EQ(send(dir, {"-c", "127.0.0.1:1", "--timeout", "2", "x"}), 3);
  EXPECT_NE(read_file(dir / "send.err").find("cannot connect"), std::string::npos);
}

TEST(P2P, GarbageClosesOnlyThatConnection) {
  TempDir dir;
  Listener l(dir, {"-n", "1"});
  ASSERT_GT(l.port, 0);
  {  // Unknown CommandId: ConnectClose ProtocolError, then the stream closes.
    RawClient c(l.port);
    ASSERT_TRUE(c.connected());
    c.write({0x99, 0x10, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13});
    EXPECT_EQ(c.read_all_bytes(), kConnectCloseProtocolError);
  }
  {  // Oversized: an Open announcing 65535 bytes (Max 2055) is refused before the body.
    RawClient c(l.port);
    c.write({0x05, 0xff, 0xff});
    EXPECT_EQ(c.read_all_bytes(), kConnectCloseProtocolError);
  }
  {  // A session command before Connect: TooManyUnknownSessionCmds (sstp.md §7.2 C4).
    RawClient c(l.port);
    c.write({0x11, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00});
    auto got = c.read_all_bytes();
    ASSERT_EQ(got.size(), 11u);
    EXPECT_EQ(got[3], 0x0f);
  }
  {  // Truncated Connect, then EOF: the connection just ends.
    RawClient c(l.port);
    c.write({0x01, 0x40, 0x00, 0x01, 0x06});
    c.shutdown_write();
    EXPECT_TRUE(c.read_all_bytes().empty());
  }
  // The listener still serves a well-behaved peer.
  EXPECT_EQ(send(dir, {"-c", l.addr(), "still alive"}), 0) << read_file(dir / "send.err");
  EXPECT_EQ(l.proc->wait(), 0);
  EXPECT_EQ(l.proc->out(), "still alive\n");
  const std::string log = l.proc->err();
  EXPECT_NE(log.find("sent ConnectClose ProtocolError (CommandId not in"), std::string::npos)
      << log;
  EXPECT_NE(log.find("sent ConnectClose ProtocolError (CommandLength outside"), std::string::npos)
      << log;
}

}  // namespace
}  // namespace grove::test
