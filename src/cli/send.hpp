// `grove send`: dial a peer and deliver messages (text, stdin or files), waiting for every
// acknowledgement.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "auth/grove_auth.hpp"
#include "net/endpoint.hpp"

namespace grove::cli {

struct SendOptions {
  net::HostPort connect;
  std::string to_url;        // the peer's DeviceURL (Connect TargetDeviceURL, Open DeviceURL)
  std::string device_url;    // ours
  std::string identity_url;  // destination identity in Open
  std::string resource_url;
  std::vector<std::string> texts;
  std::vector<std::string> files;
  bool read_stdin = false;   // stdin as one streamed message
  bool stdin_lines = false;  // stdin, one message per line
  std::optional<auth::Secret> secret;
  bool allow_unauthenticated = false;
  std::chrono::milliseconds connect_timeout{10000};
  std::uint64_t fragment_size = 16ull << 20;
  bool progress = true;
};

int run_send(const SendOptions& options);

}  // namespace grove::cli
