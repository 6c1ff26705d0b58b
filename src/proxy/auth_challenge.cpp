#include "proxy/auth_challenge.hpp"

#include <optional>

#include "proxy/detail/text.hpp"

namespace grove::proxy {

const std::string* Challenge::param(std::string_view name) const {
  for (const auto& p : params) {
    if (p.name == name) return &p.value;
  }
  return nullptr;
}

namespace {

bool is_tchar(char c) {  // RFC 9110 §5.6.2
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token68_char(char c) {  // RFC 9110 §11.2
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool end() const { return i_ >= s_.size(); }
  char peek() const { return end() ? '\0' : s_[i_]; }
  std::size_t pos() const { return i_; }
  void seek(std::size_t p) { i_ = p; }
  void skip_ows() {
    while (!end() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  void skip_ows_commas() {
    while (!end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == ',')) ++i_;
  }
  std::string_view token() {
    std::size_t b = i_;
    while (!end() && is_tchar(s_[i_])) ++i_;
    return s_.substr(b, i_ - b);
  }
  // token68 when the item is one: token68 chars, '='s, then OWS up to ',' or the end.
  std::optional<std::string_view> token68() {
    std::size_t b = i_, e = i_;
    while (e < s_.size() && is_token68_char(s_[e])) ++e;
    if (e == b) return std::nullopt;
    while (e < s_.size() && s_[e] == '=') ++e;
    std::size_t after = e;
    while (after < s_.size() && (s_[after] == ' ' || s_[after] == '\t')) ++after;
    if (after < s_.size() && s_[after] != ',') return std::nullopt;
    i_ = after;
    return s_.substr(b, e - b);
  }
  // Unquoted value: printable bytes other than ',', '"', space and tab (tolerates the
  // unquoted base64 nonces some proxies send).
  std::string_view bare_value() {
    std::size_t b = i_;
    while (!end()) {
      auto c = static_cast<unsigned char>(s_[i_]);
      if (c <= 0x20 || c == 0x7f || c == ',' || c == '"') break;
      ++i_;
    }
    return s_.substr(b, i_ - b);
  }
  // RFC 9110 §5.6.4 quoted-string starting at '"'; nullopt when unterminated.
  std::optional<std::string> quoted() {
    std::string out;
    ++i_;  // opening quote
    while (!end()) {
      char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (end()) return std::nullopt;
        c = s_[i_++];
      }
      out.push_back(c);
    }
    return std::nullopt;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

// Reads `name BWS = BWS value` at the cursor. not_param (cursor restored): the item has no '=',
// so it is the next challenge's scheme.
enum class ParamResult { param, not_param, error };

ParamResult read_param(Cursor& c, AuthParam& out) {
  std::size_t start = c.pos();
  std::string_view name = c.token();
  if (name.empty()) return ParamResult::error;
  c.skip_ows();
  if (c.peek() != '=') {
    c.seek(start);
    return ParamResult::not_param;
  }
  c.seek(c.pos() + 1);
  c.skip_ows();
  out.name = detail::to_lower(name);
  if (c.peek() == '"') {
    auto q = c.quoted();
    if (!q) return ParamResult::error;
    out.value = std::move(*q);
  } else {
    std::string_view v = c.bare_value();
    if (v.empty()) return ParamResult::error;
    out.value = std::string(v);
  }
  c.skip_ows();
  if (!c.end() && c.peek() != ',') return ParamResult::error;
  return ParamResult::param;
}

}  // namespace

std::vector<Challenge> parse_challenges(std::string_view header_value) {
  std::vector<Challenge> out;
  Cursor c(header_value);
  c.skip_ows_commas();
  while (!c.end() && out.size() < kMaxChallengesPerHeader) {
    std::string_view scheme = c.token();
    if (scheme.empty()) return out;
    Challenge ch;
    ch.scheme = detail::to_lower(scheme);
    bool had_space = c.peek() == ' ' || c.peek() == '\t';
    c.skip_ows();
    if (c.end() || c.peek() == ',') {
      out.push_back(std::move(ch));
      c.skip_ows_commas();
      continue;
    }
    if (!had_space) return out;  // "scheme" must be followed by SP
    if (auto t = c.token68()) {
      ch.token68 = std::string(*t);
      out.push_back(std::move(ch));
      c.skip_ows_commas();
      continue;
    }
    // #auth-param until an item without '=' starts the next challenge.
    bool broken = false;
    while (!c.end()) {
      AuthParam p;
      ParamResult r = read_param(c, p);
      if (r == ParamResult::not_param) break;
      if (r == ParamResult::error) {
        broken = true;
        break;
      }
      if (ch.params.size() < kMaxParamsPerChallenge) ch.params.push_back(std::move(p));
      c.skip_ows_commas();
    }
    if (broken) return out;  // a challenge with a syntax error is dropped whole
    out.push_back(std::move(ch));
  }
  return out;
}

}  // namespace grove::proxy
