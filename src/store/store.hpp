// The relay's persistent state behind one small interface (sstp.md §10.2, auth.md §2.2).
// SQLite is the embedded default (store/sqlite_store.hpp); a PostgreSQL backend can follow.
//
// Two kinds of calls:
//  * administration and start-up (devices, identities, registrations, queue totals):
//    synchronous, called from the groved CLI or before the event loop runs;
//  * the relay's hot path (append, load_queue, remove, purge): asynchronous. The work runs on
//    the store's own thread, never on the event loop; `done` is handed to the Poster given at
//    open time, which runs it on the event loop. A successful append means the copies are
//    durable (committed and synced), so the relay may acknowledge the sender (§10.2).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "auth/grove_auth.hpp"
#include "sstp/commands.hpp"

namespace grove::store {

enum class errc {
  ok = 0,
  exists = 1,  // add of a DeviceURL/IdentityURL that is already there
  not_found,   // the named device, identity or message does not exist
  io_error,    // the database failed (disk full, I/O error); message names the cause
  corrupt,     // the database file is not a Grove store or is damaged
  too_new,     // written by a newer Grove (PRAGMA user_version above ours)
  closed,      // the store is shutting down
};
const std::error_category& store_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), store_category()}; }

struct DeviceRecord {
  std::string url;
  auth::Secret secret{};
  bool enabled = true;
};

struct IdentityRecord {
  std::string url;
  auth::Secret secret{};
};

// One stored copy of a message sequence, queued for one target device (sstp.md §10.2: "each
// stored copy keeps addressing, Flags, UserRef, optional fields, data, arrival time, sender").
struct StoredMessage {
  std::uint64_t id = 0;       // assigned by append; increasing = queue order
  std::string target_device;  // the queue's device
  std::string resource_url;
  std::string identity_url;
  bool identity_targeted = false;  // the Open had an empty DeviceURL
  sstp::Message header;            // flags, user_ref and optional groups; session_id and
                                   // message_count are not stored
  std::string sender_device;
  std::int64_t arrival_unix = 0;
  std::shared_ptr<const Bytes> data;  // shared, so live deliveries need no copy
};

// Bytes of a copy's data (none when it has no data).
inline std::uint64_t data_size(const StoredMessage& m) { return m.data ? m.data->size() : 0; }

// The queue (target_device) of an identity's messages while no device is registered for it
// (sstp.md §10.2). A space never occurs in a valid URL (§3.3), so it cannot name a device.
inline std::string pending_queue(const std::string& identity_url) {
  return "pending " + identity_url;
}

// Count and bytes queued for one device.
struct QueueTotal {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
};

// What register_device did.
struct Registration {
  bool added = false;    // new registration (its pending copies were made)
  bool existed = false;  // it was there already; nothing changed
  // Neither: the identity or the device no longer exists.
  std::uint64_t copied = 0, copied_bytes = 0;  // pending copies made for the device
};

using Poster = std::function<void(std::function<void()>)>;

class Store {
 public:
  virtual ~Store() = default;

  // ---- administration (synchronous) ----
  [[nodiscard]] virtual std::error_code add_device(const DeviceRecord& d) = 0;
  [[nodiscard]] virtual std::error_code set_device_secret(const std::string& url,
                                                          const auth::Secret& s) = 0;
  [[nodiscard]] virtual std::error_code set_device_enabled(const std::string& url, bool on) = 0;
  // Removes the device, its queue and its registrations.
  [[nodiscard]] virtual std::error_code remove_device(const std::string& url) = 0;
  [[nodiscard]] virtual std::error_code list_devices(std::vector<DeviceRecord>& out) = 0;

  [[nodiscard]] virtual std::error_code add_identity(const IdentityRecord& i) = 0;
  [[nodiscard]] virtual std::error_code set_identity_secret(const std::string& url,
                                                            const auth::Secret& s) = 0;
  // Removes the identity and its registrations.
  [[nodiscard]] virtual std::error_code remove_identity(const std::string& url) = 0;
  [[nodiscard]] virtual std::error_code list_identities(std::vector<IdentityRecord>& out) = 0;

  // Registration of a device for an identity's identity-targeted messages (sstp.md §11).
  [[nodiscard]] virtual std::error_code add_registration(const std::string& identity_url,
                                                         const std::string& device_url) = 0;
  [[nodiscard]] virtual std::error_code list_registrations(
      std::multimap<std::string, std::string>& identity_to_device) = 0;

  // Per-device totals of the queues, for quotas and metrics at start-up.
  [[nodiscard]] virtual std::error_code queue_totals(std::map<std::string, QueueTotal>& out) = 0;

  // ---- hot path (asynchronous; `done` runs through the Poster) ----
  // Writes the copies durably, in order, in one transaction shared with other appends queued
  // at the same time (group commit). `done` gets the copies back, in the same order: with
  // their new ids on success, unchanged (id 0) on failure. Handing them back spares the
  // caller a copy of what it needs after the commit (deliveries, queue accounting).
  virtual void append(std::vector<StoredMessage> copies,
                      std::function<void(std::error_code, std::vector<StoredMessage>)> done) = 0;
  // Up to `max_count` copies queued for `device` with id > after_id, oldest first, data
  // included.
  virtual void load_queue(
      std::string device, std::uint64_t after_id, std::size_t max_count,
      std::function<void(std::error_code, std::vector<StoredMessage>)> done) = 0;
  // Deletes delivered (or expired) copies and reports how many were there. Unknown ids, and
  // ids already deleted (two connections acknowledged the same copy), count nothing, so the
  // caller can keep its queue totals exact.
  virtual void remove(std::vector<std::uint64_t> ids,
                      std::function<void(std::error_code, std::uint64_t removed)> done) = 0;
  // Registers a device for an identity (sstp.md §11 Register) without blocking the caller and,
  // in the same transaction, copies the identity's pending queue to the device (§11 R2), so a
  // registration never exists without its copies.
  virtual void register_device(std::string identity_url, std::string device_url,
                               std::function<void(std::error_code, Registration)> done) = 0;
  // Deletes copies that arrived before `arrival_unix` and are not ephemeral, and ephemeral
  // copies whose ExpirationTime <= now_unix (sstp.md §10.6, §10.8). Reports how many went.
  virtual void purge(std::int64_t arrival_before_unix, std::int64_t now_unix,
                     std::function<void(std::error_code, std::uint64_t removed)> done) = 0;

  // Finishes queued work, then stops the store thread. Later calls fail with errc::closed.
  virtual void close() = 0;

  // The backend's own text for the most recent io_error or corrupt result (for example
  // SQLite's "database or disk is full"), since an error_code cannot carry it. Empty when the
  // backend has nothing to add. Never contains a secret; safe to log. Any thread.
  virtual std::string last_error() const { return {}; }
};

}  // namespace grove::store

template <>
struct std::is_error_code_enum<grove::store::errc> : std::true_type {};
