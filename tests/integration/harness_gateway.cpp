// GatewayUnderTest: a ringgate process with a config written for the test; its
// ports are read back from ringgate's start-up log.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "harness.hpp"

namespace ringgate::itest {

namespace {

// A JSON string literal for `s`. Everything written here is ASCII; quotes and
// backslashes are the only characters that need escaping.
std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::string json_numbers(const std::map<std::string, uint64_t>& values) {
  std::string out = "{";
  for (const auto& [key, value] : values) {
    if (out.size() > 1) out += ", ";
    out += json_quote(key) + ": " + std::to_string(value);
  }
  return out + "}";
}

std::string loopback(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

std::string random_token() {
  std::random_device rd;
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string token;
  for (int i = 0; i < 32; ++i) token += kAlphabet[rd() % (sizeof kAlphabet - 1)];
  return token;
}

// Thrown by GatewayUnderTest::start() when the admin API's port was taken.
struct AdminPortTaken : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool current_test_failed() {
  return ::testing::UnitTest::GetInstance()->current_test_info() != nullptr &&
         ::testing::Test::HasFailure();
}

}  // namespace

LoggedPorts logged_ports(const std::string& log) {
  static const std::regex kListening(R"(listening on 127\.0\.0\.1:(\d+) \()");
  static const std::regex kAdmin(R"(admin API on 127\.0\.0\.1:(\d+))");
  LoggedPorts ports;
  std::istringstream lines(log);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (ports.listener == 0 && std::regex_search(line, m, kListening)) {
      ports.listener = static_cast<uint16_t>(std::stoul(m[1]));
    } else if (ports.admin == 0 && std::regex_search(line, m, kAdmin)) {
      ports.admin = static_cast<uint16_t>(std::stoul(m[1]));
    }
  }
  return ports;
}

std::string certificate_id_policy(std::string_view certificate_id) {
  return "<policies><inbound><authentication-certificate certificate-id=\"" +
         std::string(certificate_id) + "\"/></inbound></policies>";
}

std::string thumbprint_policy(std::string_view thumbprint) {
  return "<policies><inbound><authentication-certificate thumbprint=\"" + std::string(thumbprint) +
         "\"/></inbound></policies>";
}

std::string gateway_config_json(const GatewayConfig& config, uint16_t port, uint16_t admin_port,
                                const std::string& token_file) {
  std::string g;
  g += "{\n  \"gateway\": {\n";
  g += "    \"workers\": " + std::to_string(config.workers) + ",\n";
  if (!config.cpu_affinity.empty()) {
    g += "    \"cpuAffinity\": " + config.cpu_affinity + ",\n";
  }
  if (!config.user.empty()) g += "    \"user\": " + json_quote(config.user) + ",\n";
  g += "    \"listeners\": [{\"address\": \"" + loopback(port) + "\"";
  if (!config.listener_tls_json.empty()) g += ", \"tls\": " + config.listener_tls_json;
  g += "}],\n";
  g += "    \"admin\": {\"address\": \"" + loopback(admin_port) +
       "\", \"tokenFile\": " + json_quote(token_file) + "},\n";
  g += "    \"stateDir\": \"state\"";
  if (!config.config_source_json.empty()) {
    g += ",\n    \"configSource\": " + config.config_source_json;
  }
  if (!config.limits.empty()) g += ",\n    \"limits\": " + json_numbers(config.limits);
  if (!config.timeouts.empty()) g += ",\n    \"timeouts\": " + json_numbers(config.timeouts);
  if (!config.pool.empty()) g += ",\n    \"pool\": " + json_numbers(config.pool);
  if (!config.access_log_path.empty()) {
    g += ",\n    \"accessLog\": {\"path\": " + json_quote(config.access_log_path) + "}";
  }
  g += "\n  },\n";
  if (!config.certificates.empty()) {
    g += "  \"certificates\": {";
    for (size_t i = 0; i < config.certificates.size(); ++i) {
      const CertificateEntry& c = config.certificates[i];
      g += i == 0 ? "\n" : ",\n";
      g += "    " + json_quote(c.id) + ": {\"pfxFile\": " + json_quote(c.pfx.pfx_file) +
           ", \"passwordFile\": " + json_quote(c.pfx.password_file) + "}";
    }
    g += "\n  },\n";
  }
  if (!config.backends.empty()) {
    g += "  \"backends\": {";
    for (size_t i = 0; i < config.backends.size(); ++i) {
      const BackendEntity& b = config.backends[i];
      g += i == 0 ? "\n" : ",\n";
      g += "    " + json_quote(b.id) + ": {\"url\": " + json_quote(b.url) +
           ", \"tls\": {\"validateCertificateChain\": " +
           (b.validate_certificate_chain ? "true" : "false") +
           ", \"validateCertificateName\": " + (b.validate_certificate_name ? "true" : "false") +
           "}";
      if (!b.ca_file.empty()) g += ", \"caFile\": " + json_quote(b.ca_file);
      g += "}";
    }
    g += "\n  },\n";
  }
  g += "  \"apis\": {";
  for (size_t i = 0; i < config.apis.size(); ++i) {
    const ApiRoute& api = config.apis[i];
    g += i == 0 ? "\n" : ",\n";
    g += "    " + json_quote(api.id) + ": {\"path\": " + json_quote(api.path) +
         ", \"serviceUrl\": " + json_quote(api.service_url);
    if (!api.policy.empty()) g += ", \"policy\": " + json_quote(api.policy);
    g += "}";
  }
  g += config.apis.empty() ? "}\n}\n" : "\n  }\n}\n";
  return g;
}

std::optional<double> metric_value(const std::string& metrics_text, std::string_view name,
                                   std::string_view label_filter) {
  std::istringstream lines(metrics_text);
  std::string line;
  std::optional<double> total;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string::npos || std::string_view(line).substr(0, name_end) != name) {
      continue;
    }
    std::string labels;
    if (line[name_end] == '{') labels = line.substr(name_end, line.find('}', name_end) - name_end);
    if (!label_filter.empty() && labels.find(label_filter) == std::string::npos) continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    total = total.value_or(0) + std::strtod(line.c_str() + space + 1, nullptr);
  }
  return total;
}

