// Encoding and decoding of SSTP commands (sstp.md §3, §5) and the incremental FrameReader.
//
// Decoding checks wire format only (§3.5 P1-P4, §3.2 string bytes). Rules about values (ResponseId
// tables, SessionId parity, non-empty URLs, FragmentCount, version numbers) belong to the engine,
// which sees the decoded values unchanged. Reserved fields and bits are ignored on read and
// written as 0 (P5), so decode(encode(decode(x))) == decode(x) for every accepted frame.
#include "sstp/codec.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <string_view>
#include <utility>

#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace grove::sstp {
namespace {

// sstp.md §3.4, indexed by CommandId; {0, 0} marks an id that is not in §4.
constexpr LengthLimits kLimits[] = {
    {0, 0},       // 0x00: not a command
    {12, 2055},   // 0x01 Connect
    {13, 2055},   // 0x02 ConnectResponse
    {5, 2055},    // 0x03 ConnectAuthenticate
    {11, 11},     // 0x04 ConnectClose
    {13, 2055},   // 0x05 Open
    {13, 65535},  // 0x06 FanoutOpen
    {9, 9},       // 0x07 OpenResponse
    {11, 2055},   // 0x08 Attach
    {11, 2055},   // 0x09 AttachResponse
    {9, 2055},    // 0x0a AttachAuthenticate
    {10, 2055},   // 0x0b Register
    {11, 2055},   // 0x0c RegisterResponse
    {13, 2055},   // 0x0d Message
    {7, 2055},    // 0x0e Data: 2048 bytes of data + 7
    {7, 7},       // 0x0f EndMessage
    {7, 7},       // 0x10 Noop
    {8, 8},       // 0x11 Close
    {11, 65535},  // 0x12 SessionStatus
};
constexpr std::size_t kLimitCount = sizeof(kLimits) / sizeof(kLimits[0]);

// §6.8: every Open/FanoutOpen flag bit but I (0x01) is reserved.
constexpr std::uint8_t kOpenFlagsKnown = 0x01;
// §5.13 group sizes.
constexpr std::size_t kEphemeralSize = 8;
constexpr std::size_t kStreamSizeSize = 24;
constexpr std::size_t kFragmentationSize = 24;

bool is_v16(std::uint8_t minor_version) { return minor_version >= kMinor16; }

// §3.2 [DECIDED]: string content is 0x20-0x7E only.
bool valid_string(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto b = static_cast<Byte>(c);
    return b >= 0x20 && b <= 0x7e;
  });
}

bool known_id(std::uint8_t id) { return id < kLimitCount && kLimits[id].max != 0; }

// §3.5 P2 and P3 on a header; `length` is CommandLength.
errc check_header(std::uint8_t id, std::size_t length) {
  if (!known_id(id)) return errc::unknown_command_id;
  if (length < kLimits[id].min || length > kLimits[id].max) return errc::bad_command_length;
  return errc::ok;
}

