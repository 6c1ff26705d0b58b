// Small pieces the end-to-end tests share: an environment that cannot leak the developer's
// proxy settings or path memory into a test, reproducible random files, and a raw loopback
// TCP client for the misbehaving-peer cases.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace grove::test {

// grove reads proxies from the environment (henc.md §11.1) and remembers the winning path
// under XDG_STATE_HOME: both must come from the test alone.
inline void isolate_environment(const std::filesystem::path& state_dir) {
  ::setenv("XDG_STATE_HOME", state_dir.c_str(), 1);
  for (const char* v : {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy",
                        "ALL_PROXY", "no_proxy", "NO_PROXY"})
    ::unsetenv(v);
}

// `bytes` (a multiple of 512 KiB) of seeded pseudo-random data: incompressible, and the same
// in every run.
inline void write_random_file(const std::filesystem::path& path, std::size_t bytes,
                              std::uint64_t seed) {
  std::ofstream out(path, std::ios::binary);
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> block(1 << 16);
  for (std::size_t i = 0; i < bytes / (block.size() * 8); ++i) {
    for (auto& w : block) w = rng();
    out.write(reinterpret_cast<const char*>(block.data()), std::streamsize(block.size() * 8));
  }
}

// A raw TCP client to 127.0.0.1:port; reads give up after 5 s.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  bool send(std::string_view s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  bool write(const std::vector<std::uint8_t>& b) {
    return send(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Reads until `needle` arrived (or 5 s pass, or the peer closes).
  std::string read_until(const std::string& needle) {
    std::string out;
    char buf[4096];
    while (out.find(needle) == std::string::npos) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  // Everything until the peer closes (or 5 s pass: then `closed` is false).
  std::string read_all(bool* closed = nullptr) {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (closed) *closed = n == 0 || errno == ECONNRESET;
      return out;
    }
  }
  std::vector<std::uint8_t> read_all_bytes() {
    const std::string s = read_all();
    return {s.begin(), s.end()};
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace grove::test
