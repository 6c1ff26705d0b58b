// Starts real programs for end-to-end tests and always stops them (by PID, in the destructor).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace grove::test {

// A throw-away folder removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "grove-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Process {
 public:
  // Runs argv[0] with stdout/stderr redirected to files (empty = inherit) and stdin from a file
  // (empty = /dev/null).
  Process(std::vector<std::string> argv, std::string out_path = {}, std::string err_path = {},
          std::string in_path = {})
      : out_(std::move(out_path)), err_(std::move(err_path)) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in_path.empty() ? "/dev/null" : in_path.c_str(),
                                     O_RDONLY, 0);
    if (!out_.empty())
      posix_spawn_file_actions_addopen(&fa, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!err_.empty())
      posix_spawn_file_actions_addopen(&fa, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process() { kill(SIGKILL); }

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  // Waits for exit; nullopt on timeout. Exit status, or 128+signal.
  std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    if (status_) return status_;
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        pid_ = -1;
        return status_;
      }
      if (std::chrono::steady_clock::now() >= end) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return status_;
  }

  void kill(int sig) {
    if (pid_ > 0) {
      ::kill(pid_, sig);
      if (sig == SIGKILL) wait(std::chrono::seconds(10));
    }
  }

  std::string out() const { return read_file(out_); }
  std::string err() const { return read_file(err_); }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_, err_;
};

// A missing peer program (squid, dante, openssl...) skips the test on a developer's machine but
// fails it in CI (CI set), where scripts/deps.sh installs every peer: a skip there would hide a
// broken install behind a green run.
#define GROVE_MISSING_PEER(why)       \
  do {                                \
    if (std::getenv("CI") != nullptr) \
      FAIL() << (why);                \
    else                              \
      GTEST_SKIP() << (why);          \
  } while (0)

// Waits until `path` contains `needle` (for "listening on" lines); false on timeout.
inline bool wait_for_text(const std::string& path, const std::string& needle,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (read_file(path).find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The port from a "listening on HOST:PORT" line written by grove/groved.
inline int listening_port(const std::string& path,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  if (!wait_for_text(path, "listening on ", timeout)) return -1;
  const std::string text = read_file(path);
  auto pos = text.find("listening on ");
  auto eol = text.find('\n', pos);
  if (eol == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return listening_port(path, timeout);
  }
  std::string line = text.substr(pos, eol - pos);
  return std::stoi(line.substr(line.rfind(':') + 1));
}

}  // namespace grove::test
