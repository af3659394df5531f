// An errno value as the text strerror gives, for error messages.
#pragma once

#include <string>
#include <system_error>

namespace ringgate::files {

inline std::string errno_text(int code) {
  return std::error_code(code, std::generic_category()).message();
}

}  // namespace ringgate::files
