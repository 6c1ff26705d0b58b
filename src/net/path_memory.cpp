#include "net/path_memory.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace grove::net {
namespace {

constexpr const char* kHeader =
    "# grove: fallback step that last reached each relay (henc.md §11.2); safe to delete";

// A field of the file: printable ASCII without spaces (step names, host:port).
bool plain_token(std::string_view s) {
  if (s.empty() || s.size() > 300) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

PathMemory::PathMemory(std::filesystem::path file, std::chrono::seconds max_age)
    : file_(std::move(file)), max_age_(max_age) {
  load();
}

std::filesystem::path PathMemory::default_file(const char* xdg_state_home, const char* home) {
  // XDG Base Directory: $XDG_STATE_HOME must be absolute, otherwise it is ignored.
  if (xdg_state_home != nullptr && xdg_state_home[0] == '/')
    return std::filesystem::path(xdg_state_home) / "grove" / "paths";
  if (home != nullptr && home[0] == '/')
    return std::filesystem::path(home) / ".local" / "state" / "grove" / "paths";
  return {};
}

std::optional<std::string> PathMemory::preferred(const std::string& relay,
                                                 std::chrono::system_clock::time_point now) const {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->relay != relay) continue;
    if (unix_seconds(now) - it->time > max_age_.count()) return std::nullopt;
    return it->step;
  }
  return std::nullopt;
}

void PathMemory::remember(const std::string& relay, const std::string& step,
                          std::chrono::system_clock::time_point now) {
  if (!plain_token(relay) || !plain_token(step)) return;
  std::erase_if(entries_, [&](const Entry& e) { return e.relay == relay; });
  entries_.push_back(Entry{unix_seconds(now), step, relay});
  if (entries_.size() > kMaxEntries)
    entries_.erase(entries_.begin(),
                   entries_.begin() + static_cast<std::ptrdiff_t>(entries_.size() - kMaxEntries));
  save();
}

void PathMemory::load() {
  if (file_.empty()) return;
  std::ifstream in(file_);
  std::string line;
  while (in && std::getline(in, line) && entries_.size() < 4 * kMaxEntries) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string time_text, step, relay, extra;
    if (!(fields >> time_text >> step >> relay) || (fields >> extra)) continue;
    Entry e;
    auto [end, ec] = std::from_chars(time_text.data(), time_text.data() + time_text.size(), e.time);
    if (ec != std::errc{} || end != time_text.data() + time_text.size()) continue;
    if (!plain_token(step) || !plain_token(relay)) continue;
    e.step = std::move(step);
    e.relay = std::move(relay);
    std::erase_if(entries_, [&](const Entry& old) { return old.relay == e.relay; });
    entries_.push_back(std::move(e));
  }
  if (entries_.size() > kMaxEntries)
    entries_.erase(entries_.begin(),
                   entries_.begin() + static_cast<std::ptrdiff_t>(entries_.size() - kMaxEntries));
}

void PathMemory::save() const {
  if (file_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(file_.parent_path(), ec);
  if (ec) return;
  // Write a sibling, then rename over the file: readers never see half a file.
  const std::filesystem::path tmp = file_.string() + "." + std::to_string(::getpid()) + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return;
    out << kHeader << "\n";
    for (const Entry& e : entries_) out << e.time << " " << e.step << " " << e.relay << "\n";
    out.flush();
    if (!out) {
      out.close();
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, file_, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

}  // namespace grove::net