std::uint32_t load_u32le(const Byte* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

// ------------------------------------------------------------------------------------------------
// Decoding

// Cursor over the body of one command (the CommandLength - 3 bytes after the header). The first
// failure sticks and turns later reads into no-ops, so each layout reads top to bottom like its
// table in §5 and the caller checks once at the end.
class Body {
 public:
  Body(ByteView bytes, bool v16) : r_(bytes), v16_(v16) {}

  [[nodiscard]] bool ok() const { return err_ == errc::ok; }
  [[nodiscard]] errc error() const { return err_; }
  [[nodiscard]] bool v16() const { return v16_; }
  [[nodiscard]] std::size_t remaining() const { return r_.remaining(); }
  void fail(errc e) {
    if (ok()) err_ = e;
  }

  void u8(std::uint8_t& v) {
    if (ok() && !r_.u8(v)) fail(errc::truncated_field);
  }
  void u16(std::uint16_t& v) {
    if (ok() && !r_.u16le(v)) fail(errc::truncated_field);
  }
  void u32(std::uint32_t& v) {
    if (ok() && !r_.u32le(v)) fail(errc::truncated_field);
  }
  void u64(std::uint64_t& v) {
    if (ok() && !r_.u64le(v)) fail(errc::truncated_field);
  }
  template <typename Enum>
  void u8_enum(Enum& v) {
    std::uint8_t raw = 0;
    u8(raw);
    v = static_cast<Enum>(raw);  // unknown values pass through; the engine maps them (§6)
  }
  // Reserved bytes: present, value ignored (P5).
  void skip(std::size_t n) {
    ByteView ignored;
    if (ok() && !r_.bytes(n, ignored)) fail(errc::truncated_field);
  }
  void bytes(std::size_t n, ByteView& v) {
    if (ok() && !r_.bytes(n, v)) fail(errc::truncated_field);
  }
  void string(std::string& s) {
    if (!ok()) return;
    std::string_view v;
    if (!r_.cstring(v)) return fail(errc::string_not_terminated);
    if (!valid_string(v)) return fail(errc::bad_string_byte);
    s.assign(v);
  }
  void token(Bytes& t) {
    std::uint16_t n = 0;
    u16(n);
    ByteView v;
    if (ok() && !r_.bytes(n, v)) return fail(errc::token_too_long);
    t.assign(v.begin(), v.end());
  }
  // A Message group announced by its flag (§5.13): all of it must be there.
  [[nodiscard]] bool group(std::size_t size) {
    if (ok() && remaining() < size) fail(errc::missing_optional_group);
    return ok();
  }
  // P4: no byte may be left over after the last field.
  void end() {
    if (ok() && remaining() != 0) fail(errc::trailing_bytes);
  }

 private:
  wire::Reader r_;
  bool v16_;
  errc err_ = errc::ok;
};

void read(Body& b, Connect& c) {  // §5.1
  b.u8(c.major_version);
  b.u8(c.minor_version);
  b.skip(1);
  b.string(c.target_device_url);
  std::uint8_t n = 0;
  b.u8(n);
  for (std::uint8_t i = 0; i < n && b.ok(); ++i) b.string(c.source_device_urls.emplace_back());
  b.token(c.authentication_token);
  b.string(c.peer_product_version);
  b.string(c.peer_product_capabilities);
}

void read(Body& b, ConnectResponse& c) {  // §5.2
  b.u8(c.major_version);
  b.u8(c.minor_version);
  b.u8_enum(c.response_id);
  b.skip(1);
  b.u16(c.retry_time);
  b.token(c.authentication_token);
  b.string(c.peer_product_version);
  b.string(c.peer_product_capabilities);
}

void read(Body& b, ConnectAuthenticate& c) { b.token(c.authentication_token); }  // §5.3

void read(Body& b, ConnectClose& c) {  // §5.4
  b.u8_enum(c.reason_id);
  b.skip(1);
  b.u16(c.return_time);
  b.u32(c.message_count);
}

void read(Body& b, Open& c) {  // §5.5
  b.u32(c.session_id);
  b.string(c.resource_url);
  b.string(c.identity_url);
  b.string(c.device_url);
  b.u8(c.flags);
  c.flags &= kOpenFlagsKnown;  // P5: r1..r7 ignored
  b.skip(2);
}

void read(Body& b, FanoutOpen& c) {  // §5.6
  b.u32(c.session_id);
  b.string(c.resource_url);
  b.u8(c.flags);
  c.flags &= kOpenFlagsKnown;
  std::uint16_t n = 0;
  b.u16(n);
  if (!b.ok()) return;
  if (b.remaining() < 2) return b.fail(errc::truncated_field);
  // §5.6 [SPEC]: the entries fill exactly the bytes between NumFanoutDeviceEntries and the final
  // Reserved, so they are parsed inside that span only.
  ByteView span;
  b.bytes(b.remaining() - 2, span);
  Body entries(span, b.v16());
  // An entry is at least 3 (1.5) or 4 (1.6) bytes: the reservation is bounded by the input.
  const std::size_t min_entry = b.v16() ? 4 : 3;
  c.entries.reserve(std::min<std::size_t>(n, span.size() / min_entry));
  for (std::uint16_t i = 0; i < n && entries.ok(); ++i) {
    FanoutDeviceEntry& e = c.entries.emplace_back();
    entries.string(e.identity_url);
    entries.string(e.device_url);
    entries.string(e.relay_url);
    if (entries.v16()) entries.string(e.failover_device_urls);  // absent on 1.5
  }
  if (entries.error() == errc::bad_string_byte) return b.fail(errc::bad_string_byte);
  if (!entries.ok() || entries.remaining() != 0) return b.fail(errc::bad_fanout_entries);
  b.skip(2);
}

void read(Body& b, OpenResponse& c) {  // §5.7
  b.u32(c.session_id);
  b.u8(c.response_id);
  b.skip(1);
}

void read(Body& b, Attach& c) {  // §5.8
  b.u32(c.event_id);
  b.string(c.resource_url);
  b.string(c.account_url);
  b.token(c.authentication_token);
}

void read(Body& b, AttachResponse& c) {  // §5.9
  b.u32(c.event_id);
  b.u8(c.response_id);
  b.skip(1);
  b.token(c.authentication_token);
}

void read(Body& b, AttachAuthenticate& c) {  // §5.10
  b.u32(c.event_id);
  b.token(c.authentication_token);
}

void read(Body& b, Register& c) {  // §5.11
  b.u32(c.event_id);
  b.string(c.identity_url);
  b.token(c.authentication_token);
}

void read(Body& b, RegisterResponse& c) {  // §5.12
  b.u32(c.event_id);
  b.u8(c.response_id);
  b.skip(1);
  b.token(c.authentication_token);
}

void read(Body& b, Message& c) {  // §5.13
  b.u32(c.session_id);
  b.u32(c.message_count);
  b.u8(c.flags);
  c.flags &= static_cast<std::uint8_t>(~message_flag::Reserved);  // P5: r1, r2 ignored
  b.string(c.user_ref);
  // [SPEC] order: Ephemeral, StreamSize, Fragmentation, each only when its flag is set.
  if ((c.flags & message_flag::Ephemeral) && b.group(kEphemeralSize)) b.u64(c.expiration_time);
  if ((c.flags & message_flag::StreamSize) && b.group(kStreamSizeSize)) {
    b.u64(c.stream_size.total_size);
    b.skip(16);
  }
  if ((c.flags & message_flag::Fragmentation) && b.group(kFragmentationSize)) {
    ByteView id;
    b.bytes(c.fragmentation.fragment_message_id.size(), id);
    std::copy(id.begin(), id.end(), c.fragmentation.fragment_message_id.begin());
    b.u32(c.fragmentation.fragment_index);
    b.u32(c.fragmentation.fragment_count);
  }
}

void read(Body& b, Data& c) {  // §5.14; decode() normally takes its own fast path
  b.u32(c.session_id);
  b.bytes(b.remaining(), c.application_data);
}

void read(Body& b, EndMessage& c) { b.u32(c.session_id); }  // §5.15
void read(Body& b, Noop& c) { b.u32(c.message_count); }     // §5.16

void read(Body& b, Close& c) {  // §5.17
  b.u32(c.session_id);
  b.u8(c.reason_id);
}

void read(Body& b, SessionStatus& c) {  // §5.18
  b.u32(c.session_id);
  b.u8(c.status_id);
  b.skip(1);
  b.string(c.device_url);
  b.string(c.identity_url);
  // Bytes left after IdentityURL mean form B [DECIDED], which exists on 1.6 only; on 1.5 they are
  // left over and Body::end() reports trailing_bytes.
  if (!b.ok() || b.remaining() == 0 || !b.v16()) return;
  if (b.remaining() % 2 != 0) return b.fail(errc::bad_session_status);
  std::uint16_t n = 0;
  b.u16(n);
  if (n == 0 || b.remaining() < 2 * std::size_t{n}) return b.fail(errc::bad_session_status);
  c.fanout_device_indexes.resize(n);
  for (auto& index : c.fanout_device_indexes) b.u16(index);
}

template <typename T>
std::error_code decode_as(ByteView body, bool v16, Command& out) {
  Body b(body, v16);
  T c;
  read(b, c);
  b.end();
  if (!b.ok()) return b.error();
  out = std::move(c);  // `out` is untouched on error
  return errc::ok;
}

using DecodeFn = std::error_code (*)(ByteView body, bool v16, Command& out);

// decode_as<T> for every alternative of Command, indexed by CommandId - 1 (commands.hpp orders the
// variant by id).
template <std::size_t... I>
constexpr std::array<DecodeFn, sizeof...(I)> make_decoders(std::index_sequence<I...>) {
  return {&decode_as<std::variant_alternative_t<I, Command>>...};
}
constexpr auto kDecoders = make_decoders(std::make_index_sequence<std::variant_size_v<Command>>());
static_assert(kDecoders.size() + 1 == kLimitCount);

// ------------------------------------------------------------------------------------------------
// Encoding

// Appends fields; remembers the first reason the command cannot be sent.
class Out {
 public:
  Out(Bytes& out, bool v16) : w_(out), v16_(v16) {}

  [[nodiscard]] errc error() const { return err_; }
  [[nodiscard]] bool v16() const { return v16_; }
  void fail(errc e) {
    if (err_ == errc::ok) err_ = e;
  }

  void u8(std::uint8_t v) { w_.u8(v); }
  void u16(std::uint16_t v) { w_.u16le(v); }
  void u32(std::uint32_t v) { w_.u32le(v); }
  void u64(std::uint64_t v) { w_.u64le(v); }
  template <typename Enum>
  void u8_enum(Enum v) {
    w_.u8(static_cast<std::uint8_t>(v));
  }
  void zeros(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) w_.u8(0);
  }
  void bytes(ByteView v) { w_.bytes(v); }
  void string(std::string_view s) {
    if (!valid_string(s)) fail(errc::bad_string_byte);
    w_.cstring(s);
  }
  void token(const Bytes& t) {
    if (t.size() > 0xffff) fail(errc::command_too_long);  // does not fit its u16 length
    w_.u16le(static_cast<std::uint16_t>(t.size()));
    w_.bytes(t);
  }

 private:
  wire::Writer w_;
  bool v16_;
  errc err_ = errc::ok;
};

