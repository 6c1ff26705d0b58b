#include "cli/receive.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "cli/common.hpp"
#include "cli/describe.hpp"
#include "cli/inbox.hpp"
#include "net/tcp.hpp"
#include "net/tcp_stream.hpp"

namespace grove::cli {
namespace {

// Wraps the inbox receiver to learn how the connection ended, and attaches (and registers)
// the identities of --identity once the connection is up, one after the other (sstp.md §11).
class Watch final : public net::ConnectionHandler {
 public:
  Watch(Receiver& inner, const ReceiveOptions& o) : inner_(inner), o_(o) {}
  void on_event(engine::Connection& c, engine::Event& e) override {
    if (std::holds_alternative<engine::Established>(e)) {
      next_identity(c);
    } else if (auto* a = std::get_if<engine::AttachResult>(&e)) {
      if (!a->attached) {
        spdlog::error(
            "identity {}: the relay did not accept its secret ({}); check "
            "--identity-secret-file",
            a->identity_url, session_close_name(a->reason_id));
        identity_failed_ = local_close_ = true;
        c.close();
      } else {
        spdlog::info("event=attached identity={}", a->identity_url);
        std::uint32_t id = 0;
        if (!o_.register_identities) {
          ++next_;
          next_identity(c);
        } else if (auto ec = c.register_identity(a->identity_url, id)) {
          spdlog::error("identity {}: cannot register: {}", a->identity_url, ec.message());
        }
      }
    } else if (auto* r = std::get_if<engine::RegisterResult>(&e)) {
      if (r->response != sstp::AttachResponseId::Ok) {
        spdlog::error("identity {}: the relay refused the registration ({})", r->identity_url,
                      r->response == sstp::AttachResponseId::QuotaWouldBeExceeded
                          ? "too many devices registered for it"
                      : r->response == sstp::AttachResponseId::TryLater ? "try again later"
                                                                        : "not attached");
        identity_failed_ = local_close_ = true;
        c.close();
      } else {
        spdlog::info("event=registered identity={}", r->identity_url);
        ++next_;
        next_identity(c);
      }
    }
    if (auto* cc = std::get_if<engine::ConnectionClosed>(&e)) {
      closed_ = true;
      if (!local_close_) {
        failure_ = cc->refused || cc->reason == sstp::ConnectCloseReason::DeviceAuthenticationFailed
                       ? kRefused
                       : kUnreachable;
        spdlog::error("{}", describe(*cc));
      }
    }
    inner_.on_event(c, e);
  }
  void closing() { local_close_ = true; }
  int failure() const { return identity_failed_ ? kRefused : failure_; }

 private:
  void next_identity(engine::Connection& c) {
    if (next_ >= o_.identities.size()) return;
    std::uint32_t id = 0;
    if (auto ec = c.attach(o_.identities[next_].url, o_.identities[next_].secret, id))
      spdlog::error("identity {}: cannot attach: {}", o_.identities[next_].url, ec.message());
  }

  Receiver& inner_;
  const ReceiveOptions& o_;
  std::size_t next_ = 0;  // the identity being attached or registered
  bool identity_failed_ = false;
  bool closed_ = false, local_close_ = false;
  int failure_ = kOk;
};

}  // namespace

int run_receive(const ReceiveOptions& o) {
  if (!o.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.out_dir, ec);
    if (ec) {
      spdlog::error("cannot create {}: {}", o.out_dir, ec.message());
      return kUsage;
    }
  }
  asio::io_context io(1);
  InboxShared shared;
  shared.out_dir = o.out_dir;
  shared.show_meta = o.show_meta;
  shared.count = o.count;
  auto receiver = make_receiver(shared, o.connect.to_string());
  Watch watch(*receiver, o);
  std::unique_ptr<engine::Connection> conn;
  std::unique_ptr<net::Driver> driver;
  int exit_code = kOk;
  asio::steady_timer idle(io);
  auto finish = [&](int code) {
    if (conn && driver) {
      watch.closing();
      if (exit_code == kOk) exit_code = code;
      conn->close();
      driver->kick();
    }
  };
  auto arm_idle = [&] {
    if (o.idle.count() == 0) return;
    idle.expires_after(o.idle);
    idle.async_wait([&](const std::error_code& ec) {
      if (!ec) finish(kOk);
    });
  };
  shared.on_done = [&] { finish(kOk); };
  shared.on_message = arm_idle;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (!ec) finish(o.count ? kInterrupted : kOk);
  });
  asio::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        std::error_code ec;
        auto socket = co_await net::dial_tcp(o.connect, o.connect_timeout, ec);
        if (ec) {
          spdlog::error("cannot connect to {}: {}", o.connect.to_string(), ec.message());
          exit_code = kUnreachable;
        } else {
          net::TcpStream stream(std::move(socket), "tcp");
          engine::Options eo;
          eo.role = engine::Role::initiator;
          eo.local_device_url = o.device_url;
          eo.target_device_url = o.relay_url;
          eo.device_secret = o.secret;
          conn = std::make_unique<engine::Connection>(eo, engine::Clock::now());
          driver = std::make_unique<net::Driver>(stream, *conn, watch);
          arm_idle();
          co_await driver->run();
          if (watch.failure() != kOk) exit_code = watch.failure();
        }
        signals.cancel();
        idle.cancel();
      },
      asio::detached);
  io.run();
  if (exit_code == kOk && o.count && shared.received < o.count) exit_code = kUnconfirmed;
  return exit_code;
}

}  // namespace grove::cli
