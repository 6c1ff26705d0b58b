// Fuzzes the authentication parsers directly: Proxy-Authenticate values (parse_challenges,
// read_digest_challenge), the NTLM CHALLENGE_MESSAGE (parse_challenge, authenticate_message) and
// the Authenticator on arbitrary challenge lists. Byte 0 picks the parser.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "proxy/auth.hpp"
#include "proxy/auth_challenge.hpp"
#include "proxy/digest.hpp"
#include "proxy/ntlm.hpp"
#include "proxy_fuzz_support.hpp"

using namespace grove;
using namespace grove::proxy;
using grove::fuzz::check_error;
using grove::fuzz::Chunker;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  ByteView in(data + 1, size - 1);
  std::string_view text = as_chars(in);
  switch (data[0] % 3) {
    case 0: {
      auto cs = parse_challenges(text);
      if (cs.size() > kMaxChallengesPerHeader) std::abort();
      for (const Challenge& c : cs) {
        if (c.params.size() > kMaxParamsPerChallenge || c.scheme.empty()) std::abort();
        if (auto d = read_digest_challenge(c)) {
          std::string v = digest_authorization(*d, {"u", "p", "CONNECT", "h:443", "00", 1});
          if (v.find('\r') != std::string::npos || v.find('\n') != std::string::npos) {
            std::abort();  // a challenge must never inject a header line
          }
        }
      }
      break;
    }
    case 1: {
      auto c = ntlm::parse_challenge(in);
      if (!c) break;
      if (c->target_info.size() > in.size()) std::abort();
      ntlm::AuthenticateInput ai{"User", "Domain", "WS", "Password", {}, 0};
      auto m = ntlm::authenticate_message(*c, ai);
      if (m && m->size() < ntlm::kAuthenticateHeaderSize) std::abort();
      break;
    }
    default: {
      AuthOptions o;
      o.credentials = Credentials{"DOM\\user", "pass"};
      o.random = [](std::span<Byte> out) {
        for (Byte& b : out) b = 1;
      };
      o.now_filetime = [] { return std::uint64_t{0}; };
      Authenticator a(o);
      std::vector<std::string> values;
      std::size_t start = 0;
      for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == '\n') {
          values.emplace_back(text.substr(start, i - start));
          start = i + 1;
        }
      }
      for (int round = 0; round < 3; ++round) {
        std::error_code ec = a.on_challenge(values, "CONNECT", "h:443");
        if (ec) {
          check_error(ec);
          break;
        }
        if (a.authorization().find_first_of("\r\n") != std::string::npos) std::abort();
      }
      break;
    }
  }
  return 0;
}
