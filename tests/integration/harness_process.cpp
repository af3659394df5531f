// Harness utilities, TempDir, Process, run_command and wrk output parsing.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "harness.hpp"

extern char** environ;

namespace ringgate::itest {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// Environment for a child: ours, with `extra` ("NAME=value") replacing same names.
std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    bool overridden = false;
    for (const auto& x : extra) overridden = overridden || name_of(x) == name_of(entry);
    if (!overridden) env.push_back(std::move(entry));
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// argv[0] as given when it contains '/', else the first match on $PATH.
std::string resolve_program(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (is_executable(candidate)) return candidate;
  }
  return program;
}

}  // namespace

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(errno_text("socket"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string error = errno_text("bind/getsockname 127.0.0.1:0");
    ::close(fd);
    throw std::runtime_error(error);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool port_accepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, std::string_view data, unsigned mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error(errno_text("open " + path));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string error = errno_text("write " + path);
      ::close(fd);
      throw std::runtime_error(error);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

std::vector<ThreadStatus> thread_status(pid_t pid) {
  std::vector<ThreadStatus> threads;
  std::error_code ignored;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, ignored)) {
    std::istringstream lines(read_file(task.path() / "status"));
    ThreadStatus fields;
    std::string line;
    while (std::getline(lines, line)) {
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      const size_t value = line.find_first_not_of(" \t", colon + 1);
      fields[line.substr(0, colon)] = value == std::string::npos ? "" : line.substr(value);
    }
    if (!fields.empty()) threads.push_back(std::move(fields));
  }
  return threads;
}

bool is_executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string ringgate_binary() {
  const char* bin = std::getenv("RINGGATE_BIN");
  if (bin == nullptr || *bin == '\0') {
    throw std::runtime_error("RINGGATE_BIN is not set (run through `meson test`)");
  }
  return bin;
}

std::string source_root() {
  const char* root = std::getenv("RINGGATE_SOURCE_ROOT");
  return root != nullptr ? root : "";
}

std::string pattern_bytes(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  uint64_t state = 0x9E3779B97F4A7C15ULL ^ seed;
  for (size_t i = 0; i < n; ++i) {
    // xorshift64*: cheap, and no two nearby positions repeat.
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    out[i] = static_cast<char>((state * 0x2545F4914F6CDD1DULL) >> 56);
  }
  return out;
}

std::string tail(const std::string& text, size_t max) {
  return text.size() <= max ? text : "…" + text.substr(text.size() - max);
}

long long elapsed_ms(Clock::time_point start) {
  return std::chrono::duration_cast<Millis>(Clock::now() - start).count();
}

// ---------------------------------------------------------------------------
// TempDir

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ringgate-itest-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error(errno_text("mkdtemp " + templ));
  path_ = buf.data();
}

TempDir::~TempDir() {
  const char* keep = std::getenv("RINGGATE_ITEST_KEEP");
  if (keep != nullptr && std::string(keep) == "1") return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

// ---------------------------------------------------------------------------
// Process

Process::Process(std::vector<std::string> argv, const std::string& log_dir, const std::string& name,
                 std::vector<std::string> extra_env)
    : name_(name),
      stdout_path_(log_dir + "/" + name + ".stdout"),
      stderr_path_(log_dir + "/" + name + ".stderr") {
  if (argv.empty()) throw std::runtime_error("Process: empty argv");
  argv[0] = resolve_program(argv[0]);
  std::vector<std::string> env = child_environment(extra_env);

  // Everything the child needs is prepared before fork: after it, the child
  // may only make async-signal-safe calls (the parent has threads).
  std::vector<char*> argv_c;
  for (auto& a : argv) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  std::vector<char*> env_c;
  for (auto& e : env) env_c.push_back(e.data());
  env_c.push_back(nullptr);

  int out_fd = ::open(stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int status_pipe[2] = {-1, -1};
  if (out_fd < 0 || err_fd < 0 || null_fd < 0 || ::pipe2(status_pipe, O_CLOEXEC) != 0) {
    std::string error = errno_text("Process " + name + ": open/pipe");
    for (int fd : {out_fd, err_fd, null_fd, status_pipe[0], status_pipe[1]}) {
      if (fd >= 0) ::close(fd);
    }
    throw std::runtime_error(error);
  }

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::sigaction(sig, &dfl, nullptr);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::execve(argv_c[0], argv_c.data(), env_c.data());
    int e = errno;
    ssize_t ignored = ::write(status_pipe[1], &e, sizeof e);
    (void)ignored;
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(out_fd);
  ::close(err_fd);
  ::close(null_fd);
  ::close(status_pipe[1]);
  if (pid < 0) {
    ::close(status_pipe[0]);
    errno = fork_errno;
    throw std::runtime_error(errno_text("fork for " + name));
  }
  pid_ = pid;
  // The pipe closes on a successful exec (CLOEXEC) and carries errno otherwise.
  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(status_pipe[0], &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  ::close(status_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    reap(0);
    throw std::runtime_error("Process " + name + ": exec " + argv[0] + ": " +
                             std::strerror(exec_errno));
  }
}

Process::~Process() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    reap(0);
  }
}

bool Process::reap(int options) {
  if (exit_code_) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, options);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return false;
  if (WIFEXITED(status)) {
    exit_code_ = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_code_ = 128 + WTERMSIG(status);
  } else {
    exit_code_ = -1;
  }
  return true;
}

