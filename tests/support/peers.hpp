// Real proxy programs for end-to-end tests (shared/peers.md): squid, tinyproxy, dante and
// microsocks on 127.0.0.1, each with a throw-away folder holding its configuration, password
// files and logs. Every daemon starts in its own process group, on a free port, and is killed
// with its whole group (helpers, forked workers) by PID in the destructor.
//
//   if (auto why = Squid::missing()) GROVE_MISSING_PEER(*why);
//   Squid squid({.auth = Squid::Auth::basic, .connect_ports = {relay_port}});
//   ASSERT_TRUE(squid.ready()) << squid.log();
//   ... "--proxy", squid.url("grove", "s3cret") ...
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"

// Fails the test under CI=true, else skips it, when the peer program is not installed.
#define SKIP_UNLESS(peer)             \
  do {                                \
    if (auto why = peer::missing()) { \
      GROVE_MISSING_PEER(*why);       \
    }                                 \
  } while (0)

namespace grove::test {

// Full path of `name` in $PATH or the sbin folders (squid and danted live in /usr/sbin, which
// is not always in a test runner's PATH); empty when not installed.
inline std::string find_program(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    for (std::size_t i = 0; i <= p.size();) {
      std::size_t end = p.find(':', i);
      if (end == std::string::npos) end = p.size();
      if (end > i) dirs.push_back(p.substr(i, end - i));
      i = end + 1;
    }
  }
  for (const char* d : {"/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"})
    dirs.emplace_back(d);
  for (const auto& d : dirs) {
    const std::string candidate = d + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
inline int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    socklen_t len = sizeof a;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// True once something accepts TCP connections on 127.0.0.1:port.
inline bool accepts_connections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A daemon in its own process group; the destructor kills the group (SIGKILL) and reaps it.
class Daemon {
 public:
  Daemon(std::vector<std::string> argv, const std::string& log_path) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);  // group id = the daemon's PID
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, &attr, args.data(), environ) != 0) pid_ = -1;
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon() { stop(); }

  bool running() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      ::kill(-pid_, SIGKILL);  // the leader died; its helpers must not outlive the test
      pid_ = -1;
      return false;
    }
    return true;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);  // the whole group: squid's auth helpers, dante's workers
    ::kill(pid_, SIGKILL);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// Common part of every peer: a folder, a port, a log, readiness.
