#include "net/tls_stream.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <climits>

#include "net/tcp_stream.hpp"

namespace grove::net {

namespace {

class TlsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "grove.tls"; }
  std::string message(int v) const override {
    switch (static_cast<tls_errc>(v)) {
      case tls_errc::handshake_failed:
        return "TLS handshake failed";
      case tls_errc::certificate_untrusted:
        return "the relay's certificate is not trusted";
      case tls_errc::certificate_name_mismatch:
        return "the relay's certificate is for another name";
      case tls_errc::pin_mismatch:
        return "the relay's certificate does not match --tls-pin";
      case tls_errc::handshake_timeout:
        return "TLS handshake timed out";
      case tls_errc::bad_configuration:
        return "TLS configuration error";
      case tls_errc::record_error:
        return "TLS record error";
    }
    return "unknown TLS error";
  }
};

// The oldest queued OpenSSL error as text; clears the queue.
std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no detail from OpenSSL";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

bool is_ip_literal(const std::string& s) {
  std::error_code ec;
  (void)asio::ip::make_address(s, ec);
  return !ec;
}

Sha256 sha256(const unsigned char* data, std::size_t n) {
  Sha256 out{};
  unsigned int len = 0;
  EVP_Digest(data, n, out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

std::string base64(const Sha256& h) {
  unsigned char out[64];
  const int n = EVP_EncodeBlock(out, h.data(), static_cast<int>(h.size()));
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

// auth.md §6: CB = TLS-Exporter("EXPORTER-grove-auth-1", empty context, 32).
constexpr char kExporterLabel[] = "EXPORTER-grove-auth-1";

// A ByteStream carrying TLS records over `inner`: OpenSSL reads from `rbio_` (bytes received)
// and writes to `wbio_` (bytes to send); this class moves them. Reads and writes may run at
// once (the driver's reader and writer); only one coroutine writes to `inner` at a time.
class TlsStream final : public ByteStream {
 public:
  TlsStream(ByteStreamPtr inner, std::shared_ptr<TlsContext> ctx)
      : inner_(std::move(inner)), ctx_(std::move(ctx)), in_(64 * 1024) {
    ssl_ = SSL_new(ctx_->native());
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio, -1);  // empty means "need more", not end of stream
    SSL_set_bio(ssl_, rbio, wbio);     // ssl_ owns both
    rbio_ = rbio;
    wbio_ = wbio;
    if (ctx_->is_server())
      SSL_set_accept_state(ssl_);
    else
      SSL_set_connect_state(ssl_);
    description_ = "tls+" + inner_->describe();  // keeps "KIND ADDRESS" for logs and limits
  }
  ~TlsStream() override { SSL_free(ssl_); }
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  SSL* ssl() { return ssl_; }

  // The handshake; false with `ec` on failure (the alert, if any, is sent first).
  awaitable<bool> handshake(std::error_code& ec) {
    for (;;) {
      ERR_clear_error();
      const int r = SSL_do_handshake(ssl_);
      const int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
      std::error_code wec;
      co_await flush(wec);
      if (r == 1) break;
      if (err == SSL_ERROR_WANT_READ && !wec) {
        if (co_await fill(ec)) continue;
        if (!ec) ec = asio::error::eof;
        co_return false;
      }
      ec = wec && err == SSL_ERROR_WANT_READ ? wec : make_error_code(tls_errc::handshake_failed);
      co_return false;
    }
    Sha256 cb{};
    if (SSL_export_keying_material(ssl_, cb.data(), cb.size(), kExporterLabel,
                                   sizeof kExporterLabel - 1, nullptr, 0, 1) != 1) {
      ec = make_error_code(tls_errc::handshake_failed);
      co_return false;
    }
    binding_ = cb;
    co_return true;
  }

  awaitable<std::size_t> read_some(std::span<Byte> buf, std::error_code& ec) override {
    ec.clear();
    for (;;) {
      std::size_t total = 0;
      bool stop = false;
      while (total < buf.size() && !stop) {  // several records per call: fewer driver turns
        std::size_t n = 0;
        ERR_clear_error();
        if (SSL_read_ex(ssl_, buf.data() + total, buf.size() - total, &n) == 1) {
          total += n;
          continue;
        }
        switch (SSL_get_error(ssl_, 0)) {
          case SSL_ERROR_WANT_READ:
            stop = true;
            break;
          case SSL_ERROR_ZERO_RETURN:  // close_notify
            if (total) co_return total;
            ec = asio::error::eof;
            co_return 0;
          default:
            if (total) co_return total;  // the error shows again on the next call
            ec = make_error_code(tls_errc::record_error);
            co_return 0;
        }
      }
      // Reading may have produced bytes to send (a KeyUpdate answer); a running write
      // sends them with its own.
      if (BIO_ctrl_pending(wbio_) > 0 && !writing_) {
        std::error_code wec;
        co_await flush(wec);
        if (wec && total == 0) {
          ec = wec;
          co_return 0;
        }
      }
      if (total > 0) co_return total;
      if (!co_await fill(ec)) {
        if (!ec) ec = asio::error::eof;
        co_return 0;
      }
    }
  }

  awaitable<void> write_all(ByteView data, std::error_code& ec) override {
    ec.clear();
    std::size_t off = 0;
    while (off < data.size()) {  // a memory BIO takes everything: no WANT_WRITE
      std::size_t n = 0;
      ERR_clear_error();
      if (SSL_write_ex(ssl_, data.data() + off, data.size() - off, &n) != 1) {
        ec = make_error_code(tls_errc::record_error);
        co_return;
      }
      off += n;
    }
    co_await flush(ec);
  }

  // No close_notify: SSTP ends with its own ConnectClose, and close() cannot wait for a write.
  void close() override { inner_->close(); }
  std::string describe() const override { return description_; }
  std::optional<std::array<Byte, 32>> channel_binding() const override { return binding_; }

 private:
  // Sends what OpenSSL wrote. A second caller while one runs returns at once: the running
  // loop takes its bytes too.
  awaitable<void> flush(std::error_code& ec) {
    if (writing_) co_return;
    writing_ = true;
    while (BIO_ctrl_pending(wbio_) > 0) {
      out_.resize(BIO_ctrl_pending(wbio_));
      const int n = BIO_read(wbio_, out_.data(),
                             static_cast<int>(std::min<std::size_t>(out_.size(), INT_MAX)));
      if (n <= 0) break;
      co_await inner_->write_all(ByteView(out_.data(), static_cast<std::size_t>(n)), ec);
      if (ec) break;
    }
    writing_ = false;
  }

  // Moves the next bytes from `inner` into OpenSSL; false at end of stream or on error.
  awaitable<bool> fill(std::error_code& ec) {
    const std::size_t n = co_await inner_->read_some(in_, ec);
    if (ec || n == 0) co_return false;
    BIO_write(rbio_, in_.data(), static_cast<int>(n));
    co_return true;
  }

  ByteStreamPtr inner_;
  std::shared_ptr<TlsContext> ctx_;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;
  BIO* wbio_ = nullptr;
  Bytes in_, out_;
  bool writing_ = false;
  std::optional<Sha256> binding_;
  std::string description_;
};

// Closes whatever `*target` points to when `deadline` passes, unless cleared first.
struct Watch {
  std::shared_ptr<ByteStream*> target = std::make_shared<ByteStream*>(nullptr);
  std::shared_ptr<bool> expired = std::make_shared<bool>(false);
  asio::steady_timer timer;

  Watch(asio::any_io_executor ex, std::chrono::steady_clock::time_point deadline)
      : timer(ex, deadline) {
    timer.async_wait([t = target, x = expired](const std::error_code& e) {
      if (e || *t == nullptr) return;
      *x = true;
      (*t)->close();
    });
  }
  ~Watch() {
    *target = nullptr;
    timer.cancel();
  }
};

}  // namespace

const std::error_category& tls_category() {
  static const TlsCategory c;
  return c;
}

bool is_certificate_error(const std::error_code& ec) {
  return ec == tls_errc::certificate_untrusted || ec == tls_errc::certificate_name_mismatch ||
         ec == tls_errc::pin_mismatch;
}

std::optional<Sha256> parse_tls_pin(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256:";
  if (text.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  text.remove_prefix(kPrefix.size());
  Sha256 out{};
  if (text.size() == 64) {
    for (std::size_t i = 0; i < 32; ++i) {
      unsigned v = 0;
      for (char c : text.substr(2 * i, 2)) {
        v <<= 4;
        if (c >= '0' && c <= '9')
          v |= unsigned(c - '0');
        else if (c >= 'a' && c <= 'f')
          v |= unsigned(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
          v |= unsigned(c - 'A' + 10);
        else
          return std::nullopt;
      }
      out[i] = static_cast<Byte>(v);
    }
    return out;
  }
  if (text.size() == 44 && text.back() == '=') {
    unsigned char buf[48];
    const int n = EVP_DecodeBlock(buf, reinterpret_cast<const unsigned char*>(text.data()), 44);
    if (n != 33) return std::nullopt;  // 32 bytes plus the zero byte the padding stands for
    std::copy(buf, buf + 32, out.begin());
    if (base64(out) != text) return std::nullopt;  // rejects characters outside base64
    return out;
  }
  return std::nullopt;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::shared_ptr<TlsContext> TlsContext::client(const TlsClientConfig& config, std::string& why) {
  SSL_CTX* c = SSL_CTX_new(TLS_client_method());
  if (!c) {
    why = "cannot create a TLS context: " + openssl_error();
    return nullptr;
  }
  std::shared_ptr<TlsContext> ctx(new TlsContext(c, false));
  SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);  // auth.md §6: TLS 1.3 or later
  const bool pin_only = config.pin && config.ca_file.empty();
  if (!config.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(c, config.ca_file.c_str(), nullptr) != 1) {
      why = "cannot read --tls-ca " + config.ca_file + ": " + openssl_error();
      return nullptr;
    }
  } else if (!pin_only && SSL_CTX_set_default_verify_paths(c) != 1) {
    why = "cannot load the system's trusted certificates: " + openssl_error();
    return nullptr;
  }
  SSL_CTX_set_verify(c, pin_only ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
  return ctx;
}

std::shared_ptr<TlsContext> TlsContext::server(const std::string& certificate_file,
                                               const std::string& private_key_file,
                                               std::string& why) {
  SSL_CTX* c = SSL_CTX_new(TLS_server_method());
  if (!c) {
    why = "cannot create a TLS context: " + openssl_error();
    return nullptr;
  }
  std::shared_ptr<TlsContext> ctx(new TlsContext(c, true));
  SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
  SSL_CTX_set_num_tickets(c, 0);  // no resumption: each SSTP connection is a full handshake
  if (SSL_CTX_use_certificate_chain_file(c, certificate_file.c_str()) != 1) {
    why = "cannot read tls_certificate " + certificate_file + ": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(c, private_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    why = "cannot read tls_private_key " + private_key_file + ": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    why = "tls_private_key does not belong to tls_certificate: " + openssl_error();
    return nullptr;
  }
  return ctx;
}

awaitable<ByteStreamPtr> tls_connect(ByteStreamPtr inner, std::shared_ptr<TlsContext> ctx,
                                     const TlsClientConfig& config,
                                     std::chrono::steady_clock::time_point deadline,
                                     std::error_code& ec, std::string& why) {
  auto s = std::make_unique<TlsStream>(std::move(inner), std::move(ctx));
  SSL* ssl = s->ssl();
  const std::string& name = config.server_name;
  if (!name.empty()) {
    if (is_ip_literal(name)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, name.c_str());
      SSL_set1_host(ssl, name.c_str());
    }
  }
  Watch watch(co_await asio::this_coro::executor, deadline);
  *watch.target = s.get();
  const bool ok = co_await s->handshake(ec);
  *watch.target = nullptr;
  if (!ok) {
    // Only a verifying client fails the handshake on the certificate (a pin is checked after).
    const long v =
        (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (*watch.expired) {
      ec = make_error_code(tls_errc::handshake_timeout);
      why = "no TLS handshake before the step's deadline";
    } else if (v != X509_V_OK) {
      const bool name_wrong =
          v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH;
      ec = make_error_code(name_wrong ? tls_errc::certificate_name_mismatch
                                      : tls_errc::certificate_untrusted);
      why = fmt::format(
          "the relay's TLS certificate was refused: {} ({})", X509_verify_cert_error_string(v),
          name_wrong ? "it is not for " + name + "; see --tls-name"
                     : std::string("trusted CAs come from --tls-ca or the system store"));
    } else if (ec.category() == tls_category()) {
      why = "TLS handshake failed: " + openssl_error() + " (is TLS on at the relay?)";
    } else {
      why = "TLS handshake failed: " + ec.message();
    }
    s->close();
    co_return nullptr;
  }
  if (config.pin) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    bool match = false;
    std::string spki_pin = "?";
    if (cert) {
      unsigned char* der = nullptr;
      int n = i2d_X509(cert, &der);
      if (n > 0) match = sha256(der, static_cast<std::size_t>(n)) == *config.pin;
      OPENSSL_free(der);
      der = nullptr;
      n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
      if (n > 0) {
        const Sha256 spki = sha256(der, static_cast<std::size_t>(n));
        match = match || spki == *config.pin;
        spki_pin = "sha256:" + base64(spki);
      }
      OPENSSL_free(der);
      X509_free(cert);
    }
    if (!match) {
      ec = make_error_code(tls_errc::pin_mismatch);
      why = "the relay's TLS certificate does not match --tls-pin (its public key pin is " +
            spki_pin + ")";
      s->close();
      co_return nullptr;
    }
  }
  co_return s;
}

awaitable<ByteStreamPtr> tls_accept(ByteStreamPtr inner, std::shared_ptr<TlsContext> ctx,
                                    std::chrono::steady_clock::time_point deadline,
                                    std::error_code& ec, std::string& why) {
  auto s = std::make_unique<TlsStream>(std::move(inner), std::move(ctx));
  Watch watch(co_await asio::this_coro::executor, deadline);
  *watch.target = s.get();
  const bool ok = co_await s->handshake(ec);
  *watch.target = nullptr;
  if (!ok) {
    if (*watch.expired) ec = make_error_code(tls_errc::handshake_timeout);
    why = *watch.expired                    ? "no TLS handshake in time"
          : ec.category() == tls_category() ? "TLS handshake failed: " + openssl_error()
                                            : "TLS handshake failed: " + ec.message();
    s->close();
    co_return nullptr;
  }
  co_return s;
}

awaitable<ByteStreamPtr> accept_sstp_stream(asio::ip::tcp::socket socket, std::string kind,
                                            std::shared_ptr<TlsContext> tls,
                                            std::chrono::milliseconds limit, std::error_code& ec,
                                            std::string& why) {
  auto tcp = std::make_unique<TcpStream>(std::move(socket), std::move(kind));
  if (!tls) co_return tcp;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  Byte first = 0;
  {
    Watch watch(co_await asio::this_coro::executor, deadline);
    *watch.target = tcp.get();
    auto [e, n] = co_await tcp->socket().async_receive(asio::buffer(&first, 1),
                                                       asio::socket_base::message_peek, use_tuple);
    *watch.target = nullptr;
    if (e || n == 0) {
      ec = e ? e : asio::error::eof;
      why = *watch.expired ? "sent nothing in time" : "closed before its first byte";
      tcp->close();
      co_return nullptr;
    }
  }
  if (first != 0x16) co_return tcp;  // henc.md §8: not a TLS handshake record: plain SSTP
  co_return co_await tls_accept(std::move(tcp), std::move(tls), deadline, ec, why);
}

}  // namespace grove::net
