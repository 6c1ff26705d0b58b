#include "cli/common.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "sstp/url.hpp"

namespace grove::cli {

void setup_logging(int verbosity) {
  auto logger = spdlog::stderr_color_mt("grove");
  logger->set_pattern("%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(verbosity >= 2   ? spdlog::level::debug
                    : verbosity == 1 ? spdlog::level::info
                                     : spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

auth::Secret load_secret_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read secret file " + path + ": does it exist?");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  auto first = text.find_first_not_of(" \t\r\n");
  auto last = text.find_last_not_of(" \t\r\n");
  text = first == std::string::npos ? "" : text.substr(first, last - first + 1);
  auto secret = auth::parse_secret_hex(text);
  if (!secret)
    throw std::runtime_error("secret file " + path +
                             " must hold exactly 64 hex digits (make one with `grove keygen`)");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077))
    spdlog::warn("secret file {} is readable by other users; run: chmod 600 {}", path, path);
  return *secret;
}

std::string default_device_url() {
  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  const char* user = ::getenv("USER");
  return std::string("grove://") + host + "/d/" + (user && *user ? user : "grove");
}

bool valid_url(const std::string& url) { return sstp::is_valid_url(url); }

}  // namespace grove::cli
