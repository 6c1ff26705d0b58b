// The mode rules of ClientCore: LongLived (henc.md §3.5), KeepAlive (§4.4), Polling (§5.11,
// §5.8 poll timer).
#include <algorithm>

#include "henc/client_core.hpp"
#include "henc/detail/buffer.hpp"
#include "henc/detail/client_slot.hpp"

namespace grove::henc {
namespace {

// §5.7: an idle poll carries the SSTP Noop with MessageCount 0.
constexpr Byte kNoop[] = {0x10, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00};

Bytes echo_bytes() { return Bytes(kEcho.begin(), kEcho.end()); }

std::error_code status_error(int status) {
  if (status == 400) return errc::relay_rejected_version;  // §2.5
  if (status == 404) return errc::not_found;
  return errc::http_status;
}

std::optional<std::uint32_t> header_number(const Head& h, std::string_view name) {
  const std::string* v = h.header(name);
  if (v == nullptr) return std::nullopt;
  auto n = parse_decimal(*v, 9);
  if (!n) return std::nullopt;
  return static_cast<std::uint32_t>(*n);
}

}  // namespace

void ClientCore::start(ClientTime now) {
  switch (options_.mode) {
    case Mode::long_lived:
      // §3.3: both connections at once; the POST head is followed by the echo string.
      start_request(0, "GET", {}, false, now);
      start_request(1, "POST", echo_bytes(), true, now);
      return;
    case Mode::keep_alive:
      // §4.3: the handshake GET and the handshake POST (body = echo, Content-Length 22).
      start_request(0, "GET", {}, false, now);
      start_request(1, "POST", echo_bytes(), false, now);
      return;
    case Mode::polling:
      // §5.6 step 1: the probe, sequence 0, checksum 0, no data.
      poll_state_ = Poll::probing;
      start_request(0, "POST", encode_polling_body(server_name_, guid_, 0, {}), false, now);
      return;
  }
}

void ClientCore::on_response_head(int slot, ClientTime now) {
  Slot& s = *slots_[static_cast<std::size_t>(slot)];
  const int status = s.head.status();
  if (options_.mode == Mode::long_lived && slot == 1) {
    // §3.3: nothing but an error answer ever comes on the POST connection.
    return fail(status == 200 ? make_error_code(errc::unexpected_bytes) : status_error(status));
  }
  if (status != 200) return fail(status_error(status));
  if (options_.mode == Mode::long_lived) {
    s.rx = Slot::Rx::stream;  // §3.4: Content-Length is a ceiling, never a length
    return;
  }
  const std::optional<std::uint64_t> cl = s.head.content_length();
  const std::uint64_t limit =
      options_.mode == Mode::keep_alive ? kKeepAliveMaxBody : kPollingMaxBody;
  if (!cl || *cl > limit) return fail(errc::bad_content_length);  // §2.6
  if (options_.mode == Mode::polling) refresh_poll(s.head);
  s.left = *cl;
  s.body.clear();
  s.rx = Slot::Rx::body;
  if (s.left == 0) finish_response(slot, now);
}

void ClientCore::on_stream(int, ByteView in, ClientTime now) {
  if (!get_ready_) {
    // §3.3: the GET body starts with the echo string.
    const std::size_t k = std::min(kEcho.size() - echo_seen_, in.size());
    if (as_chars(in.first(k)) != kEcho.substr(echo_seen_, k)) return fail(errc::bad_echo);
    echo_seen_ += k;
    in = in.subspan(k);
    if (echo_seen_ < kEcho.size()) return;
    get_ready_ = true;
    note("longlived: GET echo received");
  }
  if (state_ == State::connecting && get_ready_ && post_written_) {
    state_ = State::established;
    note("established");
    // §3.5 row 5: SSTP bytes queued so far go out now.
    Bytes queued(send_queue_.begin() + static_cast<std::ptrdiff_t>(send_pos_), send_queue_.end());
    send_queue_.clear();
    send_pos_ = 0;
    send(queued, now);
  }
  detail::append_unread(input_, input_pos_, in);
}

void ClientCore::on_body(int slot, ByteView body, ClientTime now) {
  if (options_.mode == Mode::polling) return polling_answer(body, now);
  // KeepAlive.
  if (slot == 1) {
    if (state_ == State::connecting) ka_post_ready_ = true;
  } else if (state_ == State::connecting) {
    // §4.4 row 4: the handshake GET answer is the echo string, Content-Length 22.
    if (as_chars(body) != kEcho) return fail(errc::bad_echo);
    get_ready_ = true;
  } else {
    detail::append_unread(input_, input_pos_, body);
    if (!closing_) start_request(0, "GET", {}, false, now);  // §4.3: one GET always outstanding
  }
  if (state_ == State::connecting && get_ready_ && ka_post_ready_) {
    state_ = State::established;
    note("established");
    start_request(0, "GET", {}, false, now);
  }
  pump(now);
}

void ClientCore::pump(ClientTime now) {
  if (state_ == State::closed) return;
  const std::size_t queued = send_queue_.size() - send_pos_;
  if (options_.mode == Mode::keep_alive) {
    if (state_ != State::established) return;
    Slot& post = *slots_[1];
    if (post.in_flight) return;
    if (queued == 0) {
      if (closing_) fail({});
      return;
    }
    // §4.3: POST bodies of 1..65536 bytes, one outstanding at a time.
    const std::size_t n = std::min(queued, kKeepAliveChunk);
    const auto from = send_queue_.begin() + static_cast<std::ptrdiff_t>(send_pos_);
    Bytes chunk(from, from + static_cast<std::ptrdiff_t>(n));
    send_pos_ += n;
    if (send_pos_ == send_queue_.size()) {
      send_queue_.clear();
      send_pos_ = 0;
    }
    start_request(1, "POST", std::move(chunk), false, now);
    return;
  }
  if (options_.mode != Mode::polling) return;
  if (slots_[0]->in_flight) return;
  switch (poll_state_) {
    case Poll::probing:
    case Poll::connecting:
      return;
    case Poll::probed:
      if (queued > 0) polling_post(now);  // §5.6 step 2
      return;
    case Poll::established:
      break;
  }
  if (queued > 0 || last_had_data_) {
    // §5.7: send at once when data waits or the last answer carried data.
    poll_due_ = ClientTime::max();
    return polling_post(now);
  }
  if (closing_) return fail({});  // §5.11 row 9: everything queued went out; stop polling
  if (poll_due_ == ClientTime::max()) poll_due_ = now + interval_;
}

void ClientCore::polling_post(ClientTime now) {
  if (state_ == State::closed || slots_[0]->in_flight) return;
  const bool handshake = poll_state_ == Poll::probed;
  // §5.5: requests after the handshake carry 1, 2, 3, …
  const std::uint32_t seq = handshake ? 0 : request_seq_ + 1;
  const std::size_t room = polling_data_room(server_name_, guid_, seq);
  const std::size_t n = std::min(send_queue_.size() - send_pos_, room);
  Bytes data;
  if (n == 0) {
    data.assign(std::begin(kNoop), std::end(kNoop));  // an empty queue is a command boundary
    last_was_noop_ = true;
  } else {
    const auto from = send_queue_.begin() + static_cast<std::ptrdiff_t>(send_pos_);
    data.assign(from, from + static_cast<std::ptrdiff_t>(n));
    send_pos_ += n;
    if (send_pos_ == send_queue_.size()) {
      send_queue_.clear();
      send_pos_ = 0;
    }
    last_was_noop_ = false;
  }
  if (handshake) {
    poll_state_ = Poll::connecting;
  } else {
    request_seq_ = seq;
  }
  start_request(0, "POST", encode_polling_body(server_name_, guid_, seq, data), false, now);
}

void ClientCore::refresh_poll(const Head& h) {
  // §5.8: refreshed from every answer; a missing or invalid value keeps the previous one.
  auto mn = header_number(h, "X-Grove-Poll-Min");
  auto mx = header_number(h, "X-Grove-Poll-Max");
  auto rep = header_number(h, "X-Grove-Poll-Repetitions");
  if (mn && *mn >= 50 && *mn <= 30000) poll_.min_ms = *mn;
  if (mx && *mx >= poll_.min_ms && *mx <= 30000) poll_.max_ms = *mx;
  if (rep && *rep >= 1 && *rep <= 100) poll_.repetitions = *rep;
  if (poll_.max_ms < poll_.min_ms) poll_.max_ms = poll_.min_ms;
  interval_ = std::clamp(interval_, std::chrono::milliseconds(poll_.min_ms),
                         std::chrono::milliseconds(poll_.max_ms));
}

void ClientCore::polling_answer(ByteView body, ClientTime now) {
  ParsedBody pb = parse_polling_body(body);
  if (pb.error) return fail(pb.error);
  const PollingPrefix& p = pb.prefix;
  // §5.11 row 8, §13 #14: the answer names what the request named.
  if (p.server_url != server_name_ || p.guid != guid_) return fail(errc::bad_prefix);
  if (polling_checksum(pb.data) != p.checksum) return fail(errc::bad_checksum);
  switch (poll_state_) {
    case Poll::probing:
      if (p.sequence != 0 || !pb.data.empty()) return fail(errc::unexpected_data);
      poll_state_ = Poll::probed;
      note("polling: probed");
      return pump(now);
    case Poll::connecting:
      // §5.6 step 3: the handshake answer carries data at sequence 0.
      if (p.sequence != 0) return fail(errc::bad_sequence);
      if (pb.data.empty()) return fail(errc::missing_data);
      poll_state_ = Poll::established;
      state_ = State::established;
      request_seq_ = response_seq_ = 0;
      note("established");
      break;
    case Poll::probed:
    case Poll::established:
      if (p.sequence != response_seq_ + 1) return fail(errc::bad_sequence);
      ++response_seq_;
      break;
  }
  detail::append_unread(input_, input_pos_, pb.data);
  // §5.8: empty exchanges in a row double the interval; any data resets it.
  const bool empty = last_was_noop_ && pb.data.empty();
  if (empty) {
    if (++empty_run_ >= poll_.repetitions) {
      interval_ = std::min(interval_ * 2, std::chrono::milliseconds(poll_.max_ms));
      empty_run_ = 0;
    }
  } else {
    interval_ = std::chrono::milliseconds(poll_.min_ms);
    empty_run_ = 0;
  }
  last_had_data_ = !pb.data.empty();
  pump(now);
}

}  // namespace grove::henc
