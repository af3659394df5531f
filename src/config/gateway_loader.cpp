// The gateway section of the config file: workers and their CPUs, the
// service user, listeners, the admin API, limits, timeouts, pools and the
// access log (configSource has its own file).
#include <pwd.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <system_error>
#include <vector>

#include "config/cpus.hpp"
#include "config/entities.hpp"
#include "config/loader.hpp"
#include "files/errno_text.hpp"
#include "files/read_file.hpp"

namespace ringgate::config::detail {
namespace {

using files::errno_text;

constexpr uint32_t kMaxWorkers = 1024;
constexpr uint64_t kMaxCpu = CPU_SETSIZE - 1;  // the highest CPU a cpu_set_t can name
constexpr uint32_t kMaxU32 = UINT32_MAX;
constexpr uint64_t kMaxU64 = UINT64_MAX;
constexpr size_t kMaxTokenBytes = 4096;
constexpr std::string_view kDefaultStateDir = "var/ringgate";

// Whether a file could be opened for appending at `path`: an existing one
// must be a regular file (a FIFO would block the open, a directory cannot be
// written) this process may write, a new one needs a writable directory.
// Returns nullopt when it could, otherwise why not.
std::optional<std::string> check_writable_file(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) return "is a directory, not a regular file";
    if (!S_ISREG(info.st_mode)) return "is not a regular file";
    if (::access(path.c_str(), W_OK) != 0) return errno_text(errno);
    return std::nullopt;
  }
  if (errno != ENOENT) return errno_text(errno);
  const std::string dir = fs::path(path).parent_path().string();
  if (::stat(dir.c_str(), &info) != 0) return "directory " + quote(dir) + ": " + errno_text(errno);
  if (!S_ISDIR(info.st_mode)) return quote(dir) + " is not a directory";
  if (::access(dir.c_str(), W_OK) != 0) return "directory " + quote(dir) + ": " + errno_text(errno);
  return std::nullopt;
}

bool has_space_or_control(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  const size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

}  // namespace

void Loader::load_gateway(std::optional<element> value, Gateway& gateway) {
  gateway.state_dir = resolve(kDefaultStateDir);
  if (!value) {
    problems_.add("$.gateway.listeners", "required key is missing (at least one listener)");
    return;
  }
  std::optional<ObjectReader> object =
      ObjectReader::open(*value, "$.gateway",
                         {"workers", "cpuAffinity", "ktls", "user", "listeners", "admin",
                          "stateDir", "limits", "timeouts", "pool", "accessLog", "configSource"},
                         problems_);
  if (!object) return;
  object->read("workers", gateway.workers, 0, kMaxWorkers);
  if (std::optional<element> affinity = object->find("cpuAffinity")) {
    load_cpu_affinity(*affinity, object->path_of("cpuAffinity"), gateway.cpu_affinity);
  }
  std::string ktls = "auto";
  object->read("ktls", ktls);
  if (ktls == "off") {
    gateway.ktls = KtlsMode::kOff;
  } else if (ktls != "auto") {
    problems_.add(object->path_of("ktls"), "expected \"auto\" or \"off\", found \"" + ktls + "\"");
  }
  if (std::optional<element> user = object->find("user")) {
    load_user(*user, object->path_of("user"), gateway.user);
  }
  load_listeners(*object, gateway.listeners);
  if (std::optional<element> admin = object->find("admin")) {
    load_admin(*admin, object->path_of("admin"), gateway.admin);
  }
  if (std::optional<std::string> dir = read_path(*object, "stateDir")) gateway.state_dir = *dir;
  if (std::optional<element> limits = object->find("limits")) {
    load_limits(*limits, object->path_of("limits"), gateway.limits);
  }
  if (std::optional<element> timeouts = object->find("timeouts")) {
    load_timeouts(*timeouts, object->path_of("timeouts"), gateway.timeouts);
  }
  if (std::optional<element> pool = object->find("pool")) {
    load_pool(*pool, object->path_of("pool"), gateway.pool);
  }
  if (std::optional<element> log = object->find("accessLog")) {
    load_access_log(*log, object->path_of("accessLog"), gateway.access_log);
  }
  if (std::optional<element> source = object->find("configSource")) {
    load_config_source(*source, object->path_of("configSource"), gateway.config_source);
  }

  // With SO_REUSEPORT a second bind to the same address would succeed and
  // silently share connections, so catch the clash here.
  for (const Listener& listener : gateway.listeners) {
    if (listener.address.port != 0 && listener.address.host == gateway.admin.address.host &&
        listener.address.port == gateway.admin.address.port) {
      problems_.add(object->path_of("admin") + ".address",
                    "address " + listener.address.to_string() + " is also used by a listener");
    }
  }
}

