// SOCKS client handshakes (henc.md §9, §12.11): SOCKS5 (RFC 1928) with username/password
// (RFC 1929), and the SOCKS4a / SOCKS4 extension (§9.2). Sans-I/O (style.md rule 2): the caller
// opens TCP to the proxy, constructs this core (which queues the greeting or the SOCKS4
// request), writes pending_output(), feeds what it reads to receive() and checks done() /
// failed(). receive() stops at the last byte of the CONNECT reply: the rest is SSTP. The
// NetworkReceiveIO (60 s) and ConnectionEstablishment (15 s) timers are the caller's.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "proxy/auth.hpp"
#include "proxy/errc.hpp"
#include "wire/bytes.hpp"

namespace grove::proxy {

enum class SocksVersion { v5, v4a, v4 };

struct SocksOptions {
  SocksVersion version = SocksVersion::v5;  // §9.2: chosen by the proxy URL scheme
  std::string host;           // relay name (ATYP 3), IPv4 or IPv6 literal (brackets optional)
  std::uint16_t port = 2492;  // §9.1: DST.PORT, the relay's native port
  // v5: the RFC 1929 user name and password (each 1..255 bytes); v4a/v4: the user name is the
  // USERID (empty without credentials).
  std::optional<Credentials> credentials;
};

// BND.ADDR / BND.PORT of the SOCKS5 reply (read and otherwise ignored, §12.11).
struct BoundAddress {
  std::uint8_t atyp = 0;  // 1 IPv4, 3 domain name, 4 IPv6
  std::string host;       // dotted quad, RFC 5952 text, or the name's bytes
  std::uint16_t port = 0;
};

class SocksClient {
 public:
  // §9.1 ConnectionState: Negotiating → (Authenticating) → Connecting → Open; SOCKS4 requests
  // start in Connecting.
  enum class State { negotiating, authenticating, connecting, open, failed };

  // Queues `05 02 00 02` (SOCKS5) or the SOCKS4a/SOCKS4 request. Throws std::invalid_argument for
  // configuration errors: empty host or a name over 255 bytes, a NUL in a name or USERID, user
  // or password outside 1..255 bytes (SOCKS5), a target SOCKS4 cannot express (SOCKS4: not an
  // IPv4 literal; SOCKS4a/SOCKS4: IPv6).
  explicit SocksClient(SocksOptions options);

  // Feeds bytes read from the proxy; returns how many belong to the handshake. Never consumes
  // past the end of the CONNECT reply; consumes nothing once open or failed.
  [[nodiscard]] std::size_t receive(ByteView in);
  // EOF from the proxy: closed_early unless already open or failed.
  void receive_eof();

  // Bytes to write to the proxy; valid until the next non-const call.
  [[nodiscard]] ByteView pending_output() const;
  void consume_output(std::size_t n);

  [[nodiscard]] State state() const { return state_; }
  // §9.1 state names ("Negotiating", "Authenticating", "Connecting", "Open", "Failed") for logs.
  [[nodiscard]] static std::string_view state_name(State s);
  [[nodiscard]] bool done() const { return state_ == State::open; }
  [[nodiscard]] bool failed() const { return state_ == State::failed; }
  [[nodiscard]] std::error_code error() const { return error_; }
  // REP (SOCKS5) or CD (SOCKS4) of the reply, for "SOCKS: unknown reply 0xNN"; 0 before one.
  [[nodiscard]] std::uint8_t reply_code() const { return reply_code_; }
  // SOCKS5 only, once done().
  [[nodiscard]] const BoundAddress& bound_address() const { return bound_; }

 private:
  // RFC 1928 §6: 4 + 1 + 255 + 2 is the longest reply (ATYP 3 with a 255-byte name).
  static constexpr std::size_t kMaxReply = 262;

  void step();
  void on_method();
  void on_auth_reply();
  void on_connect_reply_v5();
  void on_reply_v4();
  void queue_auth();
  void queue_connect_v5();
  void expect(std::size_t n);
  void fail(errc e);

  SocksOptions options_;
  State state_;
  std::error_code error_;
  Bytes output_;
  std::size_t output_sent_ = 0;
  std::array<Byte, kMaxReply> reply_{};
  std::size_t have_ = 0;
  std::size_t need_ = 0;
  std::uint8_t reply_code_ = 0;
  BoundAddress bound_;
};

}  // namespace grove::proxy
