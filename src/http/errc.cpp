#include "http/errc.hpp"

#include <string>

namespace grove::http {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "grove.http"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::ok:
        return "success";
      case errc::malformed_head:
        return "malformed HTTP head";
      case errc::head_too_large:
        return "HTTP head longer than its limit";
      case errc::too_many_headers:
        return "more HTTP header lines than the limit";
      case errc::bad_version:
        return "not an HTTP/1.x message";
    }
    return "unknown grove.http error";
  }
};

}  // namespace

const std::error_category& http_category() {
  static const Category c;
  return c;
}

}  // namespace grove::http
