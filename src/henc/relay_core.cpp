#include "henc/relay_core.hpp"

#include <algorithm>

#include "henc/detail/buffer.hpp"
#include "http/text.hpp"

namespace grove::henc {
namespace {

bool is_echo(ByteView b) { return as_chars(b) == kEcho; }

constexpr TimePoint kNever = TimePoint::max();

}  // namespace

struct RelayCore::Conn {
  enum class Phase {
    head,     // reading a request head
    body,     // reading a KeepAlive or Polling body of known length
    ll_get,   // LongLived GET session: relay→client stream
    ll_post,  // LongLived POST session: client→relay stream
    ka_held,  // KeepAlive GET waiting for data (or the handshake)
    po_held,  // Polling handshake-2 answer waiting for SSTP output
    done,     // nothing more is read
  };
  ConnId id = 0;
  Head head{Head::Kind::request};
  Phase phase = Phase::head;
  bool post = false;
  std::uint64_t body_left = 0;
  Bytes body;
  VcId vc = 0;
  VcId owner = 0;  // the VC of the last request: closed with it (KeepAlive)
  Bytes out;
  std::size_t out_pos = 0;
  std::size_t writing = 0;  // taken by take_output(), not yet written
  bool closing = false;
  TimePoint deadline = kNever;
  std::error_code error;
};

struct RelayCore::Vc {
  enum class State { connecting, established, finished };
  VcId id = 0;
  VcType type = VcType::long_lived;
  std::string guid;
  State state = State::connecting;
  TimePoint deadline = kNever;  // establishment (connecting), hold (KA GET, PO handshake)
  TimePoint last_request{};
  // LongLived (§3.6).
  ConnId get = 0;
  ConnId post = 0;
  bool post_ready = false;
  std::size_t echo_seen = 0;
  std::uint64_t ccl = 0;
  std::uint64_t get_sent = 0;
  std::uint64_t post_received = 0;
  // KeepAlive (§4.5).
  ConnId held_get = 0;
  bool handshake_get = false;
  bool handshake_post = false;
  // Polling (§5.12).
  std::string server_url;
  std::uint32_t request_seq = 0;
  std::uint32_t response_seq = 0;
  ConnId held_poll = 0;
  // SSTP bytes in both directions.
  Bytes in;
  std::size_t in_pos = 0;
  Bytes out;
  std::size_t out_pos = 0;
  bool adopted = false;
  bool sstp_closed = false;
  std::error_code error;

