// One TCP connection slot of ClientCore and the request in flight on it. Private to
// client_core.cpp and client_modes.cpp.
#pragma once

#include "henc/client_core.hpp"

namespace grove::henc {

struct ClientCore::Slot {
  enum class Conn { none, connecting, open, closing };
  enum class Rx { idle, head, drain, body, stream };
  Conn conn = Conn::none;
  Bytes out;
  std::size_t out_pos = 0;
  std::size_t writing = 0;  // taken by take_output(), not yet written
  Head head{Head::Kind::response};
  Rx rx = Rx::idle;
  std::uint64_t left = 0;
  Bytes body;
  // The request in flight.
  bool in_flight = false;
  std::string method;
  Bytes request_body;
  bool open_ended = false;  // LongLived POST: the body streams after the echo
  bool sent_leg1 = false;   // the last request was an NTLM NEGOTIATE leg (Content-Length 0)
  // NTLM authenticates a connection (henc.md §7.4): this one finished the legs, so later
  // requests on it need no credentials (a new NEGOTIATE would restart the legs).
  bool ntlm_authenticated = false;
  std::unique_ptr<proxy::Authenticator> auth;
  std::string auth_header = "Proxy-Authorization";
  std::optional<std::string> authorization;
  ClientTime deadline = ClientTime::max();
};

}  // namespace grove::henc
