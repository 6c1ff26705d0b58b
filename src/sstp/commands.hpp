// SSTP command structures, one per command of sstp.md §5, named as the reference names them.
// Decoded commands own their strings, except Data, whose payload is a view into the frame
// it was decoded from (valid as long as that frame's buffer, see FrameReader).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "wire/bytes.hpp"

namespace grove::sstp {

// sstp.md §4
enum class CommandId : std::uint8_t {
  Connect = 0x01,
  ConnectResponse = 0x02,
  ConnectAuthenticate = 0x03,
  ConnectClose = 0x04,
  Open = 0x05,
  FanoutOpen = 0x06,
  OpenResponse = 0x07,
  Attach = 0x08,
  AttachResponse = 0x09,
  AttachAuthenticate = 0x0a,
  Register = 0x0b,
  RegisterResponse = 0x0c,
  Message = 0x0d,
  Data = 0x0e,
  EndMessage = 0x0f,
  Noop = 0x10,
  Close = 0x11,
  SessionStatus = 0x12,
};

inline constexpr std::size_t kHeaderSize = 3;         // CommandId + CommandLength (§3.1)
inline constexpr std::size_t kMaxDataPayload = 2048;  // §5.14 [SPEC]
inline constexpr std::uint8_t kMajorVersion = 1;
inline constexpr std::uint8_t kMinor15 = 5;
inline constexpr std::uint8_t kMinor16 = 6;

// §6.1
enum class ConnectResponseId : std::uint8_t {
  Ok = 0x00,
  WrongDevice = 0x01,
  TryLater = 0x02,
  WillUpgrade = 0x03,
  WontUpgrade = 0x04,
  NewVersionRequired = 0x05,
  AuthenticationFailed = 0x06,
  ConnectRejected = 0x09,
};
// §6.2
enum class OpenResponseId : std::uint8_t {
  Ok = 0x00,
  NoResource = 0x04,
  Unknown = 0x05,
  NoFanoutEntries = 0x08,
  OkStopSending = 0x0b,
  FanoutNotSupported = 0x0c,
};
// §6.3
enum class AttachResponseId : std::uint8_t {
  Ok = 0x00,
  TryLater = 0x02,
  AuthenticationFailed = 0x06,
  QuotaWouldBeExceeded = 0x0b,
};
// §6.4
enum class ConnectCloseReason : std::uint8_t {
  NoReason = 0x00,
  Resting = 0x01,
  ProtocolError = 0x03,
  DeviceAuthenticationFailed = 0x04,
  CrossedConnections = 0x0c,
  InternalError = 0x0d,
  TooManyUnknownSessionCmds = 0x0f,
};
// §6.5
enum class CloseReason : std::uint8_t {
  NoReason = 0x00,
  Idle = 0x02,
  ProtocolError = 0x03,
  DeviceAuthenticationFailed = 0x04,
  UserAuthenticationFailed = 0x05,
  StaleAttachAuthenticate = 0x07,
  QuotaWouldBeExceeded = 0x0b,
  InternalError = 0x0d,
  EmptySession = 0x15,
};
// §6.7
enum class StatusId : std::uint8_t {
  DNSLookupFailed = 0x01,
  HostNotReachable = 0x02,
  ConnectionClosed = 0x03,
  QuotaWouldBeExceeded = 0x04,
  LockedOut = 0x05,
};

// §6.6 Message.Flags masks
namespace message_flag {
inline constexpr std::uint8_t Reserved = 0x80 | 0x08;         // r1, r2
inline constexpr std::uint8_t Fragmentation = 0x40;           // F
inline constexpr std::uint8_t Track = 0x20;                   // G
inline constexpr std::uint8_t StreamSize = 0x10;              // S
inline constexpr std::uint8_t AcknowledgeImmediately = 0x04;  // A
inline constexpr std::uint8_t Ephemeral = 0x02;               // E
inline constexpr std::uint8_t DoNotDeliverIfOffline = 0x01;   // D
}  // namespace message_flag

struct Connect {  // §5.1
  std::uint8_t major_version = kMajorVersion;
  std::uint8_t minor_version = kMinor16;
  std::string target_device_url;
  std::vector<std::string> source_device_urls;
  Bytes authentication_token;
  std::string peer_product_version;
  std::string peer_product_capabilities;
  bool operator==(const Connect&) const = default;
};

struct ConnectResponse {  // §5.2
  std::uint8_t major_version = kMajorVersion;
  std::uint8_t minor_version = kMinor16;
  ConnectResponseId response_id = ConnectResponseId::Ok;
  std::uint16_t retry_time = 0;
  Bytes authentication_token;
  std::string peer_product_version;
  std::string peer_product_capabilities;
  bool operator==(const ConnectResponse&) const = default;
};

struct ConnectAuthenticate {  // §5.3
  Bytes authentication_token;
  bool operator==(const ConnectAuthenticate&) const = default;
};

struct ConnectClose {  // §5.4
  ConnectCloseReason reason_id = ConnectCloseReason::NoReason;
  std::uint16_t return_time = 0;
  std::uint32_t message_count = 0;
  bool operator==(const ConnectClose&) const = default;
};

struct Open {  // §5.5
  std::uint32_t session_id = 0;
  std::string resource_url;
  std::string identity_url;
  std::string device_url;  // empty = identity-targeted
  std::uint8_t flags = 0;
  bool operator==(const Open&) const = default;
};

struct FanoutDeviceEntry {  // §5.6
  std::string identity_url;
  std::string device_url;
  std::string relay_url;
  std::string failover_device_urls;  // only on 1.6 connections; always empty in Grove
  bool operator==(const FanoutDeviceEntry&) const = default;
};

struct FanoutOpen {  // §5.6
  std::uint32_t session_id = 0;
  std::string resource_url;
  std::uint8_t flags = 0;
  std::vector<FanoutDeviceEntry> entries;
  bool operator==(const FanoutOpen&) const = default;
};

struct OpenResponse {  // §5.7
  std::uint32_t session_id = 0;
  // Raw byte: §6.2 says any value outside the table is a ProtocolError, which the engine decides.
  std::uint8_t response_id = 0;
  bool operator==(const OpenResponse&) const = default;
};

struct Attach {  // §5.8
  std::uint32_t event_id = 0;
  std::string resource_url;
  std::string account_url;
  Bytes authentication_token;
  bool operator==(const Attach&) const = default;
};

struct AttachResponse {  // §5.9
  std::uint32_t event_id = 0;
  std::uint8_t response_id = 0;  // §6.3; unknown values read as AuthenticationFailed
  Bytes authentication_token;
  bool operator==(const AttachResponse&) const = default;
};

struct AttachAuthenticate {  // §5.10
  std::uint32_t event_id = 0;
  Bytes authentication_token;
  bool operator==(const AttachAuthenticate&) const = default;
};

struct Register {  // §5.11
  std::uint32_t event_id = 0;
  std::string identity_url;
  Bytes authentication_token;
  bool operator==(const Register&) const = default;
};

struct RegisterResponse {  // §5.12
  std::uint32_t event_id = 0;
  std::uint8_t response_id = 0;
  Bytes authentication_token;
  bool operator==(const RegisterResponse&) const = default;
};

// Optional groups of Message (§5.13), present when their flag is set.
struct StreamSizeFields {
  std::uint64_t total_size = 0;
  bool operator==(const StreamSizeFields&) const = default;
};
struct FragmentationFields {
  std::array<Byte, 16> fragment_message_id{};
  std::uint32_t fragment_index = 0;
  std::uint32_t fragment_count = 1;
  bool operator==(const FragmentationFields&) const = default;
};

struct Message {  // §5.13
  std::uint32_t session_id = 0;
  std::uint32_t message_count = 0;
  // Flags byte as sent. The E, S and F bits are derived from the optional groups below on
  // encode; on decode they are set exactly when the groups are present.
  std::uint8_t flags = 0;
  std::string user_ref;
  std::uint64_t expiration_time = 0;  // valid when flags & Ephemeral
  StreamSizeFields stream_size;       // valid when flags & StreamSize
  FragmentationFields fragmentation;  // valid when flags & Fragmentation
  bool operator==(const Message&) const = default;
};

struct Data {  // §5.14: payload is a view, not owned
  std::uint32_t session_id = 0;
  ByteView application_data;
  bool operator==(const Data& o) const {
    return session_id == o.session_id &&
           std::equal(application_data.begin(), application_data.end(), o.application_data.begin(),
                      o.application_data.end());
  }
};

struct EndMessage {  // §5.15
  std::uint32_t session_id = 0;
  bool operator==(const EndMessage&) const = default;
};

struct Noop {  // §5.16
  std::uint32_t message_count = 0;
  bool operator==(const Noop&) const = default;
};

struct Close {  // §5.17
  std::uint32_t session_id = 0;
  std::uint8_t reason_id = 0;  // §6.5; unknown values read as NoReason
  bool operator==(const Close&) const = default;
};

struct SessionStatus {  // §5.18; form B when fanout_device_indexes is not empty
  std::uint32_t session_id = 0;
  std::uint8_t status_id = 0;  // §6.7; unknown values read as LockedOut
  std::string device_url;
  std::string identity_url;
  std::vector<std::uint16_t> fanout_device_indexes;
  bool operator==(const SessionStatus&) const = default;
};

using Command =
    std::variant<Connect, ConnectResponse, ConnectAuthenticate, ConnectClose, Open, FanoutOpen,
                 OpenResponse, Attach, AttachResponse, AttachAuthenticate, Register,
                 RegisterResponse, Message, Data, EndMessage, Noop, Close, SessionStatus>;

// The CommandId of a command value (variant index + 1 by construction).
inline CommandId command_id(const Command& c) { return static_cast<CommandId>(c.index() + 1); }

// Human-readable command name for logs ("Open", "ConnectClose").
const char* command_name(CommandId id);

}  // namespace grove::sstp