class Peer {
 public:
  virtual ~Peer() = default;
  bool ready() const { return ready_; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& dir() const { return dir_.path(); }
  // The program's own output and log file, for failure messages.
  std::string log() const {
    std::string s = read_file(dir_ / "daemon.out");
    if (!log_file_.empty()) s += read_file(log_file_);
    return s;
  }
  void stop() {
    if (daemon_) daemon_->stop();
  }
  // Starts the program again on the same port after stop() (a proxy that comes back); false
  // when it does not accept connections within 10 s.
  bool restart() {
    stop();
    daemon_ = std::make_unique<Daemon>(command(), dir_ / "daemon.out");
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < end && daemon_->running()) {
      if (accepts_connections(port_)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 protected:
  // Writes the configuration for `port` (write_config), starts the program and waits until it
  // accepts connections. A port taken in between (another test) gets one more try.
  void launch() {
    for (int attempt = 0; attempt < 3 && !ready_; ++attempt) {
      port_ = free_loopback_port();
      write_config();
      daemon_ = std::make_unique<Daemon>(command(), dir_ / "daemon.out");
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (std::chrono::steady_clock::now() < end && daemon_->running()) {
        if (accepts_connections(port_)) {
          ready_ = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!ready_) daemon_.reset();
    }
  }
  virtual void write_config() = 0;
  virtual std::vector<std::string> command() const = 0;

  // Lets an unprivileged account (squid drops to `proxy`, tinyproxy to `nobody`) use the folder.
  void hand_folder_to(const char* user) const {
    if (struct passwd* pw = ::getpwnam(user)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path()))
        (void)!::chown(e.path().c_str(), pw->pw_uid, pw->pw_gid);
      (void)!::chown(dir_.path().c_str(), pw->pw_uid, pw->pw_gid);
    }
  }

  TempDir dir_;
  std::string log_file_;
  int port_ = -1;

 private:
  std::unique_ptr<Daemon> daemon_;
  bool ready_ = false;
};

// squid 5 (package squid): CONNECT with one proxy authentication scheme, or none.
class Squid final : public Peer {
 public:
  enum class Auth { none, basic, digest, ntlm };
  struct Options {
    Auth auth = Auth::basic;
    std::string user = "grove";
    std::string password = "s3cret-pass";
    std::vector<int> connect_ports;  // SSTP_ports: CONNECT to any other port gets 403
  };

  // Why the test must be skipped, or nullopt when squid and its helpers are installed.
  static std::optional<std::string> missing() {
    if (find_program("squid").empty()) return "squid is not installed (apt install squid)";
    for (const char* helper : {"basic_ncsa_auth", "digest_file_auth", "ntlm_fake_auth"})
      if (::access((std::string("/usr/lib/squid/") + helper).c_str(), X_OK) != 0)
        return std::string("squid helper /usr/lib/squid/") + helper + " is missing";
    if (find_program("htpasswd").empty())
      return "htpasswd is not installed (apt install apache2-utils)";
    return std::nullopt;
  }

  explicit Squid(Options o) : o_(std::move(o)) {
    log_file_ = dir_ / "cache.log";
    if (o_.auth == Auth::basic) {
      Process p({find_program("htpasswd"), "-bc", dir_ / "passwd", o_.user, o_.password},
                dir_ / "htpasswd.out", dir_ / "htpasswd.err");
      (void)p.wait();
    }
    if (o_.auth == Auth::digest)
      std::ofstream(dir_ / "digest_passwd") << o_.user << ":" << o_.password << "\n";
    launch();
  }

  // http://USER:PASSWORD@127.0.0.1:PORT
  std::string url(const std::string& user, const std::string& password) const {
    return "http://" + user + ":" + password + "@" + address();
  }
  std::string url() const { return url(o_.user, o_.password); }
  std::string access_log() const { return read_file(dir_ / "access.log"); }
  // Lines of access.log for CONNECT requests (the readiness probe logs one without a method).
  int connect_requests() const {
    int n = 0;
    std::istringstream in(access_log());
    for (std::string line; std::getline(in, line);)
      if (line.find(" CONNECT ") != std::string::npos) ++n;
    return n;
  }

 private:
  void write_config() override {
    const std::string d = dir_.path().string();
    std::ofstream c(dir_ / "squid.conf");
    c << "http_port 127.0.0.1:" << port_ << "\n"
      << "pid_filename " << d << "/squid.pid\n"
      << "cache_log " << d << "/cache.log\n"
      << "access_log stdio:" << d << "/access.log\n"
      << "coredump_dir " << d << "\n"
      << "cache deny all\n"
      << "shutdown_lifetime 1 seconds\n"
      << "pinger_enable off\n";  // the ICMP pinger would outlive a killed squid
    switch (o_.auth) {
      case Auth::basic:
        c << "auth_param basic program /usr/lib/squid/basic_ncsa_auth " << d << "/passwd\n"
          << "auth_param basic realm grove-basic\nauth_param basic children 2\n";
        break;
      case Auth::digest:  // plaintext user:password file: no -c (peers.md)
        c << "auth_param digest program /usr/lib/squid/digest_file_auth " << d << "/digest_passwd\n"
          << "auth_param digest realm grove-digest\nauth_param digest children 2\n";
        break;
      case Auth::ntlm:
        c << "auth_param ntlm program /usr/lib/squid/ntlm_fake_auth\n"
          << "auth_param ntlm children 2\n";
        break;
      case Auth::none:
        break;
    }
    c << "acl SSTP_ports port";
    for (int p : o_.connect_ports) c << " " << p;
    if (o_.connect_ports.empty()) c << " 2492";
    c << "\nacl CONNECT method CONNECT\n"
      << "http_access deny CONNECT !SSTP_ports\n";
    if (o_.auth == Auth::none) {
      c << "http_access allow localhost\n";
    } else {
      c << "acl authed proxy_auth REQUIRED\n"
        << "http_access allow localhost authed\n";
    }
    c << "http_access deny all\n";
    c.close();
    hand_folder_to("proxy");  // squid drops privileges to `proxy` (peers.md)
  }
  std::vector<std::string> command() const override {
    // -N: foreground; -n: a service name of its own, so parallel instances never meet.
    return {find_program("squid"), "-N", "-d1", "-n", "grove" + std::to_string(port_), "-f",
            dir_ / "squid.conf"};
  }

  Options o_;
};

// tinyproxy 1.11: CONNECT with Basic authentication.
class Tinyproxy final : public Peer {
 public:
  static std::optional<std::string> missing() {
    if (find_program("tinyproxy").empty())
      return "tinyproxy is not installed (apt install tinyproxy)";
    return std::nullopt;
  }
  Tinyproxy(std::string user, std::string password, std::vector<int> connect_ports)
      : user_(std::move(user)), password_(std::move(password)), ports_(std::move(connect_ports)) {
    log_file_ = dir_ / "tinyproxy.log";
    launch();
  }
  std::string url() const { return "http://" + user_ + ":" + password_ + "@" + address(); }

 private:
  void write_config() override {
    std::ofstream c(dir_ / "tinyproxy.conf");
    c << "User nobody\nGroup nogroup\n"
      << "Port " << port_ << "\nListen 127.0.0.1\nTimeout 600\nMaxClients 100\n"
      << "Allow 127.0.0.1\n";
    for (int p : ports_) c << "ConnectPort " << p << "\n";
    c << "BasicAuth " << user_ << " " << password_ << "\n"
      << "LogFile \"" << (dir_ / "tinyproxy.log") << "\"\n"
      << "PidFile \"" << (dir_ / "tinyproxy.pid") << "\"\n";
    c.close();
    hand_folder_to("nobody");  // it writes its log after dropping to `nobody`
  }
  std::vector<std::string> command() const override {
    return {find_program("tinyproxy"), "-d", "-c", dir_ / "tinyproxy.conf"};
  }

  std::string user_, password_;
  std::vector<int> ports_;
};

// dante 1.4 (danted): SOCKS4/SOCKS5 without authentication, CONNECT allowed to loopback on the
// given ports only.
class Dante final : public Peer {
 public:
  static std::optional<std::string> missing() {
    if (find_program("danted").empty()) return "danted is not installed (apt install dante-server)";
    return std::nullopt;
  }
  explicit Dante(std::vector<int> connect_ports) : ports_(std::move(connect_ports)) { launch(); }

 private:
  void write_config() override {
    std::ofstream c(dir_ / "danted.conf");
    c << "logoutput: stderr\n"
      << "internal: 127.0.0.1 port = " << port_ << "\n"
      << "external: 127.0.0.1\n"
      << "clientmethod: none\nsocksmethod: none\n"
      << "user.privileged: root\nuser.unprivileged: nobody\n"
      << "client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: error }\n";
    // One keyword per line: dante 1.4.2 rejects `port = N command: ...` on a single line.
    for (int p : ports_)
      c << "socks pass {\n  from: 127.0.0.0/8 to: 127.0.0.0/8 port = " << p
        << "\n  command: connect\n  log: error connect disconnect\n}\n";
    c << "socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 log: error connect }\n";
  }
  std::vector<std::string> command() const override {
    return {find_program("danted"), "-f", dir_ / "danted.conf", "-p", dir_ / "danted.pid"};
  }

  std::vector<int> ports_;
};

// microsocks 1.0: SOCKS5 with RFC 1929 username/password.
class Microsocks final : public Peer {
 public:
  static std::optional<std::string> missing() {
    if (find_program("microsocks").empty())
      return "microsocks is not installed (apt install microsocks)";
    return std::nullopt;
  }
  Microsocks(std::string user, std::string password)
      : user_(std::move(user)), password_(std::move(password)) {
    launch();
  }
  std::string url() const { return "socks5://" + user_ + ":" + password_ + "@" + address(); }

 private:
  void write_config() override {}
  std::vector<std::string> command() const override {
    return {find_program("microsocks"),
            "-i",
            "127.0.0.1",
            "-p",
            std::to_string(port_),
            "-u",
            user_,
            "-P",
            password_};
  }

  std::string user_, password_;
};

}  // namespace grove::test