bool Process::running() { return !reap(WNOHANG); }

void Process::stop(int sig) {
  // Once reaped, the PID may belong to someone else: never signal it then.
  if (pid_ > 0 && !reap(WNOHANG)) ::kill(pid_, sig);
}

std::optional<int> Process::wait_exit(Millis timeout) {
  auto deadline = Clock::now() + timeout;
  while (!reap(WNOHANG)) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(Millis(5));
  }
  return exit_code_;
}

std::optional<int> Process::terminate(int sig, Millis grace) {
  stop(sig);
  if (auto code = wait_exit(grace)) return code;
  stop(SIGKILL);
  return wait_exit(Millis(5000));
}

long Process::rss_kib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

long long Process::cpu_ticks() const {
  std::string stat = read_file("/proc/" + std::to_string(pid_) + "/stat");
  // The command name (field 2) may hold spaces and ')'; fields resume after the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  long long utime = -1;
  long long stime = -1;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14) utime = std::stoll(field);
    if (index == 15) {
      stime = std::stoll(field);
      break;
    }
  }
  return utime < 0 || stime < 0 ? -1 : utime + stime;
}

// ---------------------------------------------------------------------------
// Commands

CommandResult run_command(const std::vector<std::string>& argv, Millis timeout,
                          const std::vector<std::string>& extra_env) {
  TempDir dir;
  Process process(argv, dir.path(), "command", extra_env);
  CommandResult result;
  result.exit_code = process.wait_exit(timeout);
  if (!result.exit_code) process.terminate(SIGKILL, Millis(0));
  result.out = process.stdout_text();
  result.err = process.stderr_text();
  return result;
}

CommandResult curl(const std::vector<std::string>& args, Millis timeout) {
  std::vector<std::string> argv{"/usr/bin/curl", "-sS"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, timeout);
}

// ---------------------------------------------------------------------------
// wrk

WrkSummary parse_wrk_output(const std::string& text) {
  WrkSummary s;
  std::smatch m;
  static const std::regex requests(R"((\d+) requests in )");
  static const std::regex non2xx(R"(Non-2xx or 3xx responses:\s*(\d+))");
  static const std::regex socket_errors(
      R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))");
  static const std::regex rps(R"(Requests/sec:\s*([0-9.]+))");
  if (std::regex_search(text, m, requests)) {
    s.parsed = true;
    s.requests = std::stoull(m[1]);
  }
  if (std::regex_search(text, m, non2xx)) s.non_2xx_3xx = std::stoull(m[1]);
  if (std::regex_search(text, m, socket_errors)) {
    s.connect_errors = std::stoull(m[1]);
    s.read_errors = std::stoull(m[2]);
    s.write_errors = std::stoull(m[3]);
    s.timeouts = std::stoull(m[4]);
  }
  if (std::regex_search(text, m, rps)) s.requests_per_sec = std::stod(m[1]);
  return s;
}

}  // namespace ringgate::itest