// A user name this host knows, resolved to its uid and primary group. The
// lookup is the reader's, so --check-config on another host may answer
// differently from the gateway (as for cpuAffinity).
void Loader::load_user(element value, const std::string& path, std::optional<ServiceUser>& user) {
  std::string_view name;
  if (value.get_string().get(name) != simdjson::SUCCESS || name.empty()) {
    problems_.add(path, "expected a user name (a non-empty string)");
    return;
  }
  const std::string text(name);
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  const int rc = ::getpwnam_r(text.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found == nullptr) {
    problems_.add(path, "no such user \"" + text + "\"" +
                            (rc != 0 ? " (user lookup failed: " + errno_text(rc) + ")" : ""));
    return;
  }
  user = ServiceUser{text, entry.pw_uid, entry.pw_gid};
}

// "auto", "none", or a non-empty list of distinct CPUs this process may use.
// The list is checked against the CPUs of the process that reads it, so
// --check-config on another host may answer differently from the gateway.
void Loader::load_cpu_affinity(element value, const std::string& path, CpuAffinity& affinity) {
  std::string_view mode;
  simdjson::dom::array list;
  if (value.get_string().get(mode) == simdjson::SUCCESS && (mode == "auto" || mode == "none")) {
    affinity =
        CpuAffinity{mode == "auto" ? CpuAffinity::Mode::kAuto : CpuAffinity::Mode::kNone, {}};
  } else if (value.get_array().get(list) == simdjson::SUCCESS) {
    if (std::optional<std::vector<int>> cpus = read_cpu_list(list, path)) {
      affinity = CpuAffinity{CpuAffinity::Mode::kList, std::move(*cpus)};
    }
  } else {
    problems_.add(path,
                  R"(expected "auto", "none" or a list of CPU numbers, found )" + describe(value));
  }
}

// The CPUs of a cpuAffinity list; nullopt after recording every problem in it.
std::optional<std::vector<int>> Loader::read_cpu_list(simdjson::dom::array list,
                                                      const std::string& path) {
  const size_t problems_before = problems_.size();
  const std::vector<int> allowed = allowed_cpus();
  std::map<int, std::string> seen;  // CPU → path of its first mention
  std::vector<int> cpus;
  size_t index = 0;
  for (element item : list) {
    const std::string item_path = index_path(path, index++);
    std::optional<uint64_t> number = as_unsigned(item, item_path, 0, kMaxCpu, problems_);
    if (!number) continue;
    const int cpu = static_cast<int>(*number);
    if (auto [first, inserted] = seen.emplace(cpu, item_path); !inserted) {
      problems_.add(item_path, "CPU " + std::to_string(cpu) + " is listed twice (also at " +
                                   first->second + ")");
      continue;
    }
    // An unknown mask (sched_getaffinity failed) cannot rule a CPU out.
    if (!allowed.empty() && !std::binary_search(allowed.begin(), allowed.end(), cpu)) {
      problems_.add(item_path,
                    "CPU " + std::to_string(cpu) +
                        " is not available to this process (allowed: " + cpu_ranges(allowed) + ")");
      continue;
    }
    cpus.push_back(cpu);
  }
  if (index == 0) problems_.add(path, "expected at least one CPU, found an empty list");
  if (problems_.size() != problems_before) return std::nullopt;
  return cpus;
}

