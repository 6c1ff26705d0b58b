// TCP dial and listen over IPv4 and IPv6.
#pragma once

#include <chrono>
#include <functional>

#include "net/asio.hpp"
#include "net/endpoint.hpp"

namespace grove::net {

// Resolves `target` and tries each address in turn, each attempt bounded by `timeout`.
// On failure `ec` holds the last error (asio::error::timed_out when an attempt timed out).
awaitable<asio::ip::tcp::socket> dial_tcp(const HostPort& target, std::chrono::milliseconds timeout,
                                          std::error_code& ec);

// Opens a listening socket (SO_REUSEADDR; IPv6 sockets are v6-only so "::" and "0.0.0.0" can
// both be bound). Throws std::system_error with a message naming the address on failure.
asio::ip::tcp::acceptor listen_tcp(asio::any_io_executor ex, const HostPort& where);

// Accepts until the acceptor is closed, handing each socket to `on_accept`. A failed accept
// (for example too many open files) is logged by `on_error` and retried after 100 ms instead
// of spinning.
awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor,
                            std::function<void(asio::ip::tcp::socket)> on_accept,
                            std::function<void(const std::error_code&)> on_error);

// The same connected socket, re-registered with the event loop of `ex` (for spreading
// accepted connections over several loops). On failure `ec` is set and the socket is closed.
asio::ip::tcp::socket move_socket(asio::ip::tcp::socket s, asio::any_io_executor ex,
                                  std::error_code& ec);

}  // namespace grove::net
