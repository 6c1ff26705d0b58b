// Common request machinery of ClientCore: slots, request heads, response heads, proxy
// authentication rounds (henc.md §7) and timers. The mode rules live in client_modes.cpp.
#include "henc/client_core.hpp"

#include <stdexcept>

#include "henc/detail/buffer.hpp"
#include "henc/detail/client_slot.hpp"
#include "proxy/errc.hpp"

namespace grove::henc {

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::long_lived:
      return "longlived";
    case Mode::keep_alive:
      return "keepalive";
    case Mode::polling:
      return "polling";
  }
  return "?";
}

ClientCore::ClientCore(ClientOptions options, ClientTime now) : options_(std::move(options)) {
  if (options_.server_host.empty()) throw std::invalid_argument("empty relay host");
  if (!options_.random) throw std::invalid_argument("no random source for the GUID");
  // Constructing one checks the proxy credentials once, up front.
  proxy::Authenticator check(options_.auth);
  memo_ = options_.auth.memo;
  guid_ = make_guid(options_.random);
  server_name_ = bracket_host(options_.server_host);
  poll_ = options_.poll;
  interval_ = std::chrono::milliseconds(poll_.min_ms);
  establishment_deadline_ = now + options_.establishment;
  for (int i = 0; i < slots(); ++i) slots_.push_back(std::make_unique<Slot>());
  note(std::string("open ") + mode_name(options_.mode) + " virtual connection " + guid_);
  start(now);
}

ClientCore::~ClientCore() = default;

std::string ClientCore::target() const {
  // §2.1: relative when direct, absolute when proxied; Polling's is "/" or the bare HTTP-URL.
  std::string path;
  switch (options_.mode) {
    case Mode::long_lived:
      path = encapsulation_path(ConnType::long_lived, options_.server_host, guid_, options_.budget);
      break;
    case Mode::keep_alive:
      path = encapsulation_path(ConnType::keep_alive, options_.server_host, guid_);
      break;
    case Mode::polling:
      return options_.proxied ? http_url(options_.server_host, options_.http_port) : "/";
  }
  return options_.proxied ? http_url(options_.server_host, options_.http_port) + path : path;
}

void ClientCore::note(std::string line) {
  if (trace_.size() < 256) trace_.push_back(std::move(line));
}

bool ClientCore::wants_connect(int slot) const {
  const Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  return state_ != State::closed && s.in_flight && s.conn == Slot::Conn::none;
}

void ClientCore::connected(int slot, ClientTime now) {
  Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  if (s.conn != Slot::Conn::none) return;
  s.conn = Slot::Conn::open;
  if (s.in_flight) queue_request(s, now);
}

void ClientCore::connect_failed(int, std::error_code ec, ClientTime) { fail(ec); }

ByteView ClientCore::output(int slot) const {
  const Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  return ByteView(s.out).subspan(s.out_pos);
}

void ClientCore::consume(int slot, std::size_t n) {
  Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  s.out_pos = std::min(s.out.size(), s.out_pos + n);
  if (s.out_pos == s.out.size()) {
    s.out.clear();
    s.out_pos = 0;
  }
}

void ClientCore::take_output(int slot, Bytes& into) {
  Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  into.clear();
  into.swap(s.out);
  if (s.out_pos > 0)
    into.erase(into.begin(), into.begin() + static_cast<std::ptrdiff_t>(s.out_pos));
  s.out_pos = 0;
  s.writing = into.size();
}

void ClientCore::wrote(int slot) { slots_.at(static_cast<std::size_t>(slot))->writing = 0; }

bool ClientCore::can_receive(int) const { return input_.size() - input_pos_ < options_.max_input; }

bool ClientCore::wants_close(int slot) const {
  const Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  if (state_ == State::closed && options_.mode == Mode::long_lived && slot == 0 &&
      slots_[1]->conn != Slot::Conn::none)
    return false;  // the POST (carrying the last SSTP bytes) closes before the GET
  if (s.conn == Slot::Conn::closing) return true;
  return state_ == State::closed && s.conn == Slot::Conn::open;
}

