#include "cli/inbox.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

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
    std::optional<MessageId> id;
    bool duplicate = false;            // a copy of a message already handled: acknowledge, drop
    std::shared_ptr<PartialFile> out;  // -o: where the data goes
  };

  void handle(Connection& c, engine::ConnectRequested& ev) {
    spdlog::info("event=connect peer={} device={}", peer_, ev.source_device_url);
    (void)c.accept_connection(shared_.secret);
  }
  void handle(Connection&, engine::Established& ev) {
    if (ev.authenticated)
      spdlog::info("event=established peer={} device={}", peer_, ev.peer_device_url);
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
    const UserRef ref = parse_user_ref(ev.header.user_ref);
    in.duplicate = ref.id && shared_.seen.contains(*ref.id);
    if (in.duplicate) {
      spdlog::info("event=duplicate peer={} ref={} (already handled; dropped)", peer_,
                   ev.header.user_ref);
      return;
    }
    in.id = ref.id;
    in.user_ref = std::string(ref.rest);
    in.fragment.reset();
    if (ev.header.flags & sstp::message_flag::Fragmentation) in.fragment = ev.header.fragmentation;
    if (shared_.out_dir.empty()) {
      if (shared_.show_meta)
        std::printf("--- from %s ref=%s\n", c_peer(), ev.header.user_ref.c_str());
      return;
    }
    in.out = file_for(in);
  }
  void handle(Connection&, engine::MessageData& ev) {
    if (done()) return;
    auto it = incoming_.find(ev.session_id);
    if (it != incoming_.end() && it->second.duplicate) return;
    if (shared_.out_dir.empty()) {
      (void)std::fwrite(ev.data.data(), 1, ev.data.size(), stdout);
      return;
    }
    if (it == incoming_.end() || !it->second.out) return;
    PartialFile& f = *it->second.out;
    if (f.file && std::fwrite(ev.data.data(), 1, ev.data.size(), f.file) != ev.data.size())
      f.failed = true;
  }
  void handle(Connection& c, engine::MessageEnded& ev) {
    if (done()) return;
    Incoming& in = incoming_[ev.session_id];
    if (in.duplicate) {
      in.duplicate = false;
      ++shared_.duplicates;
      c.message_processed(ev.seq);
      return;
    }
    if (shared_.out_dir.empty()) {
      std::fputc('\n', stdout);
      std::fflush(stdout);
    } else {
      const bool last =
          !in.fragment || in.fragment->fragment_index + 1 == in.fragment->fragment_count;
      PartialFile* f = in.out.get();
      if (f && f->file && std::fflush(f->file) != 0) f->failed = true;
      if (!f || f->failed) {
        // Not acknowledged: the sender learns the message was not confirmed.
        spdlog::error("could not store a message from {}; it is not acknowledged", peer_);
        c.close(sstp::ConnectCloseReason::InternalError);
        return;
      }
      f->committed = static_cast<std::uint64_t>(::ftello(f->file));
      if (in.fragment) f->next_index = in.fragment->fragment_index + 1;
      if (last) {
        std::fclose(f->file);
        f->file = nullptr;
        std::error_code ec;
        fs::rename(f->part, f->final_path, ec);
        std::printf("%s\n", f->final_path.c_str());
        std::fflush(stdout);
        if (in.fragment) shared_.partial_files.erase(in.fragment->fragment_message_id);
      }
      in.out.reset();
    }
    if (in.id) shared_.seen.insert(*in.id);
    c.message_processed(ev.seq);
    // -n counts what the user sent: a text message or a whole file (all its fragments).
    if (!in.fragment || in.fragment->fragment_index + 1 == in.fragment->fragment_count)
      ++shared_.received;
    if (shared_.on_message) shared_.on_message();
    if (shared_.count && shared_.received >= shared_.count && shared_.on_done) shared_.on_done();
  }
  void handle(Connection&, engine::MessageAborted& ev) {
    auto it = incoming_.find(ev.session_id);
    if (it != incoming_.end()) {
      cut_off(it->second);
      incoming_.erase(it);
    }
  }
  void handle(Connection&, engine::ConnectionClosed& ev) {
    for (auto& [id, in] : incoming_) cut_off(in);
    incoming_.clear();
    const bool normal = !ev.error && !ev.refused && ev.reason == sstp::ConnectCloseReason::NoReason;
    if (normal || (ev.by_peer && ev.error == sstp::errc::connection_closed))
      spdlog::info("event=closed peer={} {}", peer_, describe(ev));
    else
      spdlog::warn("peer={} {}", peer_, describe(ev));
  }
  template <typename T>
  void handle(Connection&, T&) {}

  // The file a message's data goes to: the next fragment continues its file's .part (also
  // after a reconnect: fragments of one file arrive in order, §9.5); anything else starts one.
  std::shared_ptr<PartialFile> file_for(const Incoming& in) {
    if (in.fragment) {
      auto it = shared_.partial_files.find(in.fragment->fragment_message_id);
      if (it != shared_.partial_files.end()) {
        if (it->second->next_index == in.fragment->fragment_index) return it->second;
        spdlog::error("fragment {} of {} arrived where {} was due; starting the file again",
                      in.fragment->fragment_index, it->second->final_path.string(),
                      it->second->next_index);
        shared_.partial_files.erase(it);
      } else if (in.fragment->fragment_index > 0) {
        spdlog::warn("fragment {} of {} arrived without the ones before it; saving it alone",
                     in.fragment->fragment_index, in.user_ref);
      }
    }
    auto f = std::make_shared<PartialFile>();
    f->final_path = unique_path(shared_.out_dir, safe_name(in.user_ref, shared_.received + 1));
    f->part = f->final_path.string() + ".part";
    f->file = std::fopen(f->part.c_str(), "wb");
    f->failed = f->file == nullptr;
    if (f->failed)
      spdlog::error("cannot write {}: check the folder's permissions", f->part.string());
    if (in.fragment) {
      f->next_index = in.fragment->fragment_index;
      shared_.partial_files[in.fragment->fragment_message_id] = f;
    }
    return f;
  }

  // A message cut off (session or connection closed): a lone message's file goes; a fragmented
  // file keeps its complete fragments for the rest to continue after a reconnect.
  void cut_off(Incoming& in) {
    if (!in.out) return;
    PartialFile& f = *in.out;
    if (!in.fragment) {
      if (f.file) std::fclose(f.file);
      f.file = nullptr;
      std::error_code ec;
      fs::remove(f.part, ec);
    } else if (f.file) {
      std::fflush(f.file);
      if (::ftruncate(::fileno(f.file), static_cast<off_t>(f.committed)) != 0 ||
          ::fseeko(f.file, static_cast<off_t>(f.committed), SEEK_SET) != 0)
        f.failed = true;
    }
    in.out.reset();
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
