// Integration-test harness: real processes (ringgate, nginx, curl, wrk) and raw
// sockets on 127.0.0.1, with ports handed out by the kernel (port 0), never fixed.
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

// ---------------------------------------------------------------------------
// TLS: a test PKI made with the openssl CLI, nginx as an mTLS backend, and
// `openssl s_server` as a backend that refuses client certificates in the
// handshake. Implemented in harness_tls.cpp.

// A certificate and its private key as PEM files.
struct TestCert {
  std::string cert_pem;    // path
  std::string key_pem;     // path
  std::string thumbprint;  // upper-case hex SHA-1 of the DER, no colons (APIM's form)
  std::string subject;     // as `openssl x509 -subject -nameopt RFC2253` prints it: "CN=…"
};

// A PKCS#12 file with the file holding its password (one line).
struct TestPfx {
  std::string pfx_file;       // path
  std::string password_file;  // path
  std::string thumbprint;     // of the certificate inside; "" when the file holds none readable
};

// Everything the TLS tests need, generated once into a TempDir:
//   ca            the CA that signs every certificate below unless said otherwise
//   other_ca      a second CA nobody trusts
//   backend_server      CA-signed, SAN IP:127.0.0.1, DNS:localhost
//   self_signed_server  self-signed, same SANs (only its chain is wrong)
//   wrong_name_server   CA-signed, SAN DNS:wrong.example only (only its name is wrong)
//   client_legacy       CA-signed client cert, PFX with RC2-40/3DES (`pkcs12 -export -legacy`),
//                       RSA 2048 as Windows exports it
//   client_aes          CA-signed client cert, PFX with AES-256 (OpenSSL 3's default)
//   client_replacement  CA-signed client cert with a new key and password (certificate rotation)
//   client_untrusted    client cert signed by other_ca, AES-256 PFX
//   edge_a, edge_b      CA-signed server certs for a.test / b.test (ringgate's TLS listener)
//   no_key_pfx          client_aes's certificate without its private key (`-nokeys`)
//   truncated_pfx       the first half of client_aes's PFX, with its right password
//   wrong_password_pfx  client_aes's PFX with a password file holding another password
class TestPki {
 public:
  // Runs the openssl CLI (about a second); throws std::runtime_error with the
  // command's stderr when a step fails.
  TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  // One PKI per test process, made on first use: certificates do not change
  // between tests, and generating keys is the slow part. Tests copy what they
  // modify.
  static const TestPki& shared();

  // True when /usr/bin/openssl is installed.
  static bool available();

  const std::string& dir() const { return dir_.path(); }

  TestCert ca;
  TestCert other_ca;
  TestCert backend_server;
  TestCert self_signed_server;
  TestCert wrong_name_server;
  TestCert client_legacy;
  TestPfx client_legacy_pfx;
  TestCert client_aes;
  TestPfx client_aes_pfx;
  TestCert client_replacement;
  TestPfx client_replacement_pfx;
  TestCert client_untrusted;
  TestPfx client_untrusted_pfx;
  TestCert edge_a;
  TestPfx edge_a_pfx;
  TestCert edge_b;
  TestPfx edge_b_pfx;
  TestPfx no_key_pfx;
  TestPfx truncated_pfx;
  TestPfx wrong_password_pfx;

 private:
  TempDir dir_;
};

// Runs /usr/bin/openssl with `args`; throws std::runtime_error (naming the
// command and quoting its stderr) when it does not exit 0.
CommandResult openssl(const std::vector<std::string>& args);

// The certificate's thumbprint in APIM's form (upper-case hex SHA-1, no colons),
// from `openssl x509 -fingerprint -sha1`.
std::string certificate_thumbprint(const std::string& cert_pem);

// Lower-cases ASCII (nginx's $ssl_client_fingerprint is lower-case hex).
std::string to_lower(std::string_view text);

// A fresh client certificate (EC P-256, CN "<name>.client.test") signed by
// `ca`, exported as an AES PFX protected by `password`: <name>.pfx and
// <name>.pass (the password and a newline) in `dir`, thumbprint filled in.
TestPfx make_client_pfx(const TempDir& dir, const std::string& name, const TestCert& ca,
                        const std::string& password);

