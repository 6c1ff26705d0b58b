// Idle-connection load generator for groved (issue 3: 10,000 concurrent idle authenticated
// connections at no more than 20 KiB RSS each).
//
// Opens N connections to a running groved from one event loop, at a controlled rate and with a
// bounded number of handshakes in flight. Each connection runs the real engine
// (grove_engine, initiator role, grove-auth-1 with its own device secret) over net::Driver, so
// it completes Connect / ConnectResponse / ConnectAuthenticate, answers keep-alives and stays
// open. groved's VmRSS (/proc/PID/status) is read before the first connection and after the
// last one authenticated (and again after --hold seconds); the difference divided by N is the
// memory each idle authenticated connection costs the relay.
//
//   bench_idle_conns --connect 127.0.0.1:PORT --relay-url grove://relay.bench
//       --devices secrets.txt --count 10000 --pid $(pidof groved)
//
// `secrets.txt` holds "DeviceURL SECRET-HEX" lines, the output of `groved device import`.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/connection.hpp"
#include "net/driver.hpp"
#include "net/tcp.hpp"
#include "net/tcp_stream.hpp"

using namespace grove;
using Clock = std::chrono::steady_clock;

namespace {

struct Device {
  std::string url;
  auth::Secret secret{};
};

std::vector<Device> read_devices(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<Device> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string url, hex;
    if (!(f >> url >> hex) || url.front() == '#') continue;
    auto s = auth::parse_secret_hex(hex);
    if (!s) throw std::runtime_error(path + ": bad secret for " + url);
    out.push_back({url, *s});
  }
  return out;
}

