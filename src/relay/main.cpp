// groved: the Grove relay. Stores messages for offline devices and forwards them when the
// devices connect (sstp.md §10), on the native SSTP port and the SSL port.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <list>
#include <set>
#include <sstream>

#include "auth/grove_auth.hpp"
#include "net/tcp.hpp"
#include "net/tcp_stream.hpp"
#include "relay/admin.hpp"
#include "relay/config.hpp"
#include "relay/loops.hpp"
#include "relay/relay.hpp"
#include "sstp/url.hpp"
#include "store/sqlite_store.hpp"

using namespace grove;

namespace {

enum : int { kOk = 0, kFailure = 1, kUsage = 2 };

void setup_logging(int verbosity) {
  auto logger = spdlog::stderr_color_mt("groved");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(verbosity >= 2   ? spdlog::level::debug
                    : verbosity == 1 ? spdlog::level::info
                                     : spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

std::string host_name() {
  char h[256] = "localhost";
  ::gethostname(h, sizeof h - 1);
  return h;
}

// Opens the store for the admin commands (no event loop: completions run inline).
std::unique_ptr<store::Store> open_admin_store(const std::string& db) {
  std::error_code ec;
  store::SqliteOptions so;
  so.quick_check_on_open = false;  // admin commands must be quick even on a large database
  auto s = store::open_sqlite_store(
      db, [](std::function<void()> f) { f(); }, so, ec);
  if (!s) throw std::runtime_error("cannot open the database " + db + ": " + ec.message());
  return s;
}

void check(std::error_code ec, const std::string& what) {
  if (ec == store::errc::exists) throw std::runtime_error(what + " already exists");
  if (ec == store::errc::not_found) throw std::runtime_error(what + " does not exist");
  if (ec) throw std::runtime_error(what + ": " + ec.message());
}

bool valid_url(const std::string& u) { return sstp::is_valid_url(u); }

// `groved device import FILE`: one device per line, "DeviceURL [SECRET-HEX]"; blank lines and
// lines starting with '#' are skipped. Every line is checked, and the file is checked against
// the device table, before anything is written: a bad line or a device that already exists
// imports nothing. Devices given without a secret get a new one, printed once on stdout as
// "DeviceURL SECRET-HEX" lines (the same format, so the output can be imported elsewhere).
int import_devices(store::Store& st, const std::string& path) {
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) throw std::runtime_error("cannot read " + path);
  }
  std::istream& in = path == "-" ? std::cin : file;
  struct Entry {
    store::DeviceRecord record;
    bool generated = false;
  };
  std::vector<Entry> entries;
  std::set<std::string> seen;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    const std::string where = path + ":" + std::to_string(number) + ": ";
    std::istringstream fields(line);
    std::string url, hex, extra;
    if (!(fields >> url) || url.front() == '#') continue;
    fields >> hex >> extra;
    if (!extra.empty()) throw std::invalid_argument(where + "expected \"DeviceURL [SECRET-HEX]\"");
    if (!valid_url(url))
      throw std::invalid_argument(where + "'" + url + "' is not a valid DeviceURL");
    if (!seen.insert(url).second) throw std::invalid_argument(where + url + " is listed twice");
    Entry e{{url, {}, true}, hex.empty()};
    if (e.generated) {
      e.record.secret = auth::new_secret();
    } else if (auto s = auth::parse_secret_hex(hex)) {
      e.record.secret = *s;
    } else {
      throw std::invalid_argument(where + "the secret must be exactly 64 hex digits");
    }
    entries.push_back(std::move(e));
  }
  if (in.bad()) throw std::runtime_error("cannot read " + path);
  std::vector<store::DeviceRecord> existing;
  check(st.list_devices(existing), "device table");
  for (auto& d : existing)
    if (seen.count(d.url))
      throw std::runtime_error("device " + d.url + " already exists; nothing imported");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    // One transaction per device (the Store has no batch insert yet).
    if (auto ec = st.add_device(entries[i].record)) {
      check(ec, fmt::format("device {} ({} of {} imported before it)", entries[i].record.url, i,
                            entries.size()));
    }
  }
  for (auto& e : entries)
    if (e.generated) std::cout << e.record.url << " " << auth::to_hex(e.record.secret) << "\n";
  std::cout.flush();
  std::cerr << "imported " << entries.size() << " devices";
  if (std::any_of(entries.begin(), entries.end(), [](const Entry& e) { return e.generated; }))
    std::cerr << "; keep the printed secrets: they are shown only once";
  std::cerr << ".\nA running groved picks up the change on SIGHUP.\n";
  return kOk;
}