// ---------------------------------------------------------------------------
// NginxMtlsBackend: nginx (master_process off) serving HTTPS on a free port,
// asking for client certificates, plus a plain stub_status port. Every path
// answers 200 with body "mtls ok <request_uri>\n" and the headers
//   X-Client-Fingerprint   $ssl_client_fingerprint (lower-case SHA-1 hex)
//   X-Client-DN            $ssl_client_s_dn
//   X-Client-Verify        $ssl_client_verify ("SUCCESS", "NONE", "FAILED:…")
//   X-Connection           $connection (nginx's connection serial number)
//   X-Connection-Requests  $connection_requests
//   X-Request-Uri          $request_uri
//   X-Server-Name          $ssl_server_name (the SNI the client sent; absent without one)
// nginx leaves out a header whose value is empty. With verify_client "on", a
// request without a trusted client certificate gets nginx's 400 page (the handshake itself
// completes: DESIGN §9).
struct NginxTlsOptions {
  std::string cert_pem;              // server certificate (required)
  std::string key_pem;               // its key (required)
  std::string client_ca_pem;         // ssl_client_certificate; "" leaves it out
  std::string verify_client = "on";  // ssl_verify_client: on | optional | optional_no_ca | off
  int keepalive_requests = 10000;
};

// nginx's stub_status page, parsed.
struct StubStatus {
  long active = 0;    // open client connections, this status request included
  long accepts = 0;   // connections accepted since nginx started
  long requests = 0;  // requests served since nginx started
};

class NginxMtlsBackend {
 public:
  explicit NginxMtlsBackend(NginxTlsOptions options);
  // Dumps nginx's stderr when the test failed; stops nginx.
  ~NginxMtlsBackend();
  NginxMtlsBackend(const NginxMtlsBackend&) = delete;
  NginxMtlsBackend& operator=(const NginxMtlsBackend&) = delete;

  // True when nginx is installed (this backend needs no extra module).
  static bool available();

  uint16_t port() const { return port_; }
  uint16_t status_port() const { return status_port_; }
  // "https://127.0.0.1:<port>"
  std::string origin() const;
  Process& process() { return *process_; }

  // SIGKILL by PID (no graceful close: connections die with the process) and reap.
  void kill();
  // Starts nginx again with the same config on the same ports; waits until it
  // accepts. Throws when it cannot.
  void start();

  // GET /status on the status port; nullopt when nginx does not answer.
  std::optional<StubStatus> stub_status();

 private:
  TempDir dir_;
  uint16_t port_ = 0;
  uint16_t status_port_ = 0;
  int generation_ = 0;  // log file names of successive starts
  std::unique_ptr<Process> process_;
};

// ---------------------------------------------------------------------------
// OpensslServer: `openssl s_server -www -Verify 1 -verify_return_error` on a
// free port: TLS 1.2/1.3 with `server`'s certificate, demanding a client
// certificate that `client_ca_pem` signed and aborting the handshake otherwise
// (a refusal *in the handshake*, unlike nginx: DESIGN §9). A client it accepts
// gets s_server's status page with 200. It serves one connection at a time.
class OpensslServer {
 public:
  OpensslServer(const TestCert& server, const std::string& client_ca_pem);
  ~OpensslServer();
  OpensslServer(const OpensslServer&) = delete;
  OpensslServer& operator=(const OpensslServer&) = delete;

  uint16_t port() const { return port_; }
  std::string origin() const;  // "https://127.0.0.1:<port>"
  Process& process() { return *process_; }

 private:
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

// ---------------------------------------------------------------------------
// GatewayUnderTest: ringgate (`$RINGGATE_BIN --config <file>`) with a config
// written for the test (DESIGN §6) into its own temp dir. The listener listens
// on 127.0.0.1 port 0 and the port the kernel chose is read back from
// ringgate's start-up log ("listening on …"). The admin API cannot be given
// port 0 (the config refuses it): it gets a free port, another one if that was
// taken before ringgate bound it, and the log ("admin API on …") must name it. The admin
// token is written to admin.token next to the config; each certificate's PFX and
// password file are copied into the gateway's dir, so a test may overwrite them
// (rotation) without touching the shared PKI.

struct CertificateEntry {
  std::string id;
  TestPfx pfx;
};

struct BackendEntity {
  std::string id;
  std::string url;  // "https://127.0.0.1:<port>"
  bool validate_certificate_chain = true;
  bool validate_certificate_name = true;
  std::string ca_file;  // "" leaves caFile out (system store)
};

struct ApiRoute {
  // A route with no policy is written the usual way: {"id", "path", "http://…"}.
  ApiRoute(std::string id, std::string path, std::string service_url, std::string policy = {})
      : id(std::move(id)),
        path(std::move(path)),
        service_url(std::move(service_url)),
        policy(std::move(policy)) {}

