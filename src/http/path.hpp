// Request-target normalisation before routing (DESIGN §4.3, RFC 3986 §5.2.4
// and §6.2.2): what is routed and forwarded is the normalised path, so a
// request can never reach a backend path outside its API's serviceUrl base.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringgate::http {

enum class PathError : uint8_t {
  kNone,
  kNotOriginForm,       // does not start with '/'
  kClimbsAboveRoot,     // a ".." segment with nothing left to remove
  kEncodedSeparator,    // %2F or %5C: a backend may decode it into a separator
  kBackslash,           // a raw '\', which some backends treat as '/'
  kNulByte,             // %00 (or a raw NUL)
  kBadPercentEncoding,  // '%' not followed by two hex digits
  kFragment,            // '#' has no place in a request-target
};

// A sentence for logs and error bodies; never null.
const char* describe(PathError error) noexcept;

// Normalises an origin-form request-target ("/path?query") into `out`
// (cleared first): percent-encoded unreserved characters are decoded
// ("%7e" → "~", "%2e" → "."), other escapes keep their bytes with upper-case
// hex, runs of '/' become one (as nginx's merge_slashes), and "." and ".."
// segments are resolved. The query is copied as it is. Returns kNone on
// success; on any other result `out` holds nothing useful and the request
// must be answered 400. Idempotent: normalising `out` again gives `out`.
// Allocation-free when `out` has the capacity already.
PathError normalize_target(std::string_view target, std::string& out) noexcept;

}  // namespace ringgate::http
