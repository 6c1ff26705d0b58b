// Fuzz target for the SSTP connection engine (src/engine): the input is what a peer sends.
//
// Layout: byte 0 selects the setup (Mode bits below), byte 1 seeds the generator that picks chunk
// sizes and owner decisions, its low two bits also choose how fast the clock runs; the rest is the
// peer's byte stream. The engine is driven
// as its owner would drive it (nghttp2 fuzz_target.cc, style.md rule 16): every event answered,
// output drained, time advanced, on_timer() called when next_deadline() passes.
//
// Oracle (h11's "anything but RemoteProtocolError is a bug"): no crash, UB or leak (sanitizers);
// every reported error is a grove.sstp errc; receive() always makes progress and never claims more
// than it was given; output stays linear in the input; once closed, the engine is finished() when
// its output drained, and never later than the linger time.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <vector>

#include "engine/connection.hpp"

namespace {

using namespace grove;
using namespace grove::engine;
using namespace std::chrono_literals;

enum Mode : std::uint8_t {
  kInitiator = 0x01,       // we sent Connect (client, grove-auth-1); else relay acceptor
  kMinor15 = 0x02,         // our highest version is 1.5
  kChannelBinding = 0x04,  // both sides' configuration binds to a TLS exporter value
  kRefuse = 0x08,          // acceptor: refuse the Connect instead of accepting it
  kNotReady = 0x10,        // answer some Opens with not_ready / fault
  kLazyAck = 0x20,         // process received messages late, out of order
  kSend = 0x40,            // open sessions and send messages of our own
  kCloseAtEnd = 0x80,      // close() ourselves at the end instead of a peer EOF
};

[[noreturn]] void oracle_failed(const char* what) {
  __builtin_printf("engine_fuzz oracle: %s\n", what);
  std::abort();
}
#define ORACLE(cond)                   \
  do {                                 \
    if (!(cond)) oracle_failed(#cond); \
  } while (0)

// xorshift32: decisions derived from the input, reproducible.
struct Rng {
  std::uint32_t s;
  std::uint32_t next() {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
  }
  std::uint32_t below(std::uint32_t n) { return next() % n; }
};

std::function<bool(std::span<Byte>)> fixed_random(Byte first) {
  return [first](std::span<Byte> out) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<Byte>(first + i);
    return true;
  };
}

auth::Secret secret() {
  auth::Secret s{};
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<Byte>(i);  // auth.md §9.1
  return s;
}

void check_error(const std::error_code& ec) {
  ORACLE(!ec || ec.category() == sstp::sstp_category());
}

struct Driver {
  Driver(std::uint8_t mode, std::uint8_t seed, std::size_t input_size)
      : mode(mode),
        clock_scale(seed & 3u),
        rng{0x9e3779b9u ^ (std::uint32_t{seed} << 8 | mode)},
        conn(options(mode), now),
        output_budget(64 * 1024 + 16 * input_size) {}

  static Options options(std::uint8_t mode) {
    Options o;
    o.random = fixed_random((mode & kInitiator) ? 0xa0 : 0xc0);
    o.minor_version = (mode & kMinor15) ? sstp::kMinor15 : sstp::kMinor16;
    if (mode & kChannelBinding) {
      auth::ChannelBinding cb{};
      for (std::size_t i = 0; i < cb.size(); ++i) cb[i] = static_cast<Byte>(0x40 + i);
      o.channel_binding = cb;
    }
    if (mode & kInitiator) {
      o.role = Role::initiator;
      o.local_device_url = "grove://relay.example/d/alice-pc";
      o.target_device_url = "grove://relay.example";
      o.device_secret = secret();
    } else {
      o.role = Role::acceptor;
      o.local_device_urls = {"grove://relay.example"};
      o.require_authentication = true;
      o.relay = true;
      o.product_version = "Grove Relay 1.0 1";
    }
    return o;
  }

  std::uint8_t mode;
  unsigned clock_scale;  // 0 frozen, 1 < 1 s per chunk, 2 rare jumps, 3 frequent jumps
  Rng rng;
  TimePoint now = TimePoint{} + 1000h;
  Connection conn;
  std::size_t output_budget;
  std::size_t output_total = 0;
  Bytes taken;
  std::deque<std::uint64_t> to_process;  // MessageEnded seqs not yet processed
  std::vector<std::uint32_t> ready;      // our sessions that may carry messages
  unsigned opened = 0;
  unsigned closed_events = 0;
  std::uint64_t cookie = 0;
  volatile Byte sink = 0;

