// Kernel TLS detection. The record layer moves into the kernel only where
// the kernel has CONFIG_TLS; everywhere else connections stay on userspace
// TLS. Detection is a one-off probe at start.
#pragma once

#include <string>

namespace ringgate::tls {

struct KtlsSupport {
  bool available = false;
  std::string detail;  // why not, or what was found
};

// Probes TCP_ULP "tls" on a fresh socket: ENOENT means the kernel has no TLS
// module; ENOTCONN means it has one (the socket just isn't connected).
KtlsSupport probe_ktls();

}  // namespace ringgate::tls
