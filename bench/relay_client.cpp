// Sender and receiver for the relay benchmarks (relay_vs_haproxy.sh, relay_vs_mosquitto.sh):
// the engine (grove_engine) over net::Driver, like `grove send` / `grove receive`, but with the
// payload generated in memory and control over the A bit (AcknowledgeImmediately, sstp.md §9.4).
//
// Why not only the grove CLI: an SSTP receiver acknowledges a message without the A bit only
// when its 5 s Message Acknowledgment Timer expires (§9.4), and groved sends at most 256
// messages / 8 MiB unacknowledged per connection (§10.4), so the sender's A-bit policy decides
// whether a stream through the relay stalls (`grove send` sets A on every 128th message: an
// 8 MiB window of 64 KiB messages drains before it reopens). This client sets A on every
// --ack-every'th message and on the last one; groved keeps the header flags when it forwards a
// copy, so the receiver acknowledges those at once too.
//
//   bench_relay_client send    -c 127.0.0.1:PORT --relay-url URL --device-url A --secret-file
//                              a.key --to B --count N --size BYTES [--ack-every K]
//   bench_relay_client receive -c 127.0.0.1:PORT --relay-url URL --device-url B --secret-file
//                              b.key --count N
// send exits 0 once every message is acknowledged (for groved: durable); receive exits 0 after
// N messages. Both print "ready" on stderr once authenticated, and a summary line.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "engine/connection.hpp"
#include "net/driver.hpp"
#include "net/tcp.hpp"
#include "net/tcp_stream.hpp"

using namespace grove;
using Clock = std::chrono::steady_clock;

namespace {

struct Settings {
  net::HostPort target;
  std::string relay_url, device_url, to_url, secret_file;
  std::string resource_url = "grove:bench";
  std::uint64_t count = 1000;
  std::size_t size = 1024;
  std::uint64_t ack_every = 64;  // 0 = only the last message
};

auth::Secret load_secret(const std::string& path) {
  std::ifstream in(path);
  std::string hex;
  in >> hex;
  auto s = auth::parse_secret_hex(hex);
  if (!s) throw std::runtime_error("no 64-hex-digit secret in " + path);
  return *s;
}

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

class Sender final : public net::ConnectionHandler {
 public:
  explicit Sender(const Settings& s) : s_(s), payload_(s.size) {
    std::mt19937_64 rng(42);
    for (auto& b : payload_) b = static_cast<Byte>('a' + rng() % 26);
  }
  int result() const { return result_; }

  void on_event(engine::Connection& c, engine::Event& e) override {
    if (auto* est = std::get_if<engine::Established>(&e)) {
      if (!est->authenticated) return fail(c, "the relay did not prove the secret");
      std::fprintf(stderr, "ready\n");
      start_ = Clock::now();
      if (c.open_session(s_.resource_url, "", s_.to_url, session_))
        return fail(c, "cannot open a session");
    } else if (std::holds_alternative<engine::SessionReady>(e)) {
      pump(c);
    } else if (std::holds_alternative<engine::SessionPaused>(e)) {
      fail(c, "the relay paused the session");
    } else if (auto* r = std::get_if<engine::SessionRefused>(&e)) {
      fail(c, fmt::format("session refused ({})",
                          r->response_id ? static_cast<int>(*r->response_id) : -1));
    } else if (std::holds_alternative<engine::SessionClosed>(e)) {
      fail(c, "the relay closed the session");
    } else if (std::holds_alternative<engine::Acknowledged>(e)) {
      if (++acked_ == s_.count) {
        const double t = since(start_);
        std::fprintf(
            stderr,
            "sent %llu messages of %zu bytes, all acknowledged, in %.3f s: %.0f msg/s, %.1f MB/s\n",
            static_cast<unsigned long long>(s_.count), s_.size, t,
            static_cast<double>(s_.count) / t, static_cast<double>(s_.count * s_.size) / t / 1e6);
        result_ = 0;
        c.close();
      }
    } else if (auto* cl = std::get_if<engine::ConnectionClosed>(&e)) {
      if (result_ == -1) {
        result_ = 1;
        std::fprintf(stderr, "connection closed after %llu of %llu acknowledgements (reason %d)\n",
                     static_cast<unsigned long long>(acked_),
                     static_cast<unsigned long long>(s_.count), static_cast<int>(cl->reason));
      }
    }
  }
  void on_output_drained(engine::Connection& c) override { pump(c); }

 private:
  // Keeps about 1 MiB queued in the engine, as `grove send` does.
  void pump(engine::Connection& c) {
    while (sent_ < s_.count && c.session_ready(session_) &&
           c.pending_output().size() < (1u << 20)) {
      engine::MessageOptions mo;
      const bool last = sent_ + 1 == s_.count;
      if (last || (s_.ack_every != 0 && (sent_ + 1) % s_.ack_every == 0))
        mo.flags |= sstp::message_flag::AcknowledgeImmediately;
      if (c.send_message(session_, mo, payload_, sent_)) return fail(c, "send_message failed");
      ++sent_;
    }
  }
  void fail(engine::Connection& c, const std::string& why) {
    if (result_ == -1) {
      result_ = 1;
      std::fprintf(stderr, "bench_relay_client send: %s\n", why.c_str());
    }
    c.close();
  }