GatewayUnderTest::GatewayUnderTest(GatewayConfig config) : config_(std::move(config)) {
  const std::string binary = ringgate_binary();
  if (!is_executable(binary)) throw std::runtime_error("RINGGATE_BIN is not executable: " + binary);
  token_ = random_token();
  write_file(dir_.file("admin.token"), token_ + "\n", 0600);
  ::mkdir(dir_.file("state").c_str(), 0700);
  ::mkdir(dir_.file("certs").c_str(), 0700);
  for (CertificateEntry& c : config_.certificates) {
    const std::string pfx = pfx_path(c.id);
    const std::string password = password_path(c.id);
    write_file(pfx, read_file(c.pfx.pfx_file), 0600);
    write_file(password, read_file(c.pfx.password_file), 0600);
    c.pfx.pfx_file = pfx;
    c.pfx.password_file = password;
  }
  config_path_ = dir_.file("ringgate.json");
  if (!config_.user.empty()) hand_over_to(config_.user);
  // ringgate's config refuses port 0 for the admin API, so its port is a free
  // one picked here; another process may take it first, hence the retries.
  for (int attempt = 1;; ++attempt) {
    admin_port_ = free_port();
    write_file(config_path_, gateway_config_json(config_, 0, admin_port_, "admin.token"));
    try {
      start();
      return;
    } catch (const AdminPortTaken&) {
      if (attempt == 3) throw;
      starts_ = 0;
    }
  }
}

void GatewayUnderTest::hand_over_to(const std::string& user) {
  const passwd* entry = ::getpwnam(user.c_str());
  if (entry == nullptr) throw std::runtime_error("no such user: " + user);
  const uid_t uid = entry->pw_uid;
  const gid_t gid = entry->pw_gid;
  // The config file is written (and rewritten) later; the directory's own
  // mode lets the user reach it.
  ::chmod(dir_.path().c_str(), 0755);
  if (::chown(dir_.path().c_str(), uid, gid) != 0) {
    throw std::runtime_error("chown " + dir_.path() + ": " + std::strerror(errno));
  }
  for (const auto& entry_path : std::filesystem::recursive_directory_iterator(dir_.path())) {
    if (::lchown(entry_path.path().c_str(), uid, gid) != 0) {
      throw std::runtime_error("chown " + entry_path.path().string() + ": " + std::strerror(errno));
    }
  }
}

