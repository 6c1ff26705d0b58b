// `grove receive`: connect to a relay as this device and take the messages it stored for us
// (sstp.md §10.4), printing or saving each; every message is acknowledged only once written.
// The relay is reached like `grove send` reaches it: the transport fallback of henc.md §11
// (cli/runner.hpp; user guide docs/proxies.md).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "auth/grove_auth.hpp"
#include "cli/dial_options.hpp"

namespace grove::cli {

// `connect` (DialOptions) is the relay and its native port.
struct ReceiveOptions : DialOptions {
  std::string relay_url;   // Connect.TargetDeviceURL
  std::string device_url;  // ours
  std::optional<auth::Secret> secret;
  std::string out_dir;  // empty: print
  bool show_meta = false;
  std::uint64_t count = 0;            // stop after this many (0: see idle)
  std::chrono::milliseconds idle{0};  // stop after this long without a message (0: never)
  // Identities to attach (sstp.md §11): their identity-targeted messages are delivered too.
  struct Identity {
    std::string url;
    auth::Secret secret;
  };
  std::vector<Identity> identities;
  bool register_identities = false;  // --register: Register each identity for this device
};

int run_receive(const ReceiveOptions& options);

}  // namespace grove::cli
