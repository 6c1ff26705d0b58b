#include "cli/send.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdio>
#include <deque>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/common.hpp"
#include "cli/describe.hpp"
#include "cli/progress.hpp"
#include "net/driver.hpp"
#include "net/fallback.hpp"
#include "net/path_memory.hpp"

namespace grove::cli {
namespace {

using engine::Connection;

// One message to send. Files larger than the fragment size become several messages carrying
// Fragmentation fields (sstp.md §5.13); reassembly is the receiver's job (§9.6 F).
struct Outgoing {
  std::string text;  // text messages
  std::string path;  // files ("" for text, "-" for stdin)
  std::string name;  // file name in UserRef "file:<name>"
  std::uint64_t offset = 0, length = 0;
  bool known_length = true;
  std::optional<sstp::FragmentationFields> fragment;
};

class Sender final : public net::ConnectionHandler {
 public:
  Sender(const SendOptions& o, std::deque<Outgoing> queue, std::uint64_t total_bytes)
      : opt_(o),
        queue_(std::move(queue)),
        total_messages_(queue_.size()),
        progress_("sending", total_bytes, o.progress && total_bytes >= (1u << 20)) {}

  int result() const { return result_; }

  void on_event(Connection& c, engine::Event& e) override {
    std::visit([&](auto& ev) { handle(c, ev); }, e);
  }
  void on_output_drained(Connection& c) override { pump(c); }
  void interrupt(Connection& c) {
    if (result_ == -1) result_ = kInterrupted;
    c.close();
  }

 private:
  void handle(Connection& c, engine::Established& ev) {
    spdlog::info("event=established peer={} version=1.{} authenticated={}", ev.peer_device_url,
                 ev.minor_version, ev.authenticated);
    if (auto ec = c.open_session(opt_.resource_url, opt_.identity_url, opt_.to_url, session_))
      fail(c, kFailure, "cannot open a session: " + ec.message());
  }
  void handle(Connection& c, engine::SessionReady&) {
    paused_ = false;
    pump(c);
  }
  void handle(Connection&, engine::SessionPaused&) { paused_ = true; }
  void handle(Connection& c, engine::SessionRefused& ev) {
    fail(c, kRefused,
         ev.response_id
             ? std::string("the peer refused the session: ") + open_response_name(*ev.response_id)
             : "the peer did not answer the session request in time");
  }
  void handle(Connection& c, engine::SessionClosed& ev) {
    if (ev.by_peer)
      fail(c, kUnconfirmed,
           std::string("the peer closed the session: ") + session_close_name(ev.reason_id));
  }
  void handle(Connection& c, engine::Acknowledged&) {
    if (++acked_ == total_messages_ && queue_.empty() && !in_progress_) {
      progress_.finish();
      spdlog::info("event=all_acknowledged messages={}", acked_);
      result_ = kOk;
      c.close();
    }
  }
  void handle(Connection&, engine::ConnectionClosed& ev) {
    progress_.finish();
    if (result_ != -1) return;
    if (ev.refused) {
      result_ = kRefused;
    } else if (ev.reason == sstp::ConnectCloseReason::DeviceAuthenticationFailed) {
      result_ = kRefused;
    } else {
      result_ = kUnconfirmed;
    }
    std::string what = describe(ev);
    if (!ev.refused && acked_ < total_messages_)
      what += fmt::format("; {} of {} messages confirmed", acked_, total_messages_);
    spdlog::error("{}", what);
  }
  template <typename T>
  void handle(Connection&, T&) {}  // events a sender does not care about

  void fail(Connection& c, int code, const std::string& why) {
    if (result_ == -1) {
      result_ = code;
      progress_.finish();
      spdlog::error("{}", why);
    }
    c.close();
  }

  // Queues data until the engine holds about 1 MiB; called again when the socket drained.
  void pump(Connection& c) {
    constexpr std::size_t kHighWater = 1u << 20;
    while (!paused_ && session_ && c.session_ready(session_) &&
           c.pending_output().size() < kHighWater) {
      if (!in_progress_) {
        if (queue_.empty()) return;
        current_ = std::move(queue_.front());
        queue_.pop_front();
        if (!start(c)) return;
      }
      if (!current_.path.empty()) {
        if (!send_file_chunk(c)) return;
      } else {
        (void)c.send_data(session_, as_bytes(current_.text));
        finish_message(c);
      }
    }
  }

