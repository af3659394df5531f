// Integration-test harness, base part: utilities, temp dirs, processes, raw
// HTTP clients and plain backends (nginx, a scripted server), on 127.0.0.1 with
// ports handed out by the kernel (port 0), never fixed.
//
// Every type here owns what it starts: a Process is killed (SIGKILL, by its PID)
// when it goes out of scope, a TempDir is removed, a ScriptedBackend's thread is
// joined. Failures to start throw std::runtime_error, which gtest reports as a
// test failure with the message.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ringgate::itest {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// ---------------------------------------------------------------------------
// Small utilities

// A port on 127.0.0.1 that the kernel just handed out: binds port 0, reads the
// port back, closes. Another process could take it before the caller binds it;
// the ephemeral range makes that unlikely enough for tests.
uint16_t free_port();

// True when something accepts a TCP connection on 127.0.0.1:port right now.
bool port_accepts(uint16_t port);

// Whole file as bytes; empty when it cannot be read.
std::string read_file(const std::string& path);

// Writes (truncates) `path` with `data` and the given mode; throws on failure.
void write_file(const std::string& path, std::string_view data, unsigned mode = 0644);

// The ports ringgate's start-up log names: the first listener's and the admin
// API's (0 while the line is missing).
struct LoggedPorts {
  uint16_t listener = 0;
  uint16_t admin = 0;
};
LoggedPorts logged_ports(const std::string& log);

// The fields of /proc/PID/task/TID/status ("Name", "Uid", "CapEff",
// "Cpus_allowed_list", …; values without the leading blanks), one map per
// thread of `pid`; empty when the process is gone.
using ThreadStatus = std::map<std::string, std::string>;
std::vector<ThreadStatus> thread_status(pid_t pid);

// True when `path` names an executable file.
bool is_executable(const std::string& path);

// $RINGGATE_BIN (set by meson's test_env); throws when unset.
std::string ringgate_binary();

// $RINGGATE_SOURCE_ROOT, or "" when unset.
std::string source_root();

// `n` deterministic pseudo-random bytes for `seed`: bodies whose every byte is
// checked on arrival (a shifted or dropped byte shows up).
std::string pattern_bytes(size_t n, uint32_t seed);

// The last `max` bytes of `text`, for failure messages.
std::string tail(const std::string& text, size_t max = 4096);

// Milliseconds elapsed since `start`.
long long elapsed_ms(Clock::time_point start);

// Polls `condition` every `step` until it holds (true) or `timeout` passes (false).
template <typename Condition>
bool eventually(Condition condition, Millis timeout, Millis step = Millis(50)) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

// ---------------------------------------------------------------------------
// TempDir: a fresh directory from mkdtemp under $TMPDIR (or /tmp), removed
// recursively on destruction unless RINGGATE_ITEST_KEEP=1 (for debugging).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------
// Process: fork/exec of argv[0] (an absolute path or one found on PATH) with the
// current environment plus `extra_env` ("NAME=value", overriding). stdin is
// /dev/null; stdout and stderr go to <log_dir>/<name>.stdout and .stderr. The
// child gets SIGKILL if the test process dies (PR_SET_PDEATHSIG), so a crashed
// or timed-out test leaves nothing behind.
class Process {
 public:
  Process(std::vector<std::string> argv, const std::string& log_dir, const std::string& name,
          std::vector<std::string> extra_env = {});
  // Kills the child with SIGKILL (by its PID) if it is still running, and reaps it.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }

  // True until the child has exited (reaps it when it has).
  bool running();

  // Sends `sig` to the child's PID if it has not been reaped yet.
  void stop(int sig = SIGTERM);

  // Waits up to `timeout` for the child to exit. Returns its exit code, or
  // 128 + signal number when a signal ended it; nullopt on timeout.
  std::optional<int> wait_exit(Millis timeout);

  // stop(sig), wait up to `grace`, then SIGKILL. Returns the exit code as wait_exit.
  std::optional<int> terminate(int sig = SIGTERM, Millis grace = Millis(3000));

  std::string stdout_text() const { return read_file(stdout_path_); }
  std::string stderr_text() const { return read_file(stderr_path_); }
  const std::string& stdout_path() const { return stdout_path_; }
  const std::string& stderr_path() const { return stderr_path_; }

