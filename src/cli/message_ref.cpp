#include "cli/message_ref.hpp"

namespace grove::cli {

namespace {
constexpr std::string_view kPrefix = "msg:";
constexpr std::size_t kHexLength = 32;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not produced by format_user_ref, so it is not an id
}
}  // namespace

std::string format_user_ref(const MessageId& id, std::string_view rest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(kPrefix);
  for (unsigned char b : id) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0f];
  }
  if (!rest.empty()) {
    out += ' ';
    out += rest;
  }
  return out;
}

UserRef parse_user_ref(std::string_view user_ref) {
  UserRef r{std::nullopt, user_ref};
  if (user_ref.substr(0, kPrefix.size()) != kPrefix) return r;
  const std::string_view hex = user_ref.substr(kPrefix.size(), kHexLength);
  if (hex.size() != kHexLength) return r;
  const std::string_view after = user_ref.substr(kPrefix.size() + kHexLength);
  if (!after.empty() && after.front() != ' ') return r;
  MessageId id{};
  for (std::size_t i = 0; i < id.size(); ++i) {
    const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return r;
    id[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  r.id = id;
  r.rest = after.empty() ? after : after.substr(1);
  return r;
}

void SeenIds::insert(const MessageId& id) {
  std::string k = key(id);
  if (!set_.insert(k).second) return;
  order_.push_back(std::move(k));
  if (order_.size() > limit_) {
    set_.erase(order_.front());
    order_.pop_front();
  }
}

}  // namespace grove::cli
