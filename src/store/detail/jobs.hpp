// The hot-path calls of Store as queued jobs: arguments in, results filled by the store
// thread, `done` handed to the Poster after the transaction commits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "store/store.hpp"

namespace grove::store::detail {

struct AppendJob {
  std::vector<StoredMessage> copies;  // ids set by the store thread; handed back to done
  std::function<void(std::error_code, std::vector<StoredMessage>)> done;
};

struct LoadJob {
  std::string device;
  std::uint64_t after_id = 0;
  std::size_t max_count = 0;
  std::function<void(std::error_code, std::vector<StoredMessage>)> done;
  std::vector<StoredMessage> messages;  // result
};

struct RemoveJob {
  std::vector<std::uint64_t> ids;
  std::function<void(std::error_code, std::uint64_t)> done;
  std::uint64_t removed = 0;  // result: rows deleted
};

struct PurgeJob {
  std::int64_t arrival_before_unix = 0;
  std::int64_t now_unix = 0;
  std::function<void(std::error_code, std::uint64_t)> done;
  std::uint64_t removed = 0;  // result
};

// sstp.md §11 Register from the relay's event loop, with the copies of R2.
struct RegisterJob {
  std::string identity_url;
  std::string device_url;
  std::function<void(std::error_code, Registration)> done;
  Registration result;
};

using Job = std::variant<AppendJob, LoadJob, RemoveJob, PurgeJob, RegisterJob>;

// What a job weighs against the group-commit limits (SqliteOptions::max_batch_*): an append
// counts its copies and their data bytes, every other job one copy and no bytes.
struct JobWeight {
  std::size_t copies = 1;
  std::uint64_t bytes = 0;
};
inline JobWeight weight(const Job& job) {
  JobWeight w;
  if (const auto* a = std::get_if<AppendJob>(&job)) {
    w.copies = a->copies.size();
    for (const StoredMessage& m : a->copies) w.bytes += m.data ? m.data->size() : 0;
  }
  return w;
}

// The call of `done` with the job's results, or with `ec` and empty results when ec is set.
// The job's `done` and results move into the returned function.
inline std::function<void()> completion(Job&& job, std::error_code ec) {
  return std::visit(
      [ec](auto&& j) -> std::function<void()> {
        using J = std::decay_t<decltype(j)>;
        if constexpr (std::is_same_v<J, AppendJob>) {
          // On failure the copies come back as they were given: the caller still owns them.
          if (ec)
            for (StoredMessage& m : j.copies) m.id = 0;
          return [done = std::move(j.done), ec, cs = std::move(j.copies)]() mutable {
            done(ec, std::move(cs));
          };
        } else if constexpr (std::is_same_v<J, LoadJob>) {
          if (ec) j.messages.clear();
          return [done = std::move(j.done), ec, ms = std::move(j.messages)]() mutable {
            done(ec, std::move(ms));
          };
        } else if constexpr (std::is_same_v<J, RemoveJob>) {
          return [done = std::move(j.done), ec, n = ec ? 0 : j.removed] { done(ec, n); };
        } else if constexpr (std::is_same_v<J, RegisterJob>) {
          return
              [done = std::move(j.done), ec, r = ec ? Registration{} : j.result] { done(ec, r); };
        } else {
          return [done = std::move(j.done), ec, n = ec ? 0 : j.removed] { done(ec, n); };
        }
      },
      std::move(job));
}

}  // namespace grove::store::detail
