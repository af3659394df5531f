#include "tls/ktls.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

namespace ringgate::tls {

KtlsSupport probe_ktls() {
  KtlsSupport support;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    support.detail = std::string("socket: ") + std::strerror(errno);
    return support;
  }
  const int rc = setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls");
  const int err = errno;
  ::close(fd);
  if (rc == 0 || err == ENOTCONN) {
    support.available = true;
    support.detail = "TCP_ULP tls present";
    return support;
  }
  std::string ulps;
  std::ifstream in("/proc/sys/net/ipv4/tcp_available_ulp");
  std::getline(in, ulps);
  support.detail = std::string("TCP_ULP tls: ") + std::strerror(err) +
                   (err == ENOENT ? ", the kernel has no CONFIG_TLS" : "") +
                   "; available ULPs: " + (ulps.empty() ? "none" : ulps);
  return support;
}

}  // namespace ringgate::tls
