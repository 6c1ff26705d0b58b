#include "henc/errc.hpp"

#include <string>

namespace grove::henc {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "grove.henc"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::ok:
        return "success";
      case errc::malformed_head:
        return "malformed HTTP head";
      case errc::head_too_large:
        return "HTTP head longer than 8192 bytes";
      case errc::bad_version:
        return "not an HTTP/1.x message";
      case errc::transfer_encoding:
        return "Transfer-Encoding is not allowed in an HTTP encapsulation";
      case errc::bad_content_length:
        return "missing, malformed or too large Content-Length";
      case errc::truncated_body:
        return "connection closed inside an HTTP body";
      case errc::bad_uri:
        return "request target does not parse";
      case errc::bad_encapsulation_version:
        return "encapsulation version is not 2.0";
      case errc::bad_conn_type:
        return "unknown or missing ConnType";
      case errc::bad_server_name:
        return "Relay-Server-Name is not one of the relay's names";
      case errc::bad_guid:
        return "malformed Virtual-Connection-GUID";
      case errc::unknown_guid:
        return "unknown Virtual-Connection-GUID";
      case errc::duplicate_session:
        return "session already recorded for this Virtual-Connection-GUID";
      case errc::bad_echo:
        return "Encapsulation-Echo-String mismatch";
      case errc::bad_prefix:
        return "malformed Polling virtual-connection prefix";
      case errc::bad_polling_version:
        return "Polling encapsulation version is not 1.2";
      case errc::bad_sequence:
        return "unexpected Polling sequence number";
      case errc::bad_checksum:
        return "Polling checksum mismatch";
      case errc::missing_data:
        return "Polling message without the required data";
      case errc::unexpected_data:
        return "Polling probe carries data or nonzero fields";
      case errc::budget_exceeded:
        return "more LongLived bytes than the ContentLength budget";
      case errc::unexpected_bytes:
        return "bytes where no answer was expected";
      case errc::relay_rejected_version:
        return "relay rejected encapsulation version";
      case errc::http_status:
        return "unexpected HTTP status";
      case errc::not_found:
        return "relay answered 404 Not Found";
      case errc::establishment_timeout:
        return "virtual connection not established in time";
      case errc::response_timeout:
        return "no HTTP response in time";
      case errc::idle_timeout:
        return "virtual connection idle for too long";
      case errc::closed:
        return "connection closed";
      case errc::renew:
        return "LongLived byte budget reached; a new virtual connection is due";
    }
    return "unknown grove.henc error";
  }
};

}  // namespace

const std::error_category& henc_category() {
  static const Category c;
  return c;
}

}  // namespace grove::henc
