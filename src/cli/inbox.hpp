// Where received messages go: printed to stdout, or saved as files in a folder (fragments of
// one file reassembled, nothing overwritten). Shared by `grove listen` (direct peers) and
// `grove receive` (deliveries from a relay).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "auth/grove_auth.hpp"
#include "net/driver.hpp"

namespace grove::cli {

struct InboxShared {
  std::string out_dir;                // empty: print to stdout
  bool show_meta = false;             // print a header line before each printed message
  std::uint64_t count = 0;            // call on_done after this many messages (0 = never)
  std::optional<auth::Secret> secret; // acceptor: the secret peers must prove
  std::uint64_t received = 0;         // messages (whole files) so far, over all connections
  std::function<void()> on_done;
  std::function<void()> on_message;   // after each stored message (idle timers)
};

// The per-connection handler: answers Connect (acceptor) and Open, stores each message and
// acknowledges it only once it is written.
class Receiver : public net::ConnectionHandler {};
std::unique_ptr<Receiver> make_receiver(InboxShared& shared, std::string peer);

}  // namespace grove::cli
