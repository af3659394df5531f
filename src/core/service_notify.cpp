#include "core/service_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "files/errno_text.hpp"

namespace ringgate::core {
namespace {

std::string status_line(std::string_view text) {
  std::string line = "STATUS=";
  // One line per message: the protocol is newline-separated.
  for (char c : text) line += (c == '\n' ? ' ' : c);
  return line;
}

uint64_t monotonic_usec() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
}

}  // namespace

ServiceNotifier::ServiceNotifier(std::string& error) {
  const char* name = std::getenv("NOTIFY_SOCKET");
  if (name == nullptr || *name == '\0') return;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const size_t length = std::strlen(name);
  if ((name[0] != '/' && name[0] != '@') || length >= sizeof address.sun_path) {
    error = std::string("NOTIFY_SOCKET \"") + name +
            "\" is neither an absolute path nor an @abstract name that fits a socket address";
    return;
  }
  std::memcpy(address.sun_path, name, length);
  if (name[0] == '@') address.sun_path[0] = '\0';
  files::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length);
  if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), size) != 0) {
    error = std::string("NOTIFY_SOCKET ") + name + ": " + files::errno_text(errno);
    return;
  }
  socket_ = std::move(fd);
}

void ServiceNotifier::ready(std::string_view status) { send("READY=1\n" + status_line(status)); }

void ServiceNotifier::reloading(std::string_view status) {
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) + "\n" +
       status_line(status));
}

void ServiceNotifier::stopping(std::string_view status) {
  send("STOPPING=1\n" + status_line(status));
}

void ServiceNotifier::status(std::string_view status) { send(status_line(status)); }

void ServiceNotifier::send(const std::string& message) {
  if (!enabled()) return;
  // A service manager that went away is no reason to stop serving.
  (void)::send(socket_.get(), message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace ringgate::core
