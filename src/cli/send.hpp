// `grove send`: dial a peer and deliver messages (text, stdin or files), waiting for every
// acknowledgement. `grove connect`: only dial and run the SSTP handshake, then report how the
// relay was reached. Both open the connection with the transport fallback of henc.md §11
// (cli/runner.hpp, net/fallback.hpp; user guide docs/proxies.md).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "auth/grove_auth.hpp"
#include "cli/dial_options.hpp"

namespace grove::cli {

// `connect` (DialOptions) is the relay (or peer) and its native port.
struct SendOptions : DialOptions {
  std::string to_url;        // the recipient's DeviceURL (Open DeviceURL)
  std::string relay_url;     // Connect TargetDeviceURL when sending through a relay ("" = to_url)
  std::string device_url;    // ours
  std::string identity_url;  // destination identity in Open
  bool to_identity = false;  // identity-targeted: Open with an empty DeviceURL (sstp.md §8.1)
  // Two or more recipients: one FanoutOpen through the relay (sstp.md §8.5), entries
  // (identity_url, device, "") in this order.
  std::vector<std::string> fanout_to;
  std::string resource_url;
  std::vector<std::string> texts;
  std::vector<std::string> files;
  bool read_stdin = false;   // stdin as one streamed message
  bool stdin_lines = false;  // stdin, one message per line
  std::optional<auth::Secret> secret;
  bool allow_unauthenticated = false;
  std::uint64_t fragment_size = 16ull << 20;
  bool progress = true;
  std::uint64_t limit_rate = 0;  // --limit-rate: payload bytes per second (0 = unlimited)
  // --retry-for: after a lost connection, keep reconnecting (sstp.md §7.8 back-off) until this
  // long passes without an acknowledgement; 0 = never reconnect.
  std::chrono::milliseconds retry_for{300000};
};

int run_send(const SendOptions& options);

// Exit codes: 0 ConnectResponse Ok; 4 refused, device or proxy authentication failed;
// 3 no transport reached the relay. Prints the per-step report on stdout.
int run_connect(const SendOptions& options);

}  // namespace grove::cli
