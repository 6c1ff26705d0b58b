#include "proxy/socks.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "proxy/detail/address.hpp"
#include "wire/writer.hpp"

namespace grove::proxy {
namespace {

constexpr Byte kSocks5 = 0x05;
constexpr Byte kMethodNone = 0x00;
constexpr Byte kMethodUserPass = 0x02;
constexpr Byte kMethodNoAcceptable = 0xff;
constexpr Byte kCmdConnect = 0x01;
constexpr Byte kAtypIpv4 = 0x01;
constexpr Byte kAtypDomain = 0x03;
constexpr Byte kAtypIpv6 = 0x04;
constexpr Byte kSocks4Granted = 0x5a;

// §9.1 REP table.
errc rep_error(Byte rep) {
  switch (rep) {
    case 0x01:
      return errc::socks_general_failure;
    case 0x02:
      return errc::socks_not_allowed;
    case 0x03:
      return errc::socks_network_unreachable;
    case 0x04:
      return errc::socks_host_unreachable;
    case 0x05:
      return errc::socks_connection_refused;
    case 0x06:
      return errc::socks_ttl_expired;
    case 0x07:
      return errc::socks_command_not_supported;
    case 0x08:
      return errc::socks_address_type_not_supported;
    default:
      return errc::socks_unknown_reply;
  }
}

// §9.2 CD table.
errc cd_error(Byte cd) {
  switch (cd) {
    case 0x5b:
      return errc::socks4_rejected;
    case 0x5c:
      return errc::socks4_identd_unreachable;
    case 0x5d:
      return errc::socks4_identd_mismatch;
    default:
      return errc::socks4_unknown_reply;
  }
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

SocksClient::SocksClient(SocksOptions options)
    : options_(std::move(options)),
      state_(options_.version == SocksVersion::v5 ? State::negotiating : State::connecting) {
  std::string_view host = detail::strip_brackets(options_.host);
  if (host.empty() || host.size() > 255 || has_nul(host)) {
    throw std::invalid_argument("bad SOCKS target host");
  }
  wire::Writer w(output_);
  if (options_.version == SocksVersion::v5) {
    if (options_.credentials) {
      const Credentials& c = *options_.credentials;
      if (c.user.empty() || c.user.size() > 255 || c.password.empty() || c.password.size() > 255) {
        throw std::invalid_argument("SOCKS5 user name and password must be 1..255 bytes");
      }
    }
    // §9.1 greeting: always both methods, NO AUTHENTICATION REQUIRED and USERNAME/PASSWORD.
    w.bytes(std::array<Byte, 4>{kSocks5, 2, kMethodNone, kMethodUserPass});
    expect(2);
    return;
  }
  std::string_view userid;
  if (options_.credentials) userid = options_.credentials->user;
  if (has_nul(userid)) throw std::invalid_argument("SOCKS4 USERID holds a NUL");
  if (detail::parse_ipv6(host)) throw std::invalid_argument("SOCKS4 cannot carry IPv6");
  std::optional<std::array<Byte, 4>> v4 = detail::parse_ipv4(host);
  if (!v4 && options_.version == SocksVersion::v4) {
    throw std::invalid_argument("SOCKS4 needs an IPv4 address; use socks4a:// for names");
  }
  // §9.2: 04 01 DSTPORT DSTIP USERID 00 [HOSTNAME 00]; 0.0.0.1 asks the proxy to resolve.
  w.u8(0x04);
  w.u8(kCmdConnect);
  w.u16be(options_.port);
  w.bytes(v4 ? *v4 : std::array<Byte, 4>{0, 0, 0, 1});
  w.cstring(userid);
  if (!v4) w.cstring(host);
  expect(2);
}

void SocksClient::expect(std::size_t n) { need_ = n; }

std::size_t SocksClient::receive(ByteView in) {
  std::size_t used = 0;
  while (used < in.size() && state_ != State::open && state_ != State::failed) {
    std::size_t take = std::min(need_ - have_, in.size() - used);
    std::memcpy(reply_.data() + have_, in.data() + used, take);
    have_ += take;
    used += take;
    if (have_ == need_) step();
  }
  return used;
}

void SocksClient::step() {
  switch (state_) {
    case State::negotiating:
      return on_method();
    case State::authenticating:
      return on_auth_reply();
    case State::connecting:
      return options_.version == SocksVersion::v5 ? on_connect_reply_v5() : on_reply_v4();
    case State::open:
    case State::failed:
      return;
  }
}

void SocksClient::on_method() {
  // §9.1 method row: VER must be 5; 00 → CONNECT, 02 → RFC 1929, FF → no method, else error.
  if (reply_[0] != kSocks5) return fail(errc::socks_bad_version);
  switch (reply_[1]) {
    case kMethodNone:
      return queue_connect_v5();
    case kMethodUserPass:
      if (!options_.credentials) return fail(errc::socks_auth_required);
      return queue_auth();
    case kMethodNoAcceptable:
      return fail(errc::socks_no_acceptable_methods);
    default:
      return fail(errc::socks_unexpected_method);  // GSSAPI 0x01 is never offered
  }
}

void SocksClient::queue_auth() {
  // RFC 1929 §2: 01 ULEN UNAME PLEN PASSWD.
  const Credentials& c = *options_.credentials;
  wire::Writer w(output_);
  w.u8(0x01);
  w.u8(static_cast<std::uint8_t>(c.user.size()));
  w.raw(c.user);
  w.u8(static_cast<std::uint8_t>(c.password.size()));
  w.raw(c.password);
  state_ = State::authenticating;
  have_ = 0;
  expect(2);
}

void SocksClient::on_auth_reply() {
  // §9.1: version 0x01 expected, 0x05 tolerated; STATUS 0 = success.
  if (reply_[0] != 0x01 && reply_[0] != kSocks5) return fail(errc::socks_bad_version);
  if (reply_[1] != 0x00) return fail(errc::socks_auth_rejected);
  queue_connect_v5();
}

void SocksClient::queue_connect_v5() {
  // §9.1: 05 01 00 ATYP DST.ADDR DST.PORT; names as ATYP 3, IP literals as ATYP 1 / 4.
  std::string_view host = detail::strip_brackets(options_.host);
  wire::Writer w(output_);
  w.bytes(std::array<Byte, 3>{kSocks5, kCmdConnect, 0x00});
  if (auto v4 = detail::parse_ipv4(host)) {
    w.u8(kAtypIpv4);
    w.bytes(*v4);
  } else if (auto v6 = detail::parse_ipv6(host)) {
    w.u8(kAtypIpv6);
    w.bytes(*v6);
  } else {
    w.u8(kAtypDomain);
    w.u8(static_cast<std::uint8_t>(host.size()));
    w.raw(host);
  }
  w.u16be(options_.port);
  state_ = State::connecting;
  have_ = 0;
  expect(2);
}

void SocksClient::on_connect_reply_v5() {
  // RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT, read in stages so that nothing after the
  // reply is consumed. REP is judged as soon as it arrives.
  if (have_ == 2) {
    if (reply_[0] != kSocks5) return fail(errc::socks_bad_version);
    reply_code_ = reply_[1];
    if (reply_[1] != 0x00) return fail(rep_error(reply_[1]));
    return expect(4);
  }
  if (have_ == 4) {
    switch (reply_[3]) {
      case kAtypIpv4:
        return expect(4 + 4 + 2);
      case kAtypIpv6:
        return expect(4 + 16 + 2);
      case kAtypDomain:
        return expect(5);
      default:
        return fail(errc::socks_bad_address_type);
    }
  }
  if (have_ == 5 && reply_[3] == kAtypDomain) return expect(5 + reply_[4] + 2);

  // Complete: RSV is ignored on read (style.md rule 20).
  bound_.atyp = reply_[3];
  ByteView addr(reply_.data() + 4, have_ - 6);
  if (bound_.atyp == kAtypIpv4) {
    bound_.host = detail::format_ipv4(addr);
  } else if (bound_.atyp == kAtypIpv6) {
    bound_.host = detail::format_ipv6(addr);
  } else {
    bound_.host.assign(reinterpret_cast<const char*>(addr.data()) + 1, addr.size() - 1);
  }
  bound_.port = static_cast<std::uint16_t>((reply_[have_ - 2] << 8) | reply_[have_ - 1]);
  state_ = State::open;
}

void SocksClient::on_reply_v4() {
  // §9.2: VN (0x00; 0x04 tolerated) CD DSTPORT DSTIP; CD judged as soon as it arrives.
  if (have_ == 2) {
    if (reply_[0] != 0x00 && reply_[0] != 0x04) return fail(errc::socks_bad_version);
    reply_code_ = reply_[1];
    if (reply_[1] != kSocks4Granted) return fail(cd_error(reply_[1]));
    return expect(8);
  }
  state_ = State::open;
}

void SocksClient::receive_eof() {
  if (state_ != State::open && state_ != State::failed) fail(errc::closed_early);
}

ByteView SocksClient::pending_output() const { return ByteView(output_).subspan(output_sent_); }

void SocksClient::consume_output(std::size_t n) {
  output_sent_ += std::min(n, output_.size() - output_sent_);
  if (output_sent_ == output_.size()) {
    output_.clear();
    output_sent_ = 0;
  }
}

std::string_view SocksClient::state_name(State s) {
  switch (s) {
    case State::negotiating:
      return "Negotiating";
    case State::authenticating:
      return "Authenticating";
    case State::connecting:
      return "Connecting";
    case State::open:
      return "Open";
    case State::failed:
      return "Failed";
  }
  return "?";
}

void SocksClient::fail(errc e) {
  error_ = e;
  state_ = State::failed;
  output_.clear();
  output_sent_ = 0;
}

}  // namespace grove::proxy
