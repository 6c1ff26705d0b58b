#include "henc/wire.hpp"

#include <array>
#include <cstdio>

#include "http/text.hpp"

namespace grove::henc {
namespace {

using http::iequals;

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// §3.1 relay parsing [DECIDED]: spaces and "%20" around tokens are trimmed.
std::string_view trim_token(std::string_view s) {
  for (;;) {
    if (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
      s.remove_prefix(1);
    } else if (s.size() >= 3 && s.substr(0, 3) == "%20") {
      s.remove_prefix(3);
    } else {
      break;
    }
  }
  for (;;) {
    if (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
      s.remove_suffix(1);
    } else if (s.size() >= 3 && s.substr(s.size() - 3) == "%20") {
      s.remove_suffix(3);
    } else {
      break;
    }
  }
  return s;
}

bool contains_conn_type(std::string_view path) {
  for (std::size_t i = 0; i + 9 <= path.size(); ++i)
    if (iequals(path.substr(i, 9), "conntype=")) return true;
  return false;
}

void append(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

}  // namespace

std::uint32_t polling_checksum(ByteView data) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const std::int32_t sb = static_cast<std::int8_t>(data[i]);
    sum += static_cast<std::uint32_t>(sb + 1) * static_cast<std::uint32_t>(i + 1);
  }
  return sum;
}

bool valid_guid(std::string_view g) {
  if (g.empty() || g.size() > kMaxGuid) return false;
  for (char c : g) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string make_guid(const std::function<void(std::span<Byte>)>& random) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string g;
  std::array<Byte, 64> r{};
  while (g.size() < kGuidLength) {
    random(r);
    for (Byte b : r) {
      // 252 = 7 × 36: dropping 252..255 keeps every character equally likely.
      if (b >= 252 || g.size() == kGuidLength) continue;
      g.push_back(kAlphabet[b % 36]);
    }
  }
  return g;
}

std::string bracket_host(std::string_view host) {
  if (host.find(':') != std::string_view::npos && !host.empty() && host.front() != '[')
    return "[" + std::string(host) + "]";
  return std::string(host);
}

std::string host_header(std::string_view host, std::uint16_t port) {
  std::string h = bracket_host(host);
  if (port != 80) h += ":" + std::to_string(port);
  return h;
}

std::string http_url(std::string_view host, std::uint16_t port) {
  return "http://" + host_header(host, port);
}

std::string encapsulation_path(ConnType type, std::string_view server_name, std::string_view guid,
                               std::uint64_t content_length) {
  std::string p = "/" + std::string(kUriVersion) + "/" + bracket_host(server_name) + "/";
  p += guid;
  if (type == ConnType::long_lived) {
    p += ",ConnType=LongLived,ContentLength=" + std::to_string(content_length);
  } else {
    p += ",ConnType=KeepAlive";
  }
  return p;
}