void write(Out& o, const Connect& c) {
  o.u8(c.major_version);
  o.u8(c.minor_version);
  o.zeros(1);
  o.string(c.target_device_url);
  if (c.source_device_urls.size() > 0xff) o.fail(errc::command_too_long);  // u8 count
  o.u8(static_cast<std::uint8_t>(c.source_device_urls.size()));
  for (const auto& s : c.source_device_urls) o.string(s);
  o.token(c.authentication_token);
  o.string(c.peer_product_version);
  o.string(c.peer_product_capabilities);
}

void write(Out& o, const ConnectResponse& c) {
  o.u8(c.major_version);
  o.u8(c.minor_version);
  o.u8_enum(c.response_id);
  o.zeros(1);
  o.u16(c.retry_time);
  o.token(c.authentication_token);
  o.string(c.peer_product_version);
  o.string(c.peer_product_capabilities);
}

void write(Out& o, const ConnectAuthenticate& c) { o.token(c.authentication_token); }

void write(Out& o, const ConnectClose& c) {
  o.u8_enum(c.reason_id);
  o.zeros(1);
  o.u16(c.return_time);
  o.u32(c.message_count);
}

void write(Out& o, const Open& c) {
  o.u32(c.session_id);
  o.string(c.resource_url);
  o.string(c.identity_url);
  o.string(c.device_url);
  o.u8(c.flags & kOpenFlagsKnown);
  o.zeros(2);
}

