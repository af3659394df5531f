// Backends for integration tests: a real nginx with a generated config, and a
// scripted in-process TCP server for behaviours nginx cannot produce.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include "harness.hpp"

namespace ringgate::itest {

namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";
constexpr const char* kEchoModuleCandidates[] = {
    "/usr/lib/nginx/modules/ngx_http_echo_module.so",
    "/usr/share/nginx/modules/ngx_http_echo_module.so",
};

std::string echo_module_path() {
  for (const char* candidate : kEchoModuleCandidates) {
    struct stat st {};
    if (::stat(candidate, &st) == 0) return candidate;
  }
  return {};
}

bool current_test_failed() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return info != nullptr && ::testing::Test::HasFailure();
}

void dump_logs(Process& process) {
  std::cerr << "---- " << process.name() << " stderr ----\n"
            << tail(process.stderr_text()) << "\n---- " << process.name() << " stdout ----\n"
            << tail(process.stdout_text()) << "\n----\n";
}

// nginx's add_header lines for the X-Echo-* contract in harness.hpp.
std::string echo_headers() {
  static const std::pair<const char*, const char*> kEcho[] = {
      {"X-Echo-Method", "$request_method"},
      {"X-Echo-Uri", "$request_uri"},
      {"X-Echo-Host", "$http_host"},
      {"X-Echo-Xff", "$http_x_forwarded_for"},
      {"X-Echo-Xfp", "$http_x_forwarded_proto"},
      {"X-Echo-Xfh", "$http_x_forwarded_host"},
      {"X-Echo-Connection", "$connection"},
      {"X-Echo-Requests", "$connection_requests"},
      {"X-Echo-Hop", "$http_x_hop"},
      {"X-Echo-Te", "$http_transfer_encoding"},
      {"X-Echo-Cl", "$http_content_length"},
      {"X-Echo-Request-Id", "$http_x_request_id"},
  };
  std::string out;
  for (const auto& [name, value] : kEcho) {
    out += std::string("      add_header ") + name + " \"" + value + "\" always;\n";
  }
  return out;
}

std::string nginx_config(const std::string& dir, uint16_t port, const NginxOptions& o) {
  std::string c;
  c += "load_module " + echo_module_path() + ";\n";
  c += "daemon off;\nmaster_process off;\n";
  c += "pid " + dir + "/nginx.pid;\n";
  c += "error_log stderr warn;\n";
  c += "events { worker_connections 4096; }\n";
  c += "http {\n";
  c += "  access_log off;\n";
  for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    c += std::string("  ") + t + "_temp_path " + dir + "/tmp/" + t + ";\n";
  }
  c += "  default_type text/plain;\n";
  c += "  keepalive_requests " + std::to_string(o.keepalive_requests) + ";\n";
  c += "  keepalive_timeout " + std::to_string(o.keepalive_timeout_s) + "s;\n";
  c += "  server {\n";
  c += "    listen 127.0.0.1:" + std::to_string(port) + " backlog=4096;\n";
  c += "    location /api {\n" + echo_headers();
  c += "      return 200 \"method=$request_method uri=$request_uri host=$http_host"
       " xff=$http_x_forwarded_for\\n\";\n    }\n";
  c += "    location /body/ {\n" + echo_headers();
  c += "      client_max_body_size 64m;\n      client_body_buffer_size 2m;\n";
  c += "      echo_read_request_body;\n      echo_request_body;\n    }\n";
  c += "    location /slow/ {\n" + echo_headers();
  c += "      echo_sleep 1;\n      echo \"slow done\";\n    }\n";
  c += "    location /big/ {\n      alias " + dir + "/www/;\n    }\n";
  c += "  }\n}\n";
  return c;
}

// Waits until `port` accepts, failing early when `process` exits.
void wait_until_accepting(Process& process, uint16_t port, Millis timeout) {
  auto deadline = Clock::now() + timeout;
  while (!port_accepts(port)) {
    if (!process.running()) {
      throw std::runtime_error(process.name() + " exited before accepting on port " +
                               std::to_string(port) + "; stderr:\n" + tail(process.stderr_text()));
    }
    if (Clock::now() >= deadline) {
      throw std::runtime_error(process.name() + " did not accept on port " + std::to_string(port) +
                               " in time; stderr:\n" + tail(process.stderr_text()));
    }
    std::this_thread::sleep_for(Millis(10));
  }
}

