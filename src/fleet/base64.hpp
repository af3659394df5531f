// Standard base64 (RFC 4648 §4, with '=' padding), the encoding etcd's JSON
// gateway uses for every key and value.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ringgate::fleet {

// Any bytes → base64 text, padded to a multiple of 4 characters.
std::string base64_encode(std::string_view bytes);

// Base64 text → the bytes, or nullopt when `text` is not base64: a character
// outside the alphabet, a length that is not a multiple of 4, or padding
// anywhere but at the end. "" decodes to "".
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ringgate::fleet
