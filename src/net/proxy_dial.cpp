#include "net/proxy_dial.hpp"

#include <fmt/format.h>

#include <array>
#include <stdexcept>

#include "auth/grove_auth.hpp"
#include "net/tcp.hpp"
#include "net/tcp_stream.hpp"
#include "proxy/http_connect.hpp"

namespace grove::net {
namespace {

using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;

// A CONNECT or SOCKS answer head is at most 8192 (+ a drained 407 body) or 262 bytes; reading
// in small pieces keeps the surplus that belongs to SSTP small too.
constexpr std::size_t kHandshakeReadSize = 16 * 1024;

std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return fmt::format("{} s", d.count() / 1000);
  return fmt::format("{} ms", d.count());
}

// Reads some bytes unless `deadline` passes first (then ec = asio::error::timed_out).
awaitable<std::size_t> read_before(tcp::socket& s, std::span<Byte> buf,
                                   DialClock::time_point deadline, std::error_code& ec) {
  asio::steady_timer timer(s.get_executor(), deadline);
  auto r = co_await (s.async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple) ||
                     timer.async_wait(use_tuple));
  if (r.index() == 1) {
    ec = asio::error::timed_out;
    co_return 0;
  }
  auto [e, n] = std::get<0>(r);
  ec = e;
  co_return n;
}

// Writes all of `data` unless `deadline` passes first.
awaitable<void> write_before(tcp::socket& s, ByteView data, DialClock::time_point deadline,
                             std::error_code& ec) {
  asio::steady_timer timer(s.get_executor(), deadline);
  auto r = co_await (asio::async_write(s, asio::buffer(data.data(), data.size()), use_tuple) ||
                     timer.async_wait(use_tuple));
  if (r.index() == 1) {
    ec = asio::error::timed_out;
    co_return;
  }
  ec = std::get<0>(std::get<0>(r));
}

std::uint64_t now_filetime() {
  // FILETIME: 100 ns units since 1601-01-01 UTC; the Unix epoch is 11644473600 s later.
  using namespace std::chrono;
  auto since_unix = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
  return static_cast<std::uint64_t>(since_unix / 100) + 116444736000000000ull;
}

void fill_random(std::span<Byte> out) {
  if (!auth::random_bytes(out)) throw std::runtime_error("the system random generator failed");
}

const char* scheme_name(proxy::AuthScheme s) {
  switch (s) {
    case proxy::AuthScheme::basic:
      return "Basic";
    case proxy::AuthScheme::digest:
      return "Digest";
    case proxy::AuthScheme::ntlm:
      return "NTLM";
    case proxy::AuthScheme::none:
      break;
  }
  return "none";
}

std::string status_text(const proxy::HttpConnect& hc) {
  if (hc.status_code() == 0) return {};
  std::string s = std::to_string(hc.status_code());
  if (!hc.reason_phrase().empty()) s += " " + std::string(hc.reason_phrase());
  return s;
}

// henc.md §6.2 step-failure messages, with the proxy named and the status appended.
std::string connect_failure(const proxy::HttpConnect& hc, const std::string& proxy_name,
                            const std::string& target) {
  using proxy::errc;
  const std::error_code ec = hc.error();
  const std::string status = status_text(hc);
  const std::string in_parens = status.empty() ? "" : " (" + status + ")";
  const std::string p = "proxy " + proxy_name;
  if (ec.category() == proxy::proxy_category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::proxy_forbidden:
        return fmt::format("{} forbids CONNECT to {}{}", p, target, in_parens);
      case errc::proxy_bad_request:
        return fmt::format("{} rejected the CONNECT request{}", p, in_parens);
      case errc::connect_not_supported:
        return fmt::format("{} does not support CONNECT{}", p, in_parens);
      case errc::relay_unreachable:
      case errc::bad_gateway:
      case errc::service_unavailable:
      case errc::gateway_timeout:
        return fmt::format("{} could not connect to {}{}", p, target, in_parens);
      case errc::other_status:
        return fmt::format("{} answered CONNECT to {} with {}; redirects are not followed", p,
                           target, status.empty() ? "an unexpected status" : status);
      case errc::proxy_auth_failed:
        return fmt::format("{} rejected the proxy credentials ({}{}{})", p,
                           scheme_name(hc.auth_scheme()), status.empty() ? "" : ", ", status);
      case errc::proxy_auth_required:
        return fmt::format(
            "{} requires authentication{}; give credentials as --proxy http://USER:PASSWORD@{}", p,
            in_parens, proxy_name);
      case errc::closed_early:
        return fmt::format("{} closed the connection before answering CONNECT to {}", p, target);
      default:
        break;
    }
  }
  return fmt::format("{}: {}{}", p, ec.message(), in_parens);
}

