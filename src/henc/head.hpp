// One HTTP/1.x request or response head read through llhttp (style.md rule 17), stopping
// exactly at the empty line so the body stays with the caller (llhttp is paused in
// on_headers_complete; llhttp_get_error_pos() marks the end). Bounded by kMaxHead (§2.7).
// Receivers accept any header order and case, bare LF line ends, repeated and unknown headers
// (§2.3); the head keeps every header, at most kMaxHeaders of them.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "henc/errc.hpp"
#include "henc/wire.hpp"
#include "wire/bytes.hpp"

namespace grove::henc {

inline constexpr std::size_t kMaxHeaders = 100;

class Head {
 public:
  enum class Kind { request, response };
  explicit Head(Kind kind, std::size_t max_bytes = kMaxHead);
  Head(const Head&) = delete;
  Head& operator=(const Head&) = delete;

  // Forgets the last head; the next feed() starts a new one.
  void reset();

  struct Feed {
    std::size_t consumed = 0;  // bytes that belong to the head
    bool complete = false;     // the empty line ending the head was consumed
    std::error_code error;     // malformed_head, head_too_large or bad_version; the head is dead
  };
  // Feeds bytes; stops at the end of the head or consumes everything.
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
  // Every value of header `name`.
  [[nodiscard]] std::vector<std::string> header_values(std::string_view name) const;
  // Content-Length as llhttp parsed it (a malformed or repeated different value fails the head).
  [[nodiscard]] std::optional<std::uint64_t> content_length() const { return content_length_; }
  [[nodiscard]] bool has_transfer_encoding() const { return transfer_encoding_; }
  // HTTP/1.1 without a `close` token in Connection/Proxy-Connection, or HTTP/1.0 with a
  // `keep-alive` token there (henc.md §4.3, §7.1).
  [[nodiscard]] bool keep_alive() const;

 private:
  static int on_method(llhttp_t* p, const char* at, std::size_t n);
  static int on_url(llhttp_t* p, const char* at, std::size_t n);
  static int on_status(llhttp_t* p, const char* at, std::size_t n);
  static int on_header_field(llhttp_t* p, const char* at, std::size_t n);
  static int on_header_field_complete(llhttp_t* p);
  static int on_header_value(llhttp_t* p, const char* at, std::size_t n);
  static int on_headers_complete(llhttp_t* p);
  static const llhttp_settings_t* settings();
  int commit_header();

  Kind kind_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  bool dead_ = false;
  llhttp_t parser_{};
  std::string method_;
  std::string target_;
  int status_ = 0;
  unsigned minor_ = 0;
  std::string reason_;
  std::string field_;
  std::string value_;
  bool field_done_ = false;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::optional<std::uint64_t> content_length_;
  bool transfer_encoding_ = false;
};

}  // namespace grove::henc
