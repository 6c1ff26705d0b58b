// Fuzzes proxy URL parsing, no_proxy matching and environment selection. Oracle: no crash,
// only grove.proxy errors, a parsed URL has a host and a non-zero port.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proxy/proxy_url.hpp"
#include "proxy_fuzz_support.hpp"

using namespace grove;
using namespace grove::proxy;
using grove::fuzz::check_error;
using grove::fuzz::Chunker;

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
