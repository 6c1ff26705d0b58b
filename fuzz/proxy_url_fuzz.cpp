// Fuzzes proxy URL parsing, no_proxy matching and environment selection. Oracle: no crash,
// only grove.proxy errors, a parsed URL has a host and a non-zero port.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proxy/errc.hpp"
#include "proxy/proxy_url.hpp"

using namespace grove;
using namespace grove::proxy;

namespace {

// Oracle: a failure is a documented grove.proxy value, never "ok" and never another category.
void check_error(const std::error_code& ec) {
  if (ec.category() != grove::proxy::proxy_category() || ec.value() <= 0 ||
      ec.value() > static_cast<int>(grove::proxy::errc::url_bad_percent_encoding)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ProxyUrl url;
  if (std::error_code ec = parse_proxy_url(text, url)) {
    check_error(ec);
  } else if (url.host.empty() || url.port == 0) {
    std::abort();
  }
  // Split at the first '|': no_proxy list | host.
  std::size_t bar = text.find('|');
  std::string_view list = text.substr(0, bar);
  std::string_view host =
      bar == std::string_view::npos ? "relay.example.com" : text.substr(bar + 1);
  (void)no_proxy_matches(list, host, 443);
  Environment env = {{"https_proxy", std::string(text)},
                     {"all_proxy", std::string(text)},
                     {"no_proxy", std::string(list)}};
  ProxySelection s = proxies_from_environment(env, host, 2492);
  if (s.error) check_error(s.error);
  if (s.bypassed && (s.http || s.socks)) std::abort();
  return 0;
}