std::optional<std::uint64_t> parse_decimal(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits || max_digits > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

TargetResult parse_target(std::string_view t) {
  TargetResult r;
  // §2.1: the relay accepts the absolute form and ignores its host part.
  if (istarts_with(t, "http://")) {
    t.remove_prefix(7);
    std::size_t slash = t.find('/');
    t = slash == std::string_view::npos ? std::string_view{} : t.substr(slash);
  }
  if (t.empty() || t == "/") {
    r.target.kind = Target::Kind::polling;
    return r;
  }
  if (t.front() != '/') {
    r.error = errc::bad_uri;
    return r;
  }
  std::string_view path = t.substr(1);
  const std::size_t first = path.find('/');
  const std::string_view version = path.substr(0, first);
  if (version != kUriVersion) {
    // §2.7: another version with a ConnType token gets 400; anything else is no encapsulation.
    const bool versioned = first != std::string_view::npos && contains_conn_type(path);
    r.target.kind = versioned ? Target::Kind::bad_version : Target::Kind::not_found;
    return r;
  }
  if (first == std::string_view::npos) {
    r.error = errc::bad_conn_type;
    return r;
  }
  path.remove_prefix(first + 1);
  const std::size_t second = path.find('/');
  if (second == std::string_view::npos || second == 0) {
    r.error = contains_conn_type(path) ? errc::bad_uri : errc::bad_conn_type;
    return r;
  }
  std::string_view name = path.substr(0, second);
  std::string_view last = path.substr(second + 1);
  if (last.find('/') != std::string_view::npos || name.size() > kMaxServerName) {
    r.error = errc::bad_uri;
    return r;
  }
  // An IPv6 literal name comes in brackets (§2.1); the relay compares it without them.
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  std::optional<ConnType> type;
  bool first_token = true;
  while (true) {
    const std::size_t comma = last.find(',');
    std::string_view token = trim_token(last.substr(0, comma));
    if (first_token) {
      if (!valid_guid(token)) {
        r.error = errc::bad_guid;
        return r;
      }
      r.target.guid = std::string(token);
      first_token = false;
    } else {
      const std::size_t eq = token.find('=');
      std::string_view key = trim_token(token.substr(0, eq));
      std::string_view value =
          eq == std::string_view::npos ? std::string_view{} : trim_token(token.substr(eq + 1));
      if (iequals(key, "conntype")) {
        if (iequals(value, "longlived")) {
          type = ConnType::long_lived;
        } else if (iequals(value, "keepalive")) {
          type = ConnType::keep_alive;
        } else {
          r.error = errc::bad_conn_type;
          return r;
        }
      } else if (iequals(key, "contentlength")) {
        r.target.content_length = parse_decimal(value, 19);
        if (!r.target.content_length) {
          r.error = errc::bad_uri;
          return r;
        }
      }  // ID= and unknown tokens are ignored (§3.1)
    }
    if (comma == std::string_view::npos) break;
    last.remove_prefix(comma + 1);
  }
  if (!type) {
    r.error = errc::bad_conn_type;
    return r;
  }
  if (*type == ConnType::long_lived && !r.target.content_length) {
    r.error = errc::bad_uri;  // §3.1: the ContentLength token is part of the grammar
    return r;
  }
  r.target.kind = Target::Kind::encapsulation;
  r.target.type = *type;
  r.target.server_name = std::string(name);
  return r;
}

Bytes encode_prefix(const PollingPrefix& p) {
  Bytes out;
  for (const std::string& f :
       {p.version, p.server_url, p.guid, std::to_string(p.sequence), std::to_string(p.checksum)}) {
    append(out, f);
    out.push_back(0);
  }
  return out;
}

Bytes encode_polling_body(std::string_view server_url, std::string_view guid,
                          std::uint32_t sequence, ByteView data) {
  PollingPrefix p;
  p.server_url = std::string(server_url);
  p.guid = std::string(guid);
  p.sequence = sequence;
  p.checksum = polling_checksum(data);
  Bytes out = encode_prefix(p);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

ParsedBody parse_polling_body(ByteView body) {
  ParsedBody r;
  std::array<std::string_view, 5> fields;
  std::size_t pos = 0;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    std::size_t end = pos;
    while (end < body.size() && body[end] != 0) ++end;
    if (end == body.size()) {
      r.error = errc::bad_prefix;
      return r;
    }
    fields[i] = as_chars(body.subspan(pos, end - pos));
    pos = end + 1;
  }
  if (fields[0] != kPollingVersion) {
    r.error = errc::bad_polling_version;
    return r;
  }
  auto seq = parse_decimal(fields[3], 10);
  auto sum = parse_decimal(fields[4], 10);
  if (fields[1].empty() || fields[1].size() > kMaxServerName || !valid_guid(fields[2]) || !seq ||
      !sum || *seq > 0xffffffffu || *sum > 0xffffffffu) {
    r.error = errc::bad_prefix;
    return r;
  }
  r.prefix.version = std::string(fields[0]);
  r.prefix.server_url = std::string(fields[1]);
  r.prefix.guid = std::string(fields[2]);
  r.prefix.sequence = static_cast<std::uint32_t>(*seq);
  r.prefix.checksum = static_cast<std::uint32_t>(*sum);
  r.data = body.subspan(pos);
  return r;
}

std::size_t polling_data_room(std::string_view server_url, std::string_view guid,
                              std::uint32_t sequence) {
  const std::size_t prefix = kPollingVersion.size() + 1 + server_url.size() + 1 + guid.size() + 1 +
                             std::to_string(sequence).size() + 1 + 10 + 1;
  return prefix >= kPollingMaxBody ? 0 : kPollingMaxBody - prefix;
}

std::string imf_fixdate(std::int64_t t) {
  static constexpr const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::int64_t days = t / 86400;
  std::int64_t secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  const auto weekday = static_cast<std::size_t>(((days % 7) + 7) % 7);  // 1970-01-01: Thursday
  // Howard Hinnant's civil_from_days.
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04lld %02d:%02d:%02d GMT", kDays[weekday],
                static_cast<int>(d), kMonths[m - 1], static_cast<long long>(y),
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60));
  return buf;
}

}  // namespace grove::henc