void Loader::load_listeners(ObjectReader& gateway, std::vector<Listener>& listeners) {
  const std::string path = gateway.path_of("listeners");
  std::optional<element> value = gateway.find("listeners");
  if (!value) {
    problems_.add(path, "required key is missing (at least one listener)");
    return;
  }
  std::optional<simdjson::dom::array> array = as_array(*value, path, problems_);
  if (!array) return;
  std::vector<std::pair<std::string, SocketAddress>> seen;  // (path, address)
  size_t index = 0;
  for (element item : *array) {
    const std::string item_path = index_path(path, index++);
    std::optional<Listener> listener = load_listener(item, item_path);
    if (!listener) continue;
    const SocketAddress& address = listener->address;
    for (const auto& [other_path, other] : seen) {
      if (address.port != 0 && other.host == address.host && other.port == address.port) {
        problems_.add(item_path + ".address",
                      "address " + address.to_string() + " is also used by " + other_path);
        break;
      }
    }
    seen.emplace_back(item_path, address);
    listeners.push_back(std::move(*listener));
  }
  if (index == 0) problems_.add(path, "expected at least one listener, found an empty array");
}

std::optional<Listener> Loader::load_listener(element value, const std::string& path) {
  std::optional<ObjectReader> object =
      ObjectReader::open(value, path, {"address", "tls"}, problems_);
  if (!object) return std::nullopt;
  Listener listener;
  bool address_ok = false;
  if (std::optional<element> address = object->require("address")) {
    // Port 0: the kernel picks one (tests use that).
    if (std::optional<SocketAddress> parsed =
            read_address(*address, object->path_of("address"), /*allow_port_zero=*/true)) {
      listener.address = *parsed;
      address_ok = true;
    }
  }
  if (std::optional<element> tls = object->find("tls")) {
    // `certificateId` names the default certificate; `certificateIds` adds
    // more, chosen by SNI (the first is the default when certificateId is absent).
    std::optional<ObjectReader> tls_object = ObjectReader::open(
        *tls, object->path_of("tls"), {"certificateId", "certificateIds"}, problems_);
    if (tls_object) {
      ListenerTls settings;
      if (std::optional<element> id = tls_object->find("certificateId")) {
        const std::string id_path = tls_object->path_of("certificateId");
        if (std::optional<std::string> text = as_string(*id, id_path, problems_)) {
          settings.certificate_ids.push_back(*text);
          certificate_references_.emplace_back(id_path, *text);
        }
      }
      if (std::optional<element> ids = tls_object->find("certificateIds")) {
        const std::string ids_path = tls_object->path_of("certificateIds");
        if (std::optional<simdjson::dom::array> array = as_array(*ids, ids_path, problems_)) {
          size_t index = 0;
          for (element item : *array) {
            const std::string item_path = index_path(ids_path, index++);
            if (std::optional<std::string> text = as_string(item, item_path, problems_)) {
              settings.certificate_ids.push_back(*text);
              certificate_references_.emplace_back(item_path, *text);
            }
          }
        }
      }
      if (settings.certificate_ids.empty()) {
        problems_.add(
            object->path_of("tls"),
            "expected certificateId or a non-empty certificateIds naming the server certificate");
      } else {
        settings.certificate_id = settings.certificate_ids.front();
        listener.tls = std::move(settings);
      }
    }
  }
  if (!address_ok) return std::nullopt;
  return listener;
}

// Without a tokenFile no request can authenticate: the admin API then answers
// only GET /healthz and /metrics, and only when publicHealthAndMetrics is true;
// everything else gets 401. That is a valid (locked-down) setup, not an error.
void Loader::load_admin(element value, const std::string& path, Admin& admin) {
  std::optional<ObjectReader> object = ObjectReader::open(
      value, path, {"address", "tokenFile", "publicHealthAndMetrics"}, problems_);
  if (!object) return;
  if (std::optional<element> address = object->find("address")) {
    if (std::optional<SocketAddress> parsed =
            read_address(*address, object->path_of("address"), /*allow_port_zero=*/false)) {
      admin.address = *parsed;
    }
  }
  object->read("publicHealthAndMetrics", admin.metrics_without_token);
  if (std::optional<std::string> file = read_path(*object, "tokenFile")) {
    admin.token_file = *file;
    load_token(object->path_of("tokenFile"), admin);
  }
}

