// sstp.md §3.3: a syntactically valid URL is 1..1024 bytes of 0x21-0x7E starting with a scheme
// ([A-Za-z][A-Za-z0-9+.-]*:). Used by the relay's receiver checks and by the command-line tools.
#pragma once

#include <string_view>

namespace grove::sstp {

[[nodiscard]] bool is_valid_url(std::string_view url);

}  // namespace grove::sstp
