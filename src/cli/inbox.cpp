#include "cli/inbox.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <unordered_map>

#include "cli/describe.hpp"

namespace grove::cli {

namespace fs = std::filesystem;
using engine::Connection;

namespace {
// Keeps a name inside the output folder: no separators, no dot-files, no control characters.
std::string safe_name(std::string_view user_ref, std::uint64_t n) {
  std::string name;
  if (user_ref.rfind("file:", 0) == 0) name = std::string(user_ref.substr(5));
  auto slash = name.find_last_of("/\\");
  if (slash != std::string::npos) name = name.substr(slash + 1);
  for (char& ch : name)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '_';
  while (!name.empty() && name.front() == '.') name.erase(0, 1);
  if (name.empty()) name = fmt::format("message-{:06}.bin", n);
  return name;
}

// Picks "name", then "name.1", "name.2"... so an arriving file never overwrites another.
fs::path unique_path(const fs::path& dir, const std::string& name) {
  fs::path p = dir / name;
  for (int i = 1; fs::exists(p) || fs::exists(p.string() + ".part"); ++i)
    p = dir / fmt::format("{}.{}", name, i);
  return p;
}

}  // namespace

class ReceiverImpl final : public Receiver {
 public:
  ReceiverImpl(InboxShared& shared, std::string peer) : shared_(shared), peer_(std::move(peer)) {}

  void on_event(Connection& c, engine::Event& e) override {
    std::visit([&](auto& ev) { handle(c, ev); }, e);
  }

 private:
  struct Incoming {
    std::string user_ref;
    std::optional<sstp::FragmentationFields> fragment;
    FILE* file = nullptr;
    fs::path part, final_path;
    bool failed = false;
  };

  void handle(Connection& c, engine::ConnectRequested& ev) {
    spdlog::info("event=connect peer={} device={}", peer_, ev.source_device_url);
    (void)c.accept_connection(shared_.secret);
  }
  void handle(Connection&, engine::Established& ev) {
    if (ev.authenticated) spdlog::info("event=established peer={} device={}", peer_, ev.peer_device_url);
  }
  void handle(Connection&, engine::Authenticated& ev) {
    spdlog::info("event=authenticated peer={} device={}", peer_, ev.device_url);
  }
  void handle(Connection& c, engine::SessionRequested& ev) {
    spdlog::info("event=session peer={} session={} resource={} identity={}", peer_, ev.session_id,
                 ev.resource_url, ev.identity_url);
    (void)c.respond_open(ev.session_id, engine::Availability::ready);
  }
  // Once -n messages arrived, later ones (already in flight) are neither shown nor
  // acknowledged, so the sender or relay keeps them for next time instead of losing them.
  bool done() const { return shared_.count && shared_.received >= shared_.count; }

  void handle(Connection&, engine::MessageStarted& ev) {
    if (done()) return;
    Incoming& in = incoming_[ev.session_id];
    in.user_ref = ev.header.user_ref;
    in.fragment.reset();
    if (ev.header.flags & sstp::message_flag::Fragmentation) in.fragment = ev.header.fragmentation;
    if (shared_.out_dir.empty()) {
      if (shared_.show_meta)
        std::printf("--- from %s ref=%s\n", c_peer(), ev.header.user_ref.c_str());
      return;
    }
    // A fragment after the first continues the same .part file (fragments of one file arrive
    // in order on one session, §9.5).
    const bool continues = in.file && in.fragment && in.fragment->fragment_index > 0;
    if (continues) return;
    close_file(in);
    const std::string name = safe_name(in.user_ref, shared_.received + 1);
    in.final_path = unique_path(shared_.out_dir, name);
    in.part = in.final_path.string() + ".part";
    in.file = std::fopen(in.part.c_str(), "wb");
    in.failed = in.file == nullptr;
    if (in.failed) spdlog::error("cannot write {}: check the folder's permissions", in.part.string());
  }
  void handle(Connection&, engine::MessageData& ev) {
    if (done()) return;
    auto it = incoming_.find(ev.session_id);
    FILE* out = shared_.out_dir.empty() ? stdout : (it != incoming_.end() ? it->second.file : nullptr);
    if (out && std::fwrite(ev.data.data(), 1, ev.data.size(), out) != ev.data.size() &&
        it != incoming_.end()) {
      it->second.failed = true;
    }
  }
  void handle(Connection& c, engine::MessageEnded& ev) {
    if (done()) return;
    Incoming& in = incoming_[ev.session_id];
    if (shared_.out_dir.empty()) {
      std::fputc('\n', stdout);
      std::fflush(stdout);
    } else {
      const bool last = !in.fragment || in.fragment->fragment_index + 1 == in.fragment->fragment_count;
      if (in.file && std::fflush(in.file) != 0) in.failed = true;
      if (in.failed) {
        // Not acknowledged: the sender learns the message was not confirmed.
        spdlog::error("could not store a message from {}; it is not acknowledged", peer_);
        c.close(sstp::ConnectCloseReason::InternalError);
        return;
      }
      if (last) {
        close_file(in);
        std::error_code ec;
        fs::rename(in.part, in.final_path, ec);
        std::printf("%s\n", in.final_path.c_str());
        std::fflush(stdout);
      }
    }
    c.message_processed(ev.seq);
    // -n counts what the user sent: a text message or a whole file (all its fragments).
    if (!in.fragment || in.fragment->fragment_index + 1 == in.fragment->fragment_count)
      ++shared_.received;
    if (shared_.on_message) shared_.on_message();
    if (shared_.count && shared_.received >= shared_.count && shared_.on_done)
      shared_.on_done();
  }
  void handle(Connection&, engine::MessageAborted& ev) {
    auto it = incoming_.find(ev.session_id);
    if (it != incoming_.end()) {
      close_file(it->second);
      if (!it->second.part.empty()) fs::remove(it->second.part);
      incoming_.erase(it);
    }
  }
  void handle(Connection&, engine::ConnectionClosed& ev) {
    for (auto& [id, in] : incoming_) {
      close_file(in);
      if (!in.part.empty()) {
        std::error_code ec;
        fs::remove(in.part, ec);
      }
    }
    incoming_.clear();
    const bool normal = !ev.error && !ev.refused &&
                        ev.reason == sstp::ConnectCloseReason::NoReason;
    if (normal || (ev.by_peer && ev.error == sstp::errc::connection_closed))
      spdlog::info("event=closed peer={} {}", peer_, describe(ev));
    else
      spdlog::warn("peer={} {}", peer_, describe(ev));
  }
  template <typename T>
  void handle(Connection&, T&) {}

  static void close_file(Incoming& in) {
    if (in.file) std::fclose(in.file);
    in.file = nullptr;
  }
  const char* c_peer() const { return peer_.c_str(); }

  InboxShared& shared_;
  std::string peer_;
  std::unordered_map<std::uint32_t, Incoming> incoming_;
};

std::unique_ptr<Receiver> make_receiver(InboxShared& shared, std::string peer) {
  return std::make_unique<ReceiverImpl>(shared, std::move(peer));
}

}  // namespace grove::cli
