// Relay::start_http: the port-80 listener of the HTTP encapsulations (henc.md §2.7), kept out
// of relay.cpp. Its virtual connections reach Relay::adopt() like any TCP connection; they
// stay on the main loop, where the listener runs.
#include <spdlog/spdlog.h>

#include "relay/http_listener.hpp"
#include "relay/relay.hpp"

namespace grove::relay {

void Relay::start_http() {
  if (opt_.http_listen.empty()) return;
  henc::RelayCoreOptions o;
  o.server_names = opt_.server_names;
  // §2.2: without a list of own names the Relay-Server-Name check is skipped.
  if (o.server_names.empty())
    spdlog::warn("server_names is empty: HTTP requests are not checked for the relay's name");
  http_ = std::make_unique<HttpListener>(
      io_, std::move(o), [this](net::ByteStreamPtr s) { adopt(std::move(s), io_.get_executor()); });
  for (const auto& hp : opt_.http_listen) {
    try {
      http_->listen(hp);
    } catch (const std::system_error& e) {
      // The built-in default (8080) may be taken by something else: HTTP is then off.
      if (!opt_.http_listen_default) throw;
      spdlog::warn("HTTP encapsulations off: {} (set http_listen or --http-listen)", e.what());
    }
  }
}

}  // namespace grove::relay