void write(Out& o, const FanoutOpen& c) {
  o.u32(c.session_id);
  o.string(c.resource_url);
  o.u8(c.flags & kOpenFlagsKnown);
  if (c.entries.size() > 0xffff) o.fail(errc::command_too_long);  // u16 count
  o.u16(static_cast<std::uint16_t>(c.entries.size()));
  for (const auto& e : c.entries) {
    o.string(e.identity_url);
    o.string(e.device_url);
    o.string(e.relay_url);
    // §5.6 [SPEC]: present on 1.6 only; on 1.5 the field does not exist and is not sent.
    if (o.v16()) o.string(e.failover_device_urls);
  }
  o.zeros(2);
}

void write(Out& o, const OpenResponse& c) {
  o.u32(c.session_id);
  o.u8(c.response_id);
  o.zeros(1);
}

void write(Out& o, const Attach& c) {
  o.u32(c.event_id);
  o.string(c.resource_url);
  o.string(c.account_url);
  o.token(c.authentication_token);
}

void write(Out& o, const AttachResponse& c) {
  o.u32(c.event_id);
  o.u8(c.response_id);
  o.zeros(1);
  o.token(c.authentication_token);
}

void write(Out& o, const AttachAuthenticate& c) {
  o.u32(c.event_id);
  o.token(c.authentication_token);
}

