// Errors of the SSTP codec and engine ("grove.sstp"). Malformed bytes, valid commands in the
// wrong state, and our own illegal sends are kept apart (style.md rule 4).
#pragma once

#include <system_error>

namespace grove::sstp {

enum class errc {
  ok = 0,
  // Malformed bytes (sstp.md §3.5, §12.1 rows 1-4): answer ConnectClose ProtocolError.
  unknown_command_id = 1,  // P2
  bad_command_length,      // P3: outside [Min, Max] for the CommandId
  truncated_field,         // P4: a fixed field runs past CommandLength
  string_not_terminated,   // P4: no 0x00 inside the command
  bad_string_byte,         // §3.2: byte outside 0x20-0x7E
  token_too_long,          // P4: token length runs past the end
  missing_optional_group,  // P4: field announced by a flag is missing
  trailing_bytes,          // P4: bytes left over after the last field
  bad_fanout_entries,      // FanoutOpen entries do not consume exactly CommandLength
  bad_session_status,      // SessionStatus form B with zero indexes or odd trailing bytes
  // Rule violations by the peer (§12.1): answer as the reference says.
  unexpected_command,          // valid command in the wrong connection state or role
  command_before_established,  // session command before 'established' (TooManyUnknownSessionCmds)
  bad_session_id,              // id 0 or of the receiver's parity
  session_id_in_use,           // Open/FanoutOpen/Attach/Register reusing an id
  unknown_session,             // Message or Data for a session with no state
  too_many_unknown_session_commands,  // §12.2: 16th unknown session command
  message_state,              // Message/Data/EndMessage out of MessageReceiver order (§9.2)
  message_on_own_session,     // Message/Data/EndMessage on a session this side originated
  bad_message_count,          // MessageCount larger than OutboundMessageList (§9.3)
  total_size_mismatch,        // §9.6 S
  bad_fragmentation,          // §9.6 F
  bad_open_response,          // §6.2 value or state
  bad_session_status_target,  // SessionStatus on a non-fanout session / index out of range / form B
                              // on 1.5
  bad_version,                // ConnectResponse Ok with an invalid version (§7.3.2)
  authentication_failed,      // grove-auth-1 proof wrong or missing (DeviceAuthenticationFailed)
  handshake_timeout,          // C14
  receive_idle,               // §7.6 ReceiveIdle
  // Our own illegal sends (LocalProtocolError in h11 terms).
  command_too_long,        // encoding would exceed the Max of §3.4
  not_established,         // send before the connection is 'established'
  no_such_session,         // send on a session that does not exist or is not ours
  session_not_ready,       // start of a message while the session is not 'ready'
  message_in_progress,     // second Message before EndMessage on a session
  no_message_in_progress,  // Data/EndMessage without Message
  session_ids_exhausted,   // §8.2
  connection_closed,       // any call after the connection ended
  attach_in_progress,      // §8.7: one attach (or register) session at a time
  wrong_role,              // a call the other role makes (attach on the relay, ...)
};

const std::error_category& sstp_category();

inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), sstp_category()}; }

}  // namespace grove::sstp

template <>
struct std::is_error_code_enum<grove::sstp::errc> : std::true_type {};