  void send_one(std::uint32_t id) {
    // Capped so our own traffic cannot outgrow the output budget (each acknowledgement would
    // otherwise trigger one more message).
    if (!(mode & kSend) || cookie >= 64) return;
    Byte payload[64];
    const std::size_t n = rng.below(sizeof payload + 1);
    for (std::size_t i = 0; i < n; ++i) payload[i] = static_cast<Byte>(rng.next());
    MessageOptions mo;
    mo.flags = static_cast<std::uint8_t>(rng.next() & 0x25);  // G, A, D
    if (rng.below(4) == 0) mo.total_size = n;
    check_error(conn.send_message(id, mo, ByteView(payload, n), ++cookie));
  }

  // Our own sessions: an Open (id 1 or 2) and a FanoutOpen (id 3 or 4) as soon as we may send,
  // and a replacement after each refusal or close, at most 8 in all.
  void maybe_open() {
    if (!(mode & kSend) || !conn.can_send()) return;
    while (opened < 8) {
      std::uint32_t id = 0;
      if (opened++ % 2 == 0) {
        check_error(conn.open_session("grove:chat", "grove://relay.example/i/bob", "", id));
      } else {
        std::vector<sstp::FanoutDeviceEntry> entries{
            {"grove://relay.example/i/bob", "grove://relay.example/d/bob-pc", "", ""},
            {"grove://relay.example/i/carol", "", "", ""}};
        check_error(conn.open_fanout("grove:chat", std::move(entries), id));
        return;
      }
    }
  }

  void answer_events() {
    while (auto e = conn.next_event()) {
      if (auto* r = std::get_if<ConnectRequested>(&*e)) {
        (void)r;
        if (mode & kRefuse)
          check_error(conn.refuse_connection(sstp::ConnectResponseId::TryLater, 30));
        else
          check_error(conn.accept_connection(secret()));
      } else if (std::holds_alternative<Established>(*e) ||
                 std::holds_alternative<Authenticated>(*e)) {
        maybe_open();
        if (mode & kInitiator) {  // an identity, as `grove receive --identity` does
          std::uint32_t id = 0;
          check_error(conn.attach("grove://relay.example/i/bob", secret(), id));
        }
      } else if (auto* at = std::get_if<AttachRequested>(&*e)) {
        const bool known = rng.below(4) != 0;
        check_error(
            conn.answer_attach(at->event_id, known ? std::optional(secret()) : std::nullopt));
      } else if (auto* ar = std::get_if<AttachResult>(&*e)) {
        std::uint32_t id = 0;
        if (ar->attached && (mode & kInitiator))
          check_error(conn.register_identity(ar->identity_url, id));
      } else if (auto* rr = std::get_if<RegisterRequested>(&*e)) {
        check_error(conn.respond_register(
            rr->event_id, static_cast<sstp::AttachResponseId>(rng.below(2) ? 0 : 0x0b)));
      } else if (auto* fr = std::get_if<FanoutRequested>(&*e)) {
        std::vector<std::uint16_t> faulted;
        for (std::size_t i = 0; i < fr->entries.size(); ++i)
          if (rng.below(3) == 0) faulted.push_back(static_cast<std::uint16_t>(i));
        check_error(conn.respond_fanout(fr->session_id, Availability::ready, faulted));
      } else if (std::holds_alternative<SessionRefused>(*e) ||
                 std::holds_alternative<SessionClosed>(*e)) {
        if (rng.below(2) == 0) maybe_open();
      } else if (auto* s = std::get_if<SessionRequested>(&*e)) {
        Availability a = Availability::ready;
        if (mode & kNotReady) {
          const auto pick = rng.below(4);
          a = pick == 0 ? Availability::not_ready : pick == 1 ? Availability::fault : a;
        }
        check_error(conn.respond_open(s->session_id, a));
      } else if (auto* d = std::get_if<MessageData>(&*e)) {
        // Touch every byte: a dangling view shows up under ASan.
        for (Byte b : d->data) sink = static_cast<Byte>(sink + b);
      } else if (auto* m = std::get_if<MessageEnded>(&*e)) {
        if (mode & kLazyAck)
          to_process.push_back(m->seq);
        else
          conn.message_processed(m->seq);
      } else if (auto* sr = std::get_if<SessionReady>(&*e)) {
        ready.push_back(sr->session_id);
        send_one(sr->session_id);
      } else if (std::holds_alternative<Acknowledged>(*e)) {
        if (!ready.empty()) send_one(ready[rng.below(static_cast<std::uint32_t>(ready.size()))]);
      } else if (auto* st = std::get_if<FanoutStatus>(&*e)) {
        if (st->all_failed) check_error(conn.close_session(st->session_id));
      } else if (auto* c = std::get_if<ConnectionClosed>(&*e)) {
        ++closed_events;
        ORACLE(closed_events == 1);  // exactly one ConnectionClosed per connection
        check_error(c->error);
      }
    }
  }

