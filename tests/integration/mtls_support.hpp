// What the backend mTLS tests (mtls_test.cpp, mtls_validation_test.cpp) share.
#pragma once

#include <cstdint>
#include <map>
#include <regex>
#include <string>

#include "harness.hpp"

namespace ringgate::itest {

// The backend entity that trusts our CA, both validations on.
inline BackendEntity trusting_backend(const std::string& origin) {
  return {"be", origin, true, true, pki().ca.cert_pem};
}

// A case-insensitive pattern for wait_for_log (OpenSSL's wording varies).
inline std::regex icase(const char* pattern) { return std::regex(pattern, std::regex::icase); }

inline const std::map<std::string, uint64_t> kPool = {
    {"minIdle", 2}, {"maxPerKey", 64}, {"idleTimeoutMs", 60000}};

}  // namespace ringgate::itest