  std::size_t unread() const { return in.size() - in_pos; }
  std::size_t queued() const { return out.size() - out_pos; }
};

RelayCore::RelayCore(RelayCoreOptions options) : options_(std::move(options)) {}
RelayCore::~RelayCore() = default;

RelayCore::Conn* RelayCore::conn(ConnId c) const {
  auto it = conns_.find(c);
  return it == conns_.end() ? nullptr : it->second.get();
}

RelayCore::Vc* RelayCore::vc(VcId v) const {
  auto it = vcs_.find(v);
  return it == vcs_.end() ? nullptr : it->second.get();
}

void RelayCore::mark(Conn& c) { dirty_conns_.push_back(c.id); }
void RelayCore::mark(Vc& v) { dirty_vcs_.push_back(v.id); }

void RelayCore::take_dirty(std::vector<ConnId>& conns, std::vector<VcId>& vcs) {
  conns.swap(dirty_conns_);
  vcs.swap(dirty_vcs_);
  dirty_conns_.clear();
  dirty_vcs_.clear();
}

std::size_t RelayCore::connection_count() const { return conns_.size(); }
std::size_t RelayCore::vc_count() const { return vcs_.size(); }

std::string RelayCore::date() const { return imf_fixdate(options_.unix_now()); }

bool RelayCore::own_name(std::string_view name) const {
  if (options_.server_names.empty()) return true;  // §2.2: no list, no check
  return std::any_of(options_.server_names.begin(), options_.server_names.end(),
                     [&](const std::string& n) { return http::iequals(n, name); });
}

// ---------------------------------------------------------------- connections

RelayCore::ConnId RelayCore::accept(TimePoint now) {
  auto c = std::make_unique<Conn>();
  c->id = next_conn_++;
  c->deadline = now + options_.first_head;  // §2.7
  const ConnId id = c->id;
  conns_.emplace(id, std::move(c));
  return id;
}

bool RelayCore::can_receive(ConnId id) const {
  const Conn* c = conn(id);
  if (c == nullptr || c->closing) return false;
  if (c->vc == 0) return true;
  const Vc* v = vc(c->vc);
  return v == nullptr || v->unread() < options_.max_vc_input;
}

ByteView RelayCore::output(ConnId id) const {
  const Conn* c = conn(id);
  if (c == nullptr) return {};
  return ByteView(c->out).subspan(c->out_pos);
}

void RelayCore::consume(ConnId id, std::size_t n) {
  Conn* c = conn(id);
  if (c == nullptr) return;
  c->out_pos = std::min(c->out.size(), c->out_pos + n);
  if (c->out_pos == c->out.size()) {
    c->out.clear();
    c->out_pos = 0;
    if (c->vc != 0) {
      if (Vc* v = vc(c->vc)) mark(*v);  // write back-pressure released
    }
  }
}

void RelayCore::take_output(ConnId id, Bytes& into) {
  into.clear();
  Conn* c = conn(id);
  if (c == nullptr) return;
  into.swap(c->out);
  if (c->out_pos > 0)
    into.erase(into.begin(), into.begin() + static_cast<std::ptrdiff_t>(c->out_pos));
  c->out_pos = 0;
  c->writing = into.size();
}

void RelayCore::wrote(ConnId id) {
  Conn* c = conn(id);
  if (c == nullptr) return;
  c->writing = 0;
  if (c->vc != 0) {
    if (Vc* v = vc(c->vc)) mark(*v);  // write back-pressure released
  }
}

bool RelayCore::closing(ConnId id) const {
  const Conn* c = conn(id);
  return c == nullptr || c->closing;
}

std::error_code RelayCore::conn_error(ConnId id) const {
  const Conn* c = conn(id);
  return c == nullptr ? std::error_code{} : c->error;
}

void RelayCore::release(ConnId id, TimePoint) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (c.vc != 0) {
    if (Vc* v = vc(c.vc)) {
      if (v->get == id) v->get = 0;
      if (v->post == id) v->post = 0;
      if (v->held_get == id) v->held_get = 0;
      if (v->held_poll == id) v->held_poll = 0;
      // LongLived needs both sessions; a Polling handshake answer needs its connection.
      const bool needed = c.phase == Conn::Phase::ll_get || c.phase == Conn::Phase::ll_post ||
                          c.phase == Conn::Phase::po_held;
      if (needed && v->state != Vc::State::finished) end_vc(*v, errc::closed);
    }
  }
  conns_.erase(it);
}

void RelayCore::close_conn(Conn& c, std::error_code why) {
  if (c.closing) return;
  c.closing = true;
  c.error = why;
  c.deadline = kNever;
  if (why && why != errc::closed && why != errc::idle_timeout) ++stats_.closed_bad;
  const Conn::Phase phase = c.phase;
  c.phase = Conn::Phase::done;
  mark(c);
  if (c.vc != 0) {
    Vc* v = vc(c.vc);
    if (v != nullptr && v->state != Vc::State::finished &&
        (phase == Conn::Phase::ll_get || phase == Conn::Phase::ll_post ||
         phase == Conn::Phase::po_held)) {
      end_vc(*v, why ? why : make_error_code(errc::closed));
      v = vc(c.vc);  // end_vc may have forgotten it
    }
    if (v != nullptr && v->held_get == c.id) v->held_get = 0;
  }
}

void RelayCore::respond(Conn& c, const ResponseSpec& r, ByteView body, bool close_after) {
  const std::string head = build_response(r);
  c.out.insert(c.out.end(), head.begin(), head.end());
  c.out.insert(c.out.end(), body.begin(), body.end());
  mark(c);
  if (close_after) close_conn(c, {});
}

void RelayCore::respond_error(Conn& c, int status) {
  ResponseSpec r;
  r.status = status;
  r.date = date();
  r.server = options_.server;
  if (status == 400) ++stats_.answered_400;
  if (status == 404) ++stats_.answered_404;
  respond(c, r, {}, false);
  close_conn(c, status == 400 ? make_error_code(errc::bad_encapsulation_version)
                              : make_error_code(errc::not_found));
}

void RelayCore::wait_next_head(Conn& c, TimePoint now) {
  c.head.reset();
  c.phase = Conn::Phase::head;
  c.body.clear();
  c.body_left = 0;
  c.vc = 0;
  c.deadline = now + options_.next_head;  // §2.7 persistent connection idle
}

