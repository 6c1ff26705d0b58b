// Grove's optional TLS 1.3 wrapping of the SSTP byte stream (README "TLS 1.3", henc.md §8,
// auth.md §6). TLS runs over any ByteStream (a TCP socket, a CONNECT or SOCKS tunnel), through
// OpenSSL with memory BIOs: OpenSSL only turns bytes into bytes, and this file moves them to
// and from the inner stream on the connection's executor. The resulting TlsStream is one more
// ByteStream; its channel_binding() is the auth.md §6 exporter value.
//
//   client: auto ctx = TlsContext::client(config, why);          // once per run
//           auto s = co_await tls_connect(std::move(tunnel), ctx, config, ec, why);
//   relay:  auto ctx = TlsContext::server(cert_file, key_file, why);
//           auto s = co_await accept_sstp_stream(std::move(socket), "sstp", ctx, 30s, ec, why);
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "net/stream.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace grove::net {

// Why a TLS connection did not come up (category "grove.tls").
enum class tls_errc {
  handshake_failed = 1,       // the peer is no TLS 1.3 server/client, or the handshake broke
  certificate_untrusted,      // the chain does not lead to --tls-ca or the system store
  certificate_name_mismatch,  // the certificate is not for --tls-name / the relay's host
  pin_mismatch,               // neither the certificate nor its public key has the --tls-pin hash
  handshake_timeout,
  bad_configuration,  // unreadable CA, certificate or key file
  record_error,       // a broken TLS record after the handshake
};
const std::error_category& tls_category();
inline std::error_code make_error_code(tls_errc e) { return {static_cast<int>(e), tls_category()}; }
// True for the errors that mean "this is not the relay you asked for" (exit code 4 in grove).
[[nodiscard]] bool is_certificate_error(const std::error_code& ec);

using Sha256 = std::array<Byte, 32>;

// "sha256:" followed by 64 hex digits or 44 base64 characters (the form `openssl ... | base64`
// and HPKP print). nullopt when malformed.
[[nodiscard]] std::optional<Sha256> parse_tls_pin(std::string_view text);

struct TlsClientConfig {
  std::string ca_file;  // --tls-ca: trust only these CAs; empty = the system store
  std::optional<Sha256>
      pin;  // --tls-pin: SHA-256 of the certificate or of its SubjectPublicKeyInfo
  // The name the certificate must carry (DNS name or IP address) and the SNI (DNS names only).
  std::string server_name;
};

// An SSL_CTX for one role, shared by every connection of a run (one executor, no locks).
class TlsContext {
 public:
  // Client context: TLS 1.3 only; verifies against ca_file or the system store unless only a
  // pin is given (then the pin alone decides). nullptr with `why` on a configuration error.
  static std::shared_ptr<TlsContext> client(const TlsClientConfig& config, std::string& why);
  // Relay context: TLS 1.3 only, with this PEM certificate chain and private key.
  static std::shared_ptr<TlsContext> server(const std::string& certificate_file,
                                            const std::string& private_key_file, std::string& why);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* native() const { return ctx_; }
  bool is_server() const { return server_; }

 private:
  TlsContext(SSL_CTX* ctx, bool server) : ctx_(ctx), server_(server) {}
  SSL_CTX* ctx_;
  bool server_;
};

// Runs the client handshake over `inner` and checks the certificate (chain, name, pin) before
// anything else is sent. Returns the TLS stream, or nullptr with `ec` (tls_errc or the inner
// stream's error) and a sentence in `why`; `inner` is closed then. The handshake is abandoned
// at `deadline` (tls_errc::handshake_timeout).
awaitable<ByteStreamPtr> tls_connect(ByteStreamPtr inner, std::shared_ptr<TlsContext> ctx,
                                     const TlsClientConfig& config,
                                     std::chrono::steady_clock::time_point deadline,
                                     std::error_code& ec, std::string& why);
// The relay's handshake over `inner`, abandoned at `deadline`.
awaitable<ByteStreamPtr> tls_accept(ByteStreamPtr inner, std::shared_ptr<TlsContext> ctx,
                                    std::chrono::steady_clock::time_point deadline,
                                    std::error_code& ec, std::string& why);

// A relay listener's new connection (henc.md §8): without `tls`, plain SSTP at once. With it,
// the first byte decides: 0x16 (a TLS handshake record; no SSTP CommandId) starts TLS, any
// other byte is plain SSTP. `limit` bounds the wait for that byte and the handshake.
awaitable<ByteStreamPtr> accept_sstp_stream(asio::ip::tcp::socket socket, std::string kind,
                                            std::shared_ptr<TlsContext> tls,
                                            std::chrono::milliseconds limit, std::error_code& ec,
                                            std::string& why);

}  // namespace grove::net

template <>
struct std::is_error_code_enum<grove::net::tls_errc> : std::true_type {};
