#include "relay/config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <set>
#include <stdexcept>

#include "net/tls_stream.hpp"

namespace grove::relay {

namespace {

std::vector<net::HostPort> addresses(const toml::node& n, const std::string& key,
                                     std::uint16_t port) {
  std::vector<net::HostPort> out;
  auto* arr = n.as_array();
  if (!arr) throw std::runtime_error(key + " must be an array of \"HOST:PORT\" strings");
  for (auto& e : *arr) {
    auto s = e.value<std::string>();
    auto hp = s ? net::parse_host_port(*s, port) : std::nullopt;
    if (!hp) throw std::runtime_error(key + ": \"" + s.value_or("?") + "\" is not HOST:PORT");
    out.push_back(*hp);
  }
  return out;
}

template <typename T>
T integer(const toml::node& n, const std::string& key) {
  auto v = n.value<std::int64_t>();
  if (!v || *v < 0) throw std::runtime_error(key + " must be a non-negative integer");
  return static_cast<T>(*v);
}

}  // namespace

Options load_config(const std::string& path, Options o) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error(
        fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
  }
  for (auto& [k, v] : t) {
    const std::string key(k.str());
    try {
      if (key == "device_urls") {
        o.device_urls.clear();
        auto* arr = v.as_array();
        if (!arr) throw std::runtime_error("device_urls must be an array of strings");
        for (auto& e : *arr) o.device_urls.push_back(e.value<std::string>().value_or(""));
      } else if (key == "listen") {
        o.native_listen = addresses(v, key, 2492);
      } else if (key == "ssl_listen") {
        o.ssl_listen = addresses(v, key, 443);
      } else if (key == "admin_listen") {
        o.admin_listen = addresses(v, key, 9492);
      } else if (key == "http_listen") {
        o.http_listen = addresses(v, key, 80);
        o.http_listen_default = false;
      } else if (key == "server_names") {
        o.server_names.clear();
        auto* arr = v.as_array();
        if (!arr) throw std::runtime_error("server_names must be an array of host names");
        for (auto& e : *arr) o.server_names.push_back(e.value<std::string>().value_or(""));
      } else if (key == "tls_certificate" || key == "tls_private_key") {
        auto file = v.value<std::string>();
        if (!file) throw std::runtime_error("must be a file name in quotes");
        (key == "tls_certificate" ? o.tls_certificate : o.tls_private_key) = *file;
      } else if (key == "database") {
        o.database = v.value<std::string>().value_or(o.database);
      } else if (key == "require_authentication") {
        auto b = v.value<bool>();
        if (!b) throw std::runtime_error("require_authentication must be true or false");
        o.require_authentication = *b;
      } else if (key == "max_message_bytes") {
        o.max_message_bytes = integer<std::uint64_t>(v, key);
      } else if (key == "max_device_queue_bytes") {
        o.max_device_queue_bytes = integer<std::uint64_t>(v, key);
      } else if (key == "retention_seconds") {
        o.retention = std::chrono::seconds(integer<std::int64_t>(v, key));
      } else if (key == "max_registered_devices") {
        o.max_registered_devices = integer<std::size_t>(v, key);
      } else if (key == "max_inbound_sessions") {
        o.max_inbound_sessions = integer<std::size_t>(v, key);
      } else if (key == "max_delivery_sessions") {
        o.max_delivery_sessions = integer<std::size_t>(v, key);
      } else if (key == "max_unacked_deliveries") {
        o.max_unacked_deliveries = integer<std::size_t>(v, key);
      } else if (key == "max_unacked_delivery_bytes") {
        o.max_unacked_delivery_bytes = integer<std::uint64_t>(v, key);
      } else if (key == "max_connections") {
        o.max_connections = integer<std::size_t>(v, key);
      } else if (key == "live_forwarding") {
        auto b = v.value<bool>();
        if (!b) throw std::runtime_error("live_forwarding must be true or false");
        o.live_forwarding = *b;
      } else if (key == "live_timeout_seconds") {
        o.live_timeout = std::chrono::seconds(integer<std::int64_t>(v, key));
      } else if (key == "delivery_idle_seconds") {
        o.delivery_idle = std::chrono::seconds(integer<std::int64_t>(v, key));
      } else if (key == "drain_timeout_seconds") {
        o.drain_timeout = std::chrono::seconds(integer<std::int64_t>(v, key));
      } else if (key == "event_loops") {
        o.event_loops = integer<std::size_t>(v, key);
        if (o.event_loops > 256) throw std::runtime_error("event_loops must be 0 to 256");
      } else if (key == "resting_return_time") {
        o.resting_return_time = integer<std::uint16_t>(v, key);
      } else {
        throw std::runtime_error("unknown setting (see `groved config` for the list)");
      }
    } catch (const std::runtime_error& e) {
      auto line = v.source().begin.line;
      throw std::runtime_error(fmt::format("{}:{}: {}: {}", path, line, key, e.what()));
    }
  }
  // Checked here so a bad certificate is a configuration error (exit code 2) at start-up.
  if (o.tls_certificate.empty() != o.tls_private_key.empty())
    throw std::runtime_error(path + ": tls_certificate and tls_private_key go together");
  if (!o.tls_certificate.empty()) {
    std::string why;
    if (!net::TlsContext::server(o.tls_certificate, o.tls_private_key, why))
      throw std::runtime_error(path + ": " + why);
  }
  return o;
}

