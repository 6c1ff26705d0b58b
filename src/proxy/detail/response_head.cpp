#include "proxy/detail/response_head.hpp"

#include "proxy/detail/text.hpp"

namespace grove::proxy::detail {

const llhttp_settings_t* ResponseHead::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t v;
    llhttp_settings_init(&v);
    v.on_status = &ResponseHead::on_status;
    v.on_header_field = &ResponseHead::on_header_field;
    v.on_header_field_complete = &ResponseHead::on_header_field_complete;
    v.on_header_value = &ResponseHead::on_header_value;
    v.on_headers_complete = &ResponseHead::on_headers_complete;
    return v;
  }();
  return &s;
}

ResponseHead::ResponseHead(std::size_t max_bytes) : max_bytes_(max_bytes) { reset(); }

void ResponseHead::reset() {
  llhttp_init(&parser_, HTTP_RESPONSE, settings());
  // henc.md §2.3/§6.2: bare LF accepted as a line end (llhttp 8 needs lenient headers for it);
  // Content-Length next to Transfer-Encoding is ignored on a 2xx CONNECT answer.
  llhttp_set_lenient_headers(&parser_, 1);
  llhttp_set_lenient_chunked_length(&parser_, 1);
  bytes_ = 0;
  dead_ = false;
  status_ = 0;
  minor_ = 0;
  reason_.clear();
  field_.clear();
  value_.clear();
  field_done_ = false;
  proxy_auth_.clear();
  www_auth_.clear();
  connection_close_ = connection_keep_alive_ = false;
  content_length_.reset();
  transfer_encoding_ = false;
}

ResponseHead::Feed ResponseHead::feed(ByteView in) {
  Feed f;
  if (dead_) {
    f.error = errc::malformed_response;
    return f;
  }
  // henc.md §6.2: the head is bounded; never hand llhttp more than the bytes still allowed.
  std::size_t n = std::min(in.size(), max_bytes_ - bytes_);
  const char* data = reinterpret_cast<const char*>(in.data());
  parser_.data = this;
  llhttp_errno_t e = llhttp_execute(&parser_, data, n);
  if (e == HPE_PAUSED) {
    f.consumed = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data);
    bytes_ += f.consumed;
    f.complete = true;
    dead_ = true;  // paused for good: the next head needs reset()
    if (llhttp_get_http_major(&parser_) != 1) f.error = errc::malformed_response;
    return f;
  }
  if (e != HPE_OK) {
    dead_ = true;
    f.error = errc::malformed_response;
    return f;
  }
  f.consumed = n;
  bytes_ += n;
  if (bytes_ >= max_bytes_) {
    dead_ = true;
    f.error = errc::head_too_large;
  }
  return f;
}

bool ResponseHead::keep_alive() const {
  if (connection_close_) return false;
  return minor_ >= 1 || connection_keep_alive_;
}

int ResponseHead::on_status(llhttp_t* p, const char* at, std::size_t n) {
  static_cast<ResponseHead*>(p->data)->reason_.append(at, n);
  return 0;
}

int ResponseHead::on_header_field(llhttp_t* p, const char* at, std::size_t n) {
  auto* self = static_cast<ResponseHead*>(p->data);
  if (self->field_done_) self->commit_header();
  self->field_.append(at, n);
  return 0;
}

int ResponseHead::on_header_field_complete(llhttp_t* p) {
  static_cast<ResponseHead*>(p->data)->field_done_ = true;
  return 0;
}

int ResponseHead::on_header_value(llhttp_t* p, const char* at, std::size_t n) {
  static_cast<ResponseHead*>(p->data)->value_.append(at, n);
  return 0;
}

int ResponseHead::on_headers_complete(llhttp_t* p) {
  auto* self = static_cast<ResponseHead*>(p->data);
  if (self->field_done_) self->commit_header();
  self->status_ = llhttp_get_status_code(p);
  self->minor_ = llhttp_get_http_minor(p);
  if (p->flags & F_CONTENT_LENGTH) self->content_length_ = p->content_length;
  self->transfer_encoding_ = (p->flags & (F_TRANSFER_ENCODING | F_CHUNKED)) != 0;
  return HPE_PAUSED;
}

void ResponseHead::commit_header() {
  std::string_view value = trim(value_);
  if (iequals(field_, "proxy-authenticate")) {
    proxy_auth_.emplace_back(value);
  } else if (iequals(field_, "www-authenticate")) {
    www_auth_.emplace_back(value);
  } else if (iequals(field_, "connection") || iequals(field_, "proxy-connection")) {
    // Comma-separated tokens (RFC 9110 §7.6.1).
    while (!value.empty()) {
      std::size_t comma = value.find(',');
      std::string_view token = trim(value.substr(0, comma));
      if (iequals(token, "close")) connection_close_ = true;
      if (iequals(token, "keep-alive")) connection_keep_alive_ = true;
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  field_.clear();
  value_.clear();
  field_done_ = false;
}

}  // namespace grove::proxy::detail
