// Which fallback step last worked for each relay (henc.md §11.2: a connection that worked is
// re-established with the same step first), kept in memory and, best effort, in a small state
// file so that the next process starts with it too.
//
// File format (text, one entry a line, at most kMaxEntries, newest last):
//   # grove: fallback step that last reached each relay (henc.md §11.2); safe to delete
//   <unix seconds> <step name> <relay host:port>
// Unreadable, foreign or malformed lines are ignored; the file is rewritten whole through a
// temporary file and rename(), so a crash leaves either the old or the new version.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace grove::net {

class PathMemory {
 public:
  static constexpr std::size_t kMaxEntries = 64;

  // `file` empty: in memory only. Entries older than `max_age` are not used: networks change
  // (a laptop moves), and a stale choice would keep a slower step first forever.
  explicit PathMemory(std::filesystem::path file = {},
                      std::chrono::seconds max_age = std::chrono::hours(24));

  // The step that last worked for `relay` (HostPort::to_string()), if recent enough.
  [[nodiscard]] std::optional<std::string> preferred(
      const std::string& relay, std::chrono::system_clock::time_point now) const;
  // Records a working step and rewrites the file (errors are ignored: best effort).
  void remember(const std::string& relay, const std::string& step,
                std::chrono::system_clock::time_point now);

  [[nodiscard]] const std::filesystem::path& file() const { return file_; }

  // $XDG_STATE_HOME/grove/paths, else $HOME/.local/state/grove/paths, else empty. Arguments
  // are the variables' values (null when unset): the caller reads the environment.
  [[nodiscard]] static std::filesystem::path default_file(const char* xdg_state_home,
                                                          const char* home);

 private:
  struct Entry {
    std::int64_t time = 0;  // Unix seconds
    std::string step;
    std::string relay;
  };
  void load();
  void save() const;

  std::filesystem::path file_;
  std::chrono::seconds max_age_;
  std::vector<Entry> entries_;  // oldest first
};

}  // namespace grove::net