// End of a chunked body that starts at `at`, or nullopt while incomplete (or
// when the chunk framing is invalid: such a body never completes).
std::optional<size_t> chunked_body_end(const std::string& b, size_t at) {
  for (;;) {
    size_t eol = b.find("\r\n", at);
    if (eol == std::string::npos) return std::nullopt;
    std::string size_text = b.substr(at, std::min(eol, b.find(';', at)) - at);
    if (size_text.empty() || size_text.size() > 15 ||
        !std::all_of(size_text.begin(), size_text.end(),
                     [](unsigned char ch) { return std::isxdigit(ch) != 0; })) {
      return std::nullopt;
    }
    size_t size = std::stoul(size_text, nullptr, 16);
    at = eol + 2;
    if (size == 0) {
      for (;;) {
        eol = b.find("\r\n", at);
        if (eol == std::string::npos) return std::nullopt;
        if (eol == at) return eol + 2;
        at = eol + 2;
      }
    }
    if (b.size() < at + size + 2) return std::nullopt;
    at += size + 2;
  }
}

// Value of header `name` in `head` (lower-case comparison), or "".
std::string head_value(const std::string& head, const std::string& name) {
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  size_t at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos) return {};
  at += name.size() + 3;
  size_t eol = lower.find("\r\n", at);
  std::string value = lower.substr(at, eol - at);
  value.erase(0, value.find_first_not_of(" \t"));
  return value;
}

}  // namespace

// ---------------------------------------------------------------------------
// NginxBackend

bool NginxBackend::available() { return is_executable(kNginx) && !echo_module_path().empty(); }

NginxBackend::NginxBackend(NginxOptions options) {
  if (!available()) throw std::runtime_error("nginx or its echo module is not installed");
  ::mkdir(dir_.file("tmp").c_str(), 0700);
  ::mkdir(dir_.file("www").c_str(), 0755);
  write_file(dir_.file("www/big.bin"), big_file());
  port_ = free_port();
  write_file(dir_.file("nginx.conf"), nginx_config(dir_.path(), port_, options));
  process_ =
      std::make_unique<Process>(std::vector<std::string>{kNginx, "-p", dir_.path(), "-c",
                                                         dir_.file("nginx.conf"), "-e", "stderr"},
                                dir_.path(), "nginx");
  wait_until_accepting(*process_, port_, Millis(10000));
}

NginxBackend::~NginxBackend() {
  if (current_test_failed()) dump_logs(*process_);
  process_->terminate(SIGTERM, Millis(3000));
}

const std::string& NginxBackend::big_file() {
  static const std::string contents = pattern_bytes(kBigFileSize, kBigFileSeed);
  return contents;
}

std::string NginxBackend::origin() const { return "http://127.0.0.1:" + std::to_string(port_); }

// ---------------------------------------------------------------------------
// ScriptedBackend

struct ScriptedBackend::Connection {
  int fd = -1;
  std::string buf;
  size_t requests = 0;        // complete requests on this connection
  bool head_counted = false;  // the head at the front of buf is already in requests_seen_
  bool open = true;
  std::vector<std::pair<Clock::time_point, std::string>> pending;  // delayed answers
};

ScriptedBackend::ScriptedBackend(Mode mode, Millis delay) : mode_(mode), delay_(delay) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 1024) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) {
    std::string error = std::string("ScriptedBackend listen: ") + std::strerror(errno);
    ::close(listen_fd_);
    throw std::runtime_error(error);
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
}

ScriptedBackend::~ScriptedBackend() {
  char byte = 'x';
  ssize_t ignored = ::write(wake_fds_[1], &byte, 1);
  (void)ignored;
  thread_.join();
  for (auto& c : conns_) {
    if (c->open) ::close(c->fd);
  }
  ::close(listen_fd_);
  ::close(wake_fds_[0]);
  ::close(wake_fds_[1]);
}

std::string ScriptedBackend::origin() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string ScriptedBackend::received() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return received_;
}

bool ScriptedBackend::wait_for_requests(size_t n, Millis timeout) const {
  auto deadline = Clock::now() + timeout;
  while (requests_seen_.load() < n) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Millis(5));
  }
  return true;
}

