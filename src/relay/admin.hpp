// The admin port: Prometheus text metrics at GET /metrics (anything else: 404).
#pragma once

#include <functional>
#include <string>

#include "net/asio.hpp"

namespace grove::relay {

// Serves one HTTP/1.0-style request per connection; the request head is capped at 8 KiB and
// must arrive within 5 s.
net::awaitable<void> serve_admin(asio::ip::tcp::acceptor& acceptor,
                                 std::function<std::string()> metrics);

}  // namespace grove::relay