// §9.1 step-failure messages with the proxy named.
std::string socks_failure(const proxy::SocksClient& sc, const std::string& proxy_name,
                          const std::string& target) {
  using proxy::errc;
  const std::error_code ec = sc.error();
  const std::string p = "SOCKS proxy " + proxy_name;
  if (ec == errc::socks_not_allowed) return fmt::format("{} forbids {} (REP 02)", p, target);
  if (ec == errc::socks_unknown_reply || ec == errc::socks4_unknown_reply)
    return fmt::format("{}: unknown reply 0x{:02x}", p, sc.reply_code());
  if (ec == errc::closed_early)
    return fmt::format("{} closed the connection during the SOCKS exchange", p);
  return fmt::format("{}: {}", p, ec.message());
}

std::string tcp_failure(const std::string& what, const HostPort& where, std::error_code ec,
                        const DialTimeouts& t) {
  if (ec == asio::error::timed_out)
    return fmt::format("cannot reach {} {}: no answer within {}", what, where.to_string(),
                       seconds_text(t.tcp_connect));
  return fmt::format("cannot reach {} {}: {}", what, where.to_string(), ec.message());
}

bool is_ipv4_literal(const std::string& host) {
  std::error_code ec;
  auto a = asio::ip::make_address(host, ec);
  return !ec && a.is_v4();
}

// The cores throw std::invalid_argument for configuration errors. They live on the heap: a
// coroutine frame above Asio's recycling-allocator size makes GCC 12 report a false
// -Wmismatched-new-delete in the frame's cleanup.
template <typename Core, typename Options>
std::unique_ptr<Core> make_core(Options options, std::string& error) {
  try {
    return std::make_unique<Core>(std::move(options));
  } catch (const std::invalid_argument& e) {
    error = e.what();
  }
  return nullptr;
}

}  // namespace

proxy::AuthMemo ProxyAuthMemos::get(const HostPort& proxy) const {
  auto it = memos_.find(proxy.to_string());
  return it == memos_.end() ? proxy::AuthMemo{} : it->second;
}

void ProxyAuthMemos::put(const HostPort& proxy, const proxy::AuthMemo& memo) {
  memos_[proxy.to_string()] = memo;
}

bool ProxyAuthMemos::first_basic_warning() {
  if (warned_basic_) return false;
  warned_basic_ = true;
  return true;
}

