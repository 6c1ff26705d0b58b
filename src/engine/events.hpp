// What the SSTP engine reports to its owner. Events are pulled with Connection::next_event();
// the engine never calls into user code (style.md rule 2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "sstp/commands.hpp"

namespace grove::engine {

// Acceptor: a Connect passed the checks of sstp.md §7.3.1 steps 1-6. Answer with
// Connection::accept_connection() or refuse_connection().
struct ConnectRequested {
  std::string source_device_url;  // SourceDeviceURLs[0], the device that authenticates
  std::string target_device_url;
  std::string peer_product_version;
  std::string peer_product_capabilities;
  std::uint8_t minor_version = 0;  // the version the connection will have
};

// The connection reached 'established' (initiator: ConnectResponse Ok verified; acceptor:
// ConnectResponse Ok sent). Session commands may be sent once `authenticated` is true.
struct Established {
  std::uint8_t minor_version = 0;
  std::string peer_device_url;
  std::string peer_product_version;
  std::string peer_product_capabilities;
  bool authenticated = false;  // initiator: relay proof checked (false: unauthenticated peer)
};

// Acceptor with grove-auth-1: the ConnectAuthenticate proof was right (sstp.md §7.3.3).
struct Authenticated {
  std::string device_url;
};

// The peer opened a session to us (Open passed §8.4 steps 1-4). Answer with respond_open().
struct SessionRequested {
  std::uint32_t session_id = 0;
  std::string resource_url;
  std::string identity_url;
  std::string device_url;
};

// A session we originated changed state after an OpenResponse (§8.3).
struct SessionReady {
  std::uint32_t session_id = 0;
};
struct SessionPaused {  // OkStopSending: suspended or blocked
  std::uint32_t session_id = 0;
};
struct SessionRefused {  // NoResource, Unknown, NoFanoutEntries, FanoutNotSupported, or timeout
  std::uint32_t session_id = 0;
  std::optional<sstp::OpenResponseId> response_id;  // nullopt: OpenResponse wait expired
};

// A session ended. `unconfirmed` holds the cookies of our messages on it that were still
// unacknowledged when the peer closed it (§9.5: reported not confirmed).
struct SessionClosed {
  std::uint32_t session_id = 0;
  std::uint8_t reason_id = 0;  // sstp::CloseReason value as received or sent
  bool by_peer = true;
  std::vector<std::uint64_t> unconfirmed;
};

// SessionStatus on a fanout session we originated (§8.5).
struct FanoutStatus {
  std::uint32_t session_id = 0;
  std::uint8_t status_id = 0;
  std::vector<std::uint16_t> failed_entries;
  bool all_failed = false;
};

// Relay: a FanoutOpen passed the checks of sstp.md §10.7 steps 1-8. Answer with
// respond_fanout(); messages of the session then arrive like those of an Open.
struct FanoutRequested {
  std::uint32_t session_id = 0;
  std::string resource_url;
  std::vector<sstp::FanoutDeviceEntry> entries;
};

// Relay: an Attach passed sstp.md §8.7 and auth.md §5.2 A2 (token well-formed, ResourceURL
// empty or ours). Answer with answer_attach() and the identity's K_id.
struct AttachRequested {
  std::uint32_t event_id = 0;
  std::string identity_url;
};
// Either role: an attach session ended (auth.md §5.2). `attached`: the identity joined
// AttachedIdentities on this connection. `reason_id` is the Close reason sent or received.
struct AttachResult {
  std::uint32_t event_id = 0;
  std::string identity_url;
  bool attached = false;
  std::uint8_t reason_id = 0;
};
// Relay: a Register for an identity attached on this connection (others are answered by the
// engine). Answer with respond_register().
struct RegisterRequested {
  std::uint32_t event_id = 0;
  std::string identity_url;
};
// Client: the relay answered our Register (TryLater when it closed the session unanswered).
struct RegisterResult {
  std::uint32_t event_id = 0;
  std::string identity_url;
  sstp::AttachResponseId response = sstp::AttachResponseId::TryLater;
};

// A message sequence arrives on a session the peer originated (§9.2).
struct MessageStarted {
  std::uint32_t session_id = 0;
  sstp::Message header;  // flags, UserRef and optional groups as received
};
// Part of the message. `data` points into the input of the last receive() call or into the
// engine's frame buffer: valid until the next call to receive().
struct MessageData {
  std::uint32_t session_id = 0;
  ByteView data;
};
// The message is complete. Call message_processed(seq) once it has been handled; that is
// what acknowledges it to the peer (§9.3, §9.4).
struct MessageEnded {
  std::uint32_t session_id = 0;
  std::uint64_t seq = 0;
  std::uint64_t total_bytes = 0;
};
// A partial message was dropped because its session closed (§8.6 step 3).
struct MessageAborted {
  std::uint32_t session_id = 0;
};

// The peer acknowledged one of our messages (§9.3); `cookie` is the value given to end_message().
struct Acknowledged {
  std::uint64_t cookie = 0;
};

// The connection is over (or closing: flush pending_output, then drop the stream when
// finished()). `unacknowledged` are the cookies of sent messages the peer never acknowledged,
// oldest first (§9.5: re-send them on a later connection).
struct ConnectionClosed {
  bool by_peer = false;
  sstp::ConnectCloseReason reason = sstp::ConnectCloseReason::NoReason;  // sent or received
  std::uint16_t return_time = 0;                                         // with Resting
  std::optional<sstp::ConnectResponseId> refused;  // the handshake was refused with this id
  std::uint16_t retry_time = 0;                    // with TryLater
  std::error_code error;                           // the local cause, when there is one
  std::vector<std::uint64_t> unacknowledged;
};

using Event =
    std::variant<ConnectRequested, Established, Authenticated, SessionRequested, SessionReady,
                 SessionPaused, SessionRefused, SessionClosed, FanoutStatus, FanoutRequested,
                 AttachRequested, AttachResult, RegisterRequested, RegisterResult, MessageStarted,
                 MessageData, MessageEnded, MessageAborted, Acknowledged, ConnectionClosed>;

}  // namespace grove::engine
