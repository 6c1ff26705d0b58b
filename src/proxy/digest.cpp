#include "proxy/digest.hpp"

#include <cstdio>

#include "proxy/detail/crypto.hpp"
#include "proxy/detail/text.hpp"

namespace grove::proxy {
namespace {

struct AlgorithmInfo {
  DigestAlgorithm algorithm;
  std::string_view name;
  detail::HashKind hash;
  bool sess;
  int preference;
};

constexpr AlgorithmInfo kAlgorithms[] = {
    {DigestAlgorithm::sha256, "SHA-256", detail::HashKind::sha256, false, 60},
    {DigestAlgorithm::sha256_sess, "SHA-256-sess", detail::HashKind::sha256, true, 50},
    {DigestAlgorithm::sha512_256, "SHA-512-256", detail::HashKind::sha512_256, false, 40},
    {DigestAlgorithm::sha512_256_sess, "SHA-512-256-sess", detail::HashKind::sha512_256, true, 30},
    {DigestAlgorithm::md5, "MD5", detail::HashKind::md5, false, 20},
    {DigestAlgorithm::md5_sess, "MD5-sess", detail::HashKind::md5, true, 10},
};

const AlgorithmInfo& info(DigestAlgorithm a) {
  for (const auto& i : kAlgorithms) {
    if (i.algorithm == a) return i;
  }
  return kAlgorithms[4];
}

// RFC 9110 §5.6.4: a quoted-string escapes '"' and '\'.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string nc_hex(std::uint32_t nc) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", nc);
  return buf;
}

bool list_has(std::string_view list, std::string_view item) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view part = detail::trim(list.substr(0, comma));
    if (detail::iequals(part, item)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::string_view digest_algorithm_name(DigestAlgorithm a) { return info(a).name; }
int digest_preference(DigestAlgorithm a) { return info(a).preference; }

std::optional<DigestChallenge> read_digest_challenge(const Challenge& c) {
  if (c.scheme != "digest") return std::nullopt;
  DigestChallenge d;
  const std::string* nonce = c.param("nonce");
  if (nonce == nullptr || nonce->empty()) return std::nullopt;
  d.nonce = *nonce;
  if (const std::string* realm = c.param("realm")) d.realm = *realm;
  if (const std::string* opaque = c.param("opaque")) d.opaque = *opaque;
  if (const std::string* alg = c.param("algorithm")) {
    bool known = false;
    for (const auto& i : kAlgorithms) {
      if (detail::iequals(*alg, i.name)) {
        d.algorithm = i.algorithm;
        known = true;
      }
    }
    if (!known) return std::nullopt;
  }
  if (const std::string* qop = c.param("qop")) {
    if (!list_has(*qop, "auth")) return std::nullopt;  // auth-int only: bodies are streams (§7.3)
    d.qop_auth = true;
  }
  if (const std::string* stale = c.param("stale")) d.stale = detail::iequals(*stale, "true");
  if (const std::string* uh = c.param("userhash")) d.userhash = detail::iequals(*uh, "true");
  if (detail::has_ctl(d.realm) || detail::has_ctl(d.nonce) ||
      (d.opaque && detail::has_ctl(*d.opaque))) {
    return std::nullopt;
  }
  return d;
}

std::string digest_response(const DigestChallenge& c, const DigestInput& in) {
  const AlgorithmInfo& a = info(c.algorithm);
  auto H = [&a](std::string_view s) { return detail::hash_hex(a.hash, s); };
  std::string ha1 = H(std::string(in.user) + ":" + c.realm + ":" + std::string(in.password));
  if (a.sess) ha1 = H(ha1 + ":" + c.nonce + ":" + std::string(in.cnonce));
  std::string ha2 = H(std::string(in.method) + ":" + std::string(in.uri));
  if (!c.qop_auth) return H(ha1 + ":" + c.nonce + ":" + ha2);  // RFC 2069 form
  return H(ha1 + ":" + c.nonce + ":" + nc_hex(in.nc) + ":" + std::string(in.cnonce) +
           ":auth:" + ha2);
}

std::string digest_authorization(const DigestChallenge& c, const DigestInput& in) {
  const AlgorithmInfo& a = info(c.algorithm);
  std::string username = c.userhash ? detail::hash_hex(a.hash, std::string(in.user) + ":" + c.realm)
                                    : std::string(in.user);
  std::string v = "Digest username=" + quote(username);
  v += ", realm=" + quote(c.realm);
  v += ", nonce=" + quote(c.nonce);
  v += ", uri=" + quote(in.uri);
  v += ", algorithm=";
  v += a.name;
  v += ", response=" + quote(digest_response(c, in));
  if (c.qop_auth) {
    v += ", qop=auth, nc=" + nc_hex(in.nc);
    v += ", cnonce=" + quote(in.cnonce);
  }
  if (c.opaque) v += ", opaque=" + quote(*c.opaque);
  if (c.userhash) v += ", userhash=true";
  return v;
}

}  // namespace grove::proxy
