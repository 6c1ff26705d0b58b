// groved's port-80 listener for the HTTP encapsulations (henc.md §2.7, §3-§5): accepts TCP on
// `http_listen`, feeds every connection to the sans-I/O henc::RelayCore, and hands each
// established virtual connection to Relay::adopt() as a ByteStream, so the SSTP engine serves
// it exactly like a TCP connection. It runs on groved's main event loop, and so do its virtual
// connections.
#pragma once

#include <memory>

#include "henc/relay_core.hpp"
#include "net/asio.hpp"
#include "net/endpoint.hpp"
#include "net/stream.hpp"

namespace grove::relay {

class HttpListener {
 public:
  // `adopt` receives every new virtual connection.
  HttpListener(asio::io_context& io, henc::RelayCoreOptions options,
               std::function<void(net::ByteStreamPtr)> adopt);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Opens one listening socket; throws std::system_error naming the address. Prints
  // "listening on ADDR (http)" to stderr for scripts, and returns that address (port 0 asks
  // for a free one).
  asio::ip::tcp::endpoint listen(const net::HostPort& where);
  // Stops accepting; open virtual connections end with their SSTP connections.
  void stop();

  struct State;

 private:
  std::shared_ptr<State> s_;
};

}  // namespace grove::relay