void RelayCore::receive(ConnId id, ByteView in, TimePoint now) {
  Conn* cp = conn(id);
  if (cp == nullptr) return;
  Conn& c = *cp;
  while (!in.empty() && !c.closing) {
    switch (c.phase) {
      case Conn::Phase::head: {
        Head::Feed f = c.head.feed(in);
        in = in.subspan(f.consumed);
        if (f.error) return close_conn(c, f.error);
        if (!f.complete) return;
        on_head(c, now);
        break;
      }
      case Conn::Phase::body: {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(c.body_left, in.size()));
        c.body.insert(c.body.end(), in.begin(), in.begin() + static_cast<std::ptrdiff_t>(n));
        c.body_left -= n;
        in = in.subspan(n);
        if (c.body_left == 0) on_body(c, now);
        break;
      }
      case Conn::Phase::ll_post:
        long_lived_body(c, in, now);
        in = {};
        break;
      case Conn::Phase::ll_get:
      case Conn::Phase::ka_held:
      case Conn::Phase::po_held:
        // §4.3: requests are never pipelined; nothing may come while an answer is pending.
        return close_conn(c, errc::unexpected_bytes);
      case Conn::Phase::done:
        return;
    }
  }
}

void RelayCore::receive_eof(ConnId id, TimePoint) {
  Conn* c = conn(id);
  if (c == nullptr || c->closing) return;
  switch (c->phase) {
    case Conn::Phase::head:
      // Between requests a close is normal; inside a head it is a truncated request.
      return close_conn(
          *c, c->head.size() == 0 ? std::error_code{} : make_error_code(errc::malformed_head));
    case Conn::Phase::body:
      return close_conn(*c, errc::truncated_body);
    default:
      return close_conn(*c, errc::closed);
  }
}

void RelayCore::on_head(Conn& c, TimePoint now) {
  ++stats_.requests;
  c.deadline = kNever;
  const Head& h = c.head;
  // §2.1: Transfer-Encoding is never used; Content-Length frames every body.
  if (h.has_transfer_encoding()) return close_conn(c, errc::transfer_encoding);
  const bool get = h.method() == "GET";
  const bool post = h.method() == "POST";
  c.post = post;
  TargetResult tr = parse_target(h.target());
  if (tr.error) return close_conn(c, tr.error);
  const Target& t = tr.target;
  switch (t.kind) {
    case Target::Kind::not_found:
      return respond_error(c, 404);
    case Target::Kind::bad_version:
      return respond_error(c, 400);
    case Target::Kind::polling: {
      // §5.1: the request line must be a POST; §5.9: body ≤ 32768.
      if (!post) return close_conn(c, errc::bad_uri);
      auto cl = h.content_length();
      if (!cl || *cl == 0 || *cl > kPollingMaxBody) return close_conn(c, errc::bad_content_length);
      c.phase = Conn::Phase::body;
      c.body_left = *cl;
      c.deadline = now + options_.first_head;
      return;
    }
    case Target::Kind::encapsulation:
      break;
  }
  if (!get && !post) return respond_error(c, 404);
  if (!own_name(t.server_name)) return close_conn(c, errc::bad_server_name);
  if (t.type == ConnType::long_lived) return dispatch_long_lived(c, t, now);
  if (get) return dispatch_keep_alive_get(c, t, now);
  auto cl = h.content_length();
  if (!cl || *cl > kKeepAliveMaxBody) return close_conn(c, errc::bad_content_length);
  c.body.clear();
  if (*cl == 0) {
    // §4.3: a Content-Length 0 POST (a forwarded NTLM leg) changes nothing.
    ResponseSpec r{200, date(), options_.server, true, 0, std::nullopt};
    respond(c, r, {}, false);
    return wait_next_head(c, now);
  }
  c.phase = Conn::Phase::body;
  c.body_left = *cl;
  c.deadline = now + options_.first_head;
  // The GUID is read again from the head once the body is in.
}

void RelayCore::on_body(Conn& c, TimePoint now) {
  c.deadline = kNever;
  TargetResult tr = parse_target(c.head.target());
  if (tr.target.kind == Target::Kind::polling) return dispatch_polling(c, now);
  dispatch_keep_alive_post(c, now);
}

