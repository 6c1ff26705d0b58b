#include "proxy/detail/crypto.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

#include "proxy/detail/text.hpp"

namespace grove::proxy::detail {

Md5Digest hmac_md5(ByteView key, ByteView data) {
  Md5Digest out{};
  unsigned int len = 0;
  if (HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
           out.data(), &len) == nullptr ||
      len != out.size()) {
    throw std::runtime_error("HMAC-MD5 unavailable in OpenSSL");  // broken invariant, not input
  }
  return out;
}

std::string hash_hex(HashKind kind, std::string_view data) {
  const EVP_MD* md = kind == HashKind::md5      ? EVP_md5()
                     : kind == HashKind::sha256 ? EVP_sha256()
                                                : EVP_sha512_256();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) {
    throw std::runtime_error("digest unavailable in OpenSSL");  // broken invariant, not input
  }
  return hex(ByteView(out, len));
}

}  // namespace grove::proxy::detail
