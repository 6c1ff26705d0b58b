#include "relay/admin.hpp"

namespace grove::relay {

using namespace asio::experimental::awaitable_operators;

namespace {

net::awaitable<void> answer(asio::ip::tcp::socket s, std::function<std::string()> metrics) {
  std::string head;
  asio::steady_timer deadline(s.get_executor(), std::chrono::seconds(5));
  auto read = [&]() -> net::awaitable<bool> {
    char buf[1024];
    while (head.find("\r\n\r\n") == std::string::npos && head.find("\n\n") == std::string::npos) {
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), net::use_tuple);
      if (ec) co_return false;
      head.append(buf, n);
      if (head.size() > 8192) co_return false;
    }
    co_return true;
  };
  auto r = co_await (read() || deadline.async_wait(net::use_tuple));
  if (r.index() != 0 || !std::get<0>(r)) co_return;
  std::string body, status = "200 OK";
  if (head.rfind("GET /metrics ", 0) == 0 || head.rfind("GET /metrics\r", 0) == 0) {
    body = metrics();
  } else {
    status = "404 Not Found";
    body = "try /metrics\n";
  }
  std::string resp = "HTTP/1.0 " + status +
                     "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  (void)co_await asio::async_write(s, asio::buffer(resp), net::use_tuple);
  std::error_code ec;
  s.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
}

}  // namespace

net::awaitable<void> serve_admin(asio::ip::tcp::acceptor& acceptor,
                                 std::function<std::string()> metrics) {
  auto ex = co_await asio::this_coro::executor;
  while (acceptor.is_open()) {
    auto [ec, s] = co_await acceptor.async_accept(net::use_tuple);
    if (ec) {
      if (!acceptor.is_open()) break;
      continue;
    }
    asio::co_spawn(ex, answer(std::move(s), metrics), asio::detached);
  }
}

}  // namespace grove::relay
