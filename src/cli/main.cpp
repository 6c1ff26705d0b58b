// grove: the Grove command-line client.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/common.hpp"
#include "cli/listen.hpp"
#include "cli/receive.hpp"
#include "cli/send.hpp"
#include "net/fallback.hpp"
#include "net/path_memory.hpp"
#include "proxy/proxy_url.hpp"

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

// "500k", "10M", "1G" or plain bytes per second; K/M/G are powers of 1024 (as curl's
// --limit-rate). nullopt for anything else or 0.
std::optional<std::uint64_t> parse_rate(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string unit = text.substr(used);
  double scale = 1;
  if (unit == "k" || unit == "K")
    scale = 1024.0;
  else if (unit == "m" || unit == "M")
    scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "G")
    scale = 1024.0 * 1024 * 1024;
  else if (!unit.empty())
    return std::nullopt;
  const double bytes = value * scale;
  if (!(bytes >= 1) || bytes > 1e15) return std::nullopt;
  return static_cast<std::uint64_t>(bytes);
}

std::optional<net::HostPort> host_port_or_die(const std::string& text, std::uint16_t def) {
  auto hp = net::parse_host_port(text, def);
  if (!hp) std::cerr << "grove: '" << text << "' is not HOST[:PORT] (IPv6: [ADDR]:PORT)\n";
  return hp;
}

// The transport options shared by `grove send`, `grove connect` and `grove receive`
// (docs/proxies.md).
struct TransportArgs {
  std::string proxy;
  std::string socks;
  std::string path = "auto";
  int port_443 = 443;
  int http_port = 80;
  bool no_proxy_env = false;
  bool tls = false;
  std::string tls_ca, tls_pin, tls_name;
};

void add_transport_options(CLI::App* cmd, TransportArgs& t) {
  cmd->add_option("--proxy", t.proxy,
                  "HTTP proxy for the Secure Tunnel (CONNECT): http://[USER:PASSWORD@]HOST:PORT "
                  "(default: $https_proxy, else $http_proxy)");
  cmd->add_option("--socks", t.socks,
                  "SOCKS proxy: socks5://, socks5h://, socks4a:// or socks4://[USER:PASSWORD@]"
                  "HOST[:PORT] (default: $all_proxy when it is a socks URL)");
  cmd->add_option("--port-443", t.port_443,
                  "The relay's direct port, also the CONNECT target (raw SSTP, no TLS)")
      ->capture_default_str();
  cmd->add_option("--http-port", t.http_port,
                  "The relay's HTTP encapsulation port (keepalive, longlived, polling)")
      ->capture_default_str();
  cmd->add_option("--path", t.path,
                  "auto (try native, direct443, tunnel, socks, keepalive, longlived, polling in "
                  "turn) or the steps to try, comma-separated, e.g. tunnel or tunnel,polling")
      ->capture_default_str();
  cmd->add_flag("--no-proxy-env", t.no_proxy_env,
                "Ignore https_proxy, http_proxy, all_proxy and no_proxy");
  cmd->add_flag("--tls", t.tls,
                "TLS 1.3 to the relay on the native, 443, tunnel and SOCKS paths (the relay "
                "needs tls_certificate); the certificate is checked before any SSTP byte");
  cmd->add_option("--tls-ca", t.tls_ca,
                  "With --tls: trust only the CA certificates in this PEM file (default: the "
                  "system store)");
  cmd->add_option("--tls-pin", t.tls_pin,
                  "With --tls: accept only a certificate whose SHA-256 (of the certificate or "
                  "of its public key) is this, as sha256:BASE64 or sha256:HEX; alone, it "
                  "replaces the CA check");
  cmd->add_option("--tls-name", t.tls_name,
                  "With --tls: the name the relay's certificate must carry (default: the host "
                  "of --connect)");
}

net::HttpProxyConfig http_proxy_from(const proxy::ProxyUrl& url) {
  net::HttpProxyConfig c;
  c.proxy = net::HostPort{url.host, url.port};
  c.credentials = url.credentials;
  return c;
}

net::SocksProxyConfig socks_proxy_from(const proxy::ProxyUrl& url) {
  net::SocksProxyConfig c;
  c.proxy = net::HostPort{url.host, url.port};
  c.version = proxy::socks_version(url.scheme);
  c.credentials = url.credentials;
  return c;
}