void Loader::load_token(const std::string& path, Admin& admin) {
  const files::FileResult file = files::read_regular_file(admin.token_file, kMaxTokenBytes);
  if (!file.ok()) {
    problems_.add(path, file.message());
    return;
  }
  const std::string_view token = trim(file.contents);
  if (token.empty()) {
    problems_.add(path, "token file " + quote(admin.token_file) + " is empty");
  } else if (has_space_or_control(token)) {
    // Such a token could never match an "Authorization: Bearer" header.
    problems_.add(path, "token file " + quote(admin.token_file) +
                            " must hold one token without spaces or control characters");
  } else {
    admin.token = std::string(token);
  }
}

void Loader::load_limits(element value, const std::string& path, Limits& limits) {
  std::optional<ObjectReader> object = ObjectReader::open(
      value, path,
      {"maxHeaderBytes", "maxHeaderCount", "maxUrlBytes", "maxBodyBytes", "maxConnections"},
      problems_);
  if (!object) return;
  object->read("maxHeaderBytes", limits.max_header_bytes, 1, kMaxU32);
  object->read("maxHeaderCount", limits.max_header_count, 1, kMaxU32);
  object->read("maxUrlBytes", limits.max_url_bytes, 1, kMaxU32);
  object->read("maxBodyBytes", limits.max_body_bytes, 0, kMaxU64);
  object->read("maxConnections", limits.max_connections, 1, kMaxU32);
}

void Loader::load_timeouts(element value, const std::string& path, Timeouts& timeouts) {
  std::optional<ObjectReader> object = ObjectReader::open(
      value, path,
      {"clientHeaderMs", "clientIdleMs", "backendConnectMs", "backendResponseMs", "drainMs"},
      problems_);
  if (!object) return;
  object->read("clientHeaderMs", timeouts.client_header_ms, 1, kMaxU32);
  object->read("clientIdleMs", timeouts.client_idle_ms, 1, kMaxU32);
  object->read("backendConnectMs", timeouts.backend_connect_ms, 1, kMaxU32);
  object->read("backendResponseMs", timeouts.backend_response_ms, 1, kMaxU32);
  object->read("drainMs", timeouts.drain_ms, 1, kMaxU32);
}

void Loader::load_pool(element value, const std::string& path, Pool& pool) {
  std::optional<ObjectReader> object = ObjectReader::open(
      value, path, {"minIdle", "maxPerKey", "idleTimeoutMs", "maxWaiting", "waitTimeoutMs"},
      problems_);
  if (!object) return;
  Pool read = pool;
  const bool min_given = object->find("minIdle").has_value();
  object->read("minIdle", read.min_idle, 0, kMaxU32);
  object->read("maxPerKey", read.max_per_key, 1, kMaxU32);
  object->read("idleTimeoutMs", read.idle_timeout_ms, 1, kMaxU32);
  object->read("maxWaiting", read.max_waiting, 0, kMaxU32);
  object->read("waitTimeoutMs", read.wait_timeout_ms, 1, kMaxU32);
  if (read.min_idle > read.max_per_key) {
    problems_.add(object->path_of(min_given ? "minIdle" : "maxPerKey"),
                  "minIdle (" + std::to_string(read.min_idle) + ") must not exceed maxPerKey (" +
                      std::to_string(read.max_per_key) + ")");
  }
  pool = read;
}

// "-" is stdout and "" is off; anything else is a file, created on start
// if needed, so its directory must exist and be writable now.
void Loader::load_access_log(element value, const std::string& path, AccessLog& access_log) {
  std::optional<ObjectReader> object = ObjectReader::open(value, path, {"path"}, problems_);
  if (!object) return;
  std::optional<element> path_value = object->require("path");
  if (!path_value) return;
  const std::string key_path = object->path_of("path");
  std::optional<std::string> text = as_string(*path_value, key_path, problems_);
  if (!text) return;
  if (text->empty() || *text == "-") {
    access_log.path = *text;
    return;
  }
  const std::string file = resolve(*text);
  if (std::optional<std::string> error = check_writable_file(file)) {
    problems_.add(key_path, "cannot write the access log " + quote(file) + ": " + *error);
    return;
  }
  access_log.path = file;
}

// Each entry of an id-keyed object ("certificates", "backends", "apis") with a
// valid, unique id is passed to `load_entry(id, value, path)`; others are
// reported and skipped.

}  // namespace ringgate::config::detail
