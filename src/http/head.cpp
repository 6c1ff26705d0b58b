#include "http/head.hpp"

#include <algorithm>

#include "http/text.hpp"

namespace grove::http {

const llhttp_settings_t* Head::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t v;
    llhttp_settings_init(&v);
    v.on_method = &Head::append<&Head::method_>;
    v.on_url = &Head::append<&Head::target_>;
    v.on_status = &Head::append<&Head::reason_>;
    v.on_header_field = &Head::append<&Head::field_>;
    v.on_header_value = &Head::append<&Head::value_>;
    v.on_header_value_complete = &Head::on_header_value_complete;
    v.on_headers_complete = &Head::on_headers_complete;
    return v;
  }();
  return &s;
}

Head::Head(Kind kind, HeadOptions options) : kind_(kind), options_(options) { reset(); }

void Head::reset() {
  llhttp_init(&parser_, kind_ == Kind::request ? HTTP_REQUEST : HTTP_RESPONSE, settings());
  // henc.md §2.3: bare LF line ends and trailing spaces are accepted (llhttp 8 needs lenient
  // headers for them).
  llhttp_set_lenient_headers(&parser_, 1);
  if (options_.length_with_transfer_encoding) llhttp_set_lenient_chunked_length(&parser_, 1);
  bytes_ = 0;
  dead_ = false;
  too_many_headers_ = false;
  first_line_ = kind_ == Kind::request;
  held_ = 0;
  method_.clear();
  target_.clear();
  status_ = 0;
  minor_ = 0;
  reason_.clear();
  field_.clear();
  value_.clear();
  headers_.clear();
  content_length_.reset();
  transfer_encoding_ = false;
}

Head::Feed Head::feed(ByteView in) {
  if (dead_) {
    Feed f;
    f.error = errc::malformed_head;
    return f;
  }
  const char* data = reinterpret_cast<const char*>(in.data());
  if (!first_line_) return parse(data, in.size());
  // The request line, byte by byte (it is short), without the spaces that end it. What came
  // before a run of spaces reaches llhttp first, so errors come in input order however the
  // input is split.
  std::string line;
  const auto flush = [&] {
    Feed f = parse(line.data(), line.size());
    line.clear();
    return f;
  };
  std::size_t i = 0;
  for (; i < in.size() && first_line_; ++i) {
    const char c = data[i];
    if (c == ' ' || c == '\t') {
      if (!line.empty()) {
        Feed f = flush();
        if (f.error != errc::ok) return f;
      }
      ++held_;
      if (bytes_ + held_ >= options_.max_bytes) {
        dead_ = true;
        Feed f;
        f.error = errc::head_too_large;
        return f;
      }
      continue;
    }
    if (c == '\r' || c == '\n') {
      first_line_ = false;
      bytes_ += held_;  // dropped, but read
    } else {
      line.append(held_, ' ');  // the line goes on: its spaces (tabs as spaces) too
    }
    held_ = 0;
    line.push_back(c);
  }
  Feed f = flush();
  if (f.error != errc::ok || f.complete) return f;
  f.consumed = i;  // withheld and dropped spaces belong to the head too
  if (i == in.size()) return f;
  Feed rest = parse(data + i, in.size() - i);
  rest.consumed += i;
  return rest;
}

Head::Feed Head::parse(const char* data, std::size_t size) {
  Feed f;
  // Never hand llhttp more than the bytes still allowed, so a drip-fed or endless head costs
  // at most max_bytes of memory.
  const std::size_t n = std::min(size, options_.max_bytes - bytes_);
  parser_.data = this;
  const llhttp_errno_t e = llhttp_execute(&parser_, data, n);
  if (e == HPE_PAUSED) {
    f.consumed = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data);
    bytes_ += f.consumed;
    f.complete = true;
    dead_ = true;  // paused for good: the next head needs reset()
    if (llhttp_get_http_major(&parser_) != 1) f.error = errc::bad_version;
    return f;
  }
  if (e != HPE_OK) {
    dead_ = true;
    // llhttp reports the refusal of on_header_value_complete as HPE_CB_HEADER_VALUE_COMPLETE;
    // the flag tells it from malformed bytes.
    f.error = too_many_headers_ ? errc::too_many_headers : errc::malformed_head;
    return f;
  }
  f.consumed = n;
  bytes_ += n;
  if (bytes_ >= options_.max_bytes) {
    dead_ = true;
    f.error = errc::head_too_large;
  }
  return f;
}

const std::string* Head::header(std::string_view name) const {
  for (const auto& [k, v] : headers_)
    if (iequals(k, name)) return &v;
  return nullptr;
}

std::vector<std::string> Head::header_values(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers_)
    if (iequals(k, name)) out.push_back(v);
  return out;
}

bool Head::keep_alive() const {
  bool close = false;
  bool keep = false;
  for (const auto& [k, v] : headers_) {
    if (!iequals(k, "connection") && !iequals(k, "proxy-connection")) continue;
    close = close || has_token(v, "close");
    keep = keep || has_token(v, "keep-alive");
  }
  if (close) return false;
  return minor_ >= 1 || keep;
}

// llhttp hands a span in pieces when it straddles two feed() calls: each piece is appended.
template <std::string Head::*Text>
int Head::append(llhttp_t* p, const char* at, std::size_t n) {
  (static_cast<Head*>(p->data)->*Text).append(at, n);
  return 0;
}

// A line is kept when its value ends, a point llhttp reaches at the same byte however the input
// is split (span callbacks, by contrast, fire at the end of each llhttp_execute()): the limit and
// a malformed line are then found in byte order, the same way at once and byte by byte.
int Head::on_header_value_complete(llhttp_t* p) {
  auto* self = static_cast<Head*>(p->data);
  if (self->headers_.size() >= self->options_.max_headers) {
    self->too_many_headers_ = true;
    return HPE_USER;
  }
  self->headers_.emplace_back(std::move(self->field_), std::string(trim(self->value_)));
  self->field_.clear();
  self->value_.clear();
  return 0;
}

int Head::on_headers_complete(llhttp_t* p) {
  auto* self = static_cast<Head*>(p->data);
  self->status_ = llhttp_get_status_code(p);
  self->minor_ = llhttp_get_http_minor(p);
  if (p->flags & F_CONTENT_LENGTH) self->content_length_ = p->content_length;
  self->transfer_encoding_ = (p->flags & (F_TRANSFER_ENCODING | F_CHUNKED)) != 0;
  return HPE_PAUSED;
}

}  // namespace grove::http
