// Where received messages go: printed to stdout, or saved as files in a folder (fragments of
// one file reassembled, nothing overwritten). Shared by `grove listen` (direct peers) and
// `grove receive` (deliveries from a relay).
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "auth/grove_auth.hpp"
#include "cli/message_ref.hpp"
#include "net/driver.hpp"

namespace grove::cli {

// A file being written: one message, or the fragments of one file so far. Fragmented files
// stay here across connections, so the fragments that come after a reconnect continue them.
struct PartialFile {
  FILE* file = nullptr;
  std::filesystem::path part, final_path;  // NAME.part while it grows, NAME when complete
  std::uint64_t committed = 0;             // bytes of complete fragments: a cut-off one is cut back
  std::uint32_t next_index = 0;            // the fragment that must come next
  bool failed = false;
  PartialFile() = default;
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;
  ~PartialFile() {
    if (file) std::fclose(file);
  }
};

struct InboxShared {
  std::string out_dir;                 // empty: print to stdout
  bool show_meta = false;              // print a header line before each printed message
  std::uint64_t count = 0;             // call on_done after this many messages (0 = never)
  std::optional<auth::Secret> secret;  // acceptor: the secret peers must prove
  std::uint64_t received = 0;          // messages (whole files) so far, over all connections
  std::function<void()> on_done;
  std::function<void()> on_message;  // after each stored message (idle timers)
  // Ids of the messages handled so far (over all connections): a re-sent copy of one is
  // acknowledged and dropped (sstp.md §9.5, docs/protocol.md "Message ids and duplicates").
  SeenIds seen;
  std::uint64_t duplicates = 0;
  // Files in fragments not complete yet, by FragmentMessageId (sstp.md §5.13).
  std::map<std::array<std::uint8_t, 16>, std::shared_ptr<PartialFile>> partial_files;
};

// The per-connection handler: answers Connect (acceptor) and Open, stores each message and
// acknowledges it only once it is written.
class Receiver : public net::ConnectionHandler {};
std::unique_ptr<Receiver> make_receiver(InboxShared& shared, std::string peer);

}  // namespace grove::cli
