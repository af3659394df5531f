// The one rule for the ids of certificates, backends and APIs, wherever they
// come from (config file, admin API, state directory):
// [A-Za-z0-9][A-Za-z0-9._-]{0,79} — safe in URLs, file names and metric
// labels, and never "." or "..".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ringgate {

inline constexpr size_t kMaxResourceIdLength = 80;

constexpr bool is_valid_resource_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxResourceIdLength) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

// Why is_valid_resource_id() refuses `id`: `invalid id "a b": expected 1 to
// 80 characters …`.
inline std::string invalid_resource_id_message(std::string_view id) {
  std::string out = "invalid id \"";
  out.append(id);
  out += "\": expected 1 to 80 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit";
  return out;
}

}  // namespace ringgate