  void process_some() {
    while (!to_process.empty() && rng.below(2) == 0) {
      // Out of order on purpose: pick from either end.
      if (rng.below(2) == 0) {
        conn.message_processed(to_process.front());
        to_process.pop_front();
      } else {
        conn.message_processed(to_process.back());
        to_process.pop_back();
      }
    }
  }

  void drain_output(bool all) {
    const std::size_t pending = conn.pending_output().size();
    if (all && rng.below(4) == 0) {
      conn.take_output(taken);  // the zero-copy hand-over must give exactly the pending bytes
      ORACLE(taken.size() == pending);
      ORACLE(conn.pending_output().empty());
      output_total += pending;
    } else {
      const std::size_t n =
          all || pending == 0 ? pending : rng.below(static_cast<std::uint32_t>(pending + 1));
      output_total += n;
      conn.consume_output(n);
    }
    ORACLE(output_total <= output_budget);
  }

  void tick() {
    // Jumps reach every timer of §7.6; a clock that jumps often ends most handshakes (30 s), so
    // the seed byte chooses the pace.
    static constexpr std::chrono::milliseconds kJumps[] = {1ms, 100ms, 1s, 2s, 5s, 30s, 46s, 135s};
    switch (clock_scale) {
      case 0:
        break;
      case 1:
        now += std::chrono::milliseconds(rng.below(1000));
        break;
      case 2:
        if (rng.below(16) == 0) now += kJumps[rng.below(8)];
        break;
      default:
        now += kJumps[rng.below(8)];
        break;
    }
    const auto deadline = conn.next_deadline();
    ORACLE(!deadline || conn.state() != Connection::State::gone);
    // Due timers, plus an occasional early wake-up, which must be harmless.
    if ((deadline && now >= *deadline) || rng.below(8) == 0) conn.on_timer(now);
  }

  void feed(ByteView stream) {
    while (!stream.empty()) {
      // Small slices until established: the acceptor's owner answers ConnectRequested between
      // receive() calls, and a real initiator sends nothing after Connect before the answer.
      std::size_t chunk =
          conn.established() && rng.below(4) == 0 ? 1 + rng.below(2100) : 1 + rng.below(24);
      if (chunk > stream.size()) chunk = stream.size();
      ByteView slice = stream.first(chunk);
      stream = stream.subspan(chunk);
      while (!slice.empty()) {
        const std::size_t used = conn.receive(slice, now);
        ORACLE(used <= slice.size());
        ORACLE(used > 0);  // progress, or the owner loops forever
        slice = slice.subspan(used);
        answer_events();
      }
      process_some();
      answer_events();
      drain_output(rng.below(4) != 0);
      tick();
      answer_events();
    }
  }

  void finish() {
    process_some();
    answer_events();
    if (mode & kCloseAtEnd) {
      conn.close(sstp::ConnectCloseReason::NoReason);
    } else {
      conn.receive_eof();
    }
    answer_events();
    ORACLE(closed_events == 1);
    ORACLE(conn.state() == Connection::State::aborting || conn.state() == Connection::State::gone);
    // Input after the close is discarded whole (C12).
    const Byte noop[] = {0x10, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00};
    ORACLE(conn.receive(noop, now) == sizeof noop);
    ORACLE(!conn.next_event());
    // Linger bound: finished by 2 s later even if nothing is written...
    conn.on_timer(now + 2s);
    ORACLE(conn.finished());
    ORACLE(!conn.next_event());
    // ...and in any case once the output drained.
    drain_output(true);
    ORACLE(conn.finished());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Driver d(data[0], data[1], size);
  d.answer_events();
  d.drain_output(true);
  d.feed(ByteView(data + 2, size - 2));
  d.finish();
  return 0;
}