void write(Out& o, const Register& c) {
  o.u32(c.event_id);
  o.string(c.identity_url);
  o.token(c.authentication_token);
}

void write(Out& o, const RegisterResponse& c) {
  o.u32(c.event_id);
  o.u8(c.response_id);
  o.zeros(1);
  o.token(c.authentication_token);
}

void write(Out& o, const Message& c) {
  const auto flags = static_cast<std::uint8_t>(c.flags & ~message_flag::Reserved);
  o.u32(c.session_id);
  o.u32(c.message_count);
  o.u8(flags);
  o.string(c.user_ref);
  if (flags & message_flag::Ephemeral) o.u64(c.expiration_time);
  if (flags & message_flag::StreamSize) {
    o.u64(c.stream_size.total_size);
    o.zeros(16);
  }
  if (flags & message_flag::Fragmentation) {
    o.bytes(c.fragmentation.fragment_message_id);
    o.u32(c.fragmentation.fragment_index);
    o.u32(c.fragmentation.fragment_count);
  }
}

void write(Out& o, const Data& c) {
  o.u32(c.session_id);
  o.bytes(c.application_data);
}

void write(Out& o, const EndMessage& c) { o.u32(c.session_id); }
void write(Out& o, const Noop& c) { o.u32(c.message_count); }

void write(Out& o, const Close& c) {
  o.u32(c.session_id);
  o.u8(c.reason_id);
}

void write(Out& o, const SessionStatus& c) {
  o.u32(c.session_id);
  o.u8(c.status_id);
  o.zeros(1);
  o.string(c.device_url);
  o.string(c.identity_url);
  if (c.fanout_device_indexes.empty()) return;  // form A
  // Form B is SSTP 1.6 only (§5.18); a 1.5 peer would read it as trailing bytes.
  if (!o.v16()) o.fail(errc::bad_session_status_target);
  if (c.fanout_device_indexes.size() > 0xffff) o.fail(errc::command_too_long);
  o.u16(static_cast<std::uint16_t>(c.fanout_device_indexes.size()));
  for (auto index : c.fanout_device_indexes) o.u16(index);
}

}  // namespace

bool length_limits(std::uint8_t command_id, LengthLimits& out) {
  if (!known_id(command_id)) return false;
  out = kLimits[command_id];
  return true;
}

std::error_code decode(ByteView frame, std::uint8_t minor_version, Command& out) {
  if (frame.empty()) return errc::truncated_field;
  const std::uint8_t id = frame[0];
  if (!known_id(id)) return errc::unknown_command_id;  // P2
  if (frame.size() < kHeaderSize) return errc::truncated_field;
  const std::size_t length = frame[1] | std::size_t{frame[2]} << 8;
  if (const errc e = check_header(id, length); e != errc::ok) return e;  // P3
  // The frame must be exactly one command: a short one is cut off, a long one has extra bytes.
  if (frame.size() < length) return errc::truncated_field;
  if (frame.size() > length) return errc::trailing_bytes;
  const ByteView body = frame.subspan(kHeaderSize);

  if (id == static_cast<std::uint8_t>(CommandId::Data)) {
    // Hot path (§5.14): the [7, 2055] check above is the whole validation; the payload is a view
    // into `frame`, nothing is copied or allocated.
    out = Data{load_u32le(body.data()), body.subspan(4)};
    return errc::ok;
  }
  return kDecoders[id - 1](body, is_v16(minor_version), out);
}

