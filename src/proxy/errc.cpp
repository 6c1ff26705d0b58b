// The "grove.proxy" error category (errc.hpp). Messages follow the step-failure texts of
// henc.md §6.2, §7 and §9.1 without the host, port or status, which the caller adds from its
// options and from HttpConnect::status_code() / reason_phrase() or SocksClient::reply_code().
#include "proxy/errc.hpp"

#include <string>

namespace grove::proxy {
namespace {

const char* text(errc e) {
  switch (e) {
    case errc::ok:
      return "success";
    case errc::malformed_response:
      return "proxy sent a malformed HTTP response head (henc.md §6.2)";
    case errc::head_too_large:
      return "proxy response head exceeds the size limit (henc.md §6.2)";
    case errc::too_many_interim:
      return "proxy sent too many 1xx interim responses (henc.md §6.2)";
    case errc::body_too_large:
      return "proxy authentication response body exceeds the drain limit";
    case errc::closed_early:
      return "proxy closed the connection before the handshake finished";
    case errc::proxy_bad_request:
      return "proxy rejected the CONNECT request (400)";
    case errc::proxy_forbidden:
      return "proxy forbids CONNECT to the relay (403)";
    case errc::connect_not_supported:
      return "proxy does not support CONNECT";
    case errc::relay_unreachable:
      return "proxy could not connect to the relay";
    case errc::bad_gateway:
      return "proxy could not connect to the relay (502 Bad Gateway)";
    case errc::service_unavailable:
      return "proxy could not connect to the relay (503 Service Unavailable)";
    case errc::gateway_timeout:
      return "proxy could not connect to the relay (504 Gateway Timeout)";
    case errc::other_status:
      return "proxy answered CONNECT with an unexpected status";
    case errc::proxy_auth_required:
      return "proxy requires authentication; configure proxy credentials (henc.md §7.1)";
    case errc::proxy_auth_failed:
      return "proxy rejected the credentials (henc.md §7.1)";
    case errc::negotiate_not_supported:
      return "proxy wants Negotiate (Kerberos), not supported (henc.md §7.1)";
    case errc::no_usable_challenge:
      return "proxy offers no authentication scheme Grove supports (henc.md §7.1)";
    case errc::invalid_credentials:
      return "proxy user name contains ':' and cannot be sent with Basic (RFC 7617)";
    case errc::auth_attempts_exhausted:
      return "too many proxy authentication attempts (henc.md §7.1)";
    case errc::bad_ntlm_challenge:
      return "proxy sent a malformed NTLM CHALLENGE_MESSAGE (henc.md §7.4)";
    case errc::ntlm_connection_closed:
      return "proxy closed the connection during NTLM (henc.md §7.4)";
    case errc::socks_bad_version:
      return "SOCKS proxy answered with a wrong version byte (henc.md §9)";
    case errc::socks_no_acceptable_methods:
      return "SOCKS proxy accepts none of the offered methods";
    case errc::socks_unexpected_method:
      return "SOCKS proxy chose a method Grove did not offer";
    case errc::socks_auth_required:
      return "SOCKS proxy requires a user name and password";
    case errc::socks_auth_rejected:
      return "SOCKS proxy rejected the user name or password";
    case errc::socks_general_failure:
      return "SOCKS proxy failure";
    case errc::socks_not_allowed:
      return "SOCKS proxy forbids the relay address";
    case errc::socks_network_unreachable:
      return "SOCKS: network unreachable";
    case errc::socks_host_unreachable:
      return "SOCKS: host unreachable";
    case errc::socks_connection_refused:
      return "SOCKS: relay refused the connection";
    case errc::socks_ttl_expired:
      return "SOCKS: TTL expired";
    case errc::socks_command_not_supported:
      return "SOCKS proxy does not support CONNECT";
    case errc::socks_address_type_not_supported:
      return "SOCKS proxy does not accept host names";
    case errc::socks_unknown_reply:
      return "SOCKS: unknown reply";
    case errc::socks_bad_address_type:
      return "SOCKS reply carries an unknown address type";
    case errc::socks4_rejected:
      return "SOCKS4 request rejected or failed";
    case errc::socks4_identd_unreachable:
      return "SOCKS4 request rejected: identd unreachable";
    case errc::socks4_identd_mismatch:
      return "SOCKS4 request rejected: identd user mismatch";
    case errc::socks4_unknown_reply:
      return "SOCKS4: unknown reply";
    case errc::url_bad_syntax:
      return "proxy URL is not scheme://[user[:password]@]host[:port]";
    case errc::url_unsupported_scheme:
      return "proxy URL scheme is not http, socks5, socks5h, socks4a or socks4";
    case errc::url_bad_host:
      return "proxy URL has an invalid host";
    case errc::url_bad_port:
      return "proxy URL has an invalid port";
    case errc::url_bad_percent_encoding:
      return "proxy URL has invalid percent-encoding";
  }
  return "unknown grove.proxy error";
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "grove.proxy"; }
  std::string message(int value) const override { return text(static_cast<errc>(value)); }
};

}  // namespace

const std::error_category& proxy_category() {
  static const Category category;
  return category;
}

}  // namespace grove::proxy