void ClientCore::closed(int slot, ClientTime) {
  Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  s.conn = Slot::Conn::none;
  s.ntlm_authenticated = false;
  s.out.clear();
  s.out_pos = 0;
  s.rx = Slot::Rx::idle;
}

void ClientCore::start_request(int slot, std::string method, Bytes body, bool open_ended,
                               ClientTime now) {
  Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  s.method = std::move(method);
  s.request_body = std::move(body);
  s.open_ended = open_ended;
  s.in_flight = true;
  proxy::AuthOptions ao = options_.auth;
  ao.memo = memo_;
  s.auth = std::make_unique<proxy::Authenticator>(std::move(ao));
  // §7.1: once a proxy wanted credentials, later requests carry them at once.
  s.authorization = options_.proxied ? s.auth->initial(s.method, target()) : std::nullopt;
  // Digest counts its nonce uses: the next request (on the other slot too) takes the next nc.
  if (s.authorization) memo_ = s.auth->memo();
  s.auth_header = "Proxy-Authorization";
  if (s.conn == Slot::Conn::open) queue_request(s, now);
}

void ClientCore::queue_request(Slot& s, ClientTime now) {
  if (s.ntlm_authenticated && s.auth->awaiting_ntlm_challenge()) {
    // This connection already passed NTLM: send the request as it is. Should the proxy still
    // ask, a fresh round starts from its challenge.
    proxy::AuthOptions ao = options_.auth;
    ao.memo = {};
    s.auth = std::make_unique<proxy::Authenticator>(std::move(ao));
    s.authorization.reset();
  }
  RequestSpec r;
  r.method = s.method;
  r.target = target();
  r.host = host_header(options_.server_host, options_.http_port);
  r.user_agent = options_.user_agent;
  r.connection_keep_alive = options_.mode == Mode::keep_alive;
  // §7.4: an NTLM NEGOTIATE leg carries no body, Content-Length 0, and keeps the connection.
  const bool leg1 = s.auth && s.auth->awaiting_ntlm_challenge() && s.authorization;
  r.proxy_keep_alive = (options_.proxied && options_.mode != Mode::polling) || leg1;
  if (s.method == "POST") {
    r.content_length = leg1 ? 0 : (s.open_ended ? options_.budget : s.request_body.size());
  }
  if (s.authorization) {
    r.authorization_header = s.auth_header;
    r.authorization = *s.authorization;
  }
  const std::string head = build_request(r);
  s.out.insert(s.out.end(), head.begin(), head.end());
  if (!leg1) s.out.insert(s.out.end(), s.request_body.begin(), s.request_body.end());
  s.sent_leg1 = leg1;
  s.head.reset();
  s.rx = Slot::Rx::head;
  s.body.clear();
  s.deadline = now + options_.response;
  ++requests_;
  if (options_.mode == Mode::long_lived && s.open_ended && !leg1) {
    post_written_ = true;
    post_sent_ = s.request_body.size();  // §3.4: the echo counts against the budget
  }
}

void ClientCore::receive(int slot, ByteView in, ClientTime now) {
  Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  while (!in.empty() && state_ != State::closed) {
    // A connection given up for a retry: the rest of its answer does not matter.
    if (s.conn == Slot::Conn::closing) return;
    switch (s.rx) {
      case Slot::Rx::idle:
        // Nothing was asked on this connection: an HTTP peer never talks first.
        return fail(errc::unexpected_bytes);
      case Slot::Rx::head: {
        Head::Feed f = s.head.feed(in);
        in = in.subspan(f.consumed);
        if (f.error) return fail(f.error);
        if (!f.complete) return;
        on_head(slot, now);
        break;
      }
      case Slot::Rx::drain: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(s.left, in.size()));
        s.left -= n;
        in = in.subspan(n);
        if (s.left == 0) queue_request(s, now);
        break;
      }
      case Slot::Rx::body: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(s.left, in.size()));
        s.body.insert(s.body.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
        s.left -= n;
        in = in.subspan(n);
        if (s.left == 0) finish_response(slot, now);
        break;
      }
      case Slot::Rx::stream:
        on_stream(slot, in, now);
        return;
    }
  }
}

