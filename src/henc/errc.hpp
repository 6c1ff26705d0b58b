// Errors of the HTTP encapsulations ("grove.henc", henc.md §2-§5). Malformed bytes, refusals
// by the relay or a proxy, and timer expiries are kept apart (style.md rule 4). Messages are
// fixed strings: they never carry peer text or credentials.
#pragma once

#include <system_error>

namespace grove::henc {

enum class errc {
  ok = 0,
  // HTTP framing (§2.1, §2.6, §2.7).
  malformed_head = 1,  // llhttp rejects the request or response head
  head_too_large,      // head longer than 8192 bytes
  bad_version,         // not HTTP/1.x
  transfer_encoding,   // Transfer-Encoding present (§2.1: Content-Length only)
  bad_content_length,  // missing where required, above the limit of its kind
  truncated_body,      // EOF inside a body
  // Encapsulation content (§3.1, §4.1, §5.3).
  bad_uri,                    // the request target does not parse
  bad_encapsulation_version,  // /<v>/ is not 2.0: answered with 400
  bad_conn_type,              // unknown or missing ConnType
  bad_server_name,            // Relay-Server-Name is not one of the relay's names
  bad_guid,                   // Virtual-Connection-GUID outside 1..64 of A-Za-z0-9
  unknown_guid,               // a data request for a GUID that is not bound
  duplicate_session,          // a LongLived session recorded twice (§3.6 row 3)
  bad_echo,                   // the 22 echo bytes differ
  bad_prefix,           // Polling prefix: five NUL-terminated fields not found or out of limits
  bad_polling_version,  // Polling version is not 1.2
  bad_sequence,         // Polling sequence number is not the expected one
  bad_checksum,         // Polling checksum mismatch
  missing_data,         // Polling request or handshake answer without data
  unexpected_data,      // Polling probe with data or nonzero fields
  budget_exceeded,      // more LongLived bytes than ConnectionContentLength
  unexpected_bytes,     // bytes where no answer was expected (e.g. a LongLived POST's)
  // Answers (§2.5).
  relay_rejected_version,  // 400 from the relay
  http_status,             // any other non-200 status
  not_found,               // 404: the relay knows no such encapsulation
  // Timers (§10).
  establishment_timeout,  // ConnectionEstablishment expired
  response_timeout,       // NetworkReceiveIO: no answer within 60 s
  idle_timeout,           // relay: the virtual connection saw no request in time
  closed,                 // the peer closed a connection the virtual connection needs
  renew,                  // LongLived byte budget reached: a new virtual connection is due
};

const std::error_category& henc_category();

inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), henc_category()}; }

}  // namespace grove::henc

template <>
struct std::is_error_code_enum<grove::henc::errc> : std::true_type {};
