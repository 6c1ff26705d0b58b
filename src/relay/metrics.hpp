// Counters exported in the Prometheus text format on the admin port. Atomic: connections on
// every event loop count into them.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace grove::relay {

using Counter = std::atomic<std::uint64_t>;

struct Metrics {
  Counter connections_accepted = 0;
  Counter connections_open = 0;
  Counter sessions_opened = 0;
  Counter messages_in = 0, bytes_in = 0;
  Counter messages_out = 0, bytes_out = 0;
  Counter auth_failures = 0;
  Counter protocol_errors = 0;
  Counter queued_messages = 0, queued_bytes = 0;
  Counter live_acknowledged = 0, live_stored = 0;  // the live path and its fallbacks
  Counter live_sender_pauses = 0;                  // live back-pressure
  Counter live_bytes = 0, live_bytes_peak = 0;     // live copies held, and the most held

  std::string prometheus() const;
};

}  // namespace grove::relay
