// Counters exported in the Prometheus text format on the admin port.
#pragma once

#include <cstdint>
#include <string>

namespace grove::relay {

struct Metrics {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t sessions_opened = 0;
  std::uint64_t messages_in = 0, bytes_in = 0;
  std::uint64_t messages_out = 0, bytes_out = 0;
  std::uint64_t auth_failures = 0;
  std::uint64_t protocol_errors = 0;
  std::uint64_t queued_messages = 0, queued_bytes = 0;
  std::uint64_t live_acknowledged = 0, live_stored = 0;  // the live path and its fallbacks
  std::uint64_t live_sender_pauses = 0;                  // live back-pressure
  std::uint64_t live_bytes = 0, live_bytes_peak = 0;     // live copies held, and the most held

  std::string prometheus() const;
};

}  // namespace grove::relay
