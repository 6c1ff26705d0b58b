// One HTTP/1.x response head read through llhttp (style.md rule 17), stopping exactly at the
// empty line: llhttp is paused in on_headers_complete and llhttp_get_error_pos() gives the end
// of the head, so the bytes after it stay with the caller (SSTP after a 2xx, henc.md §6.2).
// Keeps only what the proxy handshakes read: status, reason phrase, version, the
// (Proxy-|WWW-)Authenticate values, Connection/Proxy-Connection tokens and the body framing.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/errc.hpp"
#include "wire/bytes.hpp"

namespace grove::proxy::detail {

class ResponseHead {
 public:
  // Copyable and movable: llhttp_t holds no pointer into itself, and `data` is set again before
  // every llhttp_execute().
  explicit ResponseHead(std::size_t max_bytes);

  // Forgets the last head; the next feed() starts a new one.
  void reset();

  struct Feed {
    std::size_t consumed = 0;  // bytes that belong to the head
    bool complete = false;     // the empty line ending the head was consumed
    errc error = errc::ok;     // malformed_response or head_too_large; the head is then dead
  };
  // Feeds bytes of the head. Stops at the end of the head (complete) or consumes everything.
  // Must not be called after complete or error without reset().
  [[nodiscard]] Feed feed(ByteView in);

  [[nodiscard]] int status() const { return status_; }
  [[nodiscard]] std::string_view reason() const { return reason_; }
  [[nodiscard]] unsigned minor_version() const { return minor_; }
  [[nodiscard]] std::span<const std::string> proxy_authenticate() const { return proxy_auth_; }
  [[nodiscard]] std::span<const std::string> www_authenticate() const { return www_auth_; }
  // henc.md §7.1: HTTP/1.1 without a `close` token in Connection or Proxy-Connection, or HTTP/1.0
  // with a `keep-alive` token there (and no `close`).
  [[nodiscard]] bool keep_alive() const;
  [[nodiscard]] std::optional<std::uint64_t> content_length() const { return content_length_; }
  [[nodiscard]] bool has_transfer_encoding() const { return transfer_encoding_; }

 private:
  static int on_status(llhttp_t* p, const char* at, std::size_t n);
  static int on_header_field(llhttp_t* p, const char* at, std::size_t n);
  static int on_header_field_complete(llhttp_t* p);
  static int on_header_value(llhttp_t* p, const char* at, std::size_t n);
  static int on_headers_complete(llhttp_t* p);
  static const llhttp_settings_t* settings();
  void commit_header();

  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  bool dead_ = false;
  llhttp_t parser_{};
  int status_ = 0;
  unsigned minor_ = 0;
  std::string reason_;
  std::string field_;
  std::string value_;
  bool field_done_ = false;
  std::vector<std::string> proxy_auth_;
  std::vector<std::string> www_auth_;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  std::optional<std::uint64_t> content_length_;
  bool transfer_encoding_ = false;
};

}  // namespace grove::proxy::detail
