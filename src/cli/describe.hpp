// Human-readable explanations of how a connection or session ended, with what to do next.
#pragma once

#include <string>

#include "engine/events.hpp"

namespace grove::cli {

const char* response_name(sstp::ConnectResponseId id);
const char* close_reason_name(sstp::ConnectCloseReason r);
const char* session_close_name(std::uint8_t reason_id);
const char* open_response_name(sstp::OpenResponseId id);
// One sentence for a ConnectionClosed event, e.g. "the peer refused the connection:
// AuthenticationFailed — check --secret-file and --device-url".
std::string describe(const engine::ConnectionClosed& c);

}  // namespace grove::cli