RelayCore::Vc* RelayCore::find_or_open_vc(Conn& c, VcType type, const std::string& guid,
                                          std::uint64_t ccl, TimePoint now) {
  if (recently_ended(guid)) {
    close_conn(c, errc::unknown_guid);
    return nullptr;
  }
  auto it = by_guid_.find(guid);
  if (it == by_guid_.end()) {
    auto nv = std::make_unique<Vc>();
    nv->id = next_vc_++;
    nv->type = type;
    nv->guid = guid;
    nv->ccl = ccl;
    nv->deadline = now + options_.establishment;
    Vc* v = nv.get();
    by_guid_.emplace(guid, v->id);
    vcs_.emplace(v->id, std::move(nv));
    return v;
  }
  Vc* v = vc(it->second);
  if (v == nullptr || v->type != type) {
    close_conn(c, errc::bad_conn_type);
    return nullptr;
  }
  return v;
}

// ---------------------------------------------------------------- LongLived (§3)

void RelayCore::dispatch_long_lived(Conn& c, const Target& t, TimePoint now) {
  const std::uint64_t ccl = *t.content_length;
  if (ccl < kMinLongLivedBudget || ccl > kLongLivedBudget) return respond_error(c, 400);
  std::optional<std::uint64_t> post_length;
  if (c.post) {
    post_length = c.head.content_length();
    if (post_length && *post_length == 0) {
      // §3.3: a forwarded NTLM first leg: 200, CL 0, Keep-Alive, nothing changes.
      ResponseSpec r{200, date(), options_.server, true, 0, std::nullopt};
      respond(c, r, {}, false);
      return wait_next_head(c, now);
    }
    if (!post_length || *post_length > ccl) return close_conn(c, errc::bad_content_length);
  }
  Vc* v = find_or_open_vc(c, VcType::long_lived, t.guid, ccl, now);
  if (v == nullptr) return;
  // §3.6 row 3: a session recorded twice gets 400 on the new connection only.
  if ((c.post && v->post != 0) || (!c.post && v->get != 0)) return respond_error(c, 400);
  c.vc = v->id;
  c.owner = v->id;
  if (c.post) {
    v->post = c.id;
    c.phase = Conn::Phase::ll_post;
    c.body_left = *post_length;
  } else {
    v->get = c.id;
    c.phase = Conn::Phase::ll_get;
  }
  maybe_establish_long_lived(*v, now);
}

bool RelayCore::count_post_body(Conn& c, Vc& v, std::size_t n) {
  // §3.4: more than ConnectionContentLength POST bytes is a protocol error.
  v.post_received += n;
  if (n > c.body_left || v.post_received > v.ccl) {
    end_vc(v, errc::budget_exceeded);
    return false;
  }
  c.body_left -= n;
  return true;
}

void RelayCore::append_input(Vc& v, ByteView data) {
  detail::append_unread(v.in, v.in_pos, data);
  mark(v);
}

void RelayCore::long_lived_body(Conn& c, ByteView in, TimePoint now) {
  Vc* v = vc(c.vc);
  if (v == nullptr || v->state == Vc::State::finished) return close_conn(c, errc::closed);
  if (!count_post_body(c, *v, in.size())) return;
  if (!v->post_ready) {
    const std::size_t k = std::min(kEcho.size() - v->echo_seen, in.size());
    if (as_chars(in.first(k)) != kEcho.substr(v->echo_seen, k)) {
      end_vc(*v, errc::bad_echo);
      return;
    }
    v->echo_seen += k;
    in = in.subspan(k);
    if (v->echo_seen == kEcho.size()) {
      v->post_ready = true;
      maybe_establish_long_lived(*v, now);
    }
  }
  if (!in.empty()) append_input(*v, in);
}

void RelayCore::maybe_establish_long_lived(Vc& v, TimePoint now) {
  if (v.state != Vc::State::connecting || v.get == 0 || !v.post_ready) return;
  Conn* g = conn(v.get);
  if (g == nullptr) return;
  // §3.3: the GET answer and the echo signal "established"; its Content-Length is the budget.
  ResponseSpec r{200, date(), options_.server, false, v.ccl, std::nullopt};
  respond(*g, r, as_bytes(kEcho), false);
  v.get_sent = kEcho.size();
  established(v, now);
}

// ---------------------------------------------------------------- KeepAlive (§4)

void RelayCore::dispatch_keep_alive_get(Conn& c, const Target& t, TimePoint now) {
  Vc* v = find_or_open_vc(c, VcType::keep_alive, t.guid, 0, now);
  if (v == nullptr) return;
  v->last_request = now;
  c.vc = v->id;
  c.owner = v->id;
  c.phase = Conn::Phase::ka_held;
  if (v->state == Vc::State::connecting) {
    if (v->handshake_get) return close_conn(c, errc::duplicate_session);  // §12.5: new GUID only
    v->handshake_get = true;
    v->held_get = c.id;
    return maybe_establish_keep_alive(*v, now);
  }
  // Data GET (§4.3): a newer GET releases an older held one with an empty answer.
  if (v->held_get != 0) {
    const VcId keep = v->id;
    answer_keep_alive_get(*v, now);
    v = vc(keep);
    if (v == nullptr) return close_conn(c, errc::closed);
  }
  v->held_get = c.id;
  v->deadline = now + options_.ka_hold;
  if (v->queued() > 0 || v->sstp_closed) answer_keep_alive_get(*v, now);
}

