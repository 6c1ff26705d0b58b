#include "henc/head.hpp"

namespace grove::henc {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

const llhttp_settings_t* Head::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t v;
    llhttp_settings_init(&v);
    v.on_method = &Head::on_method;
    v.on_url = &Head::on_url;
    v.on_status = &Head::on_status;
    v.on_header_field = &Head::on_header_field;
    v.on_header_field_complete = &Head::on_header_field_complete;
    v.on_header_value = &Head::on_header_value;
    v.on_headers_complete = &Head::on_headers_complete;
    return v;
  }();
  return &s;
}

Head::Head(Kind kind, std::size_t max_bytes) : kind_(kind), max_bytes_(max_bytes) { reset(); }

void Head::reset() {
  llhttp_init(&parser_, kind_ == Kind::request ? HTTP_REQUEST : HTTP_RESPONSE, settings());
  // §2.3: bare LF line ends and trailing spaces are accepted (llhttp 8 needs lenient headers).
  llhttp_set_lenient_headers(&parser_, 1);
  bytes_ = 0;
  dead_ = false;
  method_.clear();
  target_.clear();
  status_ = 0;
  minor_ = 0;
  reason_.clear();
  field_.clear();
  value_.clear();
  field_done_ = false;
  headers_.clear();
  content_length_.reset();
  transfer_encoding_ = false;
}

Head::Feed Head::feed(ByteView in) {
  Feed f;
  if (dead_) {
    f.error = errc::malformed_head;
    return f;
  }
  // Never hand llhttp more than the bytes still allowed, so a drip-fed or endless head costs
  // at most max_bytes_ of memory.
  const std::size_t n = std::min(in.size(), max_bytes_ - bytes_);
  const char* data = reinterpret_cast<const char*>(in.data());
  parser_.data = this;
  const llhttp_errno_t e = llhttp_execute(&parser_, data, n);
  if (e == HPE_PAUSED) {
    f.consumed = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data);
    bytes_ += f.consumed;
    f.complete = true;
    dead_ = true;
    if (llhttp_get_http_major(&parser_) != 1) f.error = errc::bad_version;
    return f;
  }
  if (e != HPE_OK) {
    dead_ = true;
    f.error = e == HPE_USER ? errc::head_too_large : errc::malformed_head;
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

int Head::on_method(llhttp_t* p, const char* at, std::size_t n) {
  static_cast<Head*>(p->data)->method_.append(at, n);
  return 0;
}

int Head::on_url(llhttp_t* p, const char* at, std::size_t n) {
  static_cast<Head*>(p->data)->target_.append(at, n);
  return 0;
}

int Head::on_status(llhttp_t* p, const char* at, std::size_t n) {
  static_cast<Head*>(p->data)->reason_.append(at, n);
  return 0;
}

int Head::on_header_field(llhttp_t* p, const char* at, std::size_t n) {
  auto* self = static_cast<Head*>(p->data);
  if (self->field_done_ && self->commit_header() != 0) return HPE_USER;
  self->field_.append(at, n);
  return 0;
}

int Head::on_header_field_complete(llhttp_t* p) {
  static_cast<Head*>(p->data)->field_done_ = true;
  return 0;
}

int Head::on_header_value(llhttp_t* p, const char* at, std::size_t n) {
  static_cast<Head*>(p->data)->value_.append(at, n);
  return 0;
}

int Head::on_headers_complete(llhttp_t* p) {
  auto* self = static_cast<Head*>(p->data);
  if (self->field_done_ && self->commit_header() != 0) return HPE_USER;
  self->status_ = llhttp_get_status_code(p);
  self->minor_ = llhttp_get_http_minor(p);
  if (p->flags & F_CONTENT_LENGTH) self->content_length_ = p->content_length;
  self->transfer_encoding_ = (p->flags & (F_TRANSFER_ENCODING | F_CHUNKED)) != 0;
  return HPE_PAUSED;
}

int Head::commit_header() {
  if (headers_.size() >= kMaxHeaders) return -1;
  headers_.emplace_back(std::move(field_), std::string(trim(value_)));
  field_.clear();
  value_.clear();
  field_done_ = false;
  return 0;
}

}  // namespace grove::henc
