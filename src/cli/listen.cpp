#include "cli/listen.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <list>
#include <memory>
#include <unordered_map>

#include "cli/common.hpp"
#include "cli/inbox.hpp"
#include "net/driver.hpp"
#include "net/tcp.hpp"
#include "net/tcp_stream.hpp"

namespace grove::cli {
namespace {

namespace fs = std::filesystem;
using engine::Connection;

// One accepted connection: stream, engine, handler and driver live together.
struct Peer {
  net::TcpStream stream;
  std::unique_ptr<Receiver> receiver;
  Connection conn;
  net::Driver driver;
  Peer(asio::ip::tcp::socket s, InboxShared& shared, const engine::Options& eo)
      : stream(std::move(s), "tcp"),
        receiver(make_receiver(shared, stream.describe().substr(4))),
        conn(eo, engine::Clock::now()),
        driver(stream, conn, *receiver) {}
};

}  // namespace

int run_listen(const ListenOptions& o) {
  if (!o.out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(o.out_dir, ec);
    if (ec) {
      spdlog::error("cannot create {}: {}", o.out_dir, ec.message());
      return kUsage;
    }
  }
  if (!o.secret)
    spdlog::warn("accepting unauthenticated peers; give --secret-file to require grove-auth-1");
  asio::io_context io(1);
  std::list<std::unique_ptr<Peer>> peers;
  std::list<asio::ip::tcp::acceptor> acceptors;  // list: accept loops hold references
  bool stopping = false;
  int exit_code = kOk;

  engine::Options eo;
  eo.role = engine::Role::acceptor;
  if (!o.device_url.empty()) eo.local_device_urls = {o.device_url};
  eo.local_device_url = o.device_url;
  eo.require_authentication = o.secret.has_value();
  eo.product_version = "Grove Client 1.0 1";

  std::function<void()> signals_cancel;
  auto stop = [&](int code) {
    if (stopping) return;
    stopping = true;
    exit_code = code;
    for (auto& a : acceptors) a.close();
    for (auto& p : peers) {
      p->conn.close();
      p->driver.kick();
    }
    if (peers.empty()) signals_cancel();
  };
  InboxShared shared;
  shared.out_dir = o.out_dir;
  shared.show_meta = o.show_meta;
  shared.count = o.count;
  shared.secret = o.secret;
  shared.on_done = [&] { stop(kOk); };

  try {
    for (const auto& where : o.listen) {
      acceptors.push_back(net::listen_tcp(io.get_executor(), where));
      spdlog::info("event=listening address={}", net::to_string(acceptors.back().local_endpoint()));
    }
  } catch (const std::system_error& e) {
    spdlog::error("{} ({})", e.what(),
                  "is another program using the port? try --listen with another port");
    return kUsage;
  }
  // Tell scripts where we listen (the port may have been 0 = any free port).
  for (auto& a : acceptors)
    std::fprintf(stderr, "listening on %s\n", net::to_string(a.local_endpoint()).c_str());

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals_cancel = [&] { signals.cancel(); };
  signals.async_wait([&](const std::error_code& ec, int) {
    if (!ec) stop(kOk);
  });

  for (auto& acceptor : acceptors) {
    asio::co_spawn(
        io,
        net::accept_loop(
            acceptor,
            [&](asio::ip::tcp::socket s) {
              if (stopping) return;
              peers.push_back(std::make_unique<Peer>(std::move(s), shared, eo));
              auto it = std::prev(peers.end());
              asio::co_spawn(io, (*it)->driver.run(), [&, it](std::exception_ptr e) {
                if (e) spdlog::error("connection task failed");
                // Destroy the peer outside the completion of its own coroutine.
                asio::post(io, [&, it] {
                  peers.erase(it);
                  if (stopping && peers.empty()) signals.cancel();
                });
              });
            },
            [](const std::error_code& ec) { spdlog::warn("accept failed: {}", ec.message()); }),
        asio::detached);
  }
  io.run();
  return exit_code;
}

}  // namespace grove::cli
