// Pieces shared by the grove commands: exit codes, logging, secrets, signal handling.
#pragma once

#include <optional>
#include <string>

#include "auth/grove_auth.hpp"
#include "net/asio.hpp"

namespace grove::cli {

// Documented in `grove --help` and README.md.
enum ExitCode : int {
  kOk = 0,
  kFailure = 1,        // unexpected runtime failure
  kUsage = 2,          // bad command line or configuration
  kUnreachable = 3,    // could not connect (DNS, refused, timeout) or the connection broke
  kRefused = 4,        // the peer refused the handshake or authentication failed
  kUnconfirmed = 5,    // not every message was acknowledged
  kInterrupted = 130,  // SIGINT/SIGTERM before the work was done
};

// Logs go to stderr; 0 = warnings only (default), 1 = -v, 2 = -vv.
void setup_logging(int verbosity);

// Reads a secret file: 64 hex digits, surrounding white space ignored (auth.md §2.1).
// Warns when the file is readable by others (auth.md §2.2 wants mode 0600).
// Throws std::runtime_error with a message that says what to do.
auth::Secret load_secret_file(const std::string& path);

// A DeviceURL for this machine and user: grove://<host>/d/<user>.
std::string default_device_url();

// True for a syntactically valid URL in the sense of sstp.md §3.3.
bool valid_url(const std::string& url);

}  // namespace grove::cli
