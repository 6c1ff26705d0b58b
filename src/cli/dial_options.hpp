// How a grove command reaches a relay or peer: the address and the transport fallback of
// henc.md §11 (user guide docs/proxies.md). Filled from the shared transport options of
// `grove send`, `grove connect` and `grove receive` (--proxy, --socks, --path, --tls, ...).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "net/endpoint.hpp"
#include "net/proxy_dial.hpp"
#include "net/tls_stream.hpp"

namespace grove::cli {

struct DialOptions {
  net::HostPort connect;                             // the relay (or peer) and its native port
  std::chrono::milliseconds connect_timeout{10000};  // --timeout: TCP connect, per attempt
  std::uint16_t port_443 = 443;                      // --port-443: direct 443 and CONNECT target
  std::uint16_t http_port = 80;                      // --http-port: HTTP encapsulations (5-7)
  std::optional<net::HttpProxyConfig> http_proxy;    // --proxy or https_proxy/http_proxy
  std::optional<net::SocksProxyConfig> socks_proxy;  // --socks or all_proxy
  std::vector<std::string> paths;                    // --path: step names in order; empty = auto
  std::filesystem::path path_memory_file;            // last working step per relay; empty = none
  // --tls: TLS 1.3 inside steps 1-4 (henc.md §8), certificate checked before any SSTP byte.
  bool tls = false;
  net::TlsClientConfig tls_config;  // server_name defaults to the host of `connect`
};

}  // namespace grove::cli
