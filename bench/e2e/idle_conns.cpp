// idle_conns: opens N client connections to an HTTP server, makes one keep-alive
// request on each (so the server holds the state of a real, used, idle client
// connection), then leaves them all idle until told to stop. The bench harness
// (bench/e2e/run, scenario S6) reads the proxy's RSS while they are held and
// divides the growth by N.
//
//   idle_conns HOST PORT COUNT PATH HOLD_SECONDS
//
// Prints one line once every connection is set up:
//   opened=<connected> ok=<2xx responses> failed=<connect/request failures> ms=<setup time>
// then holds them until SIGTERM/SIGINT or HOLD_SECONDS pass, and prints
//   still_open=<connections the server had not closed> closed=<closed by the server>
// before exiting 0. Exits 2 on bad arguments. Blocking I/O, one connection at a
// time: simple and deterministic, and 10 000 round trips on loopback take ~1 s.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string host;
  uint16_t port = 0;
  unsigned count = 0;
  std::string path;
  unsigned hold_seconds = 0;
};

bool parse_options(int argc, char** argv, Options& options) {
  if (argc != 6) return false;
  options.host = argv[1];
  const long port = std::strtol(argv[2], nullptr, 10);
  const long count = std::strtol(argv[3], nullptr, 10);
  const long hold = std::strtol(argv[5], nullptr, 10);
  if (port <= 0 || port > 65535 || count <= 0 || hold <= 0) return false;
  options.port = static_cast<uint16_t>(port);
  options.count = static_cast<unsigned>(count);
  options.path = argv[4];
  options.hold_seconds = static_cast<unsigned>(hold);
  return true;
}

// Lifts the soft descriptor limit to the hard one: COUNT sockets need COUNT fds.
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Reads one HTTP response with a Content-Length body from `fd`. Returns the
// status code, or -1 on a read error, EOF or a response it cannot frame.
int read_response(int fd) {
  std::string data;
  char buffer[16384];
  size_t head_end = std::string::npos;
  size_t total = 0;
  while (true) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    data.append(buffer, static_cast<size_t>(n));
    if (head_end == std::string::npos) {
      head_end = data.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      // Header names are case-insensitive; a lower-cased copy finds the length.
      std::string head = data.substr(0, head_end);
      for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const size_t at = head.find("\r\ncontent-length:");
      if (at == std::string::npos) return -1;
      total = head_end + 4 + std::strtoul(head.c_str() + at + 17, nullptr, 10);
    }
    if (data.size() >= total) break;
  }
  if (data.size() < 12 || data.compare(0, 5, "HTTP/") != 0) return -1;
  return std::atoi(data.c_str() + 9);
}

// Connects, sends one GET and reads its response. Returns the connected fd
// (with `status` set; -1 when the request failed) or -1 when connect failed.
int open_one(const sockaddr_in& address, const std::string& request, int& status) {
  status = -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(request.size())) {
    status = read_response(fd);
  }
  return fd;
}

// True when the peer has not closed `fd`: nothing readable, or data pending.
bool still_open(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) == 0) return true;
  if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return false;
  char byte;
  return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    std::fprintf(stderr, "usage: idle_conns HOST PORT COUNT PATH HOLD_SECONDS\n");
    return 2;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(options.port);
  if (inet_pton(AF_INET, options.host.c_str(), &address.sin_addr) != 1) {
    std::fprintf(stderr, "idle_conns: %s is not an IPv4 address\n", options.host.c_str());
    return 2;
  }
  raise_fd_limit();
  // Block the stop signals first so sigtimedwait below receives them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, nullptr);

  const std::string request =
      "GET " + options.path + " HTTP/1.1\r\nHost: " + options.host + "\r\n\r\n";
  std::vector<int> fds;
  fds.reserve(options.count);
  unsigned ok = 0;
  unsigned failed = 0;
  const auto started = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < options.count; ++i) {
    int status = -1;
    const int fd = open_one(address, request, status);
    if (fd < 0) {
      ++failed;
      continue;
    }
    fds.push_back(fd);
    if (status >= 200 && status < 300) {
      ++ok;
    } else {
      ++failed;
    }
  }
  const auto setup_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
  std::printf("opened=%zu ok=%u failed=%u ms=%lld\n", fds.size(), ok, failed,
              static_cast<long long>(setup_ms));
  std::fflush(stdout);

  timespec hold{static_cast<time_t>(options.hold_seconds), 0};
  sigtimedwait(&stop, nullptr, &hold);

  unsigned open = 0;
  for (int fd : fds) open += still_open(fd) ? 1 : 0;
  std::printf("still_open=%u closed=%zu\n", open, fds.size() - open);
  std::fflush(stdout);
  for (int fd : fds) ::close(fd);
  return 0;
}