void RelayCore::dispatch_keep_alive_post(Conn& c, TimePoint now) {
  TargetResult tr = parse_target(c.head.target());
  const std::string& guid = tr.target.guid;
  if (recently_ended(guid)) return close_conn(c, errc::unknown_guid);
  auto it = by_guid_.find(guid);
  ResponseSpec ok{200, date(), options_.server, true, 0, std::nullopt};
  if (it == by_guid_.end()) {
    // §4.5 row 2: a handshake POST creates the VC; any other POST for an unknown GUID closes.
    if (!is_echo(c.body)) return close_conn(c, errc::unknown_guid);
    auto nv = std::make_unique<Vc>();
    nv->id = next_vc_++;
    nv->type = VcType::keep_alive;
    nv->guid = guid;
    nv->deadline = now + options_.establishment;
    nv->handshake_post = true;
    nv->last_request = now;
    Vc* v = nv.get();
    by_guid_.emplace(guid, v->id);
    vcs_.emplace(v->id, std::move(nv));
    c.owner = v->id;
    respond(c, ok, {}, false);
    wait_next_head(c, now);
    return maybe_establish_keep_alive(*v, now);
  }
  Vc* v = vc(it->second);
  if (v == nullptr || v->type != VcType::keep_alive) return close_conn(c, errc::bad_conn_type);
  v->last_request = now;
  if (v->state == Vc::State::connecting) {
    if (v->handshake_post || !is_echo(c.body)) {
      end_vc(*v, errc::bad_echo);
      return close_conn(c, errc::bad_echo);
    }
    v->handshake_post = true;
    c.owner = v->id;
    respond(c, ok, {}, false);
    wait_next_head(c, now);
    return maybe_establish_keep_alive(*v, now);
  }
  if (v->state != Vc::State::established) return close_conn(c, errc::closed);
  c.owner = v->id;
  append_input(*v, c.body);
  respond(c, ok, {}, false);
  wait_next_head(c, now);
}

void RelayCore::maybe_establish_keep_alive(Vc& v, TimePoint now) {
  if (v.state != Vc::State::connecting || !v.handshake_get || !v.handshake_post || v.held_get == 0)
    return;
  Conn* g = conn(v.held_get);
  if (g == nullptr) return;
  // §4.3: the held handshake GET gets 200, CL 22, the echo string.
  ResponseSpec r{200, date(), options_.server, true, kEcho.size(), std::nullopt};
  respond(*g, r, as_bytes(kEcho), false);
  wait_next_head(*g, now);
  v.held_get = 0;
  established(v, now);
}

void RelayCore::answer_keep_alive_get(Vc& v, TimePoint now) {
  Conn* g = conn(v.held_get);
  v.held_get = 0;
  v.deadline = kNever;
  if (g == nullptr) return;
  const std::size_t n = std::min(v.queued(), kKeepAliveChunk);
  ResponseSpec r{200, date(), options_.server, true, n, std::nullopt};
  respond(*g, r, ByteView(v.out).subspan(v.out_pos, n), false);
  v.out_pos += n;
  if (v.out_pos == v.out.size()) {
    v.out.clear();
    v.out_pos = 0;
  }
  mark(v);
  wait_next_head(*g, now);
  // §4.5 row 10: after the SSTP connection closed, the last bytes go out, then everything closes.
  if (v.sstp_closed && v.queued() == 0) {
    close_conn(*g, {});
    end_vc(v, {});
  }
}

// ---------------------------------------------------------------- Polling (§5)

