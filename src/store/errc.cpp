// The "grove.store" error category (store.hpp).
#include <string>

#include "store/store.hpp"

namespace grove::store {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "grove.store"; }

  // One sentence per value, for the log line; Store::last_error() adds the backend's cause.
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::ok:
        return "success";
      case errc::exists:
        return "the device, identity or registration is already in the store";
      case errc::not_found:
        return "no such device, identity or message in the store";
      case errc::io_error:
        return "the store's database failed (I/O error, full disk, or locked too long)";
      case errc::corrupt:
        return "the store file is not a Grove store or is damaged";
      case errc::too_new:
        return "the store was written by a newer Grove (schema version above this build's)";
      case errc::closed:
        return "the store is closed";
    }
    return "unknown grove.store error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& store_category() {
  static const Category category;
  return category;
}

}  // namespace grove::store
