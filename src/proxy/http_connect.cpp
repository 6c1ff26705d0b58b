#include "proxy/http_connect.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "proxy/detail/text.hpp"

namespace grove::proxy {
namespace {

// henc.md §6.2: the refusal each status stands for; 401/407 and 1xx/2xx never get here.
errc status_error(int status) {
  switch (status) {
    case 400:
      return errc::proxy_bad_request;
    case 403:
      return errc::proxy_forbidden;
    case 405:
    case 501:
      return errc::connect_not_supported;
    case 404:
    case 500:
      return errc::relay_unreachable;
    case 502:
      return errc::bad_gateway;
    case 503:
      return errc::service_unavailable;
    case 504:
      return errc::gateway_timeout;
    default:
      return errc::other_status;  // 101, 3xx (never followed), anything else
  }
}

// §6.2 bounds the response head by bytes (ConnectOptions::max_head_bytes), not by lines: each
// line takes at least 3 of those bytes. Content-Length next to Transfer-Encoding is read, since a
// 2xx ignores both (§6.3 row 3).
http::HeadOptions head_options(std::size_t max_bytes) {
  http::HeadOptions o;
  o.max_bytes = max_bytes;
  o.max_headers = std::numeric_limits<std::size_t>::max();
  o.length_with_transfer_encoding = true;
  return o;
}

// How a response head that does not parse fails the step (errc.hpp: malformed_response covers a
// non-HTTP/1.x answer).
errc head_error(http::errc e) {
  switch (e) {
    case http::errc::ok:
      return errc::ok;
    case http::errc::head_too_large:
    case http::errc::too_many_headers:
      return errc::head_too_large;
    case http::errc::malformed_head:
    case http::errc::bad_version:
      break;
  }
  return errc::malformed_response;
}

bool valid_header_text(std::string_view s) {
  return !s.empty() && !detail::has_ctl(s) && s.find(' ') == std::string_view::npos;
}

// §6.1: authority form host:port; an IPv6 literal goes in brackets.
std::string authority(std::string_view host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string_view::npos && host.front() != '[';
  std::string out = v6 ? "[" + std::string(host) + "]" : std::string(host);
  return out + ":" + std::to_string(port);
}

}  // namespace

HttpConnect::HttpConnect(ConnectOptions options)
    : options_(std::move(options)),
      auth_(options_.auth),
      head_(http::Head::Kind::response, head_options(options_.max_head_bytes)) {
  if (!valid_header_text(options_.host)) throw std::invalid_argument("bad CONNECT target host");
  if (detail::has_ctl(options_.user_agent) || options_.user_agent.empty()) {
    throw std::invalid_argument("bad User-Agent");
  }
  authority_ = authority(options_.host, options_.port);
  // §7.1: credentials at once when an earlier connection to this proxy needed them.
  std::optional<std::string> preemptive = auth_.initial("CONNECT", authority_);
  queue_request(preemptive ? &*preemptive : nullptr);
}

void HttpConnect::queue_request(const std::string* authorization) {
  // §6.1: exactly these headers in this order, then (Proxy-)Authorization.
  std::string r = "CONNECT " + authority_ + " HTTP/1.0\r\n";
  r += "User-Agent: " + options_.user_agent + "\r\n";
  r += "Host: " + authority_ + "\r\n";
  r += "Proxy-Connection: Keep-Alive\r\n";
  r += "Pragma: no-cache\r\n";
  if (authorization != nullptr) r += auth_header_ + ": " + *authorization + "\r\n";
  r += "\r\n";
  output_.insert(output_.end(), r.begin(), r.end());
  ++requests_;
}

std::size_t HttpConnect::receive(ByteView in) {
  std::size_t used = 0;
  while (used < in.size()) {
    switch (state_) {
      case State::requested: {
        http::Head::Feed f = head_.feed(in.subspan(used));
        used += f.consumed;
        if (f.error != http::errc::ok) {
          fail(head_error(f.error));
          return used;
        }
        if (!f.complete) return used;
        on_head();
        break;
      }
      case State::draining: {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(drain_left_, in.size() - used));
        used += n;
        drain_left_ -= n;
        if (drain_left_ == 0) retry_same_connection();
        break;
      }
      case State::reconnect:
      case State::tunnel:
      case State::failed:
        return used;
    }
  }
  return used;
}