  std::string id;
  std::string path;         // e.g. "orders"
  std::string service_url;  // e.g. "http://127.0.0.1:1234/api"
  std::string policy;       // APIM policy XML; "" leaves it out
};

struct GatewayConfig {
  unsigned workers = 1;
  std::vector<CertificateEntry> certificates;  // empty: the section is omitted
  std::vector<BackendEntity> backends;         // empty: the section is omitted
  std::vector<ApiRoute> apis;
  // The JSON value of gateway.listeners[0].tls, e.g. {"certificateId": "edge"};
  // "" makes a plain HTTP listener.
  std::string listener_tls_json;
  // Overrides, by their JSON key in gateway.limits / .timeouts / .pool
  // (e.g. {"maxHeaderBytes", 4096}); sections left empty are omitted.
  std::map<std::string, uint64_t> limits;
  std::map<std::string, uint64_t> timeouts;
  std::map<std::string, uint64_t> pool;
  std::string access_log_path;  // gateway.accessLog.path; empty: key omitted
  std::string cpu_affinity;     // gateway.cpuAffinity as JSON ("\"none\"", "[0]"); empty: omitted
  // gateway.user; empty: omitted. When set, the test directory is handed to
  // that user as a deployment would (what the gateway re-reads or writes
  // after switching belongs to it).
  std::string user;
  std::vector<std::string> env;  // extra "NAME=value" for ringgate's environment
  // Put before ringgate's command line, e.g. {"/usr/bin/prlimit", "--nofile=96:96"}:
  // a launcher that execs ringgate in its own process.
  std::vector<std::string> launcher;
};

// `<policies><inbound><authentication-certificate certificate-id="ID"/></inbound></policies>`
std::string certificate_id_policy(std::string_view certificate_id);
// The same with thumbprint="…".
std::string thumbprint_policy(std::string_view thumbprint);

// The config document for `config` with the listener on 127.0.0.1:`port` and
// the admin API on 127.0.0.1:`admin_port` (0: the kernel picks); certificate
// file paths and `token_file` are written as given.
std::string gateway_config_json(const GatewayConfig& config, uint16_t port, uint16_t admin_port,
                                const std::string& token_file);

// Sum of every sample of metric `name` in Prometheus text whose label block
// contains `label_filter` (all samples when it is empty); nullopt when there
// is no such sample.
std::optional<double> metric_value(const std::string& metrics_text, std::string_view name,
                                   std::string_view label_filter = {});

class GatewayUnderTest {
 public:
  // The listener's address as the config names it (reload tests that rewrite
  // the listener list keep it by naming it the same way).
  static constexpr std::string_view kListenAddress = "127.0.0.1:0";

  // Starts ringgate and waits (up to 15 s) until it has logged the ports it
  // listens on and both accept connections; throws with its stderr if it
  // exits (but for a taken admin port, tried three times) or times out.
  explicit GatewayUnderTest(GatewayConfig config);
  // Expects exit 0 on SIGTERM (the contract of DESIGN §6, and where the
  // sanitizer builds report leaks); dumps config and logs when the test failed.
  ~GatewayUnderTest();
  GatewayUnderTest(const GatewayUnderTest&) = delete;
  GatewayUnderTest& operator=(const GatewayUnderTest&) = delete;

  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  const std::string& admin_token() const { return token_; }
  // "http://127.0.0.1:<port><path>"
  std::string url(std::string_view path) const;
  const std::string& config_path() const { return config_path_; }
  // gateway.stateDir: where admin changes are persisted.
  std::string state_dir() const;
  Process& process() { return *process_; }

  // SIGKILL (no drain, nothing flushed), then a new ringgate on the same
  // config and state dir, its addresses pinned to the ports read back before
  // (port() and admin_port() stay valid), waited for as the constructor does.
  // Its logs go to ringgate-2.stderr and so on; process() is the new one.
  void kill_and_restart();

  // One admin API request with the bearer token (and Content-Type JSON when
  // there is a body); a response with status 0 when none came (the failure
  // is recorded). Waits up to 20 s: a change is answered once it is live.
  HttpResponse admin(const std::string& method, const std::string& path,
                     const std::string& body = {}, const std::vector<std::string>& headers = {});

  // Where the copy of certificate `id`'s files lives (for rotation tests).
  std::string pfx_path(std::string_view id) const;
  std::string password_path(std::string_view id) const;

  // GET /metrics from the admin API with the bearer token; "" when it fails.
  std::string metrics();
  // metric_value over metrics().
  std::optional<double> metric(std::string_view name, std::string_view label_filter = {});

  // One request on a fresh plain connection to the listener; a response with
  // status 0 when none came (the failure is recorded).
  HttpResponse get(const std::string& target);

  // Polls stderr (every 20 ms) until a line matches `pattern` (std::regex_search);
  // false after `timeout`.
  bool wait_for_log(const std::regex& pattern, Millis timeout = Millis(3000));

 private:
  // chown -R of the test directory to `user` (gateway.user's deployment).
  void hand_over_to(const std::string& user);
  // Starts ringgate on the config file as it is and reads its ports back;
  // throws AdminPortTaken (harness_gateway.cpp) when admin_port_ was taken.
  void start();

  GatewayConfig config_;
  TempDir dir_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  std::string token_;
  std::string config_path_;
  int starts_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace ringgate::itest
