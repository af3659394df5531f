#include "net/listener.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/address.hpp"

namespace ringgate::net {

int open_listener(const config::SocketAddress& address, std::string& error, PortSharing sharing) {
  ResolvedAddress resolved;
  if (!resolve_address(address.host, address.port, /*numeric_only=*/true, resolved, error)) {
    error = "listener " + address.to_string() + ": " + error;
    return -1;
  }
  const sockaddr_storage& addr = resolved.storage;
  const socklen_t len = resolved.length;
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "listener " + address.to_string() + ": socket: " + std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (sharing == PortSharing::kShared) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0 || ::listen(fd, 4096) != 0) {
    const int code = errno;
    error = "listener " + address.to_string() + ": " + std::strerror(code);
    if (code == EACCES && address.port < 1024) {
      error += " (a port below 1024 needs root or CAP_NET_BIND_SERVICE)";
    }
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t bound_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

AcceptErrorAction accept_error_action(int error) noexcept {
  switch (-error) {
    case ECONNABORTED:
    case EINTR:
    case EAGAIN:
    case EPROTO:
    case EPERM:  // a firewall rule refused this one connection
      return AcceptErrorAction::kRepost;
    case ECANCELED:
    case EBADF:
    case EINVAL:  // shut down: the worker is draining or the listener left
    case ENOTSOCK:
      return AcceptErrorAction::kStop;
    default:  // EMFILE, ENFILE, ENOBUFS, ENOMEM, and anything unforeseen
      return AcceptErrorAction::kPause;
  }
}

bool ListenerSockets::prepare(const std::vector<config::Listener>& listeners,
                              std::vector<std::vector<int>>& fds, std::string& error) {
  fds.assign(listeners.size(), {});
  std::vector<std::string> opened;
  for (size_t i = 0; i < listeners.size(); ++i) {
    const std::string key = listeners[i].address.to_string();
    auto it = open_.find(key);
    if (it == open_.end()) {
      config::SocketAddress address = listeners[i].address;
      std::vector<int> sockets;
      for (uint32_t w = 0; w < workers_; ++w) {
        const int fd = open_listener(address, error);
        if (fd < 0) {
          for (int opened_fd : sockets) ::close(opened_fd);
          for (const std::string& k : opened) {
            for (int opened_fd : open_[k]) ::close(opened_fd);
            open_.erase(k);
          }
          return false;
        }
        if (address.port == 0) address.port = bound_port(fd);
        sockets.push_back(fd);
      }
      it = open_.emplace(key, std::move(sockets)).first;
      opened.push_back(key);
    }
    fds[i] = it->second;
  }
  return true;
}

std::vector<std::string> ListenerSockets::retain_only(
    const std::vector<config::Listener>& listeners) {
  std::vector<std::string> dropped;
  for (auto it = open_.begin(); it != open_.end();) {
    bool kept = false;
    for (const config::Listener& l : listeners) kept = kept || l.address.to_string() == it->first;
    if (kept) {
      ++it;
    } else {
      dropped.push_back(it->first);
      it = open_.erase(it);
    }
  }
  return dropped;
}

uint16_t ListenerSockets::port_of(const config::Listener& listener) const {
  auto it = open_.find(listener.address.to_string());
  if (it == open_.end() || it->second.empty()) return 0;
  return bound_port(it->second.front());
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1" || host == "[::1]";
}

}  // namespace ringgate::net
