// Encoding and decoding of whole SSTP commands (sstp.md §3, §5) and an incremental frame reader.
// Pure functions over bytes: no I/O, no clock, no allocation beyond the decoded command's strings.
#pragma once

#include <cstdint>
#include <system_error>

#include "sstp/commands.hpp"
#include "sstp/errc.hpp"

namespace grove::sstp {

// [Min, Max] CommandLength of §3.4 for an id; false for an unknown id.
struct LengthLimits {
  std::uint16_t min;
  std::uint16_t max;
};
bool length_limits(std::uint8_t command_id, LengthLimits& out);

// Decodes one complete command (header included). `minor_version` is the connection's minor
// version (5 or 6): it decides FanoutOpen entries and SessionStatus form B (§7.4).
// Returns errc::ok or the precise malformation. On success a decoded Data's payload views
// `frame`. Checks everything of §3.5 (limits, terminators, string bytes 0x20-0x7E,
// flags-announced groups, trailing bytes). A frame shorter than its CommandLength gives
// truncated_field, a longer one trailing_bytes. `out` is left untouched on error. Values are not
// judged (ResponseIds, SessionId parity, empty URLs): that is the engine's job. Reserved fields
// and bits are dropped (P5), so encode(decode(x)) is canonical.
[[nodiscard]] std::error_code decode(ByteView frame, std::uint8_t minor_version, Command& out);

// Appends the encoding of `cmd` to `out`. Reserved fields are written as 0 (P5).
// Fails with command_too_long (nothing appended) when the result would exceed §3.4's Max,
// and with bad_string_byte when a string holds a byte outside 0x20-0x7E. A count that does not fit
// its field (more than 255 SourceDeviceURLs) is command_too_long too; SessionStatus form B with a
// 1.5 `minor_version` is bad_session_status_target. On 1.5 FanoutOpen entries carry no
// FailoverDeviceURLs (the field is not sent). Message groups are written as its E, S, F bits say.
[[nodiscard]] std::error_code encode(const Command& cmd, std::uint8_t minor_version, Bytes& out);

// Fast path for the hot loop: appends a Data command header for `payload_size` bytes
// (caller then appends the payload). payload_size must be <= kMaxDataPayload.
void encode_data_header(std::uint32_t session_id, std::size_t payload_size, Bytes& out);

// Splits an arbitrary byte stream into whole commands (§3.5 P1-P4 framing only).
//
// next() looks at `in` (the not-yet-consumed input) and returns how many bytes it consumed and,
// when a command is complete, a view of the whole command. The view points either into `in`
// (zero-copy, when the whole command lies there) or into the reader's own buffer (when the
// command was split across calls); it stays valid until the next call to next().
// The header is checked against §3.4 before any body byte is buffered (P3), so the buffer
// never exceeds 65535 bytes. After an error the reader stays failed.
class FrameReader {
 public:
  struct Result {
    std::size_t consumed = 0;
    ByteView frame;         // empty when no command is complete yet
    std::error_code error;  // set on a framing error (unknown id or bad length); then
                            // consumed is 0 and every later call returns the same error
  };
  Result next(ByteView in);
  // Bytes of a partial command held back from earlier calls (0 right after a command was
  // handed out of the buffer, so a non-zero value at end of stream means a truncated command).
  [[nodiscard]] std::size_t buffered() const {
    return want_ != 0 && buf_.size() == want_ ? 0 : buf_.size();
  }

 private:
  Bytes buf_;
  std::size_t want_ = 0;  // total length of the command being buffered, 0 = header not known
  std::error_code failed_;
};

}  // namespace grove::sstp
