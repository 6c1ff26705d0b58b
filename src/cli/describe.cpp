#include "cli/describe.hpp"

#include <fmt/format.h>

#include "sstp/errc.hpp"

namespace grove::cli {

using sstp::ConnectCloseReason;
using sstp::ConnectResponseId;

const char* response_name(ConnectResponseId id) {
  switch (id) {
    case ConnectResponseId::Ok:
      return "Ok";
    case ConnectResponseId::WrongDevice:
      return "WrongDevice";
    case ConnectResponseId::TryLater:
      return "TryLater";
    case ConnectResponseId::WillUpgrade:
      return "WillUpgrade";
    case ConnectResponseId::WontUpgrade:
      return "WontUpgrade";
    case ConnectResponseId::NewVersionRequired:
      return "NewVersionRequired";
    case ConnectResponseId::AuthenticationFailed:
      return "AuthenticationFailed";
    case ConnectResponseId::ConnectRejected:
      return "ConnectRejected";
  }
  return "unknown response";
}

const char* close_reason_name(ConnectCloseReason r) {
  switch (r) {
    case ConnectCloseReason::NoReason:
      return "NoReason";
    case ConnectCloseReason::Resting:
      return "Resting";
    case ConnectCloseReason::ProtocolError:
      return "ProtocolError";
    case ConnectCloseReason::DeviceAuthenticationFailed:
      return "DeviceAuthenticationFailed";
    case ConnectCloseReason::CrossedConnections:
      return "CrossedConnections";
    case ConnectCloseReason::InternalError:
      return "InternalError";
    case ConnectCloseReason::TooManyUnknownSessionCmds:
      return "TooManyUnknownSessionCmds";
  }
  return "unknown reason";
}

const char* session_close_name(std::uint8_t v) {
  switch (static_cast<sstp::CloseReason>(v)) {
    case sstp::CloseReason::NoReason:
      return "NoReason";
    case sstp::CloseReason::Idle:
      return "Idle";
    case sstp::CloseReason::ProtocolError:
      return "ProtocolError";
    case sstp::CloseReason::DeviceAuthenticationFailed:
      return "DeviceAuthenticationFailed";
    case sstp::CloseReason::UserAuthenticationFailed:
      return "UserAuthenticationFailed";
    case sstp::CloseReason::StaleAttachAuthenticate:
      return "StaleAttachAuthenticate";
    case sstp::CloseReason::QuotaWouldBeExceeded:
      return "QuotaWouldBeExceeded";
    case sstp::CloseReason::InternalError:
      return "InternalError";
    case sstp::CloseReason::EmptySession:
      return "EmptySession";
  }
  return "unknown reason";
}

const char* open_response_name(sstp::OpenResponseId id) {
  switch (id) {
    case sstp::OpenResponseId::Ok:
      return "Ok";
    case sstp::OpenResponseId::NoResource:
      return "NoResource";
    case sstp::OpenResponseId::Unknown:
      return "Unknown";
    case sstp::OpenResponseId::NoFanoutEntries:
      return "NoFanoutEntries";
    case sstp::OpenResponseId::OkStopSending:
      return "OkStopSending";
    case sstp::OpenResponseId::FanoutNotSupported:
      return "FanoutNotSupported";
  }
  return "unknown response";
}

std::string describe(const engine::ConnectionClosed& c) {
  if (c.refused) {
    std::string hint;
    switch (*c.refused) {
      case ConnectResponseId::WrongDevice:
        hint = "the peer is not the device named by --to";
        break;
      case ConnectResponseId::AuthenticationFailed:
        hint =
            "the peer does not know this device or its secret; check --device-url and "
            "--secret-file";
        break;
      case ConnectResponseId::ConnectRejected:
        hint = "this device is disabled by the relay administrator";
        break;
      case ConnectResponseId::TryLater:
        hint = c.retry_time ? fmt::format("retry in {} s", c.retry_time) : "retry later";
        break;
      case ConnectResponseId::WontUpgrade:
      case ConnectResponseId::NewVersionRequired:
        hint = "the two sides speak incompatible SSTP versions";
        break;
      default:
        break;
    }
    return fmt::format("{} the connection: {}{}{}", c.by_peer ? "the peer refused" : "refused",
                       response_name(*c.refused), hint.empty() ? "" : " — ", hint);
  }
  if (c.by_peer && c.error == sstp::errc::connection_closed)
    return "the peer closed the byte stream without ConnectClose";
  std::string s = fmt::format("{} ConnectClose {}", c.by_peer ? "received" : "sent",
                              close_reason_name(c.reason));
  if (c.reason == ConnectCloseReason::Resting && c.return_time)
    s += fmt::format(" (back in {} s)", c.return_time);
  if (c.reason == ConnectCloseReason::DeviceAuthenticationFailed)
    s += " — the device secrets do not match; check --secret-file";
  if (c.error) s += fmt::format(" ({})", c.error.message());
  return s;
}

}  // namespace grove::cli
