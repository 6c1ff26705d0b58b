#include "cli/sender.hpp"

#include <spdlog/spdlog.h>
#include <sys/types.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "cli/common.hpp"
#include "cli/describe.hpp"

namespace grove::cli {

using engine::Connection;
using Clock = std::chrono::steady_clock;

namespace {
// --limit-rate lets this many bytes through at once, so chunks stay large enough to be cheap.
constexpr std::int64_t kRateBurst = 64 * 1024;
// Every this many messages one asks for an immediate acknowledgement (§9.4 A bit).
constexpr std::size_t kAckEvery = 128;

MessageId new_message_id() {
  MessageId id{};
  if (!auth::random_bytes(id)) throw std::runtime_error("the system random generator failed");
  return id;
}
}  // namespace

std::vector<Outgoing> plan(const SendOptions& o, std::uint64_t& total_bytes) {
  std::vector<Outgoing> q;
  total_bytes = 0;
  auto text = [&](std::string t) {
    total_bytes += t.size();
    Outgoing m;
    m.length = t.size();
    m.text = std::move(t);
    m.id = new_message_id();
    q.push_back(std::move(m));
  };
  for (const auto& t : o.texts) text(t);
  if (o.stdin_lines) {
    std::string line;
    while (std::getline(std::cin, line)) text(std::move(line));
  }
  for (const auto& path : o.files) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw std::runtime_error("cannot send " + path + ": " + ec.message());
    const std::string name = std::filesystem::path(path).filename().string();
    const std::uint64_t frag = o.fragment_size;
    const std::uint64_t count = size == 0 ? 1 : (size + frag - 1) / frag;
    sstp::FragmentationFields f;
    if (!auth::random_bytes(f.fragment_message_id))
      throw std::runtime_error("the system random generator failed");
    f.fragment_count = static_cast<std::uint32_t>(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      Outgoing m;
      m.path = path;
      m.name = name;
      m.offset = i * frag;
      m.length = std::min(frag, size - std::min(size, m.offset));
      f.fragment_index = static_cast<std::uint32_t>(i);
      if (count > 1) m.fragment = f;
      m.id = new_message_id();
      q.push_back(std::move(m));
    }
    total_bytes += size;
  }
  if (o.read_stdin) {
    Outgoing m;
    m.path = "-";
    m.name = "stdin";
    m.known_length = false;
    m.id = new_message_id();
    q.push_back(std::move(m));
  }
  return q;
}

Sender::Sender(const SendOptions& o, std::vector<Outgoing> messages, std::uint64_t total_bytes)
    : opt_(o),
      messages_(std::move(messages)),
      acked_(messages_.size(), false),
      progress_("sending", total_bytes, o.progress && total_bytes >= (1u << 20)) {
  for (std::size_t i = 0; i < messages_.size(); ++i) queue_.push_back(i);
}

void Sender::on_event(Connection& c, engine::Event& e) {
  std::visit([&](auto& ev) { handle(c, ev); }, e);
}

void Sender::interrupt(Connection& c) {
  if (result_ == -1) result_ = kInterrupted;
  c.close();
}

void Sender::wake(Connection& c) {
  wake_pending_ = false;
  pump(c);
}

void Sender::give_up(const std::string& why) {
  if (result_ != -1) return;
  result_ = kUnconfirmed;
  progress_.finish();
  spdlog::error("{}; {} of {} messages confirmed", why, acked_count_, messages_.size());
}

void Sender::handle(Connection& c, engine::Established& ev) {
  spdlog::info("event=established peer={} version=1.{} authenticated={}", ev.peer_device_url,
               ev.minor_version, ev.authenticated);
  established_at_ = rate_start_ = Clock::now();
  rate_bytes_ = 0;
  wake_pending_ = false;  // a wake-up asked for on a lost connection never comes
  std::error_code ec;
  if (!opt_.fanout_to.empty()) {  // one upload, many recipients (sstp.md §8.5)
    std::vector<sstp::FanoutDeviceEntry> entries;
    for (const auto& to : opt_.fanout_to) entries.push_back({opt_.identity_url, to, "", ""});
    ec = c.open_fanout(opt_.resource_url, std::move(entries), session_);
  } else {
    ec = c.open_session(opt_.resource_url, opt_.identity_url,
                        opt_.to_identity ? std::string() : opt_.to_url, session_);
  }
  if (ec) fail(c, kFailure, "cannot open a session: " + ec.message());
}

