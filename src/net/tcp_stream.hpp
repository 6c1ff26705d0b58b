// ByteStream over a connected TCP socket. `prefix` holds bytes already read from the socket
// by a proxy handshake that belong to SSTP; they are returned first.
#pragma once

#include "net/stream.hpp"

namespace grove::net {

class TcpStream final : public ByteStream {
 public:
  TcpStream(asio::ip::tcp::socket socket, std::string kind, Bytes prefix = {});
  awaitable<std::size_t> read_some(std::span<Byte> buf, std::error_code& ec) override;
  awaitable<void> write_all(ByteView data, std::error_code& ec) override;
  void close() override;
  std::string describe() const override { return description_; }
  asio::ip::tcp::socket& socket() { return socket_; }

 private:
  asio::ip::tcp::socket socket_;
  std::string description_;
  Bytes prefix_;
  std::size_t prefix_pos_ = 0;
};

// "host:port" of an endpoint, IPv6 in brackets.
std::string to_string(const asio::ip::tcp::endpoint& ep);

}  // namespace grove::net