awaitable<ByteStreamPtr> dial_http_connect(const HttpProxyConfig& cfg, const HostPort& target,
                                           const DialTimeouts& timeouts, std::error_code& ec,
                                           DialReport& report, ProxyAuthMemos* memos) {
  const std::string proxy_name = cfg.proxy.to_string();
  const std::string target_name = target.to_string();
  report.timer_start = DialClock::now();

  auto socket = co_await dial_tcp(cfg.proxy, timeouts.tcp_connect, ec);
  ++report.connections;
  if (ec) {
    report.reason = tcp_failure("proxy", cfg.proxy, ec, timeouts);
    co_return nullptr;
  }

  proxy::ConnectOptions co;
  co.host = target.host;
  co.port = target.port;
  co.user_agent = cfg.user_agent;
  co.auth.credentials = cfg.credentials;
  co.auth.workstation = cfg.workstation;
  co.auth.random = fill_random;
  co.auth.now_filetime = now_filetime;
  if (memos != nullptr && cfg.credentials) co.auth.memo = memos->get(cfg.proxy);
  std::string config_error;
  std::unique_ptr<proxy::HttpConnect> hc =
      make_core<proxy::HttpConnect>(std::move(co), config_error);
  if (!hc) {
    ec = std::make_error_code(std::errc::invalid_argument);
    report.reason = fmt::format("proxy {}: bad configuration: {}", proxy_name, config_error);
    co_return nullptr;
  }

  Bytes buf(kHandshakeReadSize);
  unsigned timed_requests = 0;
  DialClock::time_point deadline{};
  // -vv trace: one line per change of state, request count or status.
  auto note_state = [&] {
    std::string line =
        fmt::format("proxy {}: {} (request {}, last status {})", proxy_name,
                    proxy::HttpConnect::state_name(hc->state()), hc->requests(), hc->status_code());
    if (report.trace.empty() || report.trace.back() != line) report.trace.push_back(line);
  };
  try {
    for (;;) {
      if (hc->requests() != timed_requests) {
        // §7.1: the ConnectionEstablishment timer restarts before each (re)sent request.
        timed_requests = hc->requests();
        report.requests = timed_requests;
        report.timer_start = DialClock::now();
        deadline = report.timer_start + timeouts.establishment;
      }
      if (ByteView out = hc->pending_output(); !out.empty()) {
        co_await write_before(socket, out, deadline, ec);
        if (ec) {
          report.reason = fmt::format("proxy {}: sending CONNECT failed: {}", proxy_name,
                                      ec == asio::error::timed_out ? "timed out" : ec.message());
          co_return nullptr;
        }
        hc->consume_output(out.size());
        continue;
      }
      if (hc->failed()) {
        note_state();
        ec = hc->error();
        report.reason = connect_failure(*hc, proxy_name, target_name);
        co_return nullptr;
      }
      if (hc->needs_new_connection()) {
        // §7.1: the proxy did not keep the connection (or its 407 body length is unknown):
        // the retry goes on a new TCP connection.
        note_state();
        std::error_code ignored;
        socket.close(ignored);
        socket = co_await dial_tcp(cfg.proxy, timeouts.tcp_connect, ec);
        ++report.connections;
        if (ec) {
          report.reason = tcp_failure("proxy", cfg.proxy, ec, timeouts);
          co_return nullptr;
        }
        hc->reconnected();
        continue;
      }
      const std::size_t n = co_await read_before(socket, buf, deadline, ec);
      if (ec == asio::error::timed_out) {
        report.reason = fmt::format("proxy {} did not answer CONNECT to {} within {}", proxy_name,
                                    target_name, seconds_text(timeouts.establishment));
        co_return nullptr;
      }
      if (ec || n == 0) {
        hc->receive_eof();  // reset or EOF: the core decides between retry and failure
        ec.clear();
        continue;
      }
      const std::size_t used = hc->receive(ByteView(buf.data(), n));
      if (hc->done()) {
        note_state();
        report.scheme = hc->auth_scheme();
        if (memos != nullptr && cfg.credentials) {
          memos->put(cfg.proxy, hc->auth_memo());
          if (report.scheme == proxy::AuthScheme::basic && memos->first_basic_warning()) {
            report.warning = fmt::format(
                "proxy {} uses Basic authentication: the proxy password crosses the network "
                "only base64-encoded (henc.md §7.1)",
                proxy_name);
          }
        }
        // §6.2: bytes after the 2xx head belong to SSTP.
        Bytes surplus(buf.begin() + static_cast<std::ptrdiff_t>(used),
                      buf.begin() + static_cast<std::ptrdiff_t>(n));
        co_return std::make_unique<TcpStream>(std::move(socket), "connect-tunnel via",
                                              std::move(surplus));
      }
      note_state();
      // Unconsumed bytes in state reconnect or failed are the rest of a discarded answer.
    }
  } catch (const std::runtime_error& e) {
    ec = std::make_error_code(std::errc::io_error);
    report.reason = fmt::format("proxy {}: {}", proxy_name, e.what());
  }
  co_return nullptr;
}