// Fills the transport part of `so` (after so.connect). Returns an exit code on a usage error.
std::optional<int> apply_transport(const TransportArgs& t, DialOptions& so) {
  if (!t.proxy.empty()) {
    proxy::ProxyUrl url;
    if (auto ec = proxy::parse_proxy_url(t.proxy, url)) {
      std::cerr << "grove: --proxy: " << ec.message() << "\n";
      return kUsage;
    }
    if (url.scheme != proxy::ProxyScheme::http) {
      std::cerr << "grove: --proxy takes an http:// URL; give SOCKS proxies with --socks\n";
      return kUsage;
    }
    so.http_proxy = http_proxy_from(url);
  }
  if (!t.socks.empty()) {
    const std::string text =
        t.socks.find("://") == std::string::npos ? "socks5://" + t.socks : t.socks;
    proxy::ProxyUrl url;
    if (auto ec = proxy::parse_proxy_url(text, url)) {
      std::cerr << "grove: --socks: " << ec.message() << "\n";
      return kUsage;
    }
    if (url.scheme == proxy::ProxyScheme::http) {
      std::cerr << "grove: --socks takes a socks5://, socks5h://, socks4a:// or socks4:// URL\n";
      return kUsage;
    }
    so.socks_proxy = socks_proxy_from(url);
  }
  if (!t.no_proxy_env && (!so.http_proxy || !so.socks_proxy)) {
    // henc.md §11.1: configuration first, then the environment; no_proxy filters the latter.
    proxy::Environment env;
    for (const char* name : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy",
                             "ALL_PROXY", "no_proxy", "NO_PROXY"}) {
      if (const char* v = std::getenv(name)) env[name] = v;
    }
    proxy::ProxySelection sel =
        proxy::proxies_from_environment(env, so.connect.host, so.connect.port);
    if (sel.error)  // never the value: it may hold a password
      spdlog::warn("ignoring ${}: {}", sel.error_variable, sel.error.message());
    if (sel.bypassed)
      spdlog::info("event=no_proxy relay={} (environment proxies not used)",
                   so.connect.to_string());
    if (!so.http_proxy && sel.http) {
      so.http_proxy = http_proxy_from(*sel.http);
      spdlog::info("event=proxy_from_environment kind=http proxy={}",
                   so.http_proxy->proxy.to_string());
    }
    if (!so.socks_proxy && sel.socks) {
      so.socks_proxy = socks_proxy_from(*sel.socks);
      spdlog::info("event=proxy_from_environment kind=socks proxy={}",
                   so.socks_proxy->proxy.to_string());
    }
  }
  if (t.port_443 < 1 || t.port_443 > 65535) {
    std::cerr << "grove: --port-443 needs a port between 1 and 65535\n";
    return kUsage;
  }
  so.port_443 = static_cast<std::uint16_t>(t.port_443);
  if (t.http_port < 1 || t.http_port > 65535) {
    std::cerr << "grove: --http-port needs a port between 1 and 65535\n";
    return kUsage;
  }
  so.http_port = static_cast<std::uint16_t>(t.http_port);
  if (t.path != "auto") {
    std::string rest = t.path;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string name = rest.substr(0, comma);
      rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
      if (!net::known_step(name)) {
        std::cerr << "grove: --path: '" << name
                  << "' is not auto, native, direct443, tunnel, socks, keepalive, longlived "
                     "or polling\n";
        return kUsage;
      }
      if (name == "tunnel" && !so.http_proxy) {
        std::cerr << "grove: --path tunnel needs an HTTP proxy: --proxy http://HOST:PORT\n";
        return kUsage;
      }
      if (name == "socks" && !so.socks_proxy) {
        std::cerr << "grove: --path socks needs a SOCKS proxy: --socks socks5://HOST:PORT\n";
        return kUsage;
      }
      so.paths.push_back(name);
    }
  }
  so.path_memory_file =
      net::PathMemory::default_file(std::getenv("XDG_STATE_HOME"), std::getenv("HOME"));
  if (!t.tls && (!t.tls_ca.empty() || !t.tls_pin.empty() || !t.tls_name.empty())) {
    std::cerr << "grove: --tls-ca, --tls-pin and --tls-name need --tls\n";
    return kUsage;
  }
  so.tls = t.tls;
  so.tls_config.ca_file = t.tls_ca;
  so.tls_config.server_name = t.tls_name.empty() ? so.connect.host : t.tls_name;
  if (!t.tls_pin.empty()) {
    so.tls_config.pin = net::parse_tls_pin(t.tls_pin);
    if (!so.tls_config.pin) {
      std::cerr << "grove: --tls-pin takes sha256: and 64 hex digits or 44 base64 characters\n";
      return kUsage;
    }
  }
  return std::nullopt;
}

