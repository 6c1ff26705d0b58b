#include "sstp/url.hpp"

namespace grove::sstp {

namespace {
bool alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

bool is_valid_url(std::string_view url) {
  if (url.empty() || url.size() > 1024) return false;
  for (char c : url)
    if (c < 0x21 || c > 0x7e) return false;
  const auto colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0 || !alpha(url[0])) return false;
  for (std::size_t i = 1; i < colon; ++i) {
    const char c = url[i];
    if (!alpha(c) && !digit(c) && c != '+' && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace grove::sstp
