#include "cli/receive.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "cli/common.hpp"
#include "cli/describe.hpp"
#include "cli/inbox.hpp"
#include "cli/runner.hpp"

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

engine::Options engine_options(const ReceiveOptions& o) {
  engine::Options eo;
  eo.role = engine::Role::initiator;
  eo.local_device_url = o.device_url;
  eo.target_device_url = o.relay_url;
  eo.device_secret = o.secret;
  return eo;
}

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
  InboxShared shared;
  shared.out_dir = o.out_dir;
  shared.show_meta = o.show_meta;
  shared.count = o.count;
  auto receiver = make_receiver(shared, o.connect.to_string());
  Watch watch(*receiver, o);
  Runner runner(o);
  int exit_code = kOk;
  // Our own end of the run: close the working connection politely with this exit code.
  auto close_with = [&](engine::Connection& c, int code) {
    watch.closing();
    if (exit_code == kOk) exit_code = code;
    c.close();
  };
  auto finish = [&](int code) {
    (void)runner.act([&](engine::Connection& c) { close_with(c, code); });
  };
  asio::steady_timer idle(runner.io());
  auto arm_idle = [&] {
    if (o.idle.count() == 0) return;
    idle.expires_after(o.idle);
    idle.async_wait([&](const std::error_code& ec) {
      if (!ec) finish(kOk);
    });
  };
  shared.on_done = [&] { finish(kOk); };
  shared.on_message = arm_idle;
  RunHooks hooks;
  hooks.interrupt = [&](engine::Connection& c) { close_with(c, o.count ? kInterrupted : kOk); };
  hooks.working = arm_idle;
  hooks.over = [&] { idle.cancel(); };
  const RunResult r = runner.run(engine_options(o), watch, hooks);
  if (r.tls_config_error) return kUsage;
  if (r.interrupted && !r.reached) return kInterrupted;  // during the walk
  if (!r.reached) return report_unreachable(o, r);
  if (watch.failure() != kOk) exit_code = watch.failure();
  if (exit_code == kOk && o.count && shared.received < o.count) exit_code = kUnconfirmed;
  return exit_code;
}

}  // namespace grove::cli