void ClientCore::receive_eof(int slot, ClientTime now) {
  Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  if (state_ == State::closed) return;
  // A connection this side already let go of (answered with Connection: close, or left for a
  // retry) ending is expected; the request in flight waits for a new one.
  if (s.conn == Slot::Conn::closing) return;
  if (s.rx == Slot::Rx::drain && !s.auth->needs_same_connection()) {
    // §7.1: the proxy closed instead of keeping the connection: retry on a new one.
    s.conn = Slot::Conn::closing;
    return;
  }
  if (s.rx == Slot::Rx::drain) return fail(proxy::errc::ntlm_connection_closed);
  if (s.in_flight || s.rx == Slot::Rx::stream) return fail(errc::closed);
  // §4.4 row 13: EOF with nothing outstanding: the next request opens a new connection.
  s.conn = Slot::Conn::closing;
  (void)now;
}

void ClientCore::on_head(int slot, ClientTime now) {
  Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  last_status_ = s.head.status();
  last_reason_ = std::string(s.head.reason());
  note("slot " + std::to_string(slot) + ": " + std::to_string(last_status_) + " " + last_reason_);
  if (last_status_ >= 100 && last_status_ < 200 && last_status_ != 101) {
    s.head.reset();  // interim answer: the real one follows
    return;
  }
  if (s.head.has_transfer_encoding()) return fail(errc::transfer_encoding);
  if (last_status_ == 401 || last_status_ == 407) return on_auth(slot, now);
  if (s.auth && s.auth->scheme() != proxy::AuthScheme::none) memo_ = s.auth->memo();
  if (s.sent_leg1 || (s.auth && s.auth->needs_same_connection())) s.ntlm_authenticated = true;
  if (s.sent_leg1 && s.method == "POST") {
    // §7.4: the proxy let the body-less NEGOTIATE leg through (the connection was already
    // authenticated): the relay answered an empty POST; the real one follows on this
    // connection, or on a new one.
    return retry_request(slot, now);
  }
  s.deadline = ClientTime::max();
  on_response_head(slot, now);
}

void ClientCore::on_auth(int slot, ClientTime now) {
  Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  const bool proxy = last_status_ == 407;
  s.auth_header = proxy ? "Proxy-Authorization" : "Authorization";
  const std::vector<std::string> values =
      s.head.header_values(proxy ? "Proxy-Authenticate" : "WWW-Authenticate");
  if (std::error_code ec = s.auth->on_challenge(values, s.method, target())) return fail(ec);
  s.authorization = s.auth->authorization();
  // §7.1: the ConnectionEstablishment timer restarts before each retry.
  if (state_ == State::connecting) establishment_deadline_ = now + options_.establishment;
  retry_request(slot, now);
}

void ClientCore::retry_request(int slot, ClientTime now) {
  Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  const std::optional<std::uint64_t> length = s.head.content_length();
  // A connection that carried part of an open-ended body cannot take another request.
  const bool body_pending = s.open_ended && !s.sent_leg1;
  const bool reusable = s.head.keep_alive() && length && *length <= 65536 && !body_pending;
  if (!reusable) {
    if (s.auth->needs_same_connection()) return fail(proxy::errc::ntlm_connection_closed);
    s.conn = Slot::Conn::closing;  // closed(), then a new connection carries the retry
    s.rx = Slot::Rx::idle;
    return;
  }
  s.left = *length;
  s.rx = Slot::Rx::drain;
  if (s.left == 0) queue_request(s, now);
}

