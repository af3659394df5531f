// The identity of a backend connection pool. A pooled connection is only ever
// used for the key it was opened with: same origin, same SNI, same server
// validation profile and same client certificate.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace ringgate {

struct PoolKey {
  std::string origin;              // "http://127.0.0.1:9100" / "https://host:9443"
  std::string sni;                 // server name sent in the TLS ClientHello; empty for plain TCP
  std::string validation_profile;  // e.g. "chain+name", "none", "chain+name;ca=<sha256>"
  std::string thumbprint;          // client certificate thumbprint; empty = none

  bool operator==(const PoolKey&) const = default;
  // Canonical single-string form, also used as the metrics label.
  std::string to_string() const {
    std::string out = origin;
    if (!sni.empty()) out += " sni=" + sni;
    if (!validation_profile.empty()) out += " verify=" + validation_profile;
    if (!thumbprint.empty()) out += " cert=" + thumbprint;
    return out;
  }
};

struct PoolKeyHash {
  size_t operator()(const PoolKey& key) const noexcept {
    std::hash<std::string> h;
    size_t seed = h(key.origin);
    for (const std::string* part : {&key.sni, &key.validation_profile, &key.thumbprint}) {
      seed ^= h(*part) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
    }
    return seed;
  }
};

}  // namespace ringgate
