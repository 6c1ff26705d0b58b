// The messages of henc.md §3.2, §4.2 and §5.1-§5.2 as Grove sends them, byte for byte.
#include "henc/messages.hpp"

#include <gtest/gtest.h>

#include "henc/wire.hpp"

namespace grove::henc {
namespace {

// The spec prints each line without its CRLF.
std::string crlf(std::initializer_list<std::string_view> lines) {
  std::string s;
  for (auto l : lines) s += std::string(l) + "\r\n";
  return s;
}

const std::string kKaGuid = "kicxp8rrgwqdwhf7c6xsgbagmcdnxm9phtvbj5a";
const std::string kLlGuid = "hczn5kctbrpxfgkgxzqs6zmkp9uwvswszvs6f72";

RequestSpec base(std::string method, std::string target) {
  RequestSpec r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.host = "server.domain.net";
  return r;
}

TEST(Messages, LongLivedGet) {
  RequestSpec r =
      base("GET", encapsulation_path(ConnType::long_lived, "server.domain.net", kLlGuid));
  EXPECT_EQ(build_request(r),
            crlf({"GET /2.0/server.domain.net/hczn5kctbrpxfgkgxzqs6zmkp9uwvswszvs6f72,ConnType="
                  "LongLived,ContentLength=2147479552 HTTP/1.0",
                  "Accept: */*", "Content-Type: application/octet-stream", "User-Agent: Grove/1.0",
                  "Host: server.domain.net", "Pragma: no-cache", "Cache-Control: no-cache",
                  "Expires: 0", "Cache-Control: max-age=0", ""}));
}

TEST(Messages, LongLivedPost) {
  RequestSpec r =
      base("POST", encapsulation_path(ConnType::long_lived, "server.domain.net", kLlGuid));
  r.content_length = kLongLivedBudget;
  EXPECT_EQ(build_request(r) + std::string(kEcho),
            crlf({"POST /2.0/server.domain.net/hczn5kctbrpxfgkgxzqs6zmkp9uwvswszvs6f72,ConnType="
                  "LongLived,ContentLength=2147479552 HTTP/1.0",
                  "Accept: */*", "Content-Type: application/octet-stream", "User-Agent: Grove/1.0",
                  "Host: server.domain.net", "Content-Length: 2147479552", "Pragma: no-cache",
                  "Cache-Control: no-cache", "Expires: 0", "Cache-Control: max-age=0", "",
                  "GroovePing: 1.0,Ping"}));
}

TEST(Messages, LongLivedGetResponse) {
  ResponseSpec r{
      200,         "Wed, 26 Dec 2007 19:50:26 GMT", "Grove-Relay/1.0", false, kLongLivedBudget,
      std::nullopt};
  EXPECT_EQ(build_response(r) + std::string(kEcho),
            crlf({"HTTP/1.0 200 OK", "Date: Wed, 26 Dec 2007 19:50:26 GMT",
                  "Server: Grove-Relay/1.0", "Connection: close",
                  "Content-Type: application/octet-stream", "Content-Length: 2147479552",
                  "Pragma: no-cache", "Cache-Control: no-cache", "", "GroovePing: 1.0,Ping"}));
}

TEST(Messages, ProxiedLongLivedGet) {
  RequestSpec r =
      base("GET", "http://server.domain.net" +
                      encapsulation_path(ConnType::long_lived, "server.domain.net", kLlGuid));
  r.proxy_keep_alive = true;
  const std::string s = build_request(r);
  EXPECT_EQ(s.substr(0, s.find("\r\n")),
            "GET http://server.domain.net/2.0/server.domain.net/"
            "hczn5kctbrpxfgkgxzqs6zmkp9uwvswszvs6f72,ConnType=LongLived,ContentLength=2147479552 "
            "HTTP/1.0");
  EXPECT_NE(s.find("Host: server.domain.net\r\nProxy-Connection: Keep-Alive\r\n"),
            std::string::npos);
}

TEST(Messages, KeepAliveGetAndPost) {
  RequestSpec g =
      base("GET", encapsulation_path(ConnType::keep_alive, "server.domain.net", kKaGuid));
  g.connection_keep_alive = true;
  EXPECT_EQ(build_request(g),
            crlf({"GET /2.0/server.domain.net/kicxp8rrgwqdwhf7c6xsgbagmcdnxm9phtvbj5a,ConnType="
                  "KeepAlive HTTP/1.0",
                  "Accept: */*", "Content-Type: application/octet-stream", "User-Agent: Grove/1.0",
                  "Host: server.domain.net", "Connection: Keep-Alive", "Pragma: no-cache",
                  "Cache-Control: no-cache", "Expires: 0", "Cache-Control: max-age=0", ""}));
  RequestSpec p = g;
  p.method = "POST";
  p.content_length = 22;
  EXPECT_EQ(build_request(p) + std::string(kEcho),
            crlf({"POST /2.0/server.domain.net/kicxp8rrgwqdwhf7c6xsgbagmcdnxm9phtvbj5a,ConnType="
                  "KeepAlive HTTP/1.0",
                  "Accept: */*", "Content-Type: application/octet-stream", "User-Agent: Grove/1.0",
                  "Host: server.domain.net", "Connection: Keep-Alive", "Content-Length: 22",
                  "Pragma: no-cache", "Cache-Control: no-cache", "Expires: 0",
                  "Cache-Control: max-age=0", "", "GroovePing: 1.0,Ping"}));
}

TEST(Messages, KeepAliveResponses) {
  ResponseSpec post{200, "Wed, 26 Dec 2007 19:50:26 GMT", "Grove-Relay/1.0", true, 0, std::nullopt};
  EXPECT_EQ(
      build_response(post),
      crlf({"HTTP/1.0 200 OK", "Date: Wed, 26 Dec 2007 19:50:26 GMT", "Server: Grove-Relay/1.0",
            "Connection: Keep-Alive", "Content-Type: application/octet-stream", "Content-Length: 0",
            "Pragma: no-cache", "Cache-Control: no-cache", ""}));
  ResponseSpec get = post;
  get.content_length = 22;
  EXPECT_EQ(build_response(get) + std::string(kEcho),
            crlf({"HTTP/1.0 200 OK", "Date: Wed, 26 Dec 2007 19:50:26 GMT",
                  "Server: Grove-Relay/1.0", "Connection: Keep-Alive",
                  "Content-Type: application/octet-stream", "Content-Length: 22",
                  "Pragma: no-cache", "Cache-Control: no-cache", "", "GroovePing: 1.0,Ping"}));
}

TEST(Messages, PollingRequestAndResponse) {
  RequestSpec r = base("POST", "/");
  const Bytes body = encode_polling_body("server.domain.net", kKaGuid, 0, {});
  r.content_length = body.size();
  EXPECT_EQ(build_request(r),
            crlf({"POST / HTTP/1.0", "Accept: */*", "Content-Type: application/octet-stream",
                  "User-Agent: Grove/1.0", "Host: server.domain.net", "Content-Length: 66",
                  "Pragma: no-cache", "Cache-Control: no-cache", "Expires: 0",
                  "Cache-Control: max-age=0", ""}));
  ResponseSpec a{200, "Wed, 26 Dec 2007 19:50:26 GMT", "Grove-Relay/1.0", false, 66, PollParams{}};
  EXPECT_EQ(
      build_response(a),
      crlf({"HTTP/1.0 200 OK", "Date: Wed, 26 Dec 2007 19:50:26 GMT", "Server: Grove-Relay/1.0",
            "Connection: close", "Content-Type: application/octet-stream", "Content-Length: 66",
            "Pragma: no-cache", "Cache-Control: no-cache", "X-Grove-Poll-Min: 250",
            "X-Grove-Poll-Max: 8000", "X-Grove-Poll-Repetitions: 4", ""}));
}

TEST(Messages, ErrorAnswers) {
  ResponseSpec r{400, "Wed, 26 Dec 2007 19:50:26 GMT", "Grove-Relay/1.0", false, 0, std::nullopt};
  EXPECT_EQ(build_response(r),
            crlf({"HTTP/1.0 400 Bad Request", "Date: Wed, 26 Dec 2007 19:50:26 GMT",
                  "Server: Grove-Relay/1.0", "Connection: close", "Content-Length: 0", ""}));
  r.status = 404;
  EXPECT_EQ(build_response(r).substr(0, 24), "HTTP/1.0 404 Not Found\r\n");
}

}  // namespace
}  // namespace grove::henc