awaitable<ByteStreamPtr> dial_socks(const SocksProxyConfig& cfg, const HostPort& target,
                                    const DialTimeouts& timeouts, std::error_code& ec,
                                    DialReport& report) {
  const std::string proxy_name = cfg.proxy.to_string();
  const std::string target_name = target.to_string();
  report.timer_start = DialClock::now();
  const DialClock::time_point establishment = report.timer_start + timeouts.establishment;

  proxy::SocksOptions so;
  so.version = cfg.version;
  so.host = target.host;
  so.port = target.port;
  so.credentials = cfg.credentials;
  if (cfg.version == proxy::SocksVersion::v4 && !is_ipv4_literal(target.host)) {
    // §9.2: SOCKS4 carries an IPv4 address only; the client resolves the name.
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    auto [rec, results] = co_await resolver.async_resolve(tcp::v4(), target.host,
                                                          std::to_string(target.port), use_tuple);
    if (rec || results.empty()) {
      ec = rec ? rec : asio::error::host_not_found;
      report.reason = fmt::format("cannot resolve {} for SOCKS4: {}", target.host, ec.message());
      co_return nullptr;
    }
    so.host = results.begin()->endpoint().address().to_string();
  }
  std::string config_error;
  std::unique_ptr<proxy::SocksClient> sc =
      make_core<proxy::SocksClient>(std::move(so), config_error);
  if (!sc) {
    ec = std::make_error_code(std::errc::invalid_argument);
    report.reason = fmt::format("SOCKS proxy {}: bad configuration: {}", proxy_name, config_error);
    co_return nullptr;
  }

  auto socket = co_await dial_tcp(cfg.proxy, timeouts.tcp_connect, ec);
  ++report.connections;
  if (ec) {
    report.reason = tcp_failure("SOCKS proxy", cfg.proxy, ec, timeouts);
    co_return nullptr;
  }
  Bytes buf(512);
  for (;;) {
    if (ByteView out = sc->pending_output(); !out.empty()) {
      co_await write_before(socket, out, establishment, ec);
      if (ec) {
        report.reason = fmt::format("SOCKS proxy {}: sending failed: {}", proxy_name,
                                    ec == asio::error::timed_out ? "timed out" : ec.message());
        co_return nullptr;
      }
      sc->consume_output(out.size());
      continue;
    }
    if (sc->failed()) {
      ec = sc->error();
      report.reason = socks_failure(*sc, proxy_name, target_name);
      co_return nullptr;
    }
    // §9.1: NetworkReceiveIO per read, inside the ConnectionEstablishment limit.
    const auto read_deadline = std::min(establishment, DialClock::now() + timeouts.socks_read);
    const std::size_t n = co_await read_before(socket, buf, read_deadline, ec);
    if (ec == asio::error::timed_out) {
      report.reason =
          fmt::format("SOCKS proxy {} did not answer within {} ({})", proxy_name,
                      seconds_text(read_deadline == establishment ? timeouts.establishment
                                                                  : timeouts.socks_read),
                      proxy::SocksClient::state_name(sc->state()));
      co_return nullptr;
    }
    if (ec || n == 0) {
      sc->receive_eof();
      ec.clear();
      continue;
    }
    const std::size_t used = sc->receive(ByteView(buf.data(), n));
    report.trace.push_back(
        fmt::format("SOCKS proxy {}: {}", proxy_name, proxy::SocksClient::state_name(sc->state())));
    if (sc->done()) {
      Bytes surplus(buf.begin() + static_cast<std::ptrdiff_t>(used),
                    buf.begin() + static_cast<std::ptrdiff_t>(n));
      const char* kind = cfg.version == proxy::SocksVersion::v5    ? "socks5 via"
                         : cfg.version == proxy::SocksVersion::v4a ? "socks4a via"
                                                                   : "socks4 via";
      co_return std::make_unique<TcpStream>(std::move(socket), kind, std::move(surplus));
    }
  }
}

awaitable<ByteStreamPtr> dial_direct(const HostPort& target, std::string kind,
                                     const DialTimeouts& timeouts, std::error_code& ec,
                                     DialReport& report) {
  report.timer_start = DialClock::now();
  auto socket = co_await dial_tcp(target, timeouts.tcp_connect, ec);
  ++report.connections;
  if (ec) {
    report.reason = tcp_failure("relay", target, ec, timeouts);
    co_return nullptr;
  }
  co_return std::make_unique<TcpStream>(std::move(socket), std::move(kind));
}

}  // namespace grove::net