void RelayCore::dispatch_polling(Conn& c, TimePoint now) {
  ParsedBody pb = parse_polling_body(c.body);
  if (pb.error) return close_conn(c, pb.error);
  if (!own_name(pb.prefix.server_url)) return close_conn(c, errc::bad_server_name);
  const PollingPrefix& p = pb.prefix;
  const bool checksum_ok = polling_checksum(pb.data) == p.checksum;
  if (recently_ended(p.guid)) return close_conn(c, errc::unknown_guid);
  auto it = by_guid_.find(p.guid);
  if (it == by_guid_.end()) {
    // §5.12 rows 1-2: only a probe may introduce a GUID.
    if (p.sequence != 0 || p.checksum != 0 || !pb.data.empty())
      return close_conn(c, errc::unknown_guid);
    auto nv = std::make_unique<Vc>();
    nv->id = next_vc_++;
    nv->type = VcType::polling;
    nv->guid = p.guid;
    nv->server_url = p.server_url;
    nv->deadline = now + options_.establishment;
    nv->last_request = now;
    Vc* v = nv.get();
    by_guid_.emplace(p.guid, v->id);
    vcs_.emplace(v->id, std::move(nv));
    const Bytes body = encode_polling_body(v->server_url, v->guid, 0, {});
    ResponseSpec r{200, date(), options_.server, false, body.size(), options_.poll};
    return respond(c, r, body, true);
  }
  Vc* v = vc(it->second);
  if (v == nullptr || v->type != VcType::polling) return close_conn(c, errc::bad_conn_type);
  v->last_request = now;
  c.vc = v->id;
  if (v->state == Vc::State::connecting) {
    // §5.12 row 3: handshake 2 carries data at sequence 0 with its checksum.
    if (p.sequence != 0 || pb.data.empty() || !checksum_ok) {
      const errc why = pb.data.empty() ? errc::missing_data
                       : !checksum_ok  ? errc::bad_checksum
                                       : errc::bad_sequence;
      end_vc(*v, why);
      return close_conn(c, why);
    }
    append_input(*v, pb.data);
    v->held_poll = c.id;
    c.phase = Conn::Phase::po_held;
    established(*v, now);
    v->deadline = now + options_.po_hold;  // §5.6: wait for the ConnectResponse
    mark(*v);
    return;
  }
  if (v->state != Vc::State::established || v->held_poll != 0) {
    end_vc(*v, errc::bad_sequence);
    return close_conn(c, errc::bad_sequence);
  }
  // §5.12 rows 5-6.
  errc why = errc::ok;
  if (pb.data.empty()) {
    why = errc::missing_data;
  } else if (p.sequence != v->request_seq + 1) {
    why = errc::bad_sequence;
  } else if (!checksum_ok) {
    why = errc::bad_checksum;
  }
  if (why != errc::ok) {
    end_vc(*v, why);
    return close_conn(c, why);
  }
  ++v->request_seq;
  append_input(*v, pb.data);
  ++v->response_seq;
  answer_polling(*v, c, now);
}

void RelayCore::answer_polling(Vc& v, Conn& c, TimePoint) {
  const std::size_t room = polling_data_room(v.server_url, v.guid, v.response_seq);
  const std::size_t n = std::min(v.queued(), room);
  const Bytes body = encode_polling_body(v.server_url, v.guid, v.response_seq,
                                         ByteView(v.out).subspan(v.out_pos, n));
  v.out_pos += n;
  if (v.out_pos == v.out.size()) {
    v.out.clear();
    v.out_pos = 0;
  }
  mark(v);
  ResponseSpec r{200, date(), options_.server, false, body.size(), options_.poll};
  c.phase = Conn::Phase::done;
  respond(c, r, body, true);
  // §5.12 row 9: once the last bytes (ending with ConnectClose) are fetched, drop the GUID.
  if (v.sstp_closed && v.queued() == 0) end_vc(v, {});
}

// ---------------------------------------------------------------- VCs

void RelayCore::established(Vc& v, TimePoint now) {
  v.state = Vc::State::established;
  v.deadline = kNever;
  v.last_request = now;
  v.adopted = true;
  new_vcs_.push_back(v.id);
  ++stats_.vcs_established;
  mark(v);
}

void RelayCore::end_vc(Vc& v, std::error_code why) {
  if (v.state == Vc::State::finished) return;
  v.state = Vc::State::finished;
  v.error = why;
  v.deadline = kNever;
  by_guid_.erase(v.guid);
  mark(v);
  for (ConnId id : {v.get, v.post, v.held_get, v.held_poll}) {
    if (id == 0) continue;
    if (Conn* c = conn(id)) close_conn(*c, why ? why : make_error_code(errc::closed));
  }
  if (v.type == VcType::keep_alive) {
    // Persistent connections that last served this VC close with it, so the client (or its
    // proxy) learns at once that the VC is gone.
    for (auto& [cid, c] : conns_) {
      if (c->owner == v.id && !c->closing)
        close_conn(*c, why ? why : make_error_code(errc::closed));
    }
  }
  remember_ended(v.guid);
  maybe_forget_vc(v);
}