  bool start(Connection& c) {
    engine::MessageOptions mo;
    if (!current_.path.empty()) {
      mo.user_ref = "file:" + current_.name;
      if (current_.known_length) mo.total_size = current_.length;
      mo.fragmentation = current_.fragment;
      if (!file_) {
        file_.reset(current_.path == "-" ? stdin : std::fopen(current_.path.c_str(), "rb"));
        if (!file_) {
          fail(c, kFailure, "cannot open " + current_.path);
          return false;
        }
      }
    }
    if (queue_.empty()) mo.flags |= sstp::message_flag::AcknowledgeImmediately;  // last: §9.4
    if (auto ec = c.begin_message(session_, mo)) {
      fail(c, kFailure, "cannot start a message: " + ec.message());
      return false;
    }
    in_progress_ = true;
    sent_in_message_ = 0;
    return true;
  }

  bool send_file_chunk(Connection& c) {
    static thread_local Bytes buf(256 * 1024);
    std::size_t want = buf.size();
    if (current_.known_length)
      want = static_cast<std::size_t>(
          std::min<std::uint64_t>(want, current_.length - sent_in_message_));
    std::size_t n = want ? std::fread(buf.data(), 1, want, file_.get()) : 0;
    if (n > 0) {
      (void)c.send_data(session_, ByteView(buf.data(), n));
      sent_in_message_ += n;
      sent_bytes_ += n;
      progress_.update(sent_bytes_);
    }
    const bool eof = current_.known_length
                         ? sent_in_message_ == current_.length
                         : (n == 0 && (std::feof(file_.get()) || std::ferror(file_.get())));
    if (n == 0 && !eof) {
      fail(c, kFailure, current_.path + " changed size while it was being sent");
      return false;
    }
    if (eof) {
      if (current_.path != "-" && (!current_.fragment || current_.fragment->fragment_index + 1 ==
                                                             current_.fragment->fragment_count))
        file_.reset();
      finish_message(c);
    }
    return true;
  }

  void finish_message(Connection& c) {
    (void)c.end_message(session_, next_cookie_++);
    in_progress_ = false;
  }

  struct FileCloser {
    void operator()(FILE* f) const {
      if (f && f != stdin) std::fclose(f);
    }
  };

  const SendOptions& opt_;
  std::deque<Outgoing> queue_;
  std::size_t total_messages_;
  Progress progress_;
  std::uint32_t session_ = 0;
  bool paused_ = false;
  bool in_progress_ = false;
  Outgoing current_;
  std::unique_ptr<FILE, FileCloser> file_;
  std::uint64_t sent_in_message_ = 0, sent_bytes_ = 0;
  std::uint64_t next_cookie_ = 0;
  std::size_t acked_ = 0;
  int result_ = -1;
};

// Builds the message queue; throws std::runtime_error for unreadable input.
std::deque<Outgoing> plan(const SendOptions& o, std::uint64_t& total_bytes) {
  std::deque<Outgoing> q;
  total_bytes = 0;
  for (const auto& t : o.texts) {
    q.push_back(Outgoing{t, "", "", 0, t.size(), true, std::nullopt});
    total_bytes += t.size();
  }
  if (o.stdin_lines) {
    std::string line;
    while (std::getline(std::cin, line)) {
      total_bytes += line.size();
      q.push_back(Outgoing{std::move(line), "", "", 0, 0, true, std::nullopt});
    }
  }
  for (const auto& path : o.files) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw std::runtime_error("cannot send " + path + ": " + ec.message());
    const std::string name = std::filesystem::path(path).filename().string();
    const std::uint64_t frag = o.fragment_size;
    const std::uint64_t count = size == 0 ? 1 : (size + frag - 1) / frag;
    sstp::FragmentationFields f;
    if (!auth::random_bytes(f.fragment_message_id))
      throw std::runtime_error("the system random generator failed");
    f.fragment_count = static_cast<std::uint32_t>(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      Outgoing m;
      m.path = path;
      m.name = name;
      m.offset = i * frag;
      m.length = std::min(frag, size - std::min(size, m.offset));
      f.fragment_index = static_cast<std::uint32_t>(i);
      if (count > 1) m.fragment = f;
      q.push_back(std::move(m));
    }
    total_bytes += size;
  }
  if (o.read_stdin) {
    Outgoing m;
    m.path = "-";
    m.name = "stdin";
    m.known_length = false;
    q.push_back(std::move(m));
  }
  return q;
}

// Passes the engine's events to the command's handler once the connection counts as working
// (the ConnectResponse arrived, henc.md §11.2). Before that, a ConnectionClosed is a failed
// fallback step, not a result: it is kept for the report and the next step is tried.
class Attempt final : public net::ConnectionHandler {
 public:
  Attempt(net::ConnectionHandler& inner, std::function<void()> on_arrived)
      : inner_(inner), on_arrived_(std::move(on_arrived)) {}