std::string ScriptedBackend::answer_body(std::string_view request_line) {
  return "scripted: " + std::string(request_line) + "\n";
}

void ScriptedBackend::run() {
  for (;;) {
    std::vector<pollfd> fds{{wake_fds_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    int timeout = -1;
    auto now = Clock::now();
    for (auto& c : conns_) {
      fds.push_back({c->fd, POLLIN, 0});
      for (auto& [due, line] : c->pending) {
        int left = static_cast<int>(
            std::max<long long>(0, std::chrono::duration_cast<Millis>(due - now).count()));
        timeout = timeout < 0 ? left : std::min(timeout, left);
      }
    }
    int ready = ::poll(fds.data(), fds.size(), timeout);
    if (ready < 0 && errno != EINTR) return;
    if (fds[0].revents != 0) return;
    if (fds[1].revents & POLLIN) {
      for (;;) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;
        connections_.fetch_add(1);
        if (mode_ == Mode::kCloseAtOnce) {
          ::close(fd);
          continue;
        }
        auto c = std::make_unique<Connection>();
        c->fd = fd;
        conns_.push_back(std::move(c));
      }
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (fds[i].revents != 0) on_readable(*conns_[i - 2]);
    }
    now = Clock::now();
    for (auto& c : conns_) {
      if (!c->open) continue;
      auto due_end = std::stable_partition(c->pending.begin(), c->pending.end(),
                                           [&](const auto& p) { return p.first <= now; });
      std::vector<std::string> lines;
      for (auto it = c->pending.begin(); it != due_end; ++it) lines.push_back(it->second);
      c->pending.erase(c->pending.begin(), due_end);
      for (const auto& line : lines) answer(*c, line);
    }
    conns_.erase(std::remove_if(conns_.begin(), conns_.end(),
                                [](const auto& c) {
                                  if (c->open) return false;
                                  ::close(c->fd);
                                  return true;
                                }),
                 conns_.end());
  }
}

void ScriptedBackend::on_readable(Connection& c) {
  char chunk[65536];
  for (;;) {
    ssize_t n = ::recv(c.fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        received_.append(chunk, static_cast<size_t>(n));
      }
      c.buf.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    c.open = false;  // EOF or error
    break;
  }
  if (c.open && !handle_requests(c)) c.open = false;
}

bool ScriptedBackend::handle_requests(Connection& c) {
  for (;;) {
    size_t head_end = c.buf.find("\r\n\r\n");
    if (head_end == std::string::npos) return true;
    if (!c.head_counted) {
      c.head_counted = true;
      requests_seen_.fetch_add(1);
    }
    std::string head = c.buf.substr(0, head_end + 2);
    std::string request_line = head.substr(0, head.find("\r\n"));
    size_t body_start = head_end + 4;
    size_t end = body_start;
    std::string te = head_value(head, "transfer-encoding");
    std::string cl = head_value(head, "content-length");
    if (te.find("chunked") != std::string::npos) {
      auto chunked_end = chunked_body_end(c.buf, body_start);
      if (!chunked_end) return true;
      end = *chunked_end;
    } else if (!cl.empty()) {
      size_t length = std::strtoul(cl.c_str(), nullptr, 10);
      if (c.buf.size() < body_start + length) return true;
      end = body_start + length;
    }
    c.buf.erase(0, end);
    c.head_counted = false;
    ++c.requests;
    switch (mode_) {
      case Mode::kAnswer:
        answer(c, request_line);
        break;
      case Mode::kNeverAnswer:
        break;
      case Mode::kCloseOnSecondRequest:
        if (c.requests > 1) {
          closed_on_reuse_.fetch_add(1);
          return false;
        }
        answer(c, request_line);
        break;
      case Mode::kAnswerAfterDelay:
        c.pending.emplace_back(Clock::now() + delay_, request_line);
        break;
      case Mode::kCloseAtOnce:
        return false;
    }
  }
}

void ScriptedBackend::answer(Connection& c, const std::string& request_line) {
  std::string body = answer_body(request_line);
  std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body;
  // Counted before sending: a client that has the answer must see the count.
  answered_.fetch_add(1);
  size_t done = 0;
  while (done < response.size()) {
    ssize_t n = ::send(c.fd, response.data() + done, response.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{c.fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
    } else {
      c.open = false;
      return;
    }
  }
}

}  // namespace ringgate::itest
