// The sending side of `grove send`: the message plan (text, lines, file fragments, stdin) and
// the connection handler that sends it, keeps track of what the peer acknowledged and, after a
// lost connection, puts every unacknowledged message back in front of the queue so the next
// connection sends it again in the original order (sstp.md §9.5). Each message carries an id
// in its UserRef (cli/message_ref.hpp) so the receiver can drop the repeats.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/backoff.hpp"
#include "cli/message_ref.hpp"
#include "cli/progress.hpp"
#include "cli/send.hpp"
#include "net/driver.hpp"

namespace grove::cli {

// One message to send. Files larger than the fragment size become several messages carrying
// Fragmentation fields (sstp.md §5.13); reassembly is the receiver's job (§9.6 F).
struct Outgoing {
  std::string text;  // text messages
  std::string path;  // files ("" for text, "-" for stdin)
  std::string name;  // file name in UserRef "file:<name>"
  std::uint64_t offset = 0, length = 0;
  bool known_length = true;
  std::optional<sstp::FragmentationFields> fragment;
  MessageId id{};  // the same in every re-send (docs/protocol.md "Message ids and duplicates")
};

// Builds the message list; throws std::runtime_error for unreadable input.
std::vector<Outgoing> plan(const SendOptions& o, std::uint64_t& total_bytes);

class Sender final : public net::ConnectionHandler {
 public:
  Sender(const SendOptions& o, std::vector<Outgoing> messages, std::uint64_t total_bytes);

  void on_event(engine::Connection& c, engine::Event& e) override;
  void on_output_drained(engine::Connection& c) override { pump(c); }
  void interrupt(engine::Connection& c);

  // --limit-rate: the runner sets this; the sender calls it to be woken (wake()) after a pause.
  std::function<void(std::chrono::milliseconds)> schedule_wake;
  void wake(engine::Connection& c);

  // After a working connection ended: true while the run is not over and may reconnect.
  [[nodiscard]] bool wants_reconnect() const { return result_ == -1; }
  // How the last connection ended, for the back-off (sstp.md §7.8).
  [[nodiscard]] const Backoff::Ended& last_end() const { return last_end_; }
  // Reconnecting is over without success: reports and sets the exit code.
  void give_up(const std::string& why);

  [[nodiscard]] int result() const { return result_; }
  [[nodiscard]] std::size_t confirmed() const { return acked_count_; }
  [[nodiscard]] std::size_t total() const { return messages_.size(); }
  [[nodiscard]] std::size_t requeued() const { return requeued_; }

 private:
  template <typename T>
  void handle(engine::Connection&, T&) {}  // events a sender does not care about
  void handle(engine::Connection& c, engine::Established& ev);
  void handle(engine::Connection& c, engine::SessionReady&);
  void handle(engine::Connection&, engine::SessionPaused&) { paused_ = true; }
  void handle(engine::Connection& c, engine::SessionRefused& ev);
  void handle(engine::Connection& c, engine::SessionClosed& ev);
  void handle(engine::Connection& c, engine::FanoutStatus& ev);
  void handle(engine::Connection& c, engine::Acknowledged& ev);
  void handle(engine::Connection& c, engine::ConnectionClosed& ev);

  void fail(engine::Connection& c, int code, const std::string& why);
  void pump(engine::Connection& c);
  bool start(engine::Connection& c);
  bool send_file_chunk(engine::Connection& c);
  void finish_message(engine::Connection& c);
  bool open_at(engine::Connection& c, const Outgoing& m);
  std::int64_t rate_allowance() const;

  struct FileCloser {
    void operator()(FILE* f) const {
      if (f && f != stdin) std::fclose(f);
    }
  };

  const SendOptions& opt_;
  std::vector<Outgoing> messages_;  // the whole plan; the cookie of a message is its index
  std::vector<bool> acked_;
  std::deque<std::size_t> queue_;  // indexes still to send, in order
  std::size_t acked_count_ = 0;
  Progress progress_;
  // Per connection.
  std::uint32_t session_ = 0;
  bool paused_ = false;
  bool in_progress_ = false;
  std::size_t current_ = 0;
  std::chrono::steady_clock::time_point established_at_{};
  std::chrono::steady_clock::time_point rate_start_{};
  std::uint64_t rate_bytes_ = 0;
  bool wake_pending_ = false;
  // The open file and where its next read lands.
  std::unique_ptr<FILE, FileCloser> file_;
  std::string file_path_;
  std::uint64_t file_pos_ = 0;
  std::uint64_t sent_in_message_ = 0, sent_bytes_ = 0;
  // Across connections.
  Backoff::Ended last_end_;
  std::size_t requeued_ = 0;
  int result_ = -1;
};

}  // namespace grove::cli