int run(relay::Options o) {
  // Destroyed in reverse: the loops' threads are joined before the relay and the main loop go,
  // and their io_contexts outlive both (connections' sockets are made on them).
  relay::Loops loops(relay::Loops::wanted(o.event_loops) - 1);
  asio::io_context io(1);
  std::error_code ec;
  store::SqliteOptions so;
  so.max_load_bytes = o.max_unacked_delivery_bytes;  // one page of deliveries stays bounded
  auto st = store::open_sqlite_store(
      o.database, [&io](std::function<void()> f) { asio::post(io, std::move(f)); }, so, ec);
  if (!st) {
    spdlog::error("cannot open the database {}: {}", o.database, ec.message());
    return kFailure;
  }
  relay::Relay relay(io, loops, o, std::move(st));
  struct JoinLoops {
    relay::Loops& l;
    ~JoinLoops() { l.stop(); }
  } join_loops{loops};
  std::list<asio::ip::tcp::acceptor> admins;  // list: serve_admin holds references
  try {
    relay.start();
    for (auto& hp : o.admin_listen) {
      admins.push_back(net::listen_tcp(io.get_executor(), hp));
      std::fprintf(stderr, "listening on %s (admin)\n",
                   net::to_string(admins.back().local_endpoint()).c_str());
      asio::co_spawn(
          io, relay::serve_admin(admins.back(), [&] { return relay.metrics().prometheus(); }),
          asio::detached);
    }
  } catch (const std::exception& e) {
    spdlog::error("{} (is another program using the port? change it with --listen/--ssl-listen)",
                  e.what());
    return kFailure;
  }
  spdlog::info("event=started relay={} database={} event_loops={}", o.device_urls.front(),
               o.database, loops.size() + 1);
  asio::signal_set stop(io, SIGINT, SIGTERM);
  std::function<void()> wait_stop = [&] {
    stop.async_wait([&](const std::error_code& e, int) {
      if (e) return;
      for (auto& a : admins) a.close();
      relay.shutdown();
    });
  };
  wait_stop();
  asio::signal_set hup(io, SIGHUP);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](const std::error_code& e, int) {
      if (e) return;
      relay.reload();
      wait_hup();
    });
  };
  wait_hup();
  io.run();
  spdlog::info("event=stopped");
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "groved — the Grove relay: stores messages for offline devices and forwards them "
      "over SSTP (ports 2492 and 443)."};
  app.require_subcommand(1);
  app.fallthrough();
  int verbosity = 0;
  std::string db = "groved-data/grove.db";
  app.add_flag("-v,--verbose", verbosity, "Log connections and deliveries (-vv: more)");
  app.add_option("--db", db, "SQLite database file")->capture_default_str();
  app.footer(R"(
Exit codes: 0 success, 1 runtime failure, 2 bad command line or configuration.

Getting started:
  groved device add grove://relay.example/d/alice > alice.key   # prints the secret once
  groved device import devices.txt > secrets.txt   # many devices: "DeviceURL [SECRET-HEX]" lines
  groved run --device-url grove://relay.example -v)");

  auto* run_cmd = app.add_subcommand("run", "Run the relay");
  std::string config;
  std::vector<std::string> listen, ssl_listen, admin_listen, device_urls, http_listen;
  bool no_auth = false;
  run_cmd->add_option("-c,--config", config, "groved.toml (see `groved config`)");
  run_cmd->add_option("-l,--listen", listen,
                      "Native SSTP address (repeatable; default 0.0.0.0:2492)");
  run_cmd->add_option("--ssl-listen", ssl_listen,
                      "SSL-port address serving plain SSTP (default 0.0.0.0:8443)");
  run_cmd->add_option("--admin-listen", admin_listen, "Prometheus metrics address (default off)");
  run_cmd->add_option("--http-listen", http_listen,
                      "HTTP encapsulation address, port 80 in production (repeatable; default "
                      "0.0.0.0:8080; 'off' disables)");
  run_cmd->add_option("--device-url", device_urls,
                      "The relay's DeviceURL (default grove://HOSTNAME)");
  std::size_t event_loops = 0;
  auto* loops_opt = run_cmd
                        ->add_option("--event-loops", event_loops,
                                     "Event loops (threads) serving connections (default: one "
                                     "per core)")
                        ->check(CLI::Range(1, 256));
  run_cmd->add_flag("--no-auth", no_auth,
                    "Accept any device without a secret (demonstration only)");

  app.add_subcommand("config", "Print a groved.toml with every default, documented");

  auto* dev = app.add_subcommand("device", "Manage the device table (secrets for grove-auth-1)");
  dev->require_subcommand(1);
  std::string url;
  for (auto [name, help] : {std::pair{"add", "Add a device; prints its new secret once"},
                            {"rotate", "Give a device a new secret; prints it once"},
                            {"remove", "Delete a device, its secret and its queue"},
                            {"disable", "Refuse the device (ConnectRejected); keep its queue"},
                            {"enable", "Accept a disabled device again"}}) {
    dev->add_subcommand(name, help)->add_option("url", url, "DeviceURL")->required();
  }
  dev->add_subcommand("list", "List devices (secrets shown only as fingerprints)");
  std::string import_file;
  auto* import_cmd = dev->add_subcommand(
      "import",
      "Add many devices at once from FILE ('-' = stdin): one \"DeviceURL [SECRET-HEX]\" per "
      "line. New secrets are printed as \"DeviceURL SECRET-HEX\" lines. Nothing is added "
      "if any line is bad or any device exists already.");
  import_cmd->add_option("file", import_file, "Device list ('-' = stdin)")->required();

  auto* ident = app.add_subcommand(
      "identity", "Manage identities (secrets for Attach; devices Register for their messages)");
  ident->require_subcommand(1);
  for (auto [name, help] :
       {std::pair{"add", "Add an identity; prints its new secret once"},
        {"rotate", "Give an identity a new secret; prints it once"},
        {"remove", "Delete an identity, its registrations and its pending messages"}}) {
    ident->add_subcommand(name, help)->add_option("url", url, "IdentityURL")->required();
  }
  ident->add_subcommand("list", "List identities and their registered devices");

  CLI11_PARSE(app, argc, argv);
  setup_logging(verbosity);

  try {
    if (app.got_subcommand("config")) {
      std::cout << relay::default_config_text();
      return kOk;
    }
    if (run_cmd->parsed()) {
      relay::Options o;
      o.database = db;
      if (!config.empty()) {
        try {
          o = relay::load_config(config, o);
        } catch (const std::runtime_error& e) {
          throw std::invalid_argument(e.what());  // a configuration error: exit code 2
        }
      }
      auto parse = [](const std::vector<std::string>& in, std::uint16_t port) {
        std::vector<net::HostPort> out;
        for (auto& s : in) {
          auto hp = net::parse_host_port(s, port);
          if (!hp) throw std::invalid_argument("'" + s + "' is not HOST[:PORT]");
          out.push_back(*hp);
        }
        return out;
      };
      if (!listen.empty()) o.native_listen = parse(listen, 2492);
      if (!ssl_listen.empty()) o.ssl_listen = parse(ssl_listen, 443);
      if (!admin_listen.empty()) o.admin_listen = parse(admin_listen, 9492);
      if (!http_listen.empty()) {
        o.http_listen_default = false;
        o.http_listen.clear();
        if (!(http_listen.size() == 1 && http_listen[0] == "off"))
          o.http_listen = parse(http_listen, 80);
      }
      if (!device_urls.empty()) o.device_urls = device_urls;
      if (o.device_urls.empty()) o.device_urls = {"grove://" + host_name()};
      for (auto& u : o.device_urls)
        if (!valid_url(u)) throw std::invalid_argument("'" + u + "' is not a valid DeviceURL");
      if (no_auth) o.require_authentication = false;
      if (loops_opt->count()) o.event_loops = event_loops;
      o.verbosity = verbosity;
      return run(o);
    }
    if (ident->parsed()) {
      auto st = open_admin_store(db);
      if (ident->got_subcommand("list")) {
        std::vector<store::IdentityRecord> list;
        std::multimap<std::string, std::string> regs;
        check(st->list_identities(list), "identity table");
        check(st->list_registrations(regs), "registrations");
        for (auto& i : list) {
          std::cout << i.url << "  secret " << auth::fingerprint(i.secret) << "\n";
          for (auto [lo, hi] = regs.equal_range(i.url); lo != hi; ++lo)
            std::cout << "  registered " << lo->second << "\n";
        }
        return kOk;
      }
      if (!valid_url(url)) throw std::invalid_argument("'" + url + "' is not a valid IdentityURL");
      if (ident->got_subcommand("remove")) {
        check(st->remove_identity(url), "identity " + url);
        std::cerr << "done; a running groved picks up the change on SIGHUP\n";
        return kOk;
      }
      auto secret = auth::new_secret();
      if (ident->got_subcommand("add"))
        check(st->add_identity({url, secret}), "identity " + url);
      else
        check(st->set_identity_secret(url, secret), "identity " + url);
      std::cout << auth::to_hex(secret) << "\n";
      std::cerr << "Keep this secret: it is shown only once. Give it to every device that carries "
                   "the identity (mode 0600).\nA running groved picks up the change on SIGHUP.\n";
      return kOk;
    }
    if (dev->parsed()) {
      auto st = open_admin_store(db);
      if (dev->got_subcommand("list")) {
        std::vector<store::DeviceRecord> list;
        check(st->list_devices(list), "device table");
        for (auto& d : list)
          std::cout << d.url << "  " << (d.enabled ? "enabled " : "disabled") << "  secret "
                    << auth::fingerprint(d.secret) << "\n";
        return kOk;
      }
      if (import_cmd->parsed()) return import_devices(*st, import_file);
      if (!valid_url(url)) throw std::invalid_argument("'" + url + "' is not a valid DeviceURL");
      if (dev->got_subcommand("add") || dev->got_subcommand("rotate")) {
        auto secret = auth::new_secret();
        if (dev->got_subcommand("add"))
          check(st->add_device({url, secret, true}), "device " + url);
        else
          check(st->set_device_secret(url, secret), "device " + url);
        std::cout << auth::to_hex(secret) << "\n";
        std::cerr << "Keep this secret: it is shown only once. Give it to the device (mode 0600).\n"
                     "A running groved picks up the change on SIGHUP.\n";
        return kOk;
      }
      if (dev->got_subcommand("remove")) check(st->remove_device(url), "device " + url);
      if (dev->got_subcommand("disable"))
        check(st->set_device_enabled(url, false), "device " + url);
      if (dev->got_subcommand("enable")) check(st->set_device_enabled(url, true), "device " + url);
      std::cerr << "done; a running groved picks up the change on SIGHUP\n";
      return kOk;
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "groved: " << e.what() << "\n";
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "groved: " << e.what() << "\n";
    return kFailure;
  }
  return kUsage;
}