void RelayCore::maybe_forget_vc(Vc& v) {
  if (v.state != Vc::State::finished) return;
  if (v.adopted && !v.sstp_closed) return;  // the SSTP side still holds a stream on it
  vcs_.erase(v.id);
}

void RelayCore::remember_ended(const std::string& guid) {
  if (!ended_set_.insert(guid).second) return;
  ended_fifo_.push_back(guid);
  if (ended_fifo_.size() > kRememberEnded) {
    ended_set_.erase(ended_fifo_.front());
    ended_fifo_.pop_front();
  }
}

bool RelayCore::recently_ended(std::string_view guid) const {
  return ended_set_.find(guid) != ended_set_.end();
}

std::vector<RelayCore::VcId> RelayCore::take_new_vcs() {
  std::vector<VcId> out;
  out.swap(new_vcs_);
  return out;
}

ByteView RelayCore::vc_input(VcId id) const {
  const Vc* v = vc(id);
  if (v == nullptr) return {};
  return ByteView(v->in).subspan(v->in_pos);
}

void RelayCore::vc_consume(VcId id, std::size_t n, TimePoint) {
  Vc* v = vc(id);
  if (v == nullptr) return;
  const bool was_full = v->unread() >= options_.max_vc_input;
  v->in_pos = std::min(v->in.size(), v->in_pos + n);
  if (v->in_pos == v->in.size()) {
    v->in.clear();
    v->in_pos = 0;
  }
  if (was_full && v->post != 0) {
    if (Conn* c = conn(v->post)) mark(*c);  // read back-pressure released
  }
}

void RelayCore::vc_send(VcId id, ByteView data, TimePoint now) {
  Vc* v = vc(id);
  if (v == nullptr || v->state != Vc::State::established || data.empty()) return;
  switch (v->type) {
    case VcType::long_lived: {
      Conn* g = conn(v->get);
      if (g == nullptr) return end_vc(*v, errc::closed);
      // §3.4: never pass the budget; close and let the client open a new VC.
      if (v->get_sent + data.size() > v->ccl) return end_vc(*v, errc::renew);
      detail::append_unread(g->out, g->out_pos, data);
      v->get_sent += data.size();
      mark(*g);
      return;
    }
    case VcType::keep_alive:
      detail::append_unread(v->out, v->out_pos, data);
      if (v->held_get != 0) answer_keep_alive_get(*v, now);
      return;
    case VcType::polling:
      detail::append_unread(v->out, v->out_pos, data);
      if (v->held_poll != 0) {
        Conn* c = conn(v->held_poll);
        v->held_poll = 0;
        v->deadline = kNever;
        if (c != nullptr) answer_polling(*v, *c, now);  // handshake 2 answer: sequence 0
      }
      return;
  }
}

std::size_t RelayCore::vc_backlog(VcId id) const {
  const Vc* v = vc(id);
  if (v == nullptr || v->state == Vc::State::finished) return 0;
  if (v->type == VcType::long_lived) {
    const Conn* g = conn(v->get);
    return g == nullptr ? 0 : g->out.size() - g->out_pos + g->writing;
  }
  return v->queued();
}

bool RelayCore::vc_finished(VcId id) const {
  const Vc* v = vc(id);
  return v == nullptr || v->state == Vc::State::finished;
}

std::error_code RelayCore::vc_error(VcId id) const {
  const Vc* v = vc(id);
  return v == nullptr ? make_error_code(errc::closed) : v->error;
}

RelayCore::VcType RelayCore::vc_type(VcId id) const {
  const Vc* v = vc(id);
  return v == nullptr ? VcType::long_lived : v->type;
}

std::string RelayCore::vc_guid(VcId id) const {
  const Vc* v = vc(id);
  return v == nullptr ? std::string{} : v->guid;
}

void RelayCore::vc_close(VcId id, TimePoint now) {
  Vc* v = vc(id);
  if (v == nullptr) return;
  v->sstp_closed = true;
  if (v->state == Vc::State::finished) return maybe_forget_vc(*v);
  switch (v->type) {
    case VcType::long_lived: {
      // §3.6 row 12: flush what the GET holds, then close both. Closing a connection can end
      // and forget the virtual connection, so it is looked up again after each step.
      const ConnId get = v->get, post = v->post;
      if (Conn* g = conn(get)) close_conn(*g, {});
      if (Conn* p = conn(post)) close_conn(*p, {});
      if ((v = vc(id)) != nullptr) end_vc(*v, {});
      return;
    }
    case VcType::keep_alive:
      if (v->held_get != 0) return answer_keep_alive_get(*v, now);
      if (v->queued() == 0) return end_vc(*v, {});
      return;  // the next GET fetches the rest; the idle timer ends it otherwise
    case VcType::polling:
      if (v->queued() == 0) return end_vc(*v, {});
      return;
  }
}

