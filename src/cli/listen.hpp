// `grove listen`: accept direct connections from other devices (sstp.md §7.10) and print or
// save every message that arrives.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/grove_auth.hpp"
#include "net/endpoint.hpp"

namespace grove::cli {

struct ListenOptions {
  std::vector<net::HostPort> listen;
  std::string device_url;              // empty: answer to any TargetDeviceURL
  std::string out_dir;                 // empty: print messages to stdout
  std::optional<auth::Secret> secret;  // set: peers must prove it (grove-auth-1)
  std::uint64_t count = 0;             // stop after this many messages (0 = run until signalled)
  bool show_meta = false;              // print a header line before each printed message
};

int run_listen(const ListenOptions& options);

}  // namespace grove::cli
