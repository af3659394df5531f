// The identity of a backend connection pool. A pooled connection is only ever
// used for the key it was opened with: same origin, same SNI, same server
// validation profile and same client certificate.
#pragma once

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

}  // namespace ringgate