  // Resident set size in KiB from /proc/PID/status (VmRSS); -1 when unavailable.
  long rss_kib() const;
  // utime + stime in clock ticks from /proc/PID/stat; -1 when unavailable.
  long long cpu_ticks() const;

 private:
  bool reap(int options);

  std::string name_;
  std::string stdout_path_;
  std::string stderr_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// Result of running a command to completion.
struct CommandResult {
  std::optional<int> exit_code;  // nullopt: killed after the timeout
  std::string out;
  std::string err;
};

// Runs argv to completion (killing it after `timeout`) and captures its output.
CommandResult run_command(const std::vector<std::string>& argv, Millis timeout = Millis(30000),
                          const std::vector<std::string>& extra_env = {});

// Runs /usr/bin/curl -sS with `args`.
CommandResult curl(const std::vector<std::string>& args, Millis timeout = Millis(30000));

// ---------------------------------------------------------------------------
// wrk output, as its summary prints it.
struct WrkSummary {
  bool parsed = false;  // the "N requests in" line was found
  uint64_t requests = 0;
  uint64_t non_2xx_3xx = 0;     // "Non-2xx or 3xx responses: N" (0 when absent)
  uint64_t connect_errors = 0;  // "Socket errors: connect A, read B, write C, timeout D"
  uint64_t read_errors = 0;
  uint64_t write_errors = 0;
  uint64_t timeouts = 0;
  double requests_per_sec = 0;
};
WrkSummary parse_wrk_output(const std::string& text);

// ---------------------------------------------------------------------------
// Raw HTTP/1.1 client for exact bytes on the wire.

struct HttpResponse {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, as received
  std::string body;                                          // de-chunked
  bool chunked = false;

  // First value of the header `name` (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
  size_t header_count(std::string_view name) const;
};

struct RawClientOptions {
  // SO_RCVBUF before connect; 0 keeps the kernel default (which autotunes up to
  // tcp_rmem's maximum). A small value makes the client a slow reader whose
  // kernel buffer cannot absorb a large response.
  int receive_buffer = 0;
  Millis connect_timeout = Millis(3000);
};

class RawClient {
 public:
  // Connects to 127.0.0.1:port; throws std::runtime_error when that fails.
  explicit RawClient(uint16_t port, RawClientOptions options = {});
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Sends every byte (within `timeout`). Returns false when the peer closed or
  // reset the connection, or on timeout; error() says which.
  bool send(std::string_view bytes, Millis timeout = Millis(10000));

  // Reads one response (a 1xx one included). `head_request`: no body follows.
  // nullopt on timeout or when the connection ended first; error() says which.
  std::optional<HttpResponse> read_response(Millis timeout = Millis(10000),
                                            bool head_request = false);

  // As read_response, but skips interim 1xx responses.
  std::optional<HttpResponse> read_final_response(Millis timeout = Millis(10000),
                                                  bool head_request = false);

  // Waits until the peer closes (EOF or reset). Bytes that arrive meanwhile are
  // kept in unread(). True when closed within `timeout`.
  bool wait_closed(Millis timeout = Millis(3000));

  // Half-closes the sending side (shutdown SHUT_WR).
  void shutdown_write();

  bool peer_closed() const { return eof_; }
  std::string unread() const { return buf_.substr(pos_); }
  const std::string& error() const { return error_; }
  int fd() const { return fd_; }

 private:
  // Reads whatever arrives before `deadline` and appends it. False on timeout,
  // EOF or error.
  bool fill(Clock::time_point deadline);
  bool need(size_t bytes, Clock::time_point deadline);
  std::optional<size_t> find_in_buffer(std::string_view needle) const;
  bool read_chunked_body(HttpResponse& response, Clock::time_point deadline);