void ClientCore::finish_response(int slot, ClientTime now) {
  Slot& s = *slots_.at(static_cast<std::size_t>(slot));
  s.in_flight = false;
  s.rx = Slot::Rx::idle;
  s.deadline = ClientTime::max();
  // §4.3: reuse the connection only when the answer allowed it.
  if (!s.head.keep_alive() && s.conn == Slot::Conn::open) s.conn = Slot::Conn::closing;
  Bytes body = std::move(s.body);
  s.body.clear();
  on_body(slot, body, now);
}

void ClientCore::fail(std::error_code e) {
  if (state_ == State::closed) return;
  state_ = State::closed;
  error_ = e;
  note("closed: " + (e ? e.message() : std::string("by the SSTP engine")));
  for (auto& s : slots_) {
    s->in_flight = false;
    if (s->conn == Slot::Conn::open || s->conn == Slot::Conn::connecting)
      s->conn = Slot::Conn::closing;
  }
}

void ClientCore::send(ByteView data, ClientTime now) {
  if (state_ == State::closed || closing_ || data.empty()) return;
  if (options_.mode == Mode::long_lived && state_ == State::established) {
    // §3.4: never pass the budget; a new virtual connection takes over.
    if (post_sent_ + data.size() > options_.budget) return fail(errc::renew);
    Slot& s = *slots_[1];
    detail::append_unread(s.out, s.out_pos, data);
    post_sent_ += data.size();
    return;
  }
  detail::append_unread(send_queue_, send_pos_, data);
  pump(now);
}

bool ClientCore::stream_direct(int slot) const {
  if (options_.mode != Mode::long_lived || state_ != State::established || slot != 0) return false;
  const Slot& s = *slots_[0];
  return s.conn == Slot::Conn::open && s.rx == Slot::Rx::stream;
}

bool ClientCore::send_direct(std::size_t n) {
  if (options_.mode != Mode::long_lived || state_ != State::established || closing_) return false;
  Slot& s = *slots_[1];
  if (s.conn != Slot::Conn::open || s.writing > 0 || s.out_pos < s.out.size()) return false;
  // §3.4: past the budget send() renews the virtual connection.
  if (n == 0 || post_sent_ + n > options_.budget) return false;
  post_sent_ += n;
  s.writing = n;
  return true;
}

std::size_t ClientCore::send_backlog() const {
  std::size_t n = send_queue_.size() - send_pos_;
  if (options_.mode == Mode::long_lived)
    n += slots_[1]->out.size() - slots_[1]->out_pos + slots_[1]->writing;
  return n;
}

ByteView ClientCore::input() const { return ByteView(input_).subspan(input_pos_); }

void ClientCore::consume_input(std::size_t n) {
  input_pos_ = std::min(input_.size(), input_pos_ + n);
  if (input_pos_ == input_.size()) {
    input_.clear();
    input_pos_ = 0;
  }
}

ClientTime ClientCore::next_deadline() const {
  if (state_ == State::closed) return ClientTime::max();
  ClientTime t = ClientTime::max();
  if (state_ == State::connecting) t = establishment_deadline_;
  for (const auto& s : slots_) {
    if (!s->in_flight) continue;
    // A LongLived POST has no answer to wait for, and its GET streams for as long as it lasts.
    if (options_.mode == Mode::long_lived) continue;
    t = std::min(t, s->deadline);
  }
  if (options_.mode == Mode::polling) t = std::min(t, poll_due_);
  return t;
}

void ClientCore::on_timer(ClientTime now) {
  if (state_ == State::closed) return;
  if (state_ == State::connecting && now >= establishment_deadline_)
    return fail(errc::establishment_timeout);
  if (options_.mode != Mode::long_lived) {
    for (const auto& s : slots_)
      if (s->in_flight && now >= s->deadline) return fail(errc::response_timeout);
  }
  if (options_.mode == Mode::polling && now >= poll_due_) {
    poll_due_ = ClientTime::max();
    polling_post(now);
  }
}

void ClientCore::close(ClientTime now) {
  if (state_ == State::closed) return;
  closing_ = true;
  if (options_.mode == Mode::long_lived || state_ == State::connecting) return fail({});
  pump(now);
}

}  // namespace grove::henc
