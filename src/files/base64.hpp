// Base64 (RFC 4648 §4, the standard alphabet) for every place bytes travel
// as text: an uploaded PFX in an admin request, keys and values in etcd's
// JSON gateway, the nonce and ciphertext of a sealed value, the key file.
#pragma once

#include <string>
#include <string_view>

namespace ringgate::files {

// Any bytes → base64 text, padded with '=' to a multiple of 4 characters.
std::string base64_encode(std::string_view bytes);

enum class Base64Form {
  // Exactly what base64_encode() writes: padded to a multiple of 4, no
  // whitespace. For machine-made text (etcd, sealed values, key files).
  kStrict,
  // What people paste: ASCII whitespace anywhere (line-wrapped output) is
  // skipped and the padding may be left out.
  kLenient,
};

// Decodes `text` into `out` (replaced; reserve it to keep one buffer). Both
// forms refuse a character outside the alphabet, data after '=', a final
// group of one character and non-zero spare bits, so every byte string has
// one strict spelling. On failure `out` is wiped and emptied: it may have
// held key bytes.
bool base64_decode(std::string_view text, std::string& out, Base64Form form = Base64Form::kStrict);

}  // namespace ringgate::files