  void on_event(Connection& c, engine::Event& e) override {
    if (!arrived_) {
      switch (net::handshake_progress(e)) {
        case net::HandshakeProgress::arrived:
          arrived_ = true;
          on_arrived_();
          break;
        case net::HandshakeProgress::failed: {
          const auto& closed = std::get<engine::ConnectionClosed>(e);
          if (failure_.empty()) {
            failure_ = describe(closed);
            error_ = closed.error;
          }
          return;
        }
        case net::HandshakeProgress::pending:
          break;
      }
    }
    inner_.on_event(c, e);
  }
  void on_output_drained(Connection& c) override {
    if (arrived_) inner_.on_output_drained(c);
  }

  // The ConnectionEstablishment timer (henc.md §10) expired before the ConnectResponse.
  void expire(std::chrono::milliseconds limit) {
    if (arrived_ || !failure_.empty()) return;
    failure_ = fmt::format("no SSTP ConnectResponse within {} s of the step's start",
                           std::chrono::duration_cast<std::chrono::seconds>(limit).count());
    error_ = asio::error::timed_out;
  }
  bool arrived() const { return arrived_; }
  const std::string& failure() const { return failure_; }
  std::error_code error() const { return error_; }

 private:
  net::ConnectionHandler& inner_;
  std::function<void()> on_arrived_;
  bool arrived_ = false;
  std::string failure_;
  std::error_code error_;
};

// What the ConnectionEstablishment timer of one attempt may touch; cleared when the attempt ends.
struct Watchdog {
  Attempt* attempt;
  net::ByteStream* stream;
};

net::FallbackOptions fallback_options(const SendOptions& o) {
  net::FallbackOptions f;
  f.relay = o.connect;
  f.port_443 = o.port_443;
  f.http_proxy = o.http_proxy;
  f.socks_proxy = o.socks_proxy;
  f.only = o.paths;
  f.timeouts.tcp_connect = o.connect_timeout;
  return f;
}

engine::Options engine_options(const SendOptions& o) {
  engine::Options eo;
  eo.role = engine::Role::initiator;
  eo.local_device_url = o.device_url;
  eo.target_device_url = o.relay_url.empty() ? o.to_url : o.relay_url;
  eo.device_secret = o.secret;
  eo.allow_unauthenticated_peer = o.allow_unauthenticated;
  return eo;
}

struct RunResult {
  bool reached = false;  // a ConnectResponse arrived: the handler saw the connection
  bool interrupted = false;
  net::Report report;
  std::string transport;  // describe() of the stream that carried the connection
};

void log_attempt_details(const net::Report& report) {
  for (const auto& a : report.attempts) {
    for (const auto& t : a.trace) spdlog::debug("step {} {}: {}", a.number, a.step, t);
    if (!a.warning.empty()) spdlog::warn("{}", a.warning);
  }
}

// Opens the connection with the fallback walk and runs `handler` over the transport that
// carried the ConnectResponse, until the connection is over. `interrupt` is called on
// SIGINT/SIGTERM once the connection works; during the walk a signal just stops everything.
RunResult run_connection(const SendOptions& o, net::ConnectionHandler& handler,
                         const std::function<void(Connection&)>& interrupt) {
  asio::io_context io(1);
  RunResult result;
  std::unique_ptr<Connection> conn;
  std::unique_ptr<net::Driver> driver;
  bool live = false;  // conn and driver carry a working connection

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (ec) return;
    spdlog::warn("interrupted: closing the connection");
    if (live) {
      interrupt(*conn);
      driver->kick();
    } else {
      result.interrupted = true;
      io.stop();
    }
  });

  asio::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        net::ProxyAuthMemos memos;
        net::PathMemory memory(o.path_memory_file);
        // The memory is per relay and per direct port: another --port-443 is another path.
        const std::string relay_key = o.connect.to_string() + "/" + std::to_string(o.port_443);
        // §11.2: the step that worked last time goes first, unless --path fixes the steps.
        std::optional<std::string> preferred;
        if (o.paths.empty())
          preferred = memory.preferred(relay_key, std::chrono::system_clock::now());
        if (preferred)
          spdlog::info("event=fallback_memory relay={} first={}", relay_key, *preferred);
        net::FallbackDialer dialer(ex, net::plan_steps(fallback_options(o), &memos, preferred));
        spdlog::info("event=dialing target={}", o.connect.to_string());
        while (auto t = co_await dialer.next()) {
          spdlog::info("event=transport_ready step={} stream={}", t->step, t->stream->describe());
          const std::string described = t->stream->describe();
          conn = std::make_unique<Connection>(engine_options(o), engine::Clock::now());
          Attempt attempt(handler, [&, step = t->step] {
            dialer.working();
            live = true;
            result.transport = described;
            result.report = dialer.report();
            for (const auto& a : result.report.attempts) spdlog::info("{}", a.line());
            log_attempt_details(result.report);
            if (o.paths.empty()) memory.remember(relay_key, step, std::chrono::system_clock::now());
          });
          driver = std::make_unique<net::Driver>(*t->stream, *conn, attempt);
          // henc.md §10 ConnectionEstablishment: no ConnectResponse by the deadline fails the
          // step. The handler may run after this iteration: it only touches `guard`.
          auto guard = std::make_shared<Watchdog>(Watchdog{&attempt, t->stream.get()});
          asio::steady_timer watchdog(ex, t->deadline);
          watchdog.async_wait([guard](const std::error_code& ec) {
            if (ec || guard->attempt == nullptr || guard->attempt->arrived()) return;
            guard->attempt->expire(net::DialTimeouts{}.establishment);
            guard->stream->close();  // the driver's reader sees the close and ends the connection
          });
          co_await driver->run();
          guard->attempt = nullptr;
          watchdog.cancel();
          if (attempt.arrived()) break;
          spdlog::info("event=step_failed step={} reason=\"{}\"", t->step, attempt.failure());
          dialer.failed(attempt.failure(), attempt.error());
          driver.reset();
          conn.reset();
        }
        if (!live) {
          result.report = dialer.report();
          log_attempt_details(result.report);
        }
        result.reached = live;
        live = false;
        signals.cancel();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  return result;
}

