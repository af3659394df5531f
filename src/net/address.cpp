#include "net/address.hpp"

#include <netdb.h>

#include <cstring>

namespace ringgate::net {

bool resolve_address(const std::string& host, uint16_t port, bool numeric_only,
                     ResolvedAddress& out, std::string& error) {
  std::string bare = host == "localhost" ? "127.0.0.1" : host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (numeric_only ? AI_NUMERICHOST : 0);
  addrinfo* result = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(bare.c_str(), service.c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    error = "cannot resolve \"" + host + "\": " + gai_strerror(rc);
    return false;
  }
  std::memcpy(&out.storage, result->ai_addr, result->ai_addrlen);
  out.length = result->ai_addrlen;
  freeaddrinfo(result);
  return true;
}

}  // namespace ringgate::net