void HttpConnect::on_head() {
  status_ = head_.status();
  reason_ = std::string(head_.reason());
  if (status_ >= 100 && status_ < 200 && status_ != 101) {
    // §6.2: interim answers are discarded; the next head follows.
    if (++interim_ > options_.max_interim_responses) return fail(errc::too_many_interim);
    head_.reset();
    return;
  }
  if (status_ >= 200 && status_ < 300) {
    state_ = State::tunnel;  // §6.3 row 3: any 2xx; Content-Length/Transfer-Encoding ignored
    return;
  }
  if (status_ == 401 || status_ == 407) return on_auth_challenge();
  fail(status_error(status_));
}

void HttpConnect::on_auth_challenge() {
  // §7.1: 407 reads Proxy-Authenticate and answers Proxy-Authorization; 401 the WWW pair.
  bool proxy = status_ == 407;
  auth_header_ = proxy ? "Proxy-Authorization" : "Authorization";
  std::error_code ec =
      auth_.on_challenge(head_.header_values(proxy ? "Proxy-Authenticate" : "WWW-Authenticate"),
                         "CONNECT", authority_);
  if (ec) return fail(ec);
  // §7.1: reuse only a kept-alive connection whose body length is known; drain that body first.
  bool same = auth_.needs_same_connection();
  std::optional<std::uint64_t> length = head_.content_length();
  bool reusable = head_.keep_alive() && length && !head_.has_transfer_encoding();
  if (reusable && *length > options_.max_drain_bytes) {
    if (same) return fail(errc::body_too_large);
    reusable = false;
  }
  if (!reusable) {
    if (same) return fail(errc::ntlm_connection_closed);  // §7.4
    state_ = State::reconnect;
    output_.clear();
    output_sent_ = 0;
    return;
  }
  drain_left_ = *length;
  state_ = State::draining;
  if (drain_left_ == 0) retry_same_connection();
}

void HttpConnect::retry_same_connection() {
  head_.reset();
  state_ = State::requested;
  queue_request(&auth_.authorization());
}

void HttpConnect::reconnected() {
  if (state_ != State::reconnect) return;
  head_.reset();
  output_.clear();
  output_sent_ = 0;
  state_ = State::requested;
  queue_request(&auth_.authorization());
}

void HttpConnect::receive_eof() {
  switch (state_) {
    case State::requested:
      fail(auth_.awaiting_ntlm_challenge() ? errc::ntlm_connection_closed : errc::closed_early);
      return;
    case State::draining:
      // The proxy closed instead of keeping the connection: Basic and Digest retry on a new one.
      if (auth_.needs_same_connection()) return fail(errc::ntlm_connection_closed);
      state_ = State::reconnect;
      output_.clear();
      output_sent_ = 0;
      return;
    case State::reconnect:
    case State::tunnel:
    case State::failed:
      return;
  }
}

ByteView HttpConnect::pending_output() const { return ByteView(output_).subspan(output_sent_); }

void HttpConnect::consume_output(std::size_t n) {
  output_sent_ += std::min(n, output_.size() - output_sent_);
  if (output_sent_ == output_.size()) {
    output_.clear();
    output_sent_ = 0;
  }
}

std::string_view HttpConnect::state_name(State s) {
  switch (s) {
    case State::requested:
      return "Requested";
    case State::draining:
      return "Draining";
    case State::reconnect:
      return "Reconnect";
    case State::tunnel:
      return "Tunnel";
    case State::failed:
      return "Failed";
  }
  return "?";
}

void HttpConnect::fail(std::error_code e) {
  error_ = e;
  state_ = State::failed;
  output_.clear();
  output_sent_ = 0;
}

}  // namespace grove::proxy