// The walk failed: say why, step by step, on stderr (whatever the verbosity).
int report_unreachable(const SendOptions& o, const RunResult& r) {
  spdlog::error("cannot connect to {}: no transport reached it", o.connect.to_string());
  for (const auto& a : r.report.attempts) spdlog::error("  {}", a.line());
  if (r.report.credentials_problem()) return kRefused;
  return kUnreachable;
}

// `grove connect`: the handshake only.
class Probe final : public net::ConnectionHandler {
 public:
  int result() const { return result_; }
  const std::string& summary() const { return summary_; }

  void on_event(Connection& c, engine::Event& e) override {
    if (auto* ev = std::get_if<engine::Established>(&e)) {
      result_ = kOk;
      summary_ = fmt::format("ConnectResponse Ok: SSTP 1.{}, peer {}, {}", ev->minor_version,
                             ev->peer_device_url,
                             ev->authenticated ? "relay proof checked" : "unauthenticated");
      c.close();
    } else if (auto* closed = std::get_if<engine::ConnectionClosed>(&e)) {
      if (result_ != -1) return;
      const bool refused =
          closed->refused || closed->reason == sstp::ConnectCloseReason::DeviceAuthenticationFailed;
      result_ = refused ? kRefused : kUnreachable;
      summary_ = describe(*closed);
    }
  }
  void interrupt(Connection& c) {
    if (result_ == -1) result_ = kInterrupted;
    c.close();
  }

 private:
  int result_ = -1;
  std::string summary_;
};

}  // namespace

int run_send(const SendOptions& o) {
  std::uint64_t total_bytes = 0;
  std::deque<Outgoing> queue;
  try {
    queue = plan(o, total_bytes);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kUsage;
  }
  if (queue.empty()) {
    spdlog::error("nothing to send: give a message, --file, --lines or pipe data into stdin");
    return kUsage;
  }
  Sender sender(o, std::move(queue), total_bytes);
  RunResult r = run_connection(o, sender, [&](Connection& c) { sender.interrupt(c); });
  if (r.interrupted && !r.reached) return kInterrupted;
  if (!r.reached) return report_unreachable(o, r);
  return sender.result() == -1 ? kUnreachable : sender.result();
}

int run_connect(const SendOptions& o) {
  Probe probe;
  RunResult r = run_connection(o, probe, [&](Connection& c) { probe.interrupt(c); });
  std::cout << "relay " << o.connect.to_string() << "\n";
  for (const auto& a : r.report.attempts) std::cout << "  " << a.line() << "\n";
  if (r.interrupted && !r.reached) return kInterrupted;
  if (!r.reached) {
    std::cout << "result: no transport reached the relay\n";
    return r.report.credentials_problem() ? kRefused : kUnreachable;
  }
  const auto* w = r.report.winner();
  std::cout << "result: " << (w ? w->step : std::string("?")) << " (" << r.transport
            << "): " << probe.summary() << "\n";
  return probe.result() == -1 ? kUnreachable : probe.result();
}

}  // namespace grove::cli
