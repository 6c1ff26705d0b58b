#include "henc/messages.hpp"

namespace grove::henc {

std::string build_request(const RequestSpec& r) {
  std::string s = r.method + " " + r.target + " HTTP/1.0\r\n";
  s += "Accept: */*\r\n";
  s += "Content-Type: application/octet-stream\r\n";
  s += "User-Agent: " + r.user_agent + "\r\n";
  s += "Host: " + r.host + "\r\n";
  if (r.connection_keep_alive) s += "Connection: Keep-Alive\r\n";
  if (r.proxy_keep_alive) s += "Proxy-Connection: Keep-Alive\r\n";
  if (r.content_length) s += "Content-Length: " + std::to_string(*r.content_length) + "\r\n";
  s += "Pragma: no-cache\r\n";
  s += "Cache-Control: no-cache\r\n";
  s += "Expires: 0\r\n";
  s += "Cache-Control: max-age=0\r\n";
  if (!r.authorization_header.empty())
    s += r.authorization_header + ": " + r.authorization + "\r\n";
  s += "\r\n";
  return s;
}

std::string build_response(const ResponseSpec& r) {
  std::string s;
  switch (r.status) {
    case 200:
      s = "HTTP/1.0 200 OK\r\n";
      break;
    case 400:
      s = "HTTP/1.0 400 Bad Request\r\n";
      break;
    default:
      s = "HTTP/1.0 404 Not Found\r\n";
      break;
  }
  s += "Date: " + r.date + "\r\n";
  s += "Server: " + r.server + "\r\n";
  s += r.keep_alive ? "Connection: Keep-Alive\r\n" : "Connection: close\r\n";
  if (r.status != 200) {
    // §2.4: error answers carry no Content-Type, Pragma or Cache-Control.
    s += "Content-Length: 0\r\n\r\n";
    return s;
  }
  s += "Content-Type: application/octet-stream\r\n";
  s += "Content-Length: " + std::to_string(r.content_length) + "\r\n";
  s += "Pragma: no-cache\r\n";
  s += "Cache-Control: no-cache\r\n";
  if (r.poll) {
    s += "X-Grove-Poll-Min: " + std::to_string(r.poll->min_ms) + "\r\n";
    s += "X-Grove-Poll-Max: " + std::to_string(r.poll->max_ms) + "\r\n";
    s += "X-Grove-Poll-Repetitions: " + std::to_string(r.poll->repetitions) + "\r\n";
  }
  s += "\r\n";
  return s;
}

}  // namespace grove::henc
