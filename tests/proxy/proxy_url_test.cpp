// Proxy URLs, no_proxy matching and environment selection (henc.md §7.1, §9.2, §11.1).
#include "proxy/proxy_url.hpp"

#include <gtest/gtest.h>

namespace grove::proxy {
namespace {

ProxyUrl url(ProxyScheme s, std::string host, std::uint16_t port,
             std::optional<Credentials> cr = {}) {
  return ProxyUrl{s, std::move(host), port, std::move(cr)};
}

TEST(ProxyUrl, ParsesTheSupportedForms) {
  const std::pair<const char*, ProxyUrl> cases[] = {
      {"http://proxy:3128", url(ProxyScheme::http, "proxy", 3128)},
      {"HTTP://Proxy.Example.com:8080/", url(ProxyScheme::http, "Proxy.Example.com", 8080)},
      {"http://proxy", url(ProxyScheme::http, "proxy", 80)},
      {"http://proxy:", url(ProxyScheme::http, "proxy", 80)},
      {"proxy.corp:3128", url(ProxyScheme::http, "proxy.corp", 3128)},
      {" http://10.0.0.1:3128 ", url(ProxyScheme::http, "10.0.0.1", 3128)},
      {"http://user:pass@proxy:3128",
       url(ProxyScheme::http, "proxy", 3128, Credentials{"user", "pass"})},
      {"http://DOM%5Cuser:p%40ss%3Aw%2F@proxy:3128",
       url(ProxyScheme::http, "proxy", 3128, Credentials{"DOM\\user", "p@ss:w/"})},
      {"http://us%65r@proxy", url(ProxyScheme::http, "proxy", 80, Credentials{"user", ""})},
      {"http://a@b:c@proxy", url(ProxyScheme::http, "proxy", 80, Credentials{"a@b", "c"})},
      {"http://@proxy", url(ProxyScheme::http, "proxy", 80)},
      {"http://[2001:db8::1]:3128", url(ProxyScheme::http, "2001:db8::1", 3128)},
      {"http://[::1]", url(ProxyScheme::http, "::1", 80)},
      {"socks5://proxy", url(ProxyScheme::socks5, "proxy", 1080)},
      {"socks5h://u:p@proxy:9050", url(ProxyScheme::socks5, "proxy", 9050, Credentials{"u", "p"})},
      {"socks4a://proxy", url(ProxyScheme::socks4a, "proxy", 1080)},
      {"SOCKS4://proxy:1081", url(ProxyScheme::socks4, "proxy", 1081)},
  };
  for (const auto& [text, expect] : cases) {
    ProxyUrl got;
    ASSERT_FALSE(parse_proxy_url(text, got)) << text;
    EXPECT_EQ(got, expect) << text;
  }
}

TEST(ProxyUrl, Errors) {
  const std::pair<const char*, errc> cases[] = {
      {"https://proxy:443", errc::url_unsupported_scheme},
      {"ftp://proxy", errc::url_unsupported_scheme},
      {"://proxy", errc::url_unsupported_scheme},
      {"http://proxy:3128/path", errc::url_bad_syntax},
      {"http://proxy?x", errc::url_bad_syntax},
      {"http://[::1]x", errc::url_bad_syntax},
      {"http://", errc::url_bad_host},
      {"http://user@", errc::url_bad_host},
      {"http://pro xy", errc::url_bad_host},
      {"http://[::1", errc::url_bad_host},
      {"http://[not-v6]:1", errc::url_bad_host},
      {"http://[fe80::1%25eth0]:1", errc::url_bad_host},
      {"http://a:b:c", errc::url_bad_port},
      {"http://proxy:0", errc::url_bad_port},
      {"http://proxy:65536", errc::url_bad_port},
      {"http://proxy:12a", errc::url_bad_port},
      {"http://proxy:-1", errc::url_bad_port},
      {"http://u%zz:p@proxy", errc::url_bad_percent_encoding},
      {"http://u:p%4@proxy", errc::url_bad_percent_encoding},
  };
  for (auto [text, e] : cases) {
    ProxyUrl got;
    got.host = "unchanged";
    EXPECT_EQ(parse_proxy_url(text, got), e) << text;
    EXPECT_EQ(got.host, "unchanged");
  }
}

TEST(ProxyUrl, SocksVersionOfScheme) {
  EXPECT_EQ(socks_version(ProxyScheme::socks5), SocksVersion::v5);
  EXPECT_EQ(socks_version(ProxyScheme::socks4a), SocksVersion::v4a);
  EXPECT_EQ(socks_version(ProxyScheme::socks4), SocksVersion::v4);
}

TEST(NoProxy, MatchingTable) {
  struct Case {
    const char* list;
    const char* host;
    std::uint16_t port;
    bool match;
  };
  const Case cases[] = {
      {"*", "anything.example", 443, true},
      {"relay.example.com", "relay.example.com", 443, true},
      {"RELAY.example.COM", "relay.Example.com.", 443, true},
      {"example.com", "relay.example.com", 443, true},
      {".example.com", "relay.example.com", 443, true},
      {".example.com", "example.com", 443, true},
      {"*.example.com", "a.b.example.com", 443, true},
      {"example.com", "badexample.com", 443, false},
      {".example.com", "example.org", 443, false},
      {"relay.example.com:443", "relay.example.com", 443, true},
      {"relay.example.com:443", "relay.example.com", 2492, false},
      {"other, relay.example.com", "relay.example.com", 1, true},
      {"other relay.example.com", "relay.example.com", 1, true},
      {" , ,", "relay.example.com", 1, false},
      {"", "relay.example.com", 1, false},
      {"192.0.2.10", "192.0.2.10", 443, true},
      {"192.0.2.10", "192.0.2.11", 443, false},
      {"192.0.2.10:2492", "192.0.2.10", 2492, true},
      {"192.0.2.0/24", "192.0.2.77", 443, true},
      {"192.0.2.0/24", "192.0.3.77", 443, false},
      {"10.0.0.0/8", "relay.example.com", 443, false},
      {"::1", "[::1]", 443, true},
      {"[2001:db8::1]:443", "2001:db8:0::1", 443, true},
      {"[2001:db8::1]:443", "2001:db8::1", 80, false},
      {"2001:db8::/32", "2001:db8:ffff::5", 443, true},
      {"192.0.2.0/99", "192.0.2.1", 443, false},
      {"localhost", "127.0.0.1", 443, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(no_proxy_matches(c.list, c.host, c.port), c.match)
        << "'" << c.list << "' vs " << c.host << ":" << c.port;
  }
}

TEST(Environment, HttpsProxyThenHttpProxyLowerCaseFirst) {
  Environment env = {{"HTTPS_PROXY", "http://upper:1"},
                     {"https_proxy", "http://lower:2"},
                     {"http_proxy", "http://plain:3"}};
  ProxySelection s = proxies_from_environment(env, "relay.example.com", 443);
  ASSERT_TRUE(s.http);
  EXPECT_EQ(s.http->host, "lower");
  env.erase("https_proxy");
  EXPECT_EQ(proxies_from_environment(env, "relay.example.com", 443).http->host, "upper");
  env.erase("HTTPS_PROXY");
  EXPECT_EQ(proxies_from_environment(env, "relay.example.com", 443).http->host, "plain");
  env["https_proxy"] = "  ";  // empty counts as unset
  EXPECT_EQ(proxies_from_environment(env, "relay.example.com", 443).http->host, "plain");
  EXPECT_FALSE(proxies_from_environment({}, "relay.example.com", 443).http);
}

TEST(Environment, AllProxyOnlyForSocks) {
  ProxySelection s = proxies_from_environment({{"ALL_PROXY", "socks5h://s:1080"}}, "r", 443);
  ASSERT_TRUE(s.socks);
  EXPECT_EQ(s.socks->scheme, ProxyScheme::socks5);
  EXPECT_FALSE(s.http);
  s = proxies_from_environment({{"all_proxy", "http://h:3128"}}, "r", 443);
  EXPECT_FALSE(s.socks);
  EXPECT_FALSE(s.http);
  EXPECT_FALSE(s.error);
}

TEST(Environment, NoProxyBypassesBoth) {
  Environment env = {{"https_proxy", "http://p:3128"},
                     {"all_proxy", "socks5://s"},
                     {"NO_PROXY", "localhost,.example.com"}};
  ProxySelection s = proxies_from_environment(env, "relay.example.com", 443);
  EXPECT_TRUE(s.bypassed);
  EXPECT_FALSE(s.http);
  EXPECT_FALSE(s.socks);
  s = proxies_from_environment(env, "relay.other.net", 443);
  EXPECT_FALSE(s.bypassed);
  EXPECT_TRUE(s.http);
  EXPECT_TRUE(s.socks);
}

TEST(Environment, BadValuesAreReportedByNameNotValue) {
  Environment env = {{"https_proxy", "http://user:secret@proxy:99999"},
                     {"http_proxy", "http://fallback:3128"},
                     {"all_proxy", "socks5://s"}};
  ProxySelection s = proxies_from_environment(env, "relay", 443);
  EXPECT_EQ(s.error, errc::url_bad_port);
  EXPECT_EQ(s.error_variable, "https_proxy");
  EXPECT_FALSE(s.http);  // no silent fallback to http_proxy
  EXPECT_TRUE(s.socks);
  s = proxies_from_environment({{"http_proxy", "socks5://s"}}, "relay", 443);
  EXPECT_EQ(s.error, errc::url_unsupported_scheme);
  EXPECT_EQ(s.error_variable, "http_proxy");
}

}  // namespace
}  // namespace grove::proxy
