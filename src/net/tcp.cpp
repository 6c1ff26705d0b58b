#include "net/tcp.hpp"

#include <unistd.h>

namespace grove::net {

using namespace asio::experimental::awaitable_operators;

awaitable<asio::ip::tcp::socket> dial_tcp(const HostPort& target, std::chrono::milliseconds timeout,
                                          std::error_code& ec) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(ex);
  auto [rec, results] =
      co_await resolver.async_resolve(target.host, std::to_string(target.port), use_tuple);
  asio::ip::tcp::socket socket(ex);
  if (rec) {
    ec = rec;
    co_return socket;
  }
  ec = asio::error::host_not_found;
  for (const auto& entry : results) {
    socket = asio::ip::tcp::socket(ex);
    asio::steady_timer timer(ex, timeout);
    auto result =
        co_await (socket.async_connect(entry.endpoint(), use_tuple) || timer.async_wait(use_tuple));
    if (result.index() == 0) {
      auto [cec] = std::get<0>(result);
      if (!cec) {
        ec.clear();
        co_return socket;
      }
      ec = cec;
    } else {
      ec = asio::error::timed_out;
    }
    std::error_code ignored;
    socket.close(ignored);
  }
  co_return socket;
}

asio::ip::tcp::acceptor listen_tcp(asio::any_io_executor ex, const HostPort& where) {
  std::error_code ec;
  auto address = asio::ip::make_address(where.host, ec);
  if (ec) {
    asio::ip::tcp::resolver resolver(ex);
    auto results = resolver.resolve(where.host, std::to_string(where.port), ec);
    if (ec || results.empty())
      throw std::system_error(ec, "cannot resolve listen address " + where.to_string());
    address = results.begin()->endpoint().address();
  }
  asio::ip::tcp::endpoint ep(address, where.port);
  asio::ip::tcp::acceptor acceptor(ex);
  acceptor.open(ep.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  if (ep.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true));
  acceptor.bind(ep, ec);
  if (ec) throw std::system_error(ec, "cannot listen on " + where.to_string());
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::system_error(ec, "cannot listen on " + where.to_string());
  return acceptor;
}

awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor,
                            std::function<void(asio::ip::tcp::socket)> on_accept,
                            std::function<void(const std::error_code&)> on_error) {
  auto ex = co_await asio::this_coro::executor;
  while (acceptor.is_open()) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (!ec) {
      on_accept(std::move(socket));
      continue;
    }
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
    on_error(ec);
    asio::steady_timer backoff(ex, std::chrono::milliseconds(100));
    (void)co_await backoff.async_wait(use_tuple);
  }
}

asio::ip::tcp::socket move_socket(asio::ip::tcp::socket s, asio::any_io_executor ex,
                                  std::error_code& ec) {
  asio::ip::tcp::socket out(ex);
  if (s.get_executor() == ex) return s;
  std::error_code pe;
  const auto protocol = s.local_endpoint(pe).protocol();
  if (pe) {
    ec = pe;
    return out;
  }
  const auto fd = s.release(ec);
  if (ec) return out;
  out.assign(protocol, fd, ec);
  if (ec) ::close(fd);
  return out;
}

}  // namespace grove::net
