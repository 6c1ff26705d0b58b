#include "net/tcp_stream.hpp"

#include <algorithm>
#include <cstring>

namespace grove::net {

std::string to_string(const asio::ip::tcp::endpoint& ep) {
  const auto a = ep.address();
  std::string host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return host + ":" + std::to_string(ep.port());
}

TcpStream::TcpStream(asio::ip::tcp::socket socket, std::string kind, Bytes prefix)
    : socket_(std::move(socket)), prefix_(std::move(prefix)) {
  std::error_code ec;
  auto remote = socket_.remote_endpoint(ec);
  description_ = kind + " " + (ec ? std::string("?") : to_string(remote));
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
}

awaitable<std::size_t> TcpStream::read_some(std::span<Byte> buf, std::error_code& ec) {
  ec.clear();
  if (prefix_pos_ < prefix_.size()) {
    const std::size_t n = std::min(buf.size(), prefix_.size() - prefix_pos_);
    std::memcpy(buf.data(), prefix_.data() + prefix_pos_, n);
    prefix_pos_ += n;
    if (prefix_pos_ == prefix_.size()) Bytes().swap(prefix_), prefix_pos_ = 0;
    co_return n;
  }
  auto [e, n] = co_await socket_.async_read_some(asio::buffer(buf.data(), buf.size()), use_tuple);
  ec = e;
  co_return n;
}

awaitable<void> TcpStream::write_all(ByteView data, std::error_code& ec) {
  auto [e, n] =
      co_await asio::async_write(socket_, asio::buffer(data.data(), data.size()), use_tuple);
  (void)n;
  ec = e;
}

void TcpStream::close() {
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace grove::net