std::string default_config_text() {
  return R"(# groved.toml — every setting with its default. Start with: groved run --config groved.toml

# The relay's own DeviceURLs (sstp.md §7.1). Clients put the first one in Connect.TargetDeviceURL.
# Default: grove://<this host's name>
# device_urls = ["grove://relay.example"]

# Native SSTP listeners (the IANA port is 2492).
listen = ["0.0.0.0:2492"]
# The "SSL port": plain SSTP without a TLS handshake, for networks that only let 443 out.
# Production uses 443 (needs CAP_NET_BIND_SERVICE); the default is unprivileged.
ssl_listen = ["0.0.0.0:8443"]
# HTTP encapsulations (LongLived, KeepAlive, Polling; henc.md §2-§5) for clients behind
# proxies that only pass HTTP. Production uses 80; the default is unprivileged. Empty = off.
http_listen = ["0.0.0.0:8080"]
# The relay's own host names for the Relay-Server-Name check of HTTP requests (henc.md §2.2,
# compared case-insensitively). Empty = no check.
server_names = []
# Prometheus text metrics at http://ADDR/metrics. Empty = off.
admin_listen = []

# Optional TLS 1.3 (Grove extension, henc.md §8), off while these are empty. With both set,
# `listen` and `ssl_listen` take TLS and plain SSTP alike: a connection whose first byte is
# 0x16 (a TLS handshake) gets TLS with this certificate, any other stays plain SSTP. Clients
# use it with `grove send --tls` and bind grove-auth-1 to the TLS session (auth.md §6).
# tls_certificate = "/etc/groved/relay.crt"   # PEM chain: the relay's certificate first
# tls_private_key = "/etc/groved/relay.key"   # PEM private key (keep it mode 0600)
tls_certificate = ""
tls_private_key = ""

# The SQLite store (WAL mode; created with mode 0600 in a 0700 folder).
database = "groved-data/grove.db"

# Off only for a local demonstration: any device may connect without a secret.
require_authentication = true

max_message_bytes = 67108864           # 64 MiB per message sequence (sstp.md §10.8)
max_device_queue_bytes = 1073741824    # 1 GiB stored per target device
retention_seconds = 2592000            # 30 days for non-ephemeral copies
max_registered_devices = 64            # per identity
max_inbound_sessions = 1024            # per connection
max_delivery_sessions = 64             # per connection
max_unacked_deliveries = 256           # per connection
max_unacked_delivery_bytes = 8388608   # 8 MiB per connection
max_connections = 10000
delivery_idle_seconds = 60             # a delivery session with nothing to send gets Close Idle
live_forwarding = true                 # online recipient, nothing queued: forward without a write
live_timeout_seconds = 10              # ... and store it after all if not acknowledged by then
drain_timeout_seconds = 10             # SIGTERM: time given to clients and the store to finish
resting_return_time = 30               # ConnectClose Resting tells clients to come back after this
event_loops = 0                        # event loops (threads) for connections; 0 = one per core
)";
}

}  // namespace grove::relay