std::error_code encode(const Command& cmd, std::uint8_t minor_version, Bytes& out) {
  const std::size_t start = out.size();
  const auto id = static_cast<std::uint8_t>(command_id(cmd));
  Out o(out, is_v16(minor_version));
  o.u8(id);
  o.u16(0);  // CommandLength, patched below
  std::visit([&o](const auto& c) { write(o, c); }, cmd);
  const std::size_t length = out.size() - start;
  errc e = o.error();
  if (e == errc::ok && length > kLimits[id].max) e = errc::command_too_long;  // P6
  if (e != errc::ok) {
    out.resize(start);  // nothing appended on failure
    return e;
  }
  wire::Writer(out).patch_u16le(start + 1, static_cast<std::uint16_t>(length));
  return errc::ok;
}

void encode_data_header(std::uint32_t session_id, std::size_t payload_size, Bytes& out) {
  assert(payload_size <= kMaxDataPayload);
  const auto length = static_cast<std::uint16_t>(kHeaderSize + 4 + payload_size);
  const Byte header[] = {
      static_cast<Byte>(CommandId::Data),  static_cast<Byte>(length),
      static_cast<Byte>(length >> 8),      static_cast<Byte>(session_id),
      static_cast<Byte>(session_id >> 8),  static_cast<Byte>(session_id >> 16),
      static_cast<Byte>(session_id >> 24),
  };
  out.insert(out.end(), std::begin(header), std::end(header));
}

// ------------------------------------------------------------------------------------------------
// FrameReader
//
// buf_ holds the bytes of a command split across calls; want_ is its CommandLength once the
// header is known (0 before). A command handed out from buf_ stays there until the next call, so
// buf_.size() == want_ != 0 on entry means "delivered last time".

FrameReader::Result FrameReader::next(ByteView in) {
  Result r;
  if (failed_) {  // §7.2 C12: nothing more is parsed after a framing error
    r.error = failed_;
    return r;
  }
  if (want_ != 0 && buf_.size() == want_) {
    buf_.clear();
    want_ = 0;
  }

  if (buf_.empty() && in.size() >= kHeaderSize) {
    // Fast path: the header is in `in`; check it (P2, P3) and, when the whole command is there
    // too, hand out a view without copying.
    const std::size_t length = in[1] | std::size_t{in[2]} << 8;
    if (const errc e = check_header(in[0], length); e != errc::ok) {
      failed_ = e;
      r.error = failed_;
      return r;
    }
    if (in.size() >= length) {
      r.consumed = length;
      r.frame = in.first(length);
      return r;
    }
  }

  // Slow path: gather the command in buf_. The header is checked as soon as it is complete, before
  // any body byte is kept (§3.5 P3), so buf_ never grows past 65535 bytes.
  std::size_t used = 0;
  while (want_ == 0 && used < in.size()) {
    buf_.push_back(in[used++]);
    if (buf_.size() < kHeaderSize) {
      // P2 needs only the first byte; an unknown id fails at once.
      if (buf_.size() == 1 && !known_id(buf_[0])) failed_ = errc::unknown_command_id;
    } else {
      const std::size_t length = buf_[1] | std::size_t{buf_[2]} << 8;
      if (const errc e = check_header(buf_[0], length); e != errc::ok) {
        failed_ = e;
      } else {
        want_ = length;
        buf_.reserve(want_);
      }
    }
    if (failed_) {
      r.error = failed_;
      return r;
    }
  }
  if (want_ != 0) {
    const std::size_t take = std::min(want_ - buf_.size(), in.size() - used);
    buf_.insert(buf_.end(), in.begin() + static_cast<std::ptrdiff_t>(used),
                in.begin() + static_cast<std::ptrdiff_t>(used + take));
    used += take;
    if (buf_.size() == want_) r.frame = buf_;
  }
  r.consumed = used;
  return r;
}

}  // namespace grove::sstp