// --connect, --to, --identity and --device-url defaults and checks, shared by send and connect.
std::optional<int> apply_target(const std::string& connect_to, SendOptions& so) {
  auto hp = host_port_or_die(connect_to, 2492);
  if (!hp) return kUsage;
  if (hp->port == 0) {
    std::cerr << "grove: --connect needs a port between 1 and 65535\n";
    return kUsage;
  }
  so.connect = *hp;
  const std::string host =
      hp->host.find(':') != std::string::npos ? "[" + hp->host + "]" : hp->host;
  if (so.to_url.empty()) so.to_url = "grove://" + host + "/d/peer";
  if (so.identity_url.empty()) so.identity_url = "grove://" + host + "/i/peer";
  if (so.device_url.empty()) so.device_url = default_device_url();
  for (const auto* u : {&so.to_url, &so.identity_url, &so.device_url, &so.resource_url}) {
    if (!valid_url(*u)) {
      std::cerr << "grove: '" << *u << "' is not a valid URL (scheme:rest, no spaces)\n";
      return kUsage;
    }
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "grove — move messages between devices over SSTP (Simple Symmetric Transport "
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
  auto* listen = app.add_subcommand("listen",
                                    "Accept direct connections from other devices and "
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
  std::string limit_rate;
  double retry_for_s = 300;
  bool no_progress = false;
  auto* send = app.add_subcommand("send",
                                  "Connect to a device and deliver messages; exits 0 "
                                  "once the peer acknowledged every one");
  send->add_option("-c,--connect", connect_to, "Peer address HOST[:PORT]")->capture_default_str();
  send->add_option("message", so.texts, "Text messages (each argument is one message)");
  send->add_option("-f,--file", so.files, "Send a file (repeatable; any size)")
      ->check(CLI::ExistingFile);
  send->add_flag("--lines", so.stdin_lines, "Read stdin; each line is one message");
  send->add_flag("--stdin", so.read_stdin,
                 "Send stdin as one message (default when nothing else is given)");
  std::vector<std::string> send_to;
  send->add_option("--to", send_to,
                   "The recipient's DeviceURL (default grove://HOST/d/peer); repeat it to send "
                   "one upload to several devices through a relay (FanoutOpen)")
      ->allow_extra_args(false);
  send->add_flag("--to-identity", so.to_identity,
                 "Send to every device registered for --identity at the relay instead of to one "
                 "device (identity-targeted session)");
  send->add_option("--device-url", so.device_url,
                   "Our DeviceURL (default grove://HOSTNAME/d/USER)");
  send->add_option("--identity", so.identity_url,
                   "Destination IdentityURL (default grove://HOST/i/peer)");
  so.resource_url = "grove:chat";
  send->add_option("--resource", so.resource_url, "ResourceURL of the receiving handler")
      ->capture_default_str();
  send->add_option("--secret-file", send_secret,
                   "Prove this shared secret to the peer (grove-auth-1)");
  send->add_flag("--allow-unauthenticated", so.allow_unauthenticated,
                 "With --secret-file: still talk to a peer that does not prove the secret");
  send->add_option("--timeout", timeout_s, "TCP connect timeout in seconds, per attempt")
      ->capture_default_str();
  send->add_flag("--no-progress", no_progress, "Never show a progress bar");
  send->add_option("--limit-rate", limit_rate,
                   "Send at most this many bytes per second, e.g. 500k or 10M (1024-based)");
  send->add_option("--retry-for", retry_for_s,
                   "After a lost connection, keep reconnecting (1 s back-off doubling to 300 s) "
                   "and re-send what was not acknowledged, until this many seconds pass without "
                   "an acknowledgement; 0 = do not reconnect")
      ->capture_default_str();
  TransportArgs transport;
  add_transport_options(send, transport);
  send->footer(R"(
Examples:
  grove send hello world                         # two messages to 127.0.0.1:2492
  grove send -c peer.example:2492 -f report.pdf  # a file of any size, with a progress bar
  seq 10000 | grove send --lines                 # 10,000 messages, in order
  tar c dir | grove send --stdin                 # stream stdin as one message
  grove send -v -c relay.example --proxy http://user:pw@proxy:3128 hi
                                                 # through a proxy if 2492 and 443 are blocked

Transports (docs/proxies.md): native port, then --port-443, then a CONNECT tunnel through
--proxy, then --socks; the first that completes the SSTP handshake is used. -v prints
every attempt.

If the connection breaks (a proxy restarts, the network drops), grove walks the transports
again after a back-off and sends every message the peer had not acknowledged again; the
receiver drops the copies it already has. --retry-for 0 turns this off.)");

  // ---- grove connect
  auto* connect = app.add_subcommand(
      "connect",
      "Only dial and run the SSTP handshake, then print which transport worked and "
      "why the others failed (diagnoses firewalls and proxies)");
  connect->add_option("-c,--connect", connect_to, "Relay or peer address HOST[:PORT]")
      ->capture_default_str();
  connect->add_option("--to", so.to_url, "The peer's DeviceURL (default grove://HOST/d/peer)");
  connect->add_option("--relay-url", so.relay_url,
                      "The relay's DeviceURL (Connect target) when dialing a relay");
  connect->add_option("--device-url", so.device_url,
                      "Our DeviceURL (default grove://HOSTNAME/d/USER)");
  connect->add_option("--secret-file", send_secret, "Prove this shared secret (grove-auth-1)");
  connect->add_flag("--allow-unauthenticated", so.allow_unauthenticated,
                    "With --secret-file: accept a peer that does not prove the secret");
  connect->add_option("--timeout", timeout_s, "TCP connect timeout in seconds, per attempt")
      ->capture_default_str();
  add_transport_options(connect, transport);
  connect->footer(R"(
Exit codes: 0 handshake completed; 3 no transport reached the peer; 4 the peer refused, or
device or proxy authentication failed.

Examples:
  grove connect -c relay.example                 # which of 2492 / 443 works from here?
  grove connect -c relay.example --proxy http://proxy:3128 --path tunnel)");

  send->add_option("--relay-url", so.relay_url,
                   "Send through a relay with this DeviceURL; --to names the recipient device");

  // ---- grove receive
  ReceiveOptions ro;
  std::string receive_connect = "127.0.0.1:2492", receive_secret;
  double receive_idle = 0;
  auto* receive = app.add_subcommand("receive",
                                     "Connect to a relay as this device and take the "
                                     "messages it stored for us");
  receive->add_option("-c,--connect", receive_connect, "Relay address HOST[:PORT]")
      ->capture_default_str();
  receive->add_option("--relay-url", ro.relay_url, "The relay's DeviceURL")->required();
  receive->add_option("--device-url", ro.device_url, "Our DeviceURL")->required();
  receive->add_option("--secret-file", receive_secret,
                      "Our device secret (from `groved device add`)");
  receive->add_option("-o,--out-dir", ro.out_dir,
                      "Save each message as a file here (default: print)");
  receive->add_option("-n,--count", ro.count, "Exit after this many messages (a file counts once)");
  receive->add_option("--idle", receive_idle, "Exit after this many seconds without a message");
  receive->add_flag("--show-meta", ro.show_meta, "Print a header line before each printed message");
  std::vector<std::string> identity_urls, identity_secret_files;
  receive
      ->add_option("--identity", identity_urls,
                   "Attach this IdentityURL to receive its identity-targeted messages "
                   "(repeatable; one --identity-secret-file each, in the same order)")
      ->allow_extra_args(false);
  receive
      ->add_option("--identity-secret-file", identity_secret_files,
                   "The identity's secret (from `groved identity add`)")
      ->allow_extra_args(false);
  receive->add_flag("--register", ro.register_identities,
                    "Also register this device for each --identity, so the relay keeps the "
                    "identity's messages for it while it is offline");
  receive->add_option("--timeout", timeout_s, "TCP connect timeout in seconds, per attempt")
      ->capture_default_str();
  add_transport_options(receive, transport);
  receive->footer(R"(
Examples:
  grove receive -c relay.example --relay-url grove://relay.example \
      --device-url grove://relay.example/d/bob --secret-file bob.key -o inbox --idle 5
  grove receive ... --identity grove://relay.example/i/bob \
      --identity-secret-file bob-identity.key --register   # messages for the identity too
  grove receive -v -c relay.example --proxy http://user:pw@proxy:3128 --path tunnel \
      --relay-url grove://relay.example --device-url grove://relay.example/d/bob \
      --secret-file bob.key                             # through a proxy

Transports (docs/proxies.md): as `grove send`, native port, then --port-443, then a CONNECT
tunnel through --proxy, then --socks, then the HTTP encapsulations on --http-port; the first
that completes the SSTP handshake is used. -v prints every attempt.)");

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
    if (receive->parsed()) {
      auto hp = host_port_or_die(receive_connect, 2492);
      if (!hp) return kUsage;
      ro.connect = *hp;
      if (auto rc = apply_transport(transport, ro)) return *rc;
      ro.connect_timeout = std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
      for (const auto* u : {&ro.relay_url, &ro.device_url}) {
        if (!valid_url(*u)) {
          std::cerr << "grove: '" << *u << "' is not a valid URL (scheme:rest, no spaces)\n";
          return kUsage;
        }
      }
      if (!receive_secret.empty()) ro.secret = load_secret_file(receive_secret);
      if (identity_urls.size() != identity_secret_files.size()) {
        std::cerr << "grove: give one --identity-secret-file for each --identity\n";
        return kUsage;
      }
      for (std::size_t i = 0; i < identity_urls.size(); ++i) {
        if (!valid_url(identity_urls[i])) {
          std::cerr << "grove: '" << identity_urls[i] << "' is not a valid IdentityURL\n";
          return kUsage;
        }
        ro.identities.push_back({identity_urls[i], load_secret_file(identity_secret_files[i])});
      }
      if (ro.register_identities && ro.identities.empty()) {
        std::cerr << "grove: --register needs at least one --identity\n";
        return kUsage;
      }
      ro.idle = std::chrono::milliseconds(static_cast<long>(receive_idle * 1000));
      return run_receive(ro);
    }
    if (send->parsed() || connect->parsed()) {
      if (!send_to.empty()) so.to_url = send_to.front();
      if (send_to.size() > 1) so.fanout_to = send_to;
      for (const auto& u : so.fanout_to) {
        if (!valid_url(u)) {
          std::cerr << "grove: '" << u << "' is not a valid URL (scheme:rest, no spaces)\n";
          return kUsage;
        }
      }
      if (so.to_identity && !so.fanout_to.empty()) {
        std::cerr << "grove: --to-identity sends to one identity; leave out --to\n";
        return kUsage;
      }
      if (auto rc = apply_target(connect_to, so)) return *rc;
      if (auto rc = apply_transport(transport, so)) return *rc;
      if (!send_secret.empty()) so.secret = load_secret_file(send_secret);
      so.connect_timeout = std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
      if (connect->parsed()) return run_connect(so);
      if (so.texts.empty() && so.files.empty() && !so.stdin_lines) so.read_stdin = true;
      so.progress = !no_progress;
      if (!limit_rate.empty()) {
        auto rate = parse_rate(limit_rate);
        if (!rate) {
          std::cerr << "grove: --limit-rate: '" << limit_rate
                    << "' is not a rate such as 500k or 10M (bytes per second)\n";
          return kUsage;
        }
        so.limit_rate = *rate;
      }
      if (retry_for_s < 0) {
        std::cerr << "grove: --retry-for needs a number of seconds, 0 or more\n";
        return kUsage;
      }
      so.retry_for = std::chrono::milliseconds(static_cast<long>(retry_for_s * 1000));
      return run_send(so);
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kUsage;
  }
  return kUsage;
}
