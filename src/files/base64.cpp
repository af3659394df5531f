#include "files/base64.hpp"

#include <string.h>

#include <array>
#include <cstdint>

namespace ringgate::files {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = kInvalid;
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

constexpr std::array<int8_t, 256> kDecode = make_decode_table();

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool fail(std::string& out) {
  explicit_bzero(out.data(), out.size());
  out.clear();
  return false;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t group = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                           static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                           static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[group >> shift & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t group = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) group |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += kAlphabet[group >> 18 & 63];
    out += kAlphabet[group >> 12 & 63];
    out += rest == 2 ? kAlphabet[group >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view text, std::string& out, Base64Form form) {
  out.clear();
  const bool strict = form == Base64Form::kStrict;
  if (strict && text.size() % 4 != 0) return false;
  uint32_t bits = 0;
  int count = 0;  // sextets in `bits`
  size_t padding = 0;
  for (unsigned char c : text) {
    if (!strict && is_space(c)) continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    const int8_t value = kDecode[c];
    if (value == kInvalid || padding > 0) return fail(out);  // a stray byte, or data after '='
    bits = bits << 6 | static_cast<uint32_t>(value);
    if (++count == 4) {
      out.push_back(static_cast<char>(bits >> 16 & 0xff));
      out.push_back(static_cast<char>(bits >> 8 & 0xff));
      out.push_back(static_cast<char>(bits & 0xff));
      bits = 0;
      count = 0;
    }
  }
  // A final group of 2 or 3 sextets carries 1 or 2 bytes; its spare bits
  // must be zero, and padding, when present (always, when strict), must
  // complete it.
  if (count == 1) return fail(out);
  if ((padding > 0 || strict) && count + padding != (count == 0 ? 0 : 4)) return fail(out);
  if (count == 2) {
    if (bits & 0xf) return fail(out);
    out.push_back(static_cast<char>(bits >> 4 & 0xff));
  } else if (count == 3) {
    if (bits & 0x3) return fail(out);
    out.push_back(static_cast<char>(bits >> 10 & 0xff));
    out.push_back(static_cast<char>(bits >> 2 & 0xff));
  }
  bits = 0;
  return true;
}

}  // namespace ringgate::files