void GatewayUnderTest::start() {
  const std::string name = starts_ == 0 ? "ringgate" : "ringgate-" + std::to_string(starts_ + 1);
  ++starts_;
  std::vector<std::string> argv = config_.launcher;
  argv.insert(argv.end(), {ringgate_binary(), "--config", config_path_});
  process_ = std::make_unique<Process>(std::move(argv), dir_.path(), name, config_.env);

  const auto deadline = Clock::now() + Millis(15000);
  auto fail = [&](const std::string& what) {
    return std::runtime_error("ringgate " + what + "; config:\n" + read_file(config_path_) +
                              "stderr:\n" + tail(process_->stderr_text()));
  };
  LoggedPorts ports;
  for (;;) {
    ports = logged_ports(process_->stderr_text());
    if (ports.listener != 0 && ports.admin != 0 && port_accepts(ports.listener) &&
        port_accepts(ports.admin)) {
      break;
    }
    if (!process_->running()) {
      const std::string log = process_->stderr_text();
      if (log.find("admin: ") != std::string::npos && log.find("in use") != std::string::npos) {
        throw AdminPortTaken(log);
      }
      throw fail("exited (code " + std::to_string(process_->wait_exit(Millis(0)).value_or(-1)) +
                 ") before accepting on its listener and admin ports");
    }
    if (Clock::now() >= deadline) {
      throw fail("did not log and accept on its listener and admin ports within 15 s");
    }
    std::this_thread::sleep_for(Millis(10));
  }
  if (starts_ == 1 && ports.admin == admin_port_) {
    port_ = ports.listener;
  } else if (ports.listener != port_ || ports.admin != admin_port_) {
    throw fail("came back on ports " + std::to_string(ports.listener) + "/" +
               std::to_string(ports.admin) + " instead of " + std::to_string(port_) + "/" +
               std::to_string(admin_port_));
  }
}

void GatewayUnderTest::kill_and_restart() {
  process_->stop(SIGKILL);
  if (!process_->wait_exit(Millis(10000))) throw std::runtime_error("ringgate survived SIGKILL");
  write_file(config_path_, gateway_config_json(config_, port_, admin_port_, "admin.token"));
  start();
}

GatewayUnderTest::~GatewayUnderTest() {
  std::optional<int> code = process_->terminate(SIGTERM, Millis(10000));
  if (code != 0) {
    ADD_FAILURE() << "ringgate did not exit 0 on SIGTERM (exit code "
                  << (code ? std::to_string(*code) : std::string("none: killed")) << ")";
  }
  if (current_test_failed()) {
    std::cerr << "---- ringgate config ----\n"
              << read_file(config_path_) << "---- ringgate stderr ----\n"
              << tail(process_->stderr_text(), 8192) << "\n---- ringgate stdout ----\n"
              << tail(process_->stdout_text()) << "\n----\n";
  }
}

std::string GatewayUnderTest::url(std::string_view path) const {
  return "http://" + loopback(port_) + std::string(path);
}

std::string GatewayUnderTest::state_dir() const { return dir_.file("state"); }

std::string GatewayUnderTest::pfx_path(std::string_view id) const {
  return dir_.file("certs/" + std::string(id) + ".pfx");
}

std::string GatewayUnderTest::password_path(std::string_view id) const {
  return dir_.file("certs/" + std::string(id) + ".pass");
}

HttpResponse GatewayUnderTest::admin(const std::string& method, const std::string& path,
                                     const std::string& body,
                                     const std::vector<std::string>& headers) {
  std::vector<std::string> all = headers;
  all.push_back("Authorization: Bearer " + token_);
  if (!body.empty()) all.push_back("Content-Type: application/json");
  RawClient c(admin_port_);
  const std::optional<std::string_view> sent =
      body.empty() && method != "PUT" ? std::nullopt : std::optional<std::string_view>(body);
  if (!c.send(make_request(method, path, all, sent))) {
    ADD_FAILURE() << method << " " << path << ": send failed: " << c.error();
    return {};
  }
  auto r = c.read_response(Millis(20000), method == "HEAD");
  if (!r) {
    ADD_FAILURE() << method << " " << path << ": no response: " << c.error();
    return {};
  }
  return *r;
}

std::string GatewayUnderTest::metrics() {
  try {
    RawClient c(admin_port_);
    if (!c.send(make_request("GET", "/metrics", {"Authorization: Bearer " + token_}))) return {};
    auto r = c.read_response(Millis(5000));
    if (!r || r->status != 200) return {};
    return r->body;
  } catch (const std::exception&) {
    return {};
  }
}

std::optional<double> GatewayUnderTest::metric(std::string_view name,
                                               std::string_view label_filter) {
  return metric_value(metrics(), name, label_filter);
}

HttpResponse GatewayUnderTest::get(const std::string& target) {
  RawClient c(port_);
  if (!c.send(make_request("GET", target))) {
    ADD_FAILURE() << "GET " << target << ": send failed: " << c.error();
    return {};
  }
  auto r = c.read_final_response(Millis(10000));
  if (!r) {
    ADD_FAILURE() << "GET " << target << ": no response: " << c.error();
    return {};
  }
  return *r;
}

bool GatewayUnderTest::wait_for_log(const std::regex& pattern, Millis timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    std::istringstream lines(process_->stderr_text());
    std::string line;
    while (std::getline(lines, line)) {
      if (std::regex_search(line, pattern)) return true;
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Millis(20));
  }
}

}  // namespace ringgate::itest