// Recipients of a fanout the relay cannot serve; the others still get every message.
void Sender::handle(Connection& c, engine::FanoutStatus& ev) {
  for (auto i : ev.failed_entries)
    if (i < opt_.fanout_to.size())
      spdlog::warn("recipient {} will not get the messages: {}", opt_.fanout_to[i],
                   ev.status_id == static_cast<std::uint8_t>(sstp::StatusId::QuotaWouldBeExceeded)
                       ? "its queue at the relay is full"
                       : "unknown or disabled at the relay");
  if (ev.all_failed) fail(c, kRefused, "no recipient of the fanout can receive messages");
}

void Sender::handle(Connection& c, engine::SessionReady&) {
  paused_ = false;
  pump(c);
}

void Sender::handle(Connection& c, engine::SessionRefused& ev) {
  fail(c, kRefused,
       ev.response_id
           ? std::string("the peer refused the session: ") + open_response_name(*ev.response_id)
           : "the peer did not answer the session request in time");
}

void Sender::handle(Connection& c, engine::SessionClosed& ev) {
  if (ev.by_peer)
    fail(c, kUnconfirmed,
         std::string("the peer closed the session: ") + session_close_name(ev.reason_id));
}

void Sender::handle(Connection& c, engine::Acknowledged& ev) {
  if (ev.cookie >= acked_.size() || acked_[ev.cookie]) return;
  acked_[ev.cookie] = true;
  ++acked_count_;
  if (acked_count_ == messages_.size() && queue_.empty() && !in_progress_) {
    progress_.finish();
    spdlog::info("event=all_acknowledged messages={}", acked_count_);
    result_ = kOk;
    c.close();
  }
}

// sstp.md §9.5: what the peer did not acknowledge goes back in front of the queue, oldest
// first, followed by the message that was being sent; the next connection sends it again.
void Sender::handle(Connection&, engine::ConnectionClosed& ev) {
  progress_.finish();
  if (result_ != -1) return;
  std::vector<std::size_t> again(ev.unacknowledged.begin(), ev.unacknowledged.end());
  if (in_progress_) again.push_back(current_);
  for (std::size_t i : again)
    sent_bytes_ -= std::min(sent_bytes_,
                            i == current_ && in_progress_ ? sent_in_message_ : messages_[i].length);
  queue_.insert(queue_.begin(), again.begin(), again.end());
  requeued_ = again.size();
  in_progress_ = false;
  session_ = 0;
  paused_ = false;

  last_end_ = {};
  if (established_at_ != Clock::time_point{})
    last_end_.established_for =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - established_at_);
  established_at_ = {};
  if (ev.by_peer && ev.reason == sstp::ConnectCloseReason::Resting)
    last_end_.resting = std::chrono::seconds(ev.return_time);
  if (ev.refused == sstp::ConnectResponseId::TryLater)
    last_end_.retry_time = std::chrono::seconds(ev.retry_time);

  std::string what = describe(ev);
  const bool refused = (ev.refused && ev.refused != sstp::ConnectResponseId::TryLater) ||
                       ev.reason == sstp::ConnectCloseReason::DeviceAuthenticationFailed;
  const bool stdin_lost = std::any_of(again.begin(), again.end(),
                                      [&](std::size_t i) { return messages_[i].path == "-"; });
  if (refused || opt_.retry_for.count() == 0 || stdin_lost) {
    result_ = refused ? kRefused : kUnconfirmed;
    if (stdin_lost && !refused) what += "; stdin cannot be read again to re-send it";
    if (!ev.refused)
      what += fmt::format("; {} of {} messages confirmed", acked_count_, messages_.size());
    spdlog::error("{}", what);
    return;
  }
  spdlog::warn("connection lost: {}; {} of {} messages confirmed, {} to send again", what,
               acked_count_, messages_.size(), again.size());
}

void Sender::fail(Connection& c, int code, const std::string& why) {
  if (result_ == -1) {
    result_ = code;
    progress_.finish();
    spdlog::error("{}", why);
  }
  c.close();
}

std::int64_t Sender::rate_allowance() const {
  const double secs = std::chrono::duration<double>(Clock::now() - rate_start_).count();
  return static_cast<std::int64_t>(secs * static_cast<double>(opt_.limit_rate)) + kRateBurst -
         static_cast<std::int64_t>(rate_bytes_);
}

