// grove: the Grove command-line client.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/common.hpp"
#include "cli/listen.hpp"
#include "cli/send.hpp"

using namespace grove;
using namespace grove::cli;

namespace {

const char* kExitCodes = R"(Exit codes:
  0    success (send: every message acknowledged by the peer)
  1    unexpected failure
  2    bad command line, configuration or input file
  3    could not connect, or the connection broke
  4    the peer refused the connection or authentication failed
  5    not every message was acknowledged
  130  interrupted (SIGINT/SIGTERM) before the work was done)";

std::optional<net::HostPort> host_port_or_die(const std::string& text, std::uint16_t def) {
  auto hp = net::parse_host_port(text, def);
  if (!hp) std::cerr << "grove: '" << text << "' is not HOST[:PORT] (IPv6: [ADDR]:PORT)\n";
  return hp;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"grove — move messages between devices over SSTP (Simple Symmetric Transport "
               "Protocol), directly or through a Grove relay."};
  app.footer(std::string("\n") + kExitCodes + "\n\nRun `grove COMMAND --help` for examples.");
  app.require_subcommand(1);
  app.fallthrough();  // -v works after the subcommand too
  int verbosity = 0;
  app.add_flag("-v,--verbose", verbosity, "Explain what happens (-vv: protocol detail)");

  // ---- grove listen
  ListenOptions lo;
  std::vector<std::string> listen_addrs;
  std::string listen_secret;
  auto* listen = app.add_subcommand("listen", "Accept direct connections from other devices and "
                                              "print or save the messages that arrive");
  listen->add_option("-l,--listen", listen_addrs, "Address to listen on (repeatable; port 0 = any)")
      ->default_str("127.0.0.1:2492");
  listen->add_option("--device-url", lo.device_url,
                     "Our DeviceURL; peers naming another device get WrongDevice (default: any)");
  listen->add_option("-o,--out-dir", lo.out_dir,
                     "Save each message as a file in this folder (default: print to stdout)");
  listen->add_option("--secret-file", listen_secret,
                     "Require peers to prove this shared secret (grove-auth-1)");
  listen->add_option("-n,--count", lo.count, "Exit after this many messages (a file counts once)");
  listen->add_flag("--show-meta", lo.show_meta, "Print a header line before each printed message");
  listen->footer(R"(
Examples:
  grove listen                                   # print messages sent to 127.0.0.1:2492
  grove listen -l '[::]:2492' -o ~/incoming      # save files, IPv6 and IPv4 clients
  grove keygen > peer.key && chmod 600 peer.key
  grove listen --secret-file peer.key -n 1       # require the secret, stop after one message)");

  // ---- grove send
  SendOptions so;
  std::string connect_to = "127.0.0.1:2492";
  std::string send_secret;
  double timeout_s = 10;
  bool no_progress = false;
  auto* send = app.add_subcommand("send", "Connect to a device and deliver messages; exits 0 "
                                          "once the peer acknowledged every one");
  send->add_option("-c,--connect", connect_to, "Peer address HOST[:PORT]")->capture_default_str();
  send->add_option("message", so.texts, "Text messages (each argument is one message)");
  send->add_option("-f,--file", so.files, "Send a file (repeatable; any size)")->check(CLI::ExistingFile);
  send->add_flag("--lines", so.stdin_lines, "Read stdin; each line is one message");
  send->add_flag("--stdin", so.read_stdin, "Send stdin as one message (default when nothing else is given)");
  send->add_option("--to", so.to_url, "The peer's DeviceURL (default grove://HOST/d/peer)");
  send->add_option("--device-url", so.device_url, "Our DeviceURL (default grove://HOSTNAME/d/USER)");
  send->add_option("--identity", so.identity_url, "Destination IdentityURL (default grove://HOST/i/peer)");
  so.resource_url = "grove:chat";
  send->add_option("--resource", so.resource_url, "ResourceURL of the receiving handler")
      ->capture_default_str();
  send->add_option("--secret-file", send_secret, "Prove this shared secret to the peer (grove-auth-1)");
  send->add_flag("--allow-unauthenticated", so.allow_unauthenticated,
                 "With --secret-file: still talk to a peer that does not prove the secret");
  send->add_option("--timeout", timeout_s, "Connect timeout in seconds")->capture_default_str();
  send->add_flag("--no-progress", no_progress, "Never show a progress bar");
  send->footer(R"(
Examples:
  grove send hello world                         # two messages to 127.0.0.1:2492
  grove send -c peer.example:2492 -f report.pdf  # a file of any size, with a progress bar
  seq 10000 | grove send --lines                 # 10,000 messages, in order
  tar c dir | grove send --stdin                 # stream stdin as one message)");

  auto* keygen = app.add_subcommand("keygen", "Print a new random 32-byte secret as 64 hex digits");
  keygen->footer("\nExample:\n  grove keygen > peer.key && chmod 600 peer.key");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : kUsage;
  }
  setup_logging(verbosity);

  try {
    if (keygen->parsed()) {
      std::cout << auth::to_hex(auth::new_secret()) << "\n";
      return kOk;
    }
    if (listen->parsed()) {
      if (listen_addrs.empty()) listen_addrs.push_back("127.0.0.1:2492");
      for (const auto& a : listen_addrs) {
        auto hp = host_port_or_die(a, 2492);
        if (!hp) return kUsage;
        lo.listen.push_back(*hp);
      }
      if (!listen_secret.empty()) lo.secret = load_secret_file(listen_secret);
      if (!lo.device_url.empty() && !valid_url(lo.device_url)) {
        std::cerr << "grove: --device-url must be a URL such as grove://host/d/name\n";
        return kUsage;
      }
      return run_listen(lo);
    }
    if (send->parsed()) {
      auto hp = host_port_or_die(connect_to, 2492);
      if (!hp) return kUsage;
      if (hp->port == 0) {
        std::cerr << "grove: --connect needs a port between 1 and 65535\n";
        return kUsage;
      }
      so.connect = *hp;
      const std::string host = hp->host.find(':') != std::string::npos ? "[" + hp->host + "]" : hp->host;
      if (so.to_url.empty()) so.to_url = "grove://" + host + "/d/peer";
      if (so.identity_url.empty()) so.identity_url = "grove://" + host + "/i/peer";
      if (so.device_url.empty()) so.device_url = default_device_url();
      for (const auto* u : {&so.to_url, &so.identity_url, &so.device_url, &so.resource_url}) {
        if (!valid_url(*u)) {
          std::cerr << "grove: '" << *u << "' is not a valid URL (scheme:rest, no spaces)\n";
          return kUsage;
        }
      }
      if (!send_secret.empty()) so.secret = load_secret_file(send_secret);
      if (so.texts.empty() && so.files.empty() && !so.stdin_lines) so.read_stdin = true;
      so.connect_timeout = std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
      so.progress = !no_progress;
      return run_send(so);
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kUsage;
  }
  return kUsage;
}
