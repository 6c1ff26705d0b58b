// Opening a transport through a proxy (henc.md §6 Secure Tunnel, §7 proxy authentication, §9
// SOCKS): the Asio glue around the sans-I/O cores proxy::HttpConnect and proxy::SocksClient.
// Each function opens TCP to the proxy, writes what the core queues, feeds it what the proxy
// answers, runs the timers of henc.md §10 and, on success, returns a TcpStream whose prefix
// holds the bytes the proxy forwarded after its answer (they are SSTP).
//
// Failures come back as values: `ec` (grove.proxy, or an Asio error such as connection_refused
// or timed_out) and DialReport::reason, one line that names the proxy, the target and the
// proxy's status ("proxy 127.0.0.1:3128 forbids CONNECT to relay.example.com:443 (403
// Forbidden)"). No message, trace line or log ever carries a password or a user name.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "net/endpoint.hpp"
#include "net/stream.hpp"
#include "proxy/auth.hpp"
#include "proxy/socks.hpp"

namespace grove::net {

using DialClock = std::chrono::steady_clock;

// The client timers of henc.md §10 that bound opening a transport.
struct DialTimeouts {
  // Per TCP connection attempt (to the relay or to a proxy) [DECIDED 10 s].
  std::chrono::milliseconds tcp_connect{10000};
  // ConnectionEstablishment: from the step's start to the SSTP ConnectResponse [DECIDED 15 s];
  // restarted before each proxy authentication retry (§7.1). Bounds each CONNECT exchange here;
  // the caller bounds the rest (Transport::deadline in fallback.hpp).
  std::chrono::milliseconds establishment{15000};
  // NetworkReceiveIO: limit on each read during the SOCKS exchange (§9.1) [SPEC 60 s]. The
  // establishment timer above, being shorter, usually decides first.
  std::chrono::milliseconds socks_read{60000};
};

// An HTTP proxy for the Secure Tunnel (§6).
struct HttpProxyConfig {
  HostPort proxy;
  std::optional<proxy::Credentials> credentials;  // from the proxy URL (§7.1)
  std::string user_agent = "Grove/1.0";           // §2.3, §6.1
  std::string workstation;                        // NTLM WorkstationName; may stay empty (§7.4)
};

// A SOCKS proxy (§9). socks5h:// reads as v5: names are always resolved by the proxy.
struct SocksProxyConfig {
  HostPort proxy;
  proxy::SocksVersion version = proxy::SocksVersion::v5;
  std::optional<proxy::Credentials> credentials;  // RFC 1929, or the SOCKS4 USERID
};

// What later connections to a proxy reuse so that they send credentials at once (§7.1
// ProxyAuthRequired), per proxy address. Holds no password. Owned by the caller for as long
// as it keeps dialing (a process, a relay client); not thread-safe (one executor).
class ProxyAuthMemos {
 public:
  [[nodiscard]] proxy::AuthMemo get(const HostPort& proxy) const;
  void put(const HostPort& proxy, const proxy::AuthMemo& memo);
  // True the first time only: §7.1 wants one warning per process when Basic is sent.
  [[nodiscard]] bool first_basic_warning();

 private:
  std::map<std::string, proxy::AuthMemo, std::less<>> memos_;
  bool warned_basic_ = false;
};

// What one dial did, for the fallback report and `grove connect`.
struct DialReport {
  // One line for humans when the dial failed; empty on success.
  std::string reason;
  // When the ConnectionEstablishment timer last (re)started: the step's start, or the last
  // authentication retry (§7.1). The caller's deadline is this plus DialTimeouts::establishment.
  DialClock::time_point timer_start = DialClock::now();
  unsigned connections = 0;  // TCP connections opened to the proxy (NTLM needs exactly one)
  unsigned requests = 0;     // CONNECT requests sent
  proxy::AuthScheme scheme = proxy::AuthScheme::none;  // the scheme answered, if any
  // State transitions ("Requested -> 407 -> Reconnect"), for -vv logs.
  std::vector<std::string> trace;
  // Set when this dial sent Basic credentials and nobody warned yet in this process (§7.1).
  std::string warning;
};

// Secure Tunnel (§6, §12.8): TCP to `proxy.proxy`, `CONNECT target HTTP/1.0`, proxy
// authentication (Basic, Digest, NTLMv2; §7) with at most one TCP reconnect per retry the core
// asks for, the ConnectionEstablishment timer restarted before each request. Returns the tunnel
// ("connect-tunnel via PROXY") or nullptr with `ec` and report.reason set. Credentials that
// the proxy rejects end the dial after that one answer (no retry storm): at most two requests
// for Basic and Digest, three for NTLM. `memos` may be null (no reuse across dials).
awaitable<ByteStreamPtr> dial_http_connect(const HttpProxyConfig& proxy, const HostPort& target,
                                           const DialTimeouts& timeouts, std::error_code& ec,
                                           DialReport& report, ProxyAuthMemos* memos = nullptr);

// SOCKS (§9, §12.11): TCP to `proxy.proxy`, the SOCKS5 (RFC 1928/1929), SOCKS4a or SOCKS4
// exchange, CONNECT to `target` (the relay's native port). NetworkReceiveIO bounds each read,
// ConnectionEstablishment the whole exchange. SOCKS4 with a host name resolves it here (IPv4).
// Returns the stream ("socks5 via PROXY") or nullptr with `ec` and report.reason set.
awaitable<ByteStreamPtr> dial_socks(const SocksProxyConfig& proxy, const HostPort& target,
                                    const DialTimeouts& timeouts, std::error_code& ec,
                                    DialReport& report);

// Native SSTP (sstp.md) and direct 443 (§8, §12.9): plain TCP to `target`, no TLS; `kind` names
// the stream ("tcp", "direct443"). Returns nullptr with `ec` and report.reason on failure.
awaitable<ByteStreamPtr> dial_direct(const HostPort& target, std::string kind,
                                     const DialTimeouts& timeouts, std::error_code& ec,
                                     DialReport& report);

}  // namespace grove::net