// Queues data until the engine holds about 1 MiB; called again when the socket drained (and,
// with --limit-rate, when the rate allows more).
void Sender::pump(Connection& c) {
  constexpr std::size_t kHighWater = 1u << 20;
  while (result_ == -1 && !paused_ && session_ && c.session_ready(session_) &&
         c.pending_output().size() < kHighWater) {
    if (opt_.limit_rate) {
      const std::int64_t allowance = rate_allowance();
      if (allowance <= 0) {
        if (!wake_pending_ && schedule_wake) {
          wake_pending_ = true;
          const auto rate = static_cast<std::int64_t>(opt_.limit_rate);
          schedule_wake(std::chrono::milliseconds(1 + (kRateBurst - allowance) * 1000 / rate));
        }
        return;
      }
    }
    if (!in_progress_) {
      if (queue_.empty()) return;
      current_ = queue_.front();
      queue_.pop_front();
      if (!start(c)) return;
    }
    const Outgoing& m = messages_[current_];
    if (!m.path.empty()) {
      if (!send_file_chunk(c)) return;
    } else {
      (void)c.send_data(session_, as_bytes(m.text));
      rate_bytes_ += m.text.size();
      sent_bytes_ += m.text.size();
      finish_message(c);
    }
  }
}

// Opens the message's file and moves to its offset (a re-sent fragment starts mid-file).
bool Sender::open_at(Connection& c, const Outgoing& m) {
  if (m.path == "-") {
    if (!file_) file_.reset(stdin);
    return true;
  }
  if (!file_ || file_path_ != m.path) {
    file_.reset(std::fopen(m.path.c_str(), "rb"));
    file_path_ = m.path;
    file_pos_ = 0;
    if (!file_) {
      fail(c, kFailure, "cannot open " + m.path);
      return false;
    }
  }
  if (file_pos_ != m.offset) {
    if (::fseeko(file_.get(), static_cast<off_t>(m.offset), SEEK_SET) != 0) {
      fail(c, kFailure, "cannot read " + m.path + " again from byte " + std::to_string(m.offset));
      return false;
    }
    file_pos_ = m.offset;
  }
  return true;
}

bool Sender::start(Connection& c) {
  const Outgoing& m = messages_[current_];
  engine::MessageOptions mo;
  if (!m.path.empty()) {
    mo.user_ref = format_user_ref(m.id, "file:" + m.name);
    if (m.known_length) mo.total_size = m.length;
    mo.fragmentation = m.fragment;
    if (!open_at(c, m)) return false;
  } else {
    mo.user_ref = format_user_ref(m.id, "");
  }
  // §9.4 A bit (docs/protocol.md "Files as messages"): on the last message, on every file
  // fragment and on every 128th message, so acknowledgements keep pace with large transfers
  // and a relay's window of 256 unacknowledged deliveries never waits for the 5 s timer.
  if (queue_.empty() || !m.path.empty() || current_ % kAckEvery == kAckEvery - 1)
    mo.flags |= sstp::message_flag::AcknowledgeImmediately;
  if (auto ec = c.begin_message(session_, mo)) {
    fail(c, kFailure, "cannot start a message: " + ec.message());
    return false;
  }
  in_progress_ = true;
  sent_in_message_ = 0;
  return true;
}

bool Sender::send_file_chunk(Connection& c) {
  static thread_local Bytes buf(256 * 1024);
  const Outgoing& m = messages_[current_];
  std::size_t want = buf.size();
  if (m.known_length)
    want = static_cast<std::size_t>(std::min<std::uint64_t>(want, m.length - sent_in_message_));
  if (opt_.limit_rate)
    want = std::min(want, static_cast<std::size_t>(std::max<std::int64_t>(1, rate_allowance())));
  const std::size_t n = want ? std::fread(buf.data(), 1, want, file_.get()) : 0;
  if (n > 0) {
    (void)c.send_data(session_, ByteView(buf.data(), n));
    sent_in_message_ += n;
    sent_bytes_ += n;
    rate_bytes_ += n;
    file_pos_ += n;
    progress_.update(sent_bytes_);
  }
  const bool eof = m.known_length
                       ? sent_in_message_ == m.length
                       : (n == 0 && (std::feof(file_.get()) || std::ferror(file_.get())));
  if (n == 0 && !eof) {
    fail(c, kFailure, m.path + " changed size while it was being sent");
    return false;
  }
  if (eof) {
    if (m.path != "-" &&
        (!m.fragment || m.fragment->fragment_index + 1 == m.fragment->fragment_count))
      file_.reset();
    finish_message(c);
  }
  return true;
}

void Sender::finish_message(Connection& c) {
  (void)c.end_message(session_, current_);
  in_progress_ = false;
}

}  // namespace grove::cli
