// The relay side of the HTTP encapsulations (henc.md §2.7, §3.6, §4.5, §5.12, §12.3, §12.5,
// §12.7), sans-I/O: one object holds every port-80 TCP connection and every virtual connection
// (VC), keyed by GUID. The caller accepts sockets, feeds bytes and time, writes what the core
// queues, closes what it says to close, and hands each established VC to the SSTP engine.
//
//   ConnId c = core.accept(now);            per accepted socket
//   core.receive(c, bytes, now); core.receive_eof(c, now);
//   core.output(c) / core.consume(c, n);     bytes to write; core.closing(c): close once written
//   core.take_new_vcs()                       established VCs to attach an SSTP connection to
//   core.vc_input(v) / vc_consume(v, n)       SSTP bytes from the client
//   core.vc_send(v, bytes)                    SSTP bytes to the client
//   core.post_direct(c), vc_received_direct()  LongLived: the SSTP side reads the POST socket
//   core.vc_send_direct(v, n), wrote(c)        LongLived: the SSTP side writes the GET socket
//   core.vc_close(v)                          the SSTP connection ended
//   core.next_deadline(); core.on_timer(now)
//   core.take_dirty(conns, vcs)               what changed since the last call: wake those
//
// Every limit is bounded: heads 8192 bytes, bodies by Content-Length limits, VC queues by the
// caller's back-pressure (can_receive, vc_backlog). The core reads no clock and never throws
// on peer input: bad input closes the connection (or answers 400/404) and is counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "henc/errc.hpp"
#include "henc/head.hpp"
#include "henc/messages.hpp"
#include "henc/wire.hpp"

namespace grove::henc {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using std::chrono::milliseconds;

struct RelayCoreOptions {
  // §2.2: the relay's own names (case-insensitive); empty = no check (embedded demo).
  std::vector<std::string> server_names;
  std::string server = "Grove-Relay/1.0";
  PollParams poll;                    // §5.8, advertised on every Polling answer (Max ≤ 30000)
  milliseconds first_head{30000};     // §2.7: first request head after accept
  milliseconds next_head{120000};     // §2.7: next request on a persistent connection
  milliseconds establishment{30000};  // §10: first request to Established
  milliseconds ka_hold{30000};        // §4.3: a data GET is held this long
  milliseconds ka_idle{90000};        // §4.5 row 7
  milliseconds po_hold{10000};        // §5.6: handshake-2 answer waits for SSTP output
  milliseconds po_idle{60000};        // §5.12 row 7
  // Back-pressure: receive no more client bytes while a VC holds this many unread ones.
  std::size_t max_vc_input = 1 << 20;
  // Seconds since 1970 for the Date header; the core reads no clock.
  std::function<std::int64_t()> unix_now = [] { return std::int64_t{0}; };
};

// Counters for logs and metrics.
struct RelayCoreStats {
  std::uint64_t requests = 0;
  std::uint64_t closed_bad = 0;  // connections closed for a protocol error
  std::uint64_t answered_400 = 0;
  std::uint64_t answered_404 = 0;
  std::uint64_t vcs_established = 0;
  std::uint64_t vcs_expired = 0;
};

class RelayCore {
 public:
  using ConnId = std::uint64_t;
  using VcId = std::uint64_t;
  enum class VcType { long_lived, keep_alive, polling };

  explicit RelayCore(RelayCoreOptions options);
  ~RelayCore();
  RelayCore(const RelayCore&) = delete;
  RelayCore& operator=(const RelayCore&) = delete;

  // ---- TCP connections ----
  [[nodiscard]] ConnId accept(TimePoint now);
  // Feeds bytes read from the connection; always consumes all of them.
  void receive(ConnId c, ByteView in, TimePoint now);
  void receive_eof(ConnId c, TimePoint now);
  // False while the VC this connection feeds holds max_vc_input unread bytes: stop reading.
  [[nodiscard]] bool can_receive(ConnId c) const;
  [[nodiscard]] ByteView output(ConnId c) const;
  void consume(ConnId c, std::size_t n);
  // Swaps all of output(c) into `into` (the same as output() then consume(), without a copy).
  // The core keeps `into`'s old buffer, cleared, for its next output: a busy connection reuses
  // two buffers instead of growing a new one for every write.
  void take_output(ConnId c, Bytes& into);
  // The bytes of the last take_output(c) or vc_send_direct() are written: they no longer count
  // as backlog.
  void wrote(ConnId c);
  // True once the connection must be closed after its output is written.
  [[nodiscard]] bool closing(ConnId c) const;
  // The caller closed the socket (after closing(), or on a write error): forget it.
  void release(ConnId c, TimePoint now);
  // The last error that made the core close `c` (for -vv logs); empty when none.
  [[nodiscard]] std::error_code conn_error(ConnId c) const;

  // ---- virtual connections ----
  [[nodiscard]] std::vector<VcId> take_new_vcs();
  [[nodiscard]] ByteView vc_input(VcId v) const;
  void vc_consume(VcId v, std::size_t n, TimePoint now);
  // Queues SSTP bytes for the client. LongLived: straight onto the GET connection, or the VC
  // closes when the budget would be passed (§3.4 renewal).
  void vc_send(VcId v, ByteView data, TimePoint now);
  // SSTP bytes queued and not yet written (write back-pressure).
  [[nodiscard]] std::size_t vc_backlog(VcId v) const;
  // True when no more input will come (the HTTP side ended the VC).
  [[nodiscard]] bool vc_finished(VcId v) const;
  [[nodiscard]] std::error_code vc_error(VcId v) const;
  [[nodiscard]] VcType vc_type(VcId v) const;
  [[nodiscard]] std::string vc_guid(VcId v) const;
  // The SSTP connection on this VC ended: flush and close its connections (§3.6 row 12,
  // §4.5 row 10, §5.12 row 9). The VC is forgotten once the HTTP side is done with it.
  void vc_close(VcId v, TimePoint now);

