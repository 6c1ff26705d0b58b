// The byte-level pieces of the HTTP encapsulations (henc.md §2-§5): the echo string, the
// LongLived/KeepAlive request URI, the Polling virtual-connection prefix and its checksum.
// Pure functions; no state, no I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "henc/errc.hpp"
#include "wire/bytes.hpp"

namespace grove::henc {

// §2.2: the 22 bytes "GroovePing: 1.0,Ping\r\n".
inline constexpr std::string_view kEcho = "GroovePing: 1.0,Ping\r\n";
inline constexpr std::string_view kUriVersion = "2.0";      // LongLived / KeepAlive
inline constexpr std::string_view kPollingVersion = "1.2";  // Polling
// §3.4: ConnectionContentLength a Grove client sends (0x7ffff000).
inline constexpr std::uint64_t kLongLivedBudget = 2147479552;
// §3.1: the relay's accepted ContentLength range.
inline constexpr std::uint64_t kMinLongLivedBudget = 1024;
// §2.6 / §4.3: a KeepAlive data message carries at most 64 KiB; receivers accept up to 1 MiB.
inline constexpr std::size_t kKeepAliveChunk = 65536;
inline constexpr std::size_t kKeepAliveMaxBody = 1048576;
// §5.9: every Polling body (prefix + data) is at most 32768 bytes.
inline constexpr std::size_t kPollingMaxBody = 32768;
// §2.7: request line + headers.
inline constexpr std::size_t kMaxHead = 8192;
// §2.2: the relay accepts 1..64 of A-Za-z0-9; a Grove client makes 39 of a-z0-9.
inline constexpr std::size_t kMaxGuid = 64;
inline constexpr std::size_t kGuidLength = 39;
// §5.3: Relay-Server-URL is 1..255 bytes.
inline constexpr std::size_t kMaxServerName = 255;

enum class ConnType { long_lived, keep_alive };

// §5.4 [DECIDED]: signed bytes, positions from 0, every byte, uint32 wrap.
[[nodiscard]] std::uint32_t polling_checksum(ByteView data);

// §2.2: 1..64 characters of A-Za-z0-9.
[[nodiscard]] bool valid_guid(std::string_view g);
// §2.2: 39 characters of a-z0-9 from `random` bytes (at least 39 of them; rejection sampling
// would need more, so each byte is reduced modulo 36 of the largest multiple below 256: bytes
// >= 252 are redrawn by the caller-supplied generator).
[[nodiscard]] std::string make_guid(const std::function<void(std::span<Byte>)>& random);

// ServerHost as written in Host and HTTP-URL: an IPv6 literal in brackets (§2.1).
[[nodiscard]] std::string bracket_host(std::string_view host);
// "host" or "host:port" when port != 80 (§2.1, §2.3 Host).
[[nodiscard]] std::string host_header(std::string_view host, std::uint16_t port);
// "http://" + host_header (§2.1 HTTP-URL).
[[nodiscard]] std::string http_url(std::string_view host, std::uint16_t port);

// §3.1 / §4.1 relative URI: /2.0/<name>/<guid>,ConnType=...[,ContentLength=n].
[[nodiscard]] std::string encapsulation_path(ConnType type, std::string_view server_name,
                                             std::string_view guid,
                                             std::uint64_t content_length = kLongLivedBudget);

// What the relay reads from a request target (§2.7, §3.1 relay parsing).
struct Target {
  enum class Kind {
    polling,        // "/" or empty path
    encapsulation,  // /2.0/<name>/<guid>,ConnType=LongLived|KeepAlive
    bad_version,    // /<v>/... with a ConnType token, v != 2.0 → 400
    not_found,      // anything else → 404
  };
  Kind kind = Kind::not_found;
  ConnType type = ConnType::long_lived;
  std::string server_name;
  std::string guid;
  std::optional<std::uint64_t> content_length;  // LongLived ContentLength token
};
// Parses a request target in relative or absolute form (the host of an absolute URI is
// ignored). Errors: bad_uri (unparsable /2.0/ path), bad_conn_type (no or unknown ConnType on
// a /2.0/ path), bad_guid.
struct TargetResult {
  Target target;
  std::error_code error;
};
[[nodiscard]] TargetResult parse_target(std::string_view target);

// §5.3 Polling virtual-connection prefix.
struct PollingPrefix {
  std::string version{kPollingVersion};
  std::string server_url;  // Relay-Server-URL
  std::string guid;
  std::uint32_t sequence = 0;
  std::uint32_t checksum = 0;
};
// The five NUL-terminated fields.
[[nodiscard]] Bytes encode_prefix(const PollingPrefix& p);
// A whole Polling body: prefix (checksum computed over `data`) then data.
[[nodiscard]] Bytes encode_polling_body(std::string_view server_url, std::string_view guid,
                                        std::uint32_t sequence, ByteView data);
struct ParsedBody {
  PollingPrefix prefix;
  ByteView data;  // points into the input
  std::error_code error;
};
// Splits a Polling body. Errors: bad_prefix (fields missing or outside §5.3 limits),
// bad_polling_version (version field is not 1.2). The checksum is not checked here.
[[nodiscard]] ParsedBody parse_polling_body(ByteView body);
// The largest data size that fits one Polling body for this name, GUID and sequence number,
// sized with a 10-digit checksum (§5.9).
[[nodiscard]] std::size_t polling_data_room(std::string_view server_url, std::string_view guid,
                                            std::uint32_t sequence);

// IMF-fixdate (§2.4 Date), e.g. "Wed, 26 Dec 2007 19:50:26 GMT", from seconds since 1970.
[[nodiscard]] std::string imf_fixdate(std::int64_t unix_seconds);

// Strict unsigned decimal: 1..max_digits digits, no sign, no leading zeros beyond "0".
[[nodiscard]] std::optional<std::uint64_t> parse_decimal(std::string_view s,
                                                         std::size_t max_digits = 19);

}  // namespace grove::henc
