// The "grove.sstp" error category (errc.hpp) and command names for logs.
#include "sstp/errc.hpp"

#include <string>

#include "sstp/commands.hpp"

namespace grove::sstp {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "grove.sstp"; }

  // One sentence per value, written for the log line that closes a connection (style.md rule 19).
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::ok:
        return "success";
      case errc::unknown_command_id:
        return "CommandId not in sstp.md §4 (§3.5 P2)";
      case errc::bad_command_length:
        return "CommandLength outside [Min, Max] of sstp.md §3.4 (§3.5 P3)";
      case errc::truncated_field:
        return "a fixed field runs past CommandLength (§3.5 P4)";
      case errc::string_not_terminated:
        return "a string has no 0x00 terminator inside the command (§3.5 P4)";
      case errc::bad_string_byte:
        return "a string holds a byte outside 0x20-0x7E (§3.2)";
      case errc::token_too_long:
        return "AuthenticationTokenLength runs past the end of the command (§3.5 P4)";
      case errc::missing_optional_group:
        return "a Message field group announced by a flag is missing (§3.5 P4)";
      case errc::trailing_bytes:
        return "bytes left over after the last field of the command (§3.5 P4)";
      case errc::bad_fanout_entries:
        return "FanoutOpen entries do not consume exactly CommandLength (§5.6)";
      case errc::bad_session_status:
        return "SessionStatus form B has no indexes or an inconsistent length (§5.18)";
      case errc::unexpected_command:
        return "valid command in the wrong connection state or role";
      case errc::command_before_established:
        return "session command before the connection is established";
      case errc::bad_session_id:
        return "SessionId is 0 or of the receiver's own parity";
      case errc::session_id_in_use:
        return "SessionId already in use or recently closed";
      case errc::unknown_session:
        return "Message or Data for a session with no state";
      case errc::too_many_unknown_session_commands:
        return "too many session commands for unknown sessions (§12.2)";
      case errc::message_state:
        return "Message, Data or EndMessage out of MessageReceiver order (§9.2)";
      case errc::message_on_own_session:
        return "Message, Data or EndMessage on a session this side originated";
      case errc::bad_message_count:
        return "MessageCount larger than the outbound message list (§9.3)";
      case errc::total_size_mismatch:
        return "Data bytes do not add up to the StreamSize TotalSize (§9.6)";
      case errc::bad_fragmentation:
        return "FragmentCount is 0 or FragmentIndex is not below it (§9.6)";
      case errc::bad_open_response:
        return "OpenResponse value not in §6.2 or not allowed in this session state";
      case errc::bad_session_status_target:
        return "SessionStatus on a non-fanout session, index out of range, or form B on 1.5";
      case errc::bad_version:
        return "ConnectResponse Ok with an invalid version (§7.3.2)";
      case errc::authentication_failed:
        return "grove-auth-1 proof wrong or missing";
      case errc::handshake_timeout:
        return "handshake not completed in time (C14)";
      case errc::receive_idle:
        return "nothing received for ReceiveIdle (§7.6)";
      case errc::command_too_long:
        return "command would exceed the Max of sstp.md §3.4 or a count field";
      case errc::not_established:
        return "send before the connection is established";
      case errc::no_such_session:
        return "send on a session that does not exist or is not ours";
      case errc::session_not_ready:
        return "message started while the session is not ready";
      case errc::message_in_progress:
        return "Message sent before the previous message's EndMessage";
      case errc::no_message_in_progress:
        return "Data or EndMessage sent without a Message";
      case errc::session_ids_exhausted:
        return "no free SessionId left (§8.2)";
      case errc::connection_closed:
        return "the connection has ended";
      case errc::attach_in_progress:
        return "an attach or register session is already open on this connection";
      case errc::wrong_role:
        return "this call belongs to the other side of the connection";
    }
    return "unknown grove.sstp error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& sstp_category() {
  static const Category category;
  return category;
}

const char* command_name(CommandId id) {
  switch (id) {
    case CommandId::Connect:
      return "Connect";
    case CommandId::ConnectResponse:
      return "ConnectResponse";
    case CommandId::ConnectAuthenticate:
      return "ConnectAuthenticate";
    case CommandId::ConnectClose:
      return "ConnectClose";
    case CommandId::Open:
      return "Open";
    case CommandId::FanoutOpen:
      return "FanoutOpen";
    case CommandId::OpenResponse:
      return "OpenResponse";
    case CommandId::Attach:
      return "Attach";
    case CommandId::AttachResponse:
      return "AttachResponse";
    case CommandId::AttachAuthenticate:
      return "AttachAuthenticate";
    case CommandId::Register:
      return "Register";
    case CommandId::RegisterResponse:
      return "RegisterResponse";
    case CommandId::Message:
      return "Message";
    case CommandId::Data:
      return "Data";
    case CommandId::EndMessage:
      return "EndMessage";
    case CommandId::Noop:
      return "Noop";
    case CommandId::Close:
      return "Close";
    case CommandId::SessionStatus:
      return "SessionStatus";
  }
  return "Unknown";
}

}  // namespace grove::sstp