  // ---- LongLived without copies ----
  // Once a LongLived VC is established, its POST body is nothing but SSTP bytes and its GET
  // body nothing but the SSTP side's output, so the caller may move them between the sockets
  // and the SSTP side's own buffers instead of through receive()/vc_input() and
  // vc_send()/output(). The core still counts every byte against the budget (§3.4).
  //
  // True when `c` is the POST session of an established LongLived VC: the caller may stop
  // calling receive(c) and let the VC's SSTP side read the socket, once vc_input() is empty.
  // The SSTP side then also decides when that socket is done with (until release(c)); the
  // caller should not close it while bytes that arrived before the VC ended may be unread.
  [[nodiscard]] bool post_direct(ConnId c) const;
  // The VC whose session (or last request) `c` carries; 0 when none.
  [[nodiscard]] VcId conn_vc(ConnId c) const;
  // `n` POST body bytes the SSTP side read from the socket itself (only while vc_input(v) is
  // empty, so the order holds), counted against the budget. False when they must be dropped:
  // more than the budget ends the VC (§3.4) as in receive(), and once a VC ended for that, it
  // takes nothing more. Bytes read after the VC ended otherwise (the GET closed, the relay
  // renewed) are still taken: the client sent them before it could know, as receive() keeps
  // what it read before the end in vc_input().
  [[nodiscard]] bool vc_received_direct(VcId v, std::size_t n, TimePoint now);
  // Asks to write `n` SSTP bytes on the GET session straight from the caller's buffer. Returns
  // that connection when nothing is queued or being written on it and the budget allows `n`:
  // the bytes are counted as sent and as backlog until wrote(c). Returns 0 otherwise; the
  // caller then uses vc_send(), which queues the bytes after the others (or renews, §3.4).
  [[nodiscard]] ConnId vc_send_direct(VcId v, std::size_t n);

  // ---- time ----
  [[nodiscard]] TimePoint next_deadline() const;
  void on_timer(TimePoint now);

  // Connections and VCs whose state or queues changed since the last call.
  void take_dirty(std::vector<ConnId>& conns, std::vector<VcId>& vcs);

  [[nodiscard]] const RelayCoreStats& stats() const { return stats_; }
  [[nodiscard]] std::size_t connection_count() const;
  [[nodiscard]] std::size_t vc_count() const;

  struct Conn;
  struct Vc;

 private:
  Conn* conn(ConnId c) const;
  Vc* vc(VcId v) const;
  void on_head(Conn& c, TimePoint now);
  void on_body(Conn& c, TimePoint now);
  // The VC a LongLived or KeepAlive GET/POST names (§3.6, §4.5): the one bound to `guid`, or a
  // new connecting one of `type` with ConnectionContentLength `ccl` (0 for KeepAlive). Closes c
  // and returns nullptr when the GUID ended recently or belongs to another encapsulation.
  Vc* find_or_open_vc(Conn& c, VcType type, const std::string& guid, std::uint64_t ccl,
                      TimePoint now);
  void dispatch_long_lived(Conn& c, const Target& t, TimePoint now);
  void dispatch_keep_alive_get(Conn& c, const Target& t, TimePoint now);
  void dispatch_keep_alive_post(Conn& c, TimePoint now);
  void dispatch_polling(Conn& c, TimePoint now);
  void long_lived_body(Conn& c, ByteView in, TimePoint now);
  // Counts `n` POST body bytes against the VC's budget (§3.4); false (VC ended) when over.
  [[nodiscard]] bool count_post_body(Conn& c, Vc& v, std::size_t n);
  // Appends client bytes to the VC's input (detail::append_unread) and wakes its reader.
  void append_input(Vc& v, ByteView data);
  void maybe_establish_long_lived(Vc& v, TimePoint now);
  void maybe_establish_keep_alive(Vc& v, TimePoint now);
  void answer_keep_alive_get(Vc& v, TimePoint now);
  void answer_polling(Vc& v, Conn& c, TimePoint now);
  void established(Vc& v, TimePoint now);
  void respond(Conn& c, const ResponseSpec& r, ByteView body, bool close_after);
  void respond_error(Conn& c, int status);
  void close_conn(Conn& c, std::error_code why);
  void end_vc(Vc& v, std::error_code why);
  void maybe_forget_vc(Vc& v);
  bool own_name(std::string_view name) const;
  std::string date() const;
  void mark(Conn& c);
  void mark(Vc& v);
  void wait_next_head(Conn& c, TimePoint now);
  // GUIDs of ended VCs: a late request for one is closed instead of opening a new VC (a
  // KeepAlive GET for an unknown GUID would otherwise read as a handshake). Bounded FIFO.
  void remember_ended(const std::string& guid);
  bool recently_ended(std::string_view guid) const;
  static constexpr std::size_t kRememberEnded = 4096;

  RelayCoreOptions options_;
  RelayCoreStats stats_;
  ConnId next_conn_ = 1;
  VcId next_vc_ = 1;
  std::map<ConnId, std::unique_ptr<Conn>> conns_;
  std::map<VcId, std::unique_ptr<Vc>> vcs_;
  std::map<std::string, VcId, std::less<>> by_guid_;
  std::set<std::string, std::less<>> ended_set_;
  std::deque<std::string> ended_fifo_;
  std::vector<VcId> new_vcs_;
  std::vector<ConnId> dirty_conns_;
  std::vector<VcId> dirty_vcs_;
};

}  // namespace grove::henc
