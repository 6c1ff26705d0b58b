// A duplex byte stream carrying SSTP. Every transport (TCP, a CONNECT or SOCKS tunnel, TLS,
// an HTTP encapsulation) ends up as one of these, so the driver and the engine never learn
// which transport they ride on.
#pragma once

#include <memory>
#include <string>
#include <system_error>

#include "net/asio.hpp"
#include "wire/bytes.hpp"

namespace grove::net {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads at least one byte; 0 with an error at end of stream (asio::error::eof) or failure.
  virtual awaitable<std::size_t> read_some(std::span<Byte> buf, std::error_code& ec) = 0;
  // Writes all of `data` or fails.
  virtual awaitable<void> write_all(ByteView data, std::error_code& ec) = 0;
  // Flushes what was written and closes; pending reads complete with an error.
  virtual void close() = 0;
  // For logs: "tcp 127.0.0.1:2492", "connect-tunnel via 127.0.0.1:3128".
  virtual std::string describe() const = 0;
  // TLS exporter value when this stream terminates TLS (auth.md §6); empty otherwise.
  virtual std::optional<std::array<Byte, 32>> channel_binding() const { return std::nullopt; }
};

using ByteStreamPtr = std::unique_ptr<ByteStream>;

}  // namespace grove::net
