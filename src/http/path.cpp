#include "http/path.hpp"

namespace ringgate::http {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 §2.3: escapes of these mean the same as the character itself.
bool is_unreserved(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Drops the last segment of `out`, which starts and ends with '/', keeping
// the '/' before it ("/a/b/" → "/a/"). False when `out` is "/": the path
// would climb above the root.
bool pop_segment(std::string& out) noexcept {
  if (out.size() <= 1) return false;
  size_t slash = out.size() - 2;
  while (out[slash] != '/') --slash;
  out.resize(slash + 1);
  return true;
}

}  // namespace

const char* describe(PathError error) noexcept {
  switch (error) {
    case PathError::kNone:
      return "ok";
    case PathError::kNotOriginForm:
      return "request-target is not a path starting with '/'";
    case PathError::kClimbsAboveRoot:
      return "path climbs above '/' with '..'";
    case PathError::kEncodedSeparator:
      return "path holds an encoded '/' or '\\' (%2F, %5C)";
    case PathError::kBackslash:
      return "path holds a '\\'";
    case PathError::kNulByte:
      return "path holds a NUL byte (%00)";
    case PathError::kBadPercentEncoding:
      return "path holds a '%' not followed by two hex digits";
    case PathError::kFragment:
      return "request-target holds a fragment ('#')";
  }
  return "invalid path";
}

PathError normalize_target(std::string_view target, std::string& out) noexcept {
  out.clear();
  if (target.empty() || target.front() != '/') return PathError::kNotOriginForm;
  const size_t query_at = target.find('?');
  const std::string_view path = target.substr(0, query_at);
  const size_t n = path.size();

  // One pass over the segments. Each one is decoded into `out` and then
  // looked at whole: "." is dropped, ".." drops the segment before it.
  // Decoding first is what makes "%2e%2e" and ".%2E" count as "..".
  out.push_back('/');
  size_t i = 1;
  for (;;) {
    while (i < n && path[i] == '/') ++i;  // "//" counts as one '/'
    if (i >= n) break;
    const size_t segment_start = out.size();
    for (; i < n && path[i] != '/'; ++i) {
      const char c = path[i];
      if (c == '\\') return PathError::kBackslash;
      if (c == '\0') return PathError::kNulByte;
      if (c == '#') return PathError::kFragment;
      if (c != '%') {
        out.push_back(c);
        continue;
      }
      if (i + 2 >= n) return PathError::kBadPercentEncoding;
      const int hi = hex_value(path[i + 1]);
      const int lo = hex_value(path[i + 2]);
      if (hi < 0 || lo < 0) return PathError::kBadPercentEncoding;
      const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
      if (decoded == '/' || decoded == '\\') return PathError::kEncodedSeparator;
      if (decoded == 0) return PathError::kNulByte;
      if (is_unreserved(decoded)) {
        out.push_back(static_cast<char>(decoded));
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        out.push_back('%');
        out.push_back(kHex[hi]);
        out.push_back(kHex[lo]);
      }
      i += 2;
    }
    const std::string_view segment(out.data() + segment_start, out.size() - segment_start);
    if (segment == ".") {
      out.resize(segment_start);
    } else if (segment == "..") {
      out.resize(segment_start);
      if (!pop_segment(out)) return PathError::kClimbsAboveRoot;
    } else if (i < n) {
      out.push_back('/');
    }
  }
  if (query_at != std::string_view::npos) {
    const std::string_view query = target.substr(query_at);
    if (query.find('#') != std::string_view::npos) return PathError::kFragment;
    out.append(query);
  }
  return PathError::kNone;
}

}  // namespace ringgate::http
