// groved.toml → relay::Options. Unknown keys are errors, so a typo never silently falls back
// to a default.
#pragma once

#include <string>

#include "relay/options.hpp"

namespace grove::relay {

// Throws std::runtime_error naming the file, line and key on any problem.
Options load_config(const std::string& path, Options defaults);

// A complete groved.toml with every setting at its default, documented (`groved config`).
std::string default_config_text();

}  // namespace grove::relay
