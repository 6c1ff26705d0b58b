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
  std::vector<net::HostPort> admin_listen;  // Prometheus metrics; empty = off
  std::string database = "groved-data/grove.db";
  // Authentication off is for local demonstrations only (sstp.md §7.5).
  bool require_authentication = true;

  std::uint64_t max_message_bytes = 64ull << 20;        // one message sequence
  std::uint64_t max_device_queue_bytes = 1ull << 30;    // stored bytes per target device
  std::chrono::seconds retention{30 * 24 * 3600};       // non-ephemeral copies
  std::size_t max_registered_devices = 64;              // per identity
  std::size_t max_inbound_sessions = 1024;              // per connection
  std::size_t max_delivery_sessions = 64;               // per connection
  std::size_t max_unacked_deliveries = 256;             // per connection
  std::uint64_t max_unacked_delivery_bytes = 8ull << 20;
  std::size_t max_connections = 10000;
  std::chrono::seconds delivery_idle{60};               // Close Idle
  std::chrono::seconds drain_timeout{10};               // SIGTERM: time to flush before exit
  std::uint16_t resting_return_time = 30;               // ConnectClose Resting on shutdown
  int verbosity = 0;
};

}  // namespace grove::relay
