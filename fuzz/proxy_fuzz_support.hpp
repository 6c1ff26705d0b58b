// Pieces shared by the proxy fuzz targets: replayable chunking and the error oracle.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <system_error>

#include "proxy/errc.hpp"

namespace grove::fuzz {

// Deterministic chunk sizes 1..max from a seed byte, so one input replays the same splits.
struct Chunker {
  std::uint32_t state;
  std::size_t max;
  std::size_t next() {
    state = state * 1103515245u + 12345u;
    return 1 + (state >> 16) % max;
  }
};

// Oracle: a failure is a documented grove.proxy value, never "ok" and never another category.
inline void check_error(const std::error_code& ec) {
  if (ec.category() != grove::proxy::proxy_category() || ec.value() <= 0 ||
      ec.value() > static_cast<int>(grove::proxy::errc::url_bad_percent_encoding)) {
    std::abort();
  }
}

}  // namespace grove::fuzz
