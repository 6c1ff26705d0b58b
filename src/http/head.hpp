// One HTTP/1.x request or response head read through llhttp (style.md rule 17), stopping
// exactly at the empty line so the bytes after it stay with the caller: llhttp is paused in
// on_headers_complete and llhttp_get_error_pos() marks the end of the head. The one head parser
// of Grove: the henc relay and client read theirs through henc/head.hpp (which reports
// grove.henc errors), the CONNECT client through proxy/http_connect.cpp (grove.proxy errors).
// Receivers accept any header order and case, bare LF line ends, repeated and unknown headers
// (henc.md §2.3); the head keeps every header, names as received, values trimmed.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/errc.hpp"
#include "wire/bytes.hpp"

namespace grove::http {

// Header lines one head may hold: repeats are legal (§2.3), but each line costs two strings.
inline constexpr std::size_t kMaxHeaders = 100;

struct HeadOptions {
  // Start line and headers up to the empty line: 8192 bytes for henc (§2.7) and CONNECT (§6.2).
  // Going over fails the head with head_too_large; llhttp is never handed more than this.
  std::size_t max_bytes = 8192;
  // One line more fails the head with too_many_headers.
  std::size_t max_headers = kMaxHeaders;
  // Accept Content-Length next to Transfer-Encoding, which llhttp refuses by default (RFC 9112
  // §6.3: the pair smuggles requests). The CONNECT client ignores both on a 2xx (§6.3 row 3).
  bool length_with_transfer_encoding = false;
};

class Head {
 public:
  enum class Kind { request, response };
  // Copyable and movable: llhttp_t holds no pointer into itself, and `data` is set again before
  // every llhttp_execute().
  explicit Head(Kind kind, HeadOptions options = {});

  // Forgets the last head; the next feed() starts a new one.
  void reset();

  struct Feed {
    std::size_t consumed = 0;  // bytes that belong to the head
    bool complete = false;     // the empty line ending the head was consumed
    errc error = errc::ok;     // any value but ok leaves the head dead until reset()
  };
  // Feeds bytes of the head; stops at the end of the head (complete) or consumes everything.
  // bad_version comes with complete set: the head was read to its end. A call after complete or
  // an error fails with malformed_head. The input is copied: nothing refers to it afterwards.
  [[nodiscard]] Feed feed(ByteView in);
  // Bytes fed so far, including an incomplete head.
  [[nodiscard]] std::size_t size() const { return bytes_; }

  // Request.
  [[nodiscard]] std::string_view method() const { return method_; }
  [[nodiscard]] std::string_view target() const { return target_; }
  // Response.
  [[nodiscard]] int status() const { return status_; }
  [[nodiscard]] std::string_view reason() const { return reason_; }
  [[nodiscard]] unsigned minor_version() const { return minor_; }

  // Every header, names as received, values trimmed.
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& headers() const {
    return headers_;
  }
  // The first value of header `name` (case-insensitive), or nullptr.
  [[nodiscard]] const std::string* header(std::string_view name) const;
  // Every value of header `name`, in the order received.
  [[nodiscard]] std::vector<std::string> header_values(std::string_view name) const;
  // Content-Length as llhttp parsed it (a malformed or repeated different value fails the head).
  [[nodiscard]] std::optional<std::uint64_t> content_length() const { return content_length_; }
  [[nodiscard]] bool has_transfer_encoding() const { return transfer_encoding_; }
  // HTTP/1.1 without a `close` token in Connection/Proxy-Connection, or HTTP/1.0 with a
  // `keep-alive` token there and no `close` (henc.md §4.3, §7.1; RFC 9110 §7.6.1).
  [[nodiscard]] bool keep_alive() const;

 private:
  // The span callbacks: method, target, reason phrase, header name and value.
  template <std::string Head::*Text>
  static int append(llhttp_t* p, const char* at, std::size_t n);
  static int on_header_value_complete(llhttp_t* p);
  static int on_headers_complete(llhttp_t* p);
  static const llhttp_settings_t* settings();
  // llhttp proper: bytes that reach the parser, counted in bytes_.
  Feed parse(const char* data, std::size_t n);

  // henc.md §13 row 3: a request line may end in spaces ("HTTP/1.0 \r\n"), which llhttp
  // refuses. Spaces and tabs of the request line are withheld until the next byte shows
  // whether the line goes on (then they are passed on) or ends (then they are dropped).
  bool first_line_ = true;
  std::size_t held_ = 0;

  Kind kind_;
  HeadOptions options_;
  std::size_t bytes_ = 0;
  bool dead_ = false;
  bool too_many_headers_ = false;  // on_header_value_complete() refused: why llhttp stopped
  llhttp_t parser_{};
  std::string method_;
  std::string target_;
  int status_ = 0;
  unsigned minor_ = 0;
  std::string reason_;
  std::string field_;
  std::string value_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::optional<std::uint64_t> content_length_;
  bool transfer_encoding_ = false;
};

}  // namespace grove::http
