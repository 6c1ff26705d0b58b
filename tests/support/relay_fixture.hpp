// A real groved on loopback with a throw-away database, and the grove command lines that talk
// to it: the shared set-up of the relay's end-to-end tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace grove::test {

inline const std::string kGrove = std::string(GROVE_BIN_DIR) + "/cli/grove";
inline const std::string kGroved = std::string(GROVE_BIN_DIR) + "/relay/groved";
inline const std::string kRelayUrl = "grove://relay.test";
inline std::string dev(const std::string& name) { return kRelayUrl + "/d/" + name; }
inline std::string ident(const std::string& name) { return kRelayUrl + "/i/" + name; }

// Runs a program to its end; -1 when it did not end in time.
inline int run(std::vector<std::string> argv, const std::string& out, const std::string& err,
               const std::string& in = {},
               std::chrono::seconds timeout = std::chrono::seconds(60)) {
  Process p(std::move(argv), out, err, in);
  auto rc = p.wait(timeout);
  return rc ? *rc : -1;
}

// The port of a "listening on ADDR (kind)" line of groved.
inline int port_of(const std::string& log, const std::string& kind) {
  std::regex re("listening on [^ ]*:([0-9]+) \\(" + kind + "\\)");
  std::smatch m;
  return std::regex_search(log, m, re) ? std::stoi(m[1]) : -1;
}

class RelayFixture : public ::testing::Test {
 protected:
  TempDir dir;
  std::string db = dir / "relay.db";
  std::unique_ptr<Process> relay;
  int port = -1, ssl_port = -1, http_port = -1, admin_port = -1;

  // `groved device add` (or `identity add`); the secret goes to DIR/NAME.key, mode 0600.
  void add(const std::string& table, const std::string& url, const std::string& key_name) {
    ASSERT_EQ(
        run({kGroved, "--db", db, table, "add", url}, dir / (key_name + ".key"), dir / "admin.err"),
        0)
        << read_file(dir / "admin.err");
    ::chmod((dir / (key_name + ".key")).c_str(), 0600);
  }
  void add_device(const std::string& name) { add("device", dev(name), name); }
  void add_identity(const std::string& name) { add("identity", ident(name), "id-" + name); }

  void add_devices(std::initializer_list<const char*> names) {
    for (const char* n : names) add_device(n);
  }

  // Every listener on a free loopback port (the HTTP one too: its default is 0.0.0.0:8080).
  // `config`: the text of a groved.toml to run with (empty: none); `extra`: more arguments.
  void start_relay(const std::string& config = {}, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{kGroved,
                                  "--db",
                                  db,
                                  "run",
                                  "-l",
                                  "127.0.0.1:0",
                                  "--ssl-listen",
                                  "127.0.0.1:0",
                                  "--http-listen",
                                  "127.0.0.1:0",
                                  "--admin-listen",
                                  "127.0.0.1:0",
                                  "--device-url",
                                  kRelayUrl,
                                  "-v"};
    if (!config.empty()) {
      { std::ofstream(dir / "groved.toml") << config; }
      argv.insert(argv.end(), {"-c", dir / "groved.toml"});
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    relay = std::make_unique<Process>(argv, "", dir / "relay.err");
    ASSERT_TRUE(wait_for_text(dir / "relay.err", "event=started")) << read_file(dir / "relay.err");
    const std::string log = read_file(dir / "relay.err");
    port = port_of(log, "sstp");
    ssl_port = port_of(log, "ssl-port");
    http_port = port_of(log, "http");
    admin_port = port_of(log, "admin");
    ASSERT_GT(port, 0) << log;
    ASSERT_GT(ssl_port, 0) << log;
  }
  std::vector<std::string> send_args(const std::string& from, const std::string& to, int p = 0) {
    return {kGrove,
            "send",
            "--no-progress",
            "-c",
            "127.0.0.1:" + std::to_string(p ? p : port),
            "--relay-url",
            kRelayUrl,
            "--device-url",
            dev(from),
            "--secret-file",
            dir / (from + ".key"),
            "--to",
            dev(to)};
  }
  std::vector<std::string> receive_args(const std::string& who, const std::string& key = {}) {
    return {kGrove,
            "receive",
            "-c",
            "127.0.0.1:" + std::to_string(port),
            "--relay-url",
            kRelayUrl,
            "--device-url",
            dev(who),
            "--secret-file",
            dir / ((key.empty() ? who : key) + ".key")};
  }
};

}  // namespace grove::test
