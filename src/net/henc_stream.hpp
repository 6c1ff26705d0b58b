// Client transports over the HTTP encapsulations (henc.md §3 LongLived, §4 KeepAlive, §5
// Polling), direct to the relay's port 80 or through an HTTP proxy with its authentication
// (§7): the Asio glue around the sans-I/O henc::ClientCore. The result is an ordinary
// ByteStream, so the SSTP engine never learns it rides on HTTP (henc.md §1).
//
// Per TCP connection slot the stream runs a writer (connect, write, close) and a reader
// coroutine, plus one timer coroutine, all on the caller's executor; no threads.
#pragma once

#include <optional>

#include "henc/client_core.hpp"
#include "net/proxy_dial.hpp"

namespace grove::net {

struct HencDialConfig {
  henc::Mode mode = henc::Mode::long_lived;
  HostPort relay;                        // relay host and its HTTP port (80; tests use high ports)
  std::optional<HttpProxyConfig> proxy;  // through this proxy when set (absolute URIs)
  std::string user_agent = "Grove/1.0";
  std::uint64_t budget = henc::kLongLivedBudget;  // LongLived ContentLength (§3.4)
};

// Opens one virtual connection and returns it once it can carry SSTP: LongLived and KeepAlive
// after the echo handshake, Polling after its probe was answered. nullptr with `ec` (grove.henc,
// grove.proxy or an Asio error) and report.reason on failure. `memos` (may be null) lets later
// requests to the same proxy send credentials at once (§7.1).
awaitable<ByteStreamPtr> dial_henc(const HencDialConfig& config, const DialTimeouts& timeouts,
                                   std::error_code& ec, DialReport& report,
                                   ProxyAuthMemos* memos = nullptr);

}  // namespace grove::net