// One field of /proc/PID/status in KiB ("VmRSS", "RssAnon", "VmHWM"); -1 when unreadable.
long status_kib(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

int count_fds(int pid) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

struct Counters {
  std::size_t started = 0, connected = 0, authenticated = 0, failed = 0, closed_later = 0;
  std::map<std::string, std::size_t> errors;  // cause -> count
};

// Per connection: counts the handshake's outcome; the engine answers keep-alives by itself.
class Watch final : public net::ConnectionHandler {
 public:
  explicit Watch(Counters& c) : c_(c) {}
  void on_event(engine::Connection&, engine::Event& e) override {
    if (auto* est = std::get_if<engine::Established>(&e)) {
      if (est->authenticated) {
        authenticated_ = true;
        ++c_.authenticated;
      } else {
        fail("established without relay proof");
      }
    } else if (auto* cl = std::get_if<engine::ConnectionClosed>(&e)) {
      if (authenticated_) {
        ++c_.closed_later;
      } else {
        std::string why = "closed during the handshake: ";
        if (cl->refused) {
          why += fmt::format("refused, ConnectResponse {}", static_cast<int>(*cl->refused));
        } else if (cl->error) {
          why += cl->error.message();
        } else {
          why += fmt::format("ConnectClose reason {}", static_cast<int>(cl->reason));
        }
        fail(why);
      }
    }
  }
  void fail(const std::string& why) {
    if (done_) return;
    done_ = true;
    ++c_.failed;
    ++c_.errors[why];
  }
  [[nodiscard]] bool settled() const { return authenticated_ || done_; }

 private:
  Counters& c_;
  bool authenticated_ = false;
  bool done_ = false;
};

struct Client {
  std::unique_ptr<net::TcpStream> stream;
  std::unique_ptr<engine::Connection> conn;
  std::unique_ptr<Watch> watch;
  std::unique_ptr<net::Driver> driver;
};

struct Settings {
  net::HostPort target;
  std::string relay_url;
  std::size_t count = 10000;
  double rate = 1000;  // connections started per second
  std::size_t max_pending = 256;
  int pid = 0;
  int settle_s = 3;
  int hold_s = 0;
  std::size_t read_buffer = 4096;
};

class Generator {
 public:
  Generator(asio::io_context& io, Settings s, std::vector<Device> devices)
      : io_(io), s_(std::move(s)), devices_(std::move(devices)), clients_(s_.count) {}

  net::awaitable<void> run() {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex);
    rss_before_ = rss();
    anon_before_ = s_.pid ? status_kib(s_.pid, "RssAnon") : -1;
    fmt::print("groved pid {}: VmRSS {} KiB, RssAnon {} KiB, {} fds before any connection\n",
               s_.pid, rss_before_, anon_before_, s_.pid ? count_fds(s_.pid) : -1);
    fmt::print("opening {} connections to {} at up to {:.0f}/s, at most {} handshakes at once\n",
               s_.count, s_.target.to_string(), s_.rate, s_.max_pending);
    std::fflush(stdout);
    asio::co_spawn(ex, progress(), asio::detached);
    const auto start = Clock::now();
    for (std::size_t i = 0; i < s_.count; ++i) {
      // Pace: connection i starts no earlier than start + i / rate.
      const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(i) / s_.rate));
      for (;;) {
        const auto now = Clock::now();
        if (now >= due && pending() < s_.max_pending) break;
        t.expires_at(now >= due ? now + std::chrono::milliseconds(2) : due);
        (void)co_await t.async_wait(net::use_tuple);
      }
      ++c_.started;
      asio::co_spawn(ex, connect(i), asio::detached);
    }
    while (c_.authenticated + c_.failed < s_.count) {
      t.expires_after(std::chrono::milliseconds(20));
      (void)co_await t.async_wait(net::use_tuple);
    }
    open_s_ = std::chrono::duration<double>(Clock::now() - start).count();
    fmt::print("all {} handshakes settled in {:.1f} s: {} authenticated, {} failed\n", s_.count,
               open_s_, c_.authenticated, c_.failed);
    for (auto& [why, n] : c_.errors) fmt::print("  failed: {} x {}\n", n, why);
    t.expires_after(std::chrono::seconds(s_.settle_s));
    (void)co_await t.async_wait(net::use_tuple);
    report("after open + " + std::to_string(s_.settle_s) + " s");
    if (s_.hold_s > 0) {
      t.expires_after(std::chrono::seconds(s_.hold_s));
      (void)co_await t.async_wait(net::use_tuple);
      report("after holding " + std::to_string(s_.hold_s) + " s more");
    }
    done_ = true;
    ok_ = c_.failed == 0 && c_.closed_later == 0;
    // Close every connection (ConnectClose), then stop; whatever is left after 10 s is dropped.
    for (auto& c : clients_) {
      if (c.driver && !c.driver->closed()) {
        c.conn->close();
        c.driver->kick();
      }
    }
    t.expires_after(std::chrono::seconds(10));
    (void)co_await t.async_wait(net::use_tuple);
    io_.stop();
  }

  // 0 when every connection authenticated and stayed open until the measurements were done.
  int exit_code() const { return ok_ ? 0 : 1; }

 private:
  std::size_t pending() const { return c_.started - c_.authenticated - c_.failed; }
  long rss() const { return s_.pid ? status_kib(s_.pid, "VmRSS") : -1; }

  net::awaitable<void> connect(std::size_t i) {
    Client& c = clients_[i];
    const Device& d = devices_[i];
    c.watch = std::make_unique<Watch>(c_);
    std::error_code ec;
    auto socket = co_await net::dial_tcp(s_.target, std::chrono::seconds(30), ec);
    if (ec) {
      c.watch->fail("connect: " + ec.message());
      co_return;
    }
    ++c_.connected;
    c.stream = std::make_unique<net::TcpStream>(std::move(socket), "tcp");
    engine::Options eo;
    eo.role = engine::Role::initiator;
    eo.local_device_url = d.url;
    eo.target_device_url = s_.relay_url;
    eo.device_secret = d.secret;
    c.conn = std::make_unique<engine::Connection>(eo, engine::Clock::now());
    net::DriverOptions dopt;
    dopt.read_buffer = s_.read_buffer;  // the generator's own memory, not the relay's
    c.driver = std::make_unique<net::Driver>(*c.stream, *c.conn, *c.watch, dopt);
    co_await c.driver->run();
    if (!c.watch->settled()) c.watch->fail("stream ended before the handshake finished");
  }

  net::awaitable<void> progress() {
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer t(ex);
    const auto start = Clock::now();
    while (!done_ && c_.authenticated + c_.failed < s_.count) {
      t.expires_after(std::chrono::seconds(1));
      (void)co_await t.async_wait(net::use_tuple);
      fmt::print(
          "{:6.1f} s  started {:6}  connected {:6}  authenticated {:6}  failed {:4}  groved "
          "VmRSS {} KiB\n",
          std::chrono::duration<double>(Clock::now() - start).count(), c_.started, c_.connected,
          c_.authenticated, c_.failed, rss());
      std::fflush(stdout);
    }
  }

  void report(const std::string& when) {
    const long after = rss();
    const long anon = s_.pid ? status_kib(s_.pid, "RssAnon") : -1;
    const long hwm = s_.pid ? status_kib(s_.pid, "VmHWM") : -1;
    const auto n = c_.authenticated - c_.closed_later;
    fmt::print("{}: {} connections open and authenticated ({} closed by the relay since)\n", when,
               n, c_.closed_later);
    if (s_.pid) {
      fmt::print(
          "  groved VmRSS {} -> {} KiB (+{} KiB), RssAnon {} -> {} KiB, VmHWM {} KiB, {} fds\n",
          rss_before_, after, after - rss_before_, anon_before_, anon, hwm, count_fds(s_.pid));
      if (n > 0) {
        const double per = static_cast<double>(after - rss_before_) / static_cast<double>(n);
        fmt::print(
            "RESULT groved KiB per idle authenticated connection: {:.2f} ({} connections, "
            "target <= 20)\n",
            per, n);
      }
    }
    fmt::print("  generator VmRSS {} KiB\n", status_kib(static_cast<int>(::getpid()), "VmRSS"));
    std::fflush(stdout);
  }

  asio::io_context& io_;
  Settings s_;
  std::vector<Device> devices_;
  std::vector<Client> clients_;
  Counters c_;
  long rss_before_ = -1, anon_before_ = -1;
  double open_s_ = 0;
  bool done_ = false;
  bool ok_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Idle-connection load generator for groved: N authenticated grove-auth-1 "
      "connections from one event loop; prints groved's RSS per connection."};
  Settings s;
  std::string connect = "127.0.0.1:2492", devices_file;
  app.add_option("-c,--connect", connect, "groved's native SSTP address")->capture_default_str();
  app.add_option("--relay-url", s.relay_url, "groved's DeviceURL")->required();
  app.add_option("--devices", devices_file, "\"DeviceURL SECRET-HEX\" lines (groved device import)")
      ->required();
  app.add_option("-n,--count", s.count, "Connections to open")->capture_default_str();
  app.add_option("--rate", s.rate, "Connections started per second")->capture_default_str();
  app.add_option("--max-pending", s.max_pending, "Handshakes in flight at most")
      ->capture_default_str();
  app.add_option("--pid", s.pid, "groved's PID, for VmRSS from /proc/PID/status");
  app.add_option("--settle", s.settle_s, "Seconds to wait after the last handshake")
      ->capture_default_str();
  app.add_option("--hold", s.hold_s, "Seconds to hold the connections open after measuring")
      ->capture_default_str();
  app.add_option("--read-buffer", s.read_buffer, "The generator's read buffer per connection")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  auto hp = net::parse_host_port(connect, 2492);
  if (!hp) {
    std::fprintf(stderr, "bench_idle_conns: '%s' is not HOST[:PORT]\n", connect.c_str());
    return 2;
  }
  s.target = *hp;
  try {
    auto devices = read_devices(devices_file);
    if (devices.size() < s.count) {
      std::fprintf(stderr, "bench_idle_conns: %s has %zu devices, %zu needed\n",
                   devices_file.c_str(), devices.size(), s.count);
      return 2;
    }
    asio::io_context io(1);
    Generator g(io, s, std::move(devices));
    asio::co_spawn(io, g.run(), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::fprintf(stderr, "bench_idle_conns: %s\n", x.what());
      }
    });
    io.run();
    return g.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_idle_conns: %s\n", e.what());
    return 1;
  }
}
