// Fuzz target for the SSTP codec, driven as a peer would drive it: the input is the byte stream
// received on a connection. It is split into commands by FrameReader twice, once whole and once in
// chunks whose sizes come from the input itself, and every command is decoded as SSTP 1.5 and 1.6.
//
// Oracle (a violation aborts):
//  - both splits yield the same commands and the same framing error;
//  - every error is a grove.sstp value of the kind the call documents (framing errors from
//    FrameReader, §3.5 malformations from decode);
//  - the reader never holds more than one command (<= 65535 bytes, §3.5 P3);
//  - a decoded command re-encodes to a frame of the same length that decodes to the same command,
//    and encoding is canonical from then on (reserved values are ignored on read, P5, so the bytes
//    themselves may differ only there).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "sstp/codec.hpp"

namespace {

using grove::Byte;
using grove::Bytes;
using grove::ByteView;
namespace sstp = grove::sstp;

#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "%s:%d: oracle violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

bool is_framing_error(std::error_code ec) {
  return &ec.category() == &sstp::sstp_category() &&
         (ec == sstp::errc::unknown_command_id || ec == sstp::errc::bad_command_length);
}

bool is_decode_error(std::error_code ec) {
  return &ec.category() == &sstp::sstp_category() &&
         ec.value() >= static_cast<int>(sstp::errc::unknown_command_id) &&
         ec.value() <= static_cast<int>(sstp::errc::bad_session_status);
}

struct Split {
  std::vector<Bytes> frames;  // copies: a frame view dies at the next FrameReader call
  std::error_code error;
  std::size_t buffered = 0;
};

// Runs `in` through a FrameReader; chunk(pos) gives the size of the chunk that starts at pos.
template <typename ChunkSize>
Split split(ByteView in, ChunkSize chunk) {
  Split s;
  sstp::FrameReader reader;
  std::size_t pos = 0;
  while (pos < in.size()) {
    ByteView piece = in.subspan(pos, std::min(chunk(pos), in.size() - pos));
    while (!piece.empty()) {
      const auto r = reader.next(piece);
      if (r.error) {
        FUZZ_CHECK(is_framing_error(r.error));
        FUZZ_CHECK(reader.next(piece).error == r.error);  // stays failed
        s.error = r.error;
        return s;
      }
      FUZZ_CHECK(r.consumed > 0 && r.consumed <= piece.size());  // progress, no over-read
      FUZZ_CHECK(reader.buffered() <= 65535);
      if (!r.frame.empty()) s.frames.emplace_back(r.frame.begin(), r.frame.end());
      piece = piece.subspan(r.consumed);
      pos += r.consumed;
    }
  }
  s.buffered = reader.buffered();
  return s;
}

void check_command(const Bytes& frame, std::uint8_t minor) {
  sstp::Command c;
  const std::error_code ec = sstp::decode(frame, minor, c);
  if (ec) {
    FUZZ_CHECK(is_decode_error(ec));
    return;
  }
  FUZZ_CHECK(static_cast<Byte>(sstp::command_id(c)) == frame[0]);
  Bytes again;
  FUZZ_CHECK(!sstp::encode(c, minor, again));
  FUZZ_CHECK(again.size() == frame.size());
  sstp::Command c2;
  FUZZ_CHECK(!sstp::decode(again, minor, c2));
  FUZZ_CHECK(c2 == c);
  Bytes third;
  FUZZ_CHECK(!sstp::encode(c2, minor, third));
  FUZZ_CHECK(third == again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView in(data, size);

  const Split whole = split(in, [&](std::size_t) { return in.size(); });
  // Chunk sizes from the stream itself: 1..17 bytes, or 128..2176 when the byte's top bit is set.
  const Split chunked = split(in, [&](std::size_t pos) {
    const std::size_t b = in[pos];
    return (b % 17 + 1) * (b & 0x80 ? 128 : 1);
  });
  FUZZ_CHECK(whole.frames == chunked.frames);
  FUZZ_CHECK(whole.error == chunked.error);
  FUZZ_CHECK(whole.buffered == chunked.buffered);

  for (const Bytes& frame : whole.frames) {
    check_command(frame, sstp::kMinor15);
    check_command(frame, sstp::kMinor16);
  }

  // decode is also called directly on bytes that need not be one command.
  sstp::Command c;
  const std::error_code ec = sstp::decode(in, sstp::kMinor16, c);
  FUZZ_CHECK(!ec || is_decode_error(ec));
  return 0;
}
