// `groved device import`: bulk device table entries, checked before anything is written
// (real groved and grove processes on loopback).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "support/process.hpp"

namespace grove::test {
namespace {

const std::string kGrove = std::string(GROVE_BIN_DIR) + "/cli/grove";
const std::string kGroved = std::string(GROVE_BIN_DIR) + "/relay/groved";
const std::string kRelayUrl = "grove://relay.test";
std::string dev(const std::string& name) { return kRelayUrl + "/d/" + name; }
const std::string kGivenSecret = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

class DeviceImportTest : public ::testing::Test {
 protected:
  TempDir dir;
  std::string db = dir / "relay.db";

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary) << text;
  }
  // Runs groved with `args` after --db; returns the exit code.
  int groved(std::vector<std::string> args, const std::string& in = {}) {
    args.insert(args.begin(), {kGroved, "--db", db});
    Process p(std::move(args), dir / "out", dir / "err", in);
    auto rc = p.wait(std::chrono::seconds(60));
    return rc ? *rc : -1;
  }
  std::string out() { return read_file(dir / "out"); }
  std::string err() { return read_file(dir / "err"); }
  std::vector<std::string> listed() {
    EXPECT_EQ(groved({"device", "list"}), 0) << err();
    std::vector<std::string> urls;
    std::istringstream in(out());
    std::string url, rest;
    while (in >> url && std::getline(in, rest)) urls.push_back(url);
    return urls;
  }
};

TEST_F(DeviceImportTest, ImportsGivenAndNewSecretsAndTheyAuthenticate) {
  write("devices.txt", "# bench devices\n\n" + dev("alice") + "\n  " + dev("bob") + "  " +
                           kGivenSecret + "\n" + dev("carol") + "\n");
  ASSERT_EQ(groved({"device", "import", dir / "devices.txt"}), 0) << err();
  EXPECT_NE(err().find("imported 3 devices"), std::string::npos) << err();
  // Only the generated secrets are printed, as "DeviceURL SECRET-HEX".
  const std::string printed = out();
  std::regex line("(grove://[^ \n]+) ([0-9a-f]{64})\n");
  std::vector<std::string> urls;
  std::map<std::string, std::string> secrets;
  for (std::sregex_iterator it(printed.begin(), printed.end(), line), end; it != end; ++it) {
    urls.push_back((*it)[1]);
    secrets[(*it)[1]] = (*it)[2];
  }
  EXPECT_EQ(urls, (std::vector<std::string>{dev("alice"), dev("carol")})) << printed;
  EXPECT_EQ(listed(), (std::vector<std::string>{dev("alice"), dev("bob"), dev("carol")}));

  // The imported secrets are the ones groved checks: bob (given) sends to alice (generated).
  write("bob.key", kGivenSecret + "\n");
  write("alice.key", secrets[dev("alice")] + "\n");
  ::chmod((dir / "bob.key").c_str(), 0600);
  ::chmod((dir / "alice.key").c_str(), 0600);
  Process relay({kGroved, "--db", db, "run", "-l", "127.0.0.1:0", "--ssl-listen", "127.0.0.1:0",
                 "--http-listen", "off", "--device-url", kRelayUrl},
                "", dir / "relay.err");
  const int port = listening_port(dir / "relay.err");
  ASSERT_GT(port, 0) << read_file(dir / "relay.err");
  const std::string addr = "127.0.0.1:" + std::to_string(port);
  Process send({kGrove, "send", "imported", "--no-progress", "-c", addr, "--relay-url", kRelayUrl,
                "--device-url", dev("bob"), "--secret-file", dir / "bob.key", "--to", dev("alice")},
               dir / "send.out", dir / "send.err");
  ASSERT_EQ(send.wait(), 0) << read_file(dir / "send.err");
  Process receive({kGrove, "receive", "-c", addr, "--relay-url", kRelayUrl, "--device-url",
                   dev("alice"), "--secret-file", dir / "alice.key", "-n", "1"},
                  dir / "recv.out", dir / "recv.err");
  ASSERT_EQ(receive.wait(), 0) << read_file(dir / "recv.err");
  EXPECT_NE(read_file(dir / "recv.out").find("imported"), std::string::npos);
}

TEST_F(DeviceImportTest, ReadsStdinInBulk) {
  std::string text;
  for (int i = 0; i < 500; ++i) text += dev("bulk" + std::to_string(i)) + "\n";
  write("many.txt", text);
  ASSERT_EQ(groved({"device", "import", "-"}, dir / "many.txt"), 0) << err();
  const std::string printed = out();
  EXPECT_EQ(std::count(printed.begin(), printed.end(), '\n'), 500);
  EXPECT_EQ(listed().size(), 500u);
}

TEST_F(DeviceImportTest, ABadLineImportsNothing) {
  for (const std::string& bad : {dev("x") + " 0011\n",                        // short secret
                                 dev("x") + " " + kGivenSecret + " extra\n",  // a third field
                                 std::string("not-a-url\n"),                  // invalid DeviceURL
                                 dev("x") + "\n" + dev("x") + "\n"}) {        // listed twice
    write("bad.txt", dev("fine") + "\n" + bad);
    EXPECT_EQ(groved({"device", "import", dir / "bad.txt"}), 2) << bad;
    EXPECT_NE(err().find("bad.txt:"), std::string::npos) << err();  // names the line
    EXPECT_TRUE(listed().empty()) << bad;
  }
  EXPECT_EQ(groved({"device", "import", dir / "missing.txt"}), 1);
}

TEST_F(DeviceImportTest, AnExistingDeviceImportsNothing) {
  ASSERT_EQ(groved({"device", "add", dev("bob")}), 0) << err();
  write("devices.txt", dev("alice") + "\n" + dev("bob") + "\n");
  EXPECT_EQ(groved({"device", "import", dir / "devices.txt"}), 1);
  EXPECT_NE(err().find(dev("bob") + " already exists"), std::string::npos) << err();
  EXPECT_EQ(listed(), (std::vector<std::string>{dev("bob")}));
}

}  // namespace
}  // namespace grove::test
