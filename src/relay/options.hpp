// groved's settings: every default of the relay in one place (sstp.md §10.8 limits).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "net/endpoint.hpp"

namespace grove::relay {

struct Options {
  // LocalDeviceURLs (sstp.md §7.1): the first is the relay's own DeviceURL.
  std::vector<std::string> device_urls;
  // Native SSTP (2492) and the SSL port serving plain SSTP without TLS (443). Unprivileged
  // defaults so the demo runs as any user; production sets 443.
  std::vector<net::HostPort> native_listen{{"0.0.0.0", 2492}};
  std::vector<net::HostPort> ssl_listen{{"0.0.0.0", 8443}};
  // HTTP encapsulations (henc.md §2.7): the port-80 listener, unprivileged for the demo;
  // empty = off. `server_names` are the relay's own names for the Relay-Server-Name check
  // (§2.2); empty = no check (one warning at start-up).
  std::vector<net::HostPort> http_listen{{"0.0.0.0", 8080}};
  // True while http_listen is the built-in default: failing to bind it then only warns, so a
  // busy 8080 does not stop a relay that was never asked for HTTP.
  bool http_listen_default = true;
  std::vector<std::string> server_names;
  std::vector<net::HostPort> admin_listen;  // Prometheus metrics; empty = off
  // Grove's TLS 1.3 extension (henc.md §8): with both set, the native and SSL-port listeners
  // start TLS when a connection's first byte is 0x16 and serve plain SSTP otherwise.
  std::string tls_certificate;  // PEM certificate chain
  std::string tls_private_key;  // PEM private key
  std::string database = "groved-data/grove.db";
  // Authentication off is for local demonstrations only (sstp.md §7.5).
  bool require_authentication = true;

  std::uint64_t max_message_bytes = 64ull << 20;      // one message sequence
  std::uint64_t max_device_queue_bytes = 1ull << 30;  // stored bytes per target device
  std::chrono::seconds retention{30 * 24 * 3600};     // non-ephemeral copies
  std::size_t max_registered_devices = 64;            // per identity
  std::size_t max_inbound_sessions = 1024;            // per connection
  std::size_t max_delivery_sessions = 64;             // per connection
  std::size_t max_unacked_deliveries = 256;           // per connection
  std::uint64_t max_unacked_delivery_bytes = 8ull << 20;
  std::size_t max_connections = 10000;
  std::chrono::seconds delivery_idle{60};  // Close Idle
  // Live path: a message for an online device with nothing queued is forwarded at once and
  // acknowledged to its sender when the recipient acknowledges it, without a store write
  // (issue 3: "durable, or acknowledged by every live recipient"). Not acknowledged within
  // live_timeout (or the recipient left): stored durably like any other copy.
  bool live_forwarding = true;
  std::chrono::seconds live_timeout{10};
  std::chrono::seconds drain_timeout{10};  // SIGTERM: time to flush before exit
  std::uint16_t resting_return_time = 30;  // ConnectClose Resting on shutdown
  // Event loops serving connections, each on its own thread; 0 = one per core. The first
  // loop also keeps the relay's shared state (device table, queues, routing).
  std::size_t event_loops = 0;
  int verbosity = 0;
};

}  // namespace grove::relay