  const Settings& s_;
  Bytes payload_;
  std::uint32_t session_ = 0;
  std::uint64_t sent_ = 0, acked_ = 0;
  int result_ = -1;
  Clock::time_point start_;
};

class Receiver final : public net::ConnectionHandler {
 public:
  explicit Receiver(const Settings& s) : s_(s) {}
  int result() const { return result_; }

  void on_event(engine::Connection& c, engine::Event& e) override {
    if (auto* est = std::get_if<engine::Established>(&e)) {
      if (!est->authenticated) return fail(c, "the relay did not prove the secret");
      std::fprintf(stderr, "ready\n");
    } else if (auto* sr = std::get_if<engine::SessionRequested>(&e)) {
      (void)c.respond_open(sr->session_id, engine::Availability::ready);
    } else if (auto* d = std::get_if<engine::MessageData>(&e)) {
      bytes_ += d->data.size();
    } else if (auto* m = std::get_if<engine::MessageEnded>(&e)) {
      if (received_ == 0) start_ = Clock::now();  // from the first complete message
      if (received_ >= s_.count) return;          // beyond the count: left for next time
      c.message_processed(m->seq);
      if (++received_ == s_.count) {
        std::fprintf(stderr, "received %llu messages, %llu bytes\n",
                     static_cast<unsigned long long>(received_),
                     static_cast<unsigned long long>(bytes_));
        result_ = 0;
        c.close();  // ConnectClose carries the last acknowledgements (§9.4)
      }
    } else if (std::holds_alternative<engine::ConnectionClosed>(e)) {
      if (result_ == -1) fail(c, fmt::format("connection closed after {} messages", received_));
    }
  }

 private:
  void fail(engine::Connection& c, const std::string& why) {
    if (result_ == -1) {
      result_ = 1;
      std::fprintf(stderr, "bench_relay_client receive: %s\n", why.c_str());
    }
    c.close();
  }

  const Settings& s_;
  std::uint64_t received_ = 0, bytes_ = 0;
  int result_ = -1;
  Clock::time_point start_;
};

template <typename Handler>
int run(const Settings& s) {
  asio::io_context io(1);
  Handler h(s);
  int code = 1;
  asio::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        std::error_code ec;
        auto socket = co_await net::dial_tcp(s.target, std::chrono::seconds(10), ec);
        if (ec) {
          std::fprintf(stderr, "cannot connect to %s: %s\n", s.target.to_string().c_str(),
                       ec.message().c_str());
          co_return;
        }
        net::TcpStream stream(std::move(socket), "tcp");
        engine::Options eo;
        eo.role = engine::Role::initiator;
        eo.local_device_url = s.device_url;
        eo.target_device_url = s.relay_url;
        eo.device_secret = load_secret(s.secret_file);
        engine::Connection conn(eo, engine::Clock::now());
        net::Driver driver(stream, conn, h);
        co_await driver.run();
        code = h.result() == 0 ? 0 : 1;
      },
      [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          std::fprintf(stderr, "bench_relay_client: %s\n", x.what());
        }
      });
  io.run();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sender/receiver for the relay benchmarks (sets the A bit; payload in memory)"};
  app.require_subcommand(1);
  Settings s;
  std::string connect = "127.0.0.1:2492";
  auto common = [&](CLI::App* c) {
    c->add_option("-c,--connect", connect, "groved's address")->capture_default_str();
    c->add_option("--relay-url", s.relay_url, "groved's DeviceURL")->required();
    c->add_option("--device-url", s.device_url, "Our DeviceURL")->required();
    c->add_option("--secret-file", s.secret_file, "Our device secret")->required();
    c->add_option("-n,--count", s.count, "Messages")->capture_default_str();
  };
  auto* send = app.add_subcommand("send", "Send --count messages of --size bytes to --to");
  common(send);
  send->add_option("--to", s.to_url, "The receiving device's DeviceURL")->required();
  send->add_option("--size", s.size, "Bytes per message")->capture_default_str();
  send->add_option("--ack-every", s.ack_every,
                   "Set the A bit on every K-th message (and the last); 0 = only the last")
      ->capture_default_str();
  auto* receive = app.add_subcommand("receive", "Receive --count messages, then exit");
  common(receive);
  CLI11_PARSE(app, argc, argv);
  auto hp = net::parse_host_port(connect, 2492);
  if (!hp) {
    std::fprintf(stderr, "bench_relay_client: '%s' is not HOST[:PORT]\n", connect.c_str());
    return 2;
  }
  s.target = *hp;
  try {
    return send->parsed() ? run<Sender>(s) : run<Receiver>(s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_relay_client: %s\n", e.what());
    return 1;
  }
}
