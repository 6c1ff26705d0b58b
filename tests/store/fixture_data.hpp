// The content of tests/store/fixtures/v1.sqlite: written by the generator in open_test.cpp
// (FixtureGenerator), checked by the fixture tests. Never change it for an existing version's
// fixture: a new schema version gets a new fixture and a new content function.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace grove::store::test::fixture {

inline auth::Secret key(Byte b) {
  auth::Secret s{};
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<Byte>(b ^ (i * 13));
  return s;
}

inline const char* const kPhone = "grove://relay.example/d/bob-phone";
inline const char* const kLaptop = "grove://relay.example/d/bob-laptop";
inline const char* const kBob = "grove://relay.example/i/bob";

inline std::vector<DeviceRecord> devices() {  // ordered by URL, as list_devices returns them
  return {{kLaptop, key(0x22), false}, {kPhone, key(0x11), true}};
}
inline std::vector<IdentityRecord> identities() { return {{kBob, key(0x33)}}; }
inline std::multimap<std::string, std::string> registrations() { return {{kBob, kPhone}}; }

// The copies appended, in order; the generator then removes the first one, so the file holds
// ids 2..5 and its AUTOINCREMENT counter is at 5.
inline std::vector<StoredMessage> appended() {
  namespace flag = sstp::message_flag;
  auto msg = [](const char* dev, unsigned n, std::uint8_t flags, std::size_t size) {
    StoredMessage m;
    m.target_device = dev;
    m.resource_url = "grove://relay.example/r/notes";
    m.identity_url = kBob;
    m.header.flags = flags;
    m.header.user_ref = "ref-" + std::to_string(n);
    m.sender_device = kLaptop;
    m.arrival_unix = 1700000000 + n;
    Bytes d(size);
    for (std::size_t i = 0; i < size; ++i) d[i] = static_cast<Byte>(n * 31 + i);
    m.data = std::make_shared<const Bytes>(std::move(d));
    return m;
  };
  std::vector<StoredMessage> v;
  v.push_back(msg(kPhone, 1, 0, 10));  // removed again
  v.push_back(msg(kPhone, 2, flag::DoNotDeliverIfOffline, 0));
  v.push_back(msg(kPhone, 3, flag::Ephemeral | flag::Track, 40));
  v.back().header.expiration_time = 1800000000;
  v.back().identity_targeted = true;
  v.push_back(msg(kPhone, 4, flag::StreamSize, 100));
  v.back().header.stream_size.total_size = 100;
  v.push_back(msg(kLaptop, 5, flag::Fragmentation | flag::Ephemeral | flag::StreamSize, 7));
  v.back().header.expiration_time = 0xfffffffffffffff0u;
  v.back().header.stream_size.total_size = 0x1234567890u;
  v.back().header.fragmentation = {{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6}, 2, 3};
  for (std::size_t i = 0; i < v.size(); ++i) v[i].id = i + 1;
  return v;
}

}  // namespace grove::store::test::fixture
