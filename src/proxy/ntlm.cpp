#include "proxy/ntlm.hpp"

#include <cstring>

#include "proxy/detail/crypto.hpp"
#include "proxy/detail/text.hpp"
#include "proxy/md4.hpp"
#include "wire/reader.hpp"
#include "wire/writer.hpp"

namespace grove::proxy::ntlm {
namespace {

constexpr Byte kSignature[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};
constexpr std::uint16_t kAvEol = 0;
constexpr std::uint16_t kAvTimestamp = 7;
constexpr std::uint32_t kFlagTargetInfo = 0x00800000;  // NTLMSSP_NEGOTIATE_TARGET_INFO

struct SecurityBuffer {
  std::uint16_t length = 0;
  std::uint32_t offset = 0;
};

bool read_buffer(wire::Reader& r, SecurityBuffer& b) {
  std::uint16_t max_length = 0;
  return r.u16le(b.length) && r.u16le(max_length) && r.u32le(b.offset);
}

bool in_bounds(const SecurityBuffer& b, std::size_t size) {
  return b.length == 0 || (b.offset <= size && b.length <= size - b.offset);
}

// Walks the AV pairs (AvId u16, AvLen u16, value); false when one runs past the end.
bool walk_av_pairs(ByteView info, std::optional<std::uint64_t>& timestamp) {
  wire::Reader r(info);
  while (!r.empty()) {
    std::uint16_t id = 0, len = 0;
    ByteView value;
    if (!r.u16le(id) || !r.u16le(len) || !r.bytes(len, value)) return false;
    if (id == kAvEol) return true;
    if (id == kAvTimestamp && len == 8) {
      wire::Reader t(value);
      std::uint64_t ft = 0;
      if (t.u64le(ft)) timestamp = ft;
    }
  }
  return true;  // tolerated: a list that ends exactly at its bounds without MsvAvEOL
}

void put_buffer(wire::Writer& w, std::size_t length, std::size_t offset) {
  w.u16le(static_cast<std::uint16_t>(length));
  w.u16le(static_cast<std::uint16_t>(length));
  w.u32le(static_cast<std::uint32_t>(offset));
}

Bytes encode_string(std::string_view s, bool unicode) {
  if (unicode) return detail::utf16le(s);
  return Bytes(s.begin(), s.end());
}

}  // namespace

Bytes negotiate_message() {
  Bytes out;
  wire::Writer w(out);
  w.bytes(ByteView(kSignature, 8));
  w.u32le(1);
  w.u32le(kNegotiateFlags);
  put_buffer(w, 0, kNegotiateSize);  // DomainNameFields
  put_buffer(w, 0, kNegotiateSize);  // WorkstationFields
  return out;
}

std::optional<ChallengeMessage> parse_challenge(ByteView msg) {
  wire::Reader r(msg);
  ByteView sig;
  std::uint32_t type = 0;
  SecurityBuffer target_name;
  ChallengeMessage c;
  ByteView server_challenge;
  if (!r.bytes(8, sig) || std::memcmp(sig.data(), kSignature, 8) != 0) return std::nullopt;
  if (!r.u32le(type) || type != 2) return std::nullopt;
  // TargetName is never used (the NTLM domain comes from the configuration, henc.md §7.4), so
  // its offset is not checked: squid's ntlm_fake_auth sends an uninitialised one (0xaaaaaaae).
  if (!read_buffer(r, target_name)) return std::nullopt;
  if (!r.u32le(c.flags) || !r.bytes(8, server_challenge)) return std::nullopt;
  std::memcpy(c.server_challenge.data(), server_challenge.data(), 8);

  ByteView reserved;
  SecurityBuffer target_info;
  if (r.bytes(8, reserved) && read_buffer(r, target_info) && target_info.length > 0) {
    const bool valid =
        in_bounds(target_info, msg.size()) &&
        walk_av_pairs(msg.subspan(target_info.offset, target_info.length), c.timestamp);
    if (valid) {
      ByteView info = msg.subspan(target_info.offset, target_info.length);
      c.target_info.assign(info.begin(), info.end());
    } else if (c.flags & kFlagTargetInfo) {
      return std::nullopt;
    } else {
      // [MS-NLMP] 2.2.1.2: without NEGOTIATE_TARGET_INFO the TargetInfoFields are ignored. A
      // short CHALLENGE (squid's ntlm_fake_auth) has its payload where they would be.
      c.timestamp.reset();
      c.target_info = {0, 0, 0, 0};
    }
  } else {
    c.target_info = {0, 0, 0, 0};  // §7.4: missing TargetInfo = MsvAvEOL only
  }
  return c;
}

Account split_account(std::string_view configured) {
  if (auto bs = configured.find('\\'); bs != std::string_view::npos) {
    return {std::string(configured.substr(bs + 1)), std::string(configured.substr(0, bs))};
  }
  if (auto at = configured.rfind('@'); at != std::string_view::npos) {
    return {std::string(configured.substr(0, at)), std::string(configured.substr(at + 1))};
  }
  return {std::string(configured), {}};
}

Hash16 nt_hash(std::string_view password) { return md4(detail::utf16le(password)); }

Hash16 ntowfv2(std::string_view password, std::string_view user, std::string_view domain) {
  Hash16 nt = nt_hash(password);
  Bytes id = detail::utf16le(detail::to_upper_ascii(user) + std::string(domain));
  return detail::hmac_md5(nt, id);
}

Ntlmv2Responses ntlmv2_responses(const Hash16& ntowf, const Block8& server_challenge,
                                 const Block8& client_challenge, std::uint64_t time,
                                 ByteView target_info) {
  Bytes msg(server_challenge.begin(), server_challenge.end());
  wire::Writer w(msg);
  std::size_t temp_start = msg.size();
  w.bytes(std::array<Byte, 8>{1, 1, 0, 0, 0, 0, 0, 0});
  w.u64le(time);
  w.bytes(client_challenge);
  w.u32le(0);
  w.bytes(target_info);
  w.u32le(0);

  Ntlmv2Responses out;
  Hash16 proof = detail::hmac_md5(ntowf, msg);
  out.nt.assign(proof.begin(), proof.end());
  out.nt.insert(out.nt.end(), msg.begin() + static_cast<std::ptrdiff_t>(temp_start), msg.end());

  Bytes lm_in(server_challenge.begin(), server_challenge.end());
  lm_in.insert(lm_in.end(), client_challenge.begin(), client_challenge.end());
  Hash16 lm = detail::hmac_md5(ntowf, lm_in);
  std::memcpy(out.lm.data(), lm.data(), 16);
  std::memcpy(out.lm.data() + 16, client_challenge.data(), 8);
  return out;
}

std::optional<Bytes> authenticate_message(const ChallengeMessage& challenge,
                                          const AuthenticateInput& in) {
  std::uint32_t flags = challenge.flags & kAuthenticateMask;
  bool unicode = (flags & kFlagUnicode) != 0;
  if (unicode) flags &= ~kFlagOem;  // §7.4: only one of UNICODE/OEM, UNICODE when offered

  std::uint64_t time = challenge.timestamp.value_or(in.now_filetime);
  Ntlmv2Responses r =
      ntlmv2_responses(ntowfv2(in.password, in.user, in.domain), challenge.server_challenge,
                       in.client_challenge, time, challenge.target_info);
  if (challenge.timestamp) r.lm.fill(0);  // §7.4: zero LMv2 when MsvAvTimestamp is present

  const Bytes domain = encode_string(in.domain, unicode);
  const Bytes user = encode_string(in.user, unicode);
  const Bytes workstation = encode_string(in.workstation, unicode);
  for (std::size_t n : {r.nt.size(), domain.size(), user.size(), workstation.size()}) {
    if (n > 0xffff) return std::nullopt;
  }

  Bytes out;
  wire::Writer w(out);
  std::size_t offset = kAuthenticateHeaderSize;
  w.bytes(ByteView(kSignature, 8));
  w.u32le(3);
  for (std::size_t n : {r.lm.size(), r.nt.size(), domain.size(), user.size(), workstation.size()}) {
    put_buffer(w, n, offset);
    offset += n;
  }
  put_buffer(w, 0, offset);  // EncryptedRandomSessionKeyFields: empty
  w.u32le(flags);
  w.bytes(r.lm);
  w.bytes(r.nt);
  w.bytes(domain);
  w.bytes(user);
  w.bytes(workstation);
  return out;
}

}  // namespace grove::proxy::ntlm