// ---------------------------------------------------------------- LongLived without copies

bool RelayCore::post_direct(ConnId id) const {
  const Conn* c = conn(id);
  if (c == nullptr || c->closing || c->phase != Conn::Phase::ll_post) return false;
  const Vc* v = vc(c->vc);
  return v != nullptr && v->state == Vc::State::established && v->post == id;
}

RelayCore::VcId RelayCore::conn_vc(ConnId id) const {
  const Conn* c = conn(id);
  return c == nullptr ? 0 : c->vc;
}

bool RelayCore::vc_received_direct(VcId id, std::size_t n, TimePoint) {
  Vc* v = vc(id);
  if (v == nullptr || v->type != VcType::long_lived || !v->adopted || v->unread() > 0) return false;
  Conn* c = conn(v->post);
  if (c == nullptr) return false;
  if (v->state != Vc::State::finished) return count_post_body(*c, *v, n);
  // Late bytes: counted, but the VC is already over.
  if (v->error == errc::budget_exceeded || n > c->body_left || v->post_received + n > v->ccl)
    return false;
  c->body_left -= n;
  v->post_received += n;
  return true;
}

RelayCore::ConnId RelayCore::vc_send_direct(VcId id, std::size_t n) {
  Vc* v = vc(id);
  if (v == nullptr || v->type != VcType::long_lived || v->state != Vc::State::established) return 0;
  Conn* g = conn(v->get);
  if (g == nullptr || g->closing || g->writing > 0 || g->out_pos < g->out.size()) return 0;
  // §3.4: past the budget vc_send() closes the VC.
  if (n == 0 || v->get_sent + n > v->ccl) return 0;
  v->get_sent += n;
  g->writing = n;
  return g->id;
}

// ---------------------------------------------------------------- time

TimePoint RelayCore::next_deadline() const {
  TimePoint t = kNever;
  for (const auto& [id, c] : conns_) t = std::min(t, c->deadline);
  for (const auto& [id, v] : vcs_) {
    if (v->state == Vc::State::finished) continue;
    t = std::min(t, v->deadline);
    if (v->state == Vc::State::established) {
      if (v->type == VcType::keep_alive && v->held_get == 0)
        t = std::min(t, v->last_request + options_.ka_idle);
      if (v->type == VcType::polling) t = std::min(t, v->last_request + options_.po_idle);
    }
  }
  return t;
}

void RelayCore::on_timer(TimePoint now) {
  for (auto& [id, c] : conns_) {
    // §2.7: a request head (or a short body) that does not arrive in time closes the
    // connection, not the virtual connection.
    if (c->deadline <= now && !c->closing) close_conn(*c, errc::idle_timeout);
  }
  std::vector<VcId> ids;
  for (const auto& [id, v] : vcs_) ids.push_back(id);
  for (VcId id : ids) {
    Vc* v = vc(id);
    if (v == nullptr || v->state == Vc::State::finished) continue;
    if (v->state == Vc::State::connecting) {
      if (v->deadline <= now) {
        ++stats_.vcs_expired;
        end_vc(*v, errc::establishment_timeout);
      }
      continue;
    }
    switch (v->type) {
      case VcType::long_lived:
        break;
      case VcType::keep_alive:
        if (v->held_get != 0 && v->deadline <= now) {
          answer_keep_alive_get(*v, now);  // §4.3: empty 200 after 30 s
        } else if (v->held_get == 0 && v->last_request + options_.ka_idle <= now) {
          ++stats_.vcs_expired;
          end_vc(*v, errc::idle_timeout);
        }
        break;
      case VcType::polling:
        if (v->held_poll != 0 && v->deadline <= now) {
          end_vc(*v, errc::establishment_timeout);  // §5.6: no SSTP output within 10 s
        } else if (v->last_request + options_.po_idle <= now) {
          ++stats_.vcs_expired;
          end_vc(*v, errc::idle_timeout);
        }
        break;
    }
  }
}

}  // namespace grove::henc
