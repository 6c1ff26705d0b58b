// The UserRef of messages sent by `grove send`, which carries a message id so receivers can
// drop the copies that at-least-once delivery produces (sstp.md §9.5; docs/protocol.md
// "Message ids and duplicates"):
//
//   msg:<32 hex digits>                  a text message
//   msg:<32 hex digits> file:<name>      a file, or one fragment of it (each fragment has its own
//   id)
//
// A UserRef without the prefix (older senders, other applications) has no id and is never
// treated as a duplicate.
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace grove::cli {

using MessageId = std::array<unsigned char, 16>;

struct UserRef {
  std::optional<MessageId> id;
  std::string_view rest;  // after the id and its space; the whole UserRef when there is no id
};

// "msg:<hex>" or "msg:<hex> <rest>".
[[nodiscard]] std::string format_user_ref(const MessageId& id, std::string_view rest);
// Splits a received UserRef; `rest` points into `user_ref`.
[[nodiscard]] UserRef parse_user_ref(std::string_view user_ref);

// The ids of messages already handled, so a repeat is acknowledged without being shown or
// stored again. Keeps the most recent `limit` ids: a repeat comes back within the sender's
// unacknowledged window, never from far in the past.
class SeenIds {
 public:
  explicit SeenIds(std::size_t limit = 1u << 17) : limit_(limit) {}
  [[nodiscard]] bool contains(const MessageId& id) const { return set_.count(key(id)) != 0; }
  void insert(const MessageId& id);

 private:
  static std::string key(const MessageId& id) {
    return std::string(reinterpret_cast<const char*>(id.data()), id.size());
  }
  std::size_t limit_;
  std::unordered_set<std::string> set_;
  std::deque<std::string> order_;  // oldest first, for eviction
};

}  // namespace grove::cli
