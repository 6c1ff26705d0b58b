// Errors of the proxy handshakes ("grove.proxy"): HTTP CONNECT (henc.md §6), proxy authentication
// (§7), SOCKS5/SOCKS4a/SOCKS4 (§9) and proxy URLs (§11.1). One value per way a step fails, named
// after the refusal the spec lists; malformed bytes are kept apart from refusals (style.md rule 4).
// Messages are fixed strings: they never carry credentials, host names or proxy text.
#pragma once

#include <system_error>

namespace grove::proxy {

enum class errc {
  ok = 0,
  // Reading the proxy's answer (henc.md §6.2).
  malformed_response = 1,  // llhttp rejects the response head, or a 101 / non-HTTP/1.x answer
  head_too_large,          // response head longer than ConnectOptions::max_head_bytes (8192)
  too_many_interim,        // more 1xx heads than ConnectOptions::max_interim_responses
  body_too_large,          // NTLM 407 body longer than ConnectOptions::max_drain_bytes
  closed_early,            // EOF before the handshake finished
  // Status codes of a CONNECT answer (§6.2).
  proxy_bad_request,      // 400
  proxy_forbidden,        // 403
  connect_not_supported,  // 405, 501
  relay_unreachable,      // 404, 500
  bad_gateway,            // 502
  service_unavailable,    // 503
  gateway_timeout,        // 504
  other_status,           // 3xx or anything else; status_code() / reason_phrase() name it
  // Proxy authentication (§7).
  proxy_auth_required,      // 401/407 and no credentials configured
  proxy_auth_failed,        // 401/407 in answer to credentials (not Digest stale, not NTLM leg 1)
  negotiate_not_supported,  // the only usable offer is Negotiate (Kerberos)
  no_usable_challenge,      // no Basic, Digest (auth, known algorithm) or NTLM challenge
  invalid_credentials,  // the only usable scheme is Basic and the user name holds ':' (RFC 7617)
  auth_attempts_exhausted,  // more than AuthOptions::max_auth_attempts requests with credentials
  bad_ntlm_challenge,       // CHALLENGE_MESSAGE fails a bounds or signature check (§7.4)
  ntlm_connection_closed,   // the proxy closed the connection during NTLM (§7.4)
  // SOCKS5 (§9.1, RFC 1928 / RFC 1929).
  socks_bad_version,            // VER not 5 (method, reply), not 1/5 (RFC 1929), not 0/4 (SOCKS4)
  socks_no_acceptable_methods,  // method 0xFF
  socks_unexpected_method,      // a method Grove did not offer (GSSAPI 0x01, others)
  socks_auth_required,          // method 0x02 and no credentials configured
  socks_auth_rejected,          // RFC 1929 STATUS != 0
  socks_general_failure,        // REP 01
  socks_not_allowed,            // REP 02
  socks_network_unreachable,    // REP 03
  socks_host_unreachable,       // REP 04
  socks_connection_refused,     // REP 05
  socks_ttl_expired,            // REP 06
  socks_command_not_supported,  // REP 07
  socks_address_type_not_supported,  // REP 08
  socks_unknown_reply,               // REP 09..FF; SocksClient::reply_code() names it
  socks_bad_address_type,            // reply ATYP not 1, 3 or 4
  // SOCKS4a / SOCKS4 (§9.2).
  socks4_rejected,            // CD 0x5b
  socks4_identd_unreachable,  // CD 0x5c
  socks4_identd_mismatch,     // CD 0x5d
  socks4_unknown_reply,       // any other CD
  // Proxy URLs and environment (§7.1, §11.1).
  url_bad_syntax,            // not scheme://[user[:pass]@]host[:port][/]
  url_unsupported_scheme,    // not http, socks5, socks5h, socks4a or socks4
  url_bad_host,              // empty host, bad characters, bad IPv6 literal
  url_bad_port,              // not a decimal number in 1..65535
  url_bad_percent_encoding,  // '%' not followed by two hex digits in user or password
};

const std::error_category& proxy_category();

inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), proxy_category()}; }

}  // namespace grove::proxy

template <>
struct std::is_error_code_enum<grove::proxy::errc> : std::true_type {};