  int fd_ = -1;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  std::string error_;
};

// Helper for the usual request: "<method> <target> HTTP/1.1", Host, the extra
// header lines (each without CRLF), Content-Length when a body is given.
std::string make_request(std::string_view method, std::string_view target,
                         const std::vector<std::string>& headers = {},
                         std::optional<std::string_view> body = std::nullopt);

// Encodes `body` as chunked transfer coding with chunks of `chunk_size` bytes.
std::string chunked_encoding(std::string_view body, size_t chunk_size);

// ---------------------------------------------------------------------------
// NginxBackend: a real nginx (master_process off: one process, its PID is all
// there is to stop) on a free port with a generated config. Locations:
//   /api    — answers 200 with the request's method, URI and selected request
//             headers, both as X-Echo-* response headers and as a text body.
//   /body/  — reads the whole request body (up to 64 MiB) and sends it back.
//   /slow/  — waits 1 s, then answers like /api with body "slow done".
//   /big/   — static files; /big/big.bin is kBigFileSize bytes of
//             pattern_bytes(kBigFileSize, kBigFileSeed).
// Echo headers: X-Echo-Method, X-Echo-Uri ($request_uri), X-Echo-Host ($http_host),
// X-Echo-Xff, X-Echo-Xfp, X-Echo-Xfh (X-Forwarded-For/-Proto/-Host),
// X-Echo-Connection ($connection: nginx's connection serial number),
// X-Echo-Requests ($connection_requests), X-Echo-Hop ($http_x_hop),
// X-Echo-Te ($http_transfer_encoding), X-Echo-Cl ($http_content_length),
// X-Echo-Request-Id ($http_x_request_id).
// nginx leaves out a header whose value is empty.
struct NginxOptions {
  int keepalive_requests = 1000;
  int keepalive_timeout_s = 75;
};

class NginxBackend {
 public:
  static constexpr size_t kBigFileSize = 16 * 1024 * 1024;
  static constexpr uint32_t kBigFileSeed = 16;

  explicit NginxBackend(NginxOptions options = {});
  ~NginxBackend();

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>"
  std::string origin() const;
  Process& process() { return *process_; }

  // True when nginx and its echo module are installed here.
  static bool available();

  // The contents of /big/big.bin (computed once per test process).
  static const std::string& big_file();

 private:
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

// ---------------------------------------------------------------------------
// ScriptedBackend: an in-process TCP server on a free port (one thread, poll)
// for behaviours nginx cannot script. It records every raw byte received and
// frames requests itself (Content-Length or chunked).
class ScriptedBackend {
 public:
  enum class Mode {
    kAnswer,                // answer every request 200, keep-alive
    kNeverAnswer,           // accept and read, never answer, never close
    kCloseOnSecondRequest,  // answer the 1st request on a connection; close it when a 2nd arrives
    kAnswerAfterDelay,      // answer every request 200 after `delay`
    kCloseAtOnce,           // accept and close at once: a TCP service that is not the backend
  };

  explicit ScriptedBackend(Mode mode, Millis delay = Millis(1000));
  ~ScriptedBackend();
  ScriptedBackend(const ScriptedBackend&) = delete;
  ScriptedBackend& operator=(const ScriptedBackend&) = delete;

  uint16_t port() const { return port_; }
  std::string origin() const;

  // Every byte received, over all connections, in arrival order.
  std::string received() const;
  size_t connections_accepted() const { return connections_.load(); }
  // Complete request heads seen (bodies need not have arrived).
  size_t requests_seen() const { return requests_seen_.load(); }
  // Answers begun (counted before the bytes go out, so a client holding an
  // answer always sees it counted).
  size_t requests_answered() const { return answered_.load(); }
  // kCloseOnSecondRequest: how many connections it hung up on a reused request.
  size_t closed_on_reuse() const { return closed_on_reuse_.load(); }

  // Waits until requests_seen() >= n; false on timeout.
  bool wait_for_requests(size_t n, Millis timeout) const;

  // The body every answer carries: "scripted: <request line>\n".
  static std::string answer_body(std::string_view request_line);

 private:
  struct Connection;
  void run();
  void on_readable(Connection& c);
  // Frames and handles complete requests in c's buffer; false when c must close.
  bool handle_requests(Connection& c);
  void answer(Connection& c, const std::string& request_line);

  Mode mode_;
  Millis delay_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};
  uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::string received_;
  std::atomic<size_t> connections_{0};
  std::atomic<size_t> requests_seen_{0};
  std::atomic<size_t> answered_{0};
  std::atomic<size_t> closed_on_reuse_{0};
  std::vector<std::unique_ptr<Connection>> conns_;
  std::thread thread_;
};

}  // namespace ringgate::itest
