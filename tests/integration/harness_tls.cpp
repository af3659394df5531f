// TLS pieces of the integration harness (issue 3): a PKI made with the openssl
// CLI, nginx as an mTLS backend with a stub_status port, `openssl s_server` as
// a backend that refuses client certificates in the handshake, and ringgate
// with certificates, backend entities, policies and TLS listeners.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "harness.hpp"

namespace ringgate::itest {

namespace {

constexpr const char* kOpenssl = "/usr/bin/openssl";
constexpr const char* kNginx = "/usr/sbin/nginx";

bool current_test_failed() {
  return ::testing::UnitTest::GetInstance()->current_test_info() != nullptr &&
         ::testing::Test::HasFailure();
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : " ") + part;
  return out;
}

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

std::string random_token() {
  std::random_device rd;
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string token;
  for (int i = 0; i < 32; ++i) token += kAlphabet[rd() % (sizeof kAlphabet - 1)];
  return token;
}

// Waits until `port` accepts TCP connections; throws (quoting the process's
// stderr) when `process` exits first or `timeout` passes.
void wait_until_listening(Process& process, uint16_t port, Millis timeout) {
  auto deadline = Clock::now() + timeout;
  while (!port_accepts(port)) {
    if (!process.running()) {
      throw std::runtime_error(process.name() + " exited before accepting on port " +
                               std::to_string(port) + "; stderr:\n" + tail(process.stderr_text()) +
                               "\nstdout:\n" + tail(process.stdout_text()));
    }
    if (Clock::now() >= deadline) {
      throw std::runtime_error(process.name() + " did not accept on port " + std::to_string(port) +
                               " in time; stderr:\n" + tail(process.stderr_text()));
    }
    std::this_thread::sleep_for(Millis(10));
  }
}

// ---------------------------------------------------------------------------
// PKI generation

// X.509v3 extensions for each kind of certificate, as `openssl x509 -extfile` reads them.
constexpr const char* kCaExtensions =
    "basicConstraints=critical,CA:TRUE\n"
    "keyUsage=critical,keyCertSign,cRLSign\n"
    "subjectKeyIdentifier=hash\n";

std::string server_extensions(std::string_view subject_alt_names) {
  return "basicConstraints=CA:FALSE\n"
         "keyUsage=critical,digitalSignature,keyEncipherment\n"
         "extendedKeyUsage=serverAuth\n"
         "subjectAltName=" +
         std::string(subject_alt_names) + "\n";
}

constexpr const char* kClientExtensions =
    "basicConstraints=CA:FALSE\n"
    "keyUsage=critical,digitalSignature,keyEncipherment\n"
    "extendedKeyUsage=clientAuth\n";

enum class KeyType { kEcP256, kRsa2048 };

std::vector<std::string> new_key_args(KeyType type) {
  if (type == KeyType::kRsa2048) return {"-newkey", "rsa:2048"};
  return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"};
}

// Makes the PKI's files under `dir`. Serial numbers come from a counter so no
// two certificates of one CA share one.
class PkiBuilder {
 public:
  explicit PkiBuilder(const TempDir& dir, int first_serial = 1000)
      : dir_(dir), serial_(first_serial) {}

  TestCert self_signed(const std::string& name, const std::string& cn, const std::string& ext) {
    TestCert cert = paths(name);
    write_file(dir_.file(name + ".ext"), ext);
    std::vector<std::string> args = {"req", "-x509", "-nodes", "-days", "825"};
    for (auto& arg : new_key_args(KeyType::kEcP256)) args.push_back(arg);
    args.insert(args.end(), {"-subj", "/CN=" + cn, "-keyout", cert.key_pem, "-out", cert.cert_pem});
    args.insert(args.end(), {"-set_serial", next_serial(), "-extensions", "v3_self"});
    args.insert(args.end(), {"-config", write_req_config(name, ext)});
    openssl(args);
    return describe(cert);
  }

  TestCert signed_by(const TestCert& ca, const std::string& name, const std::string& cn,
                     const std::string& ext, KeyType type = KeyType::kEcP256) {
    TestCert cert = paths(name);
    const std::string csr = dir_.file(name + ".csr");
    std::vector<std::string> req = {"req", "-new", "-nodes"};
    for (auto& arg : new_key_args(type)) req.push_back(arg);
    req.insert(req.end(), {"-subj", "/CN=" + cn, "-keyout", cert.key_pem, "-out", csr});
    openssl(req);
    write_file(dir_.file(name + ".ext"), ext);
    openssl({"x509", "-req", "-in", csr, "-CA", ca.cert_pem, "-CAkey", ca.key_pem, "-set_serial",
             next_serial(), "-days", "825", "-sha256", "-extfile", dir_.file(name + ".ext"), "-out",
             cert.cert_pem});
    return describe(cert);
  }

  // A PFX of `cert` (+ its key unless `with_key` is false, + `chain` when
  // given) with `password` in <name>.pass.
  TestPfx pfx(const TestCert& cert, const std::string& name, const std::string& password,
              bool legacy, bool with_key = true, const std::string& chain = {}) {
    TestPfx out;
    out.pfx_file = dir_.file(name + ".pfx");
    out.password_file = dir_.file(name + ".pass");
    write_file(out.password_file, password + "\n", 0600);
    std::vector<std::string> args = {"pkcs12", "-export", "-name", name};
    args.insert(args.end(), {"-in", cert.cert_pem, "-out", out.pfx_file});
    args.insert(args.end(), {"-passout", "file:" + out.password_file});
    if (legacy) args.push_back("-legacy");
    if (with_key) {
      args.insert(args.end(), {"-inkey", cert.key_pem});
    } else {
      args.push_back("-nokeys");
    }
    if (!chain.empty()) args.insert(args.end(), {"-certfile", chain});
    openssl(args);
    ::chmod(out.pfx_file.c_str(), 0600);
    out.thumbprint = cert.thumbprint;
    return out;
  }

 private:
  TestCert paths(const std::string& name) const {
    TestCert cert;
    cert.cert_pem = dir_.file(name + ".pem");
    cert.key_pem = dir_.file(name + ".key");
    return cert;
  }

  static TestCert describe(TestCert cert) {
    cert.thumbprint = certificate_thumbprint(cert.cert_pem);
    std::string subject =
        openssl({"x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", cert.cert_pem}).out;
    subject.erase(0, subject.find('=') + 1);
    while (!subject.empty() && std::isspace(static_cast<unsigned char>(subject.back()))) {
      subject.pop_back();
    }
    cert.subject = subject;
    return cert;
  }

  // `req -x509` takes extensions from a config section, not from -extfile.
  std::string write_req_config(const std::string& name, const std::string& ext) const {
    const std::string path = dir_.file(name + ".cnf");
    write_file(path, "[req]\ndistinguished_name = dn\n[dn]\n[v3_self]\n" + ext);
    return path;
  }

  std::string next_serial() { return std::to_string(++serial_); }

  const TempDir& dir_;
  int serial_;
};

}  // namespace

// ---------------------------------------------------------------------------
// openssl helpers

CommandResult openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{kOpenssl};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = run_command(argv, Millis(30000));
  if (r.exit_code != 0) {
    throw std::runtime_error("`openssl " + join(args) + "` failed (exit " +
                             (r.exit_code ? std::to_string(*r.exit_code) : "timeout") + "):\n" +
                             tail(r.err + r.out));
  }
  return r;
}

std::string certificate_thumbprint(const std::string& cert_pem) {
  // "sha1 Fingerprint=AB:CD:…" (OpenSSL 1.1 wrote "SHA1 Fingerprint=").
  std::string line = openssl({"x509", "-noout", "-fingerprint", "-sha1", "-in", cert_pem}).out;
  std::string hex;
  for (char ch : line.substr(line.find('=') + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(ch))) {
      hex += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
  }
  if (hex.size() != 40) throw std::runtime_error("unexpected fingerprint output: " + line);
  return hex;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return out;
}

TestPfx make_client_pfx(const TempDir& dir, const std::string& name, const TestCert& ca,
                        const std::string& password) {
  // Serials apart from the shared PKI's, and from each other's.
  static std::atomic<int> next_serial{500000};
  PkiBuilder b(dir, next_serial.fetch_add(1));
  const TestCert cert = b.signed_by(ca, name, name + ".client.test", kClientExtensions);
  return b.pfx(cert, name, password, /*legacy=*/false);
}

// ---------------------------------------------------------------------------
// TestPki

bool TestPki::available() { return is_executable(kOpenssl); }

const TestPki& TestPki::shared() {
  static const TestPki pki;
  return pki;
}

TestPki::TestPki() {
  PkiBuilder b(dir_);
  ca = b.self_signed("ca", "ringgate test CA", kCaExtensions);
  other_ca = b.self_signed("other-ca", "untrusted test CA", kCaExtensions);

  const std::string loopback_names = "IP:127.0.0.1,DNS:localhost";
  backend_server =
      b.signed_by(ca, "backend-server", "backend.test", server_extensions(loopback_names));
  self_signed_server =
      b.self_signed("self-signed-server", "self-signed.test", server_extensions(loopback_names));
  wrong_name_server =
      b.signed_by(ca, "wrong-name-server", "wrong.example", server_extensions("DNS:wrong.example"));

  // The legacy one is RSA, as Windows certificate exports are.
  client_legacy =
      b.signed_by(ca, "client-legacy", "client-legacy", kClientExtensions, KeyType::kRsa2048);
  client_legacy_pfx = b.pfx(client_legacy, "client-legacy", "legacy-pass", true, true, ca.cert_pem);
  client_aes = b.signed_by(ca, "client-aes", "client-aes", kClientExtensions);
  client_aes_pfx = b.pfx(client_aes, "client-aes", "aes-pass", false);
  client_replacement =
      b.signed_by(ca, "client-replacement", "client-replacement", kClientExtensions);
  client_replacement_pfx = b.pfx(client_replacement, "client-replacement", "rotated-pass", false);
  client_untrusted =
      b.signed_by(other_ca, "client-untrusted", "client-untrusted", kClientExtensions);
  client_untrusted_pfx = b.pfx(client_untrusted, "client-untrusted", "untrusted-pass", false);

  edge_a = b.signed_by(ca, "edge-a", "a.test", server_extensions("DNS:a.test"));
  edge_a_pfx = b.pfx(edge_a, "edge-a", "edge-a-pass", false);
  edge_b = b.signed_by(ca, "edge-b", "b.test", server_extensions("DNS:b.test"));
  edge_b_pfx = b.pfx(edge_b, "edge-b", "edge-b-pass", false);

  no_key_pfx = b.pfx(client_aes, "no-key", "no-key-pass", false, false);

  truncated_pfx.pfx_file = dir_.file("truncated.pfx");
  truncated_pfx.password_file = client_aes_pfx.password_file;
  const std::string whole = read_file(client_aes_pfx.pfx_file);
  write_file(truncated_pfx.pfx_file, whole.substr(0, whole.size() / 2), 0600);

  wrong_password_pfx.pfx_file = client_aes_pfx.pfx_file;
  wrong_password_pfx.password_file = dir_.file("wrong.pass");
  write_file(wrong_password_pfx.password_file, "not-the-password\n", 0600);
}

// ---------------------------------------------------------------------------
// NginxMtlsBackend

namespace {

std::string mtls_nginx_config(const std::string& dir, uint16_t port, uint16_t status_port,
                              const NginxTlsOptions& o) {
  static const std::pair<const char*, const char*> kHeaders[] = {
      {"X-Client-Fingerprint", "$ssl_client_fingerprint"},
      {"X-Client-DN", "$ssl_client_s_dn"},
      {"X-Client-Verify", "$ssl_client_verify"},
      {"X-Connection", "$connection"},
      {"X-Connection-Requests", "$connection_requests"},
      {"X-Request-Uri", "$request_uri"},
      {"X-Server-Name", "$ssl_server_name"},
  };
  std::string c;
  c += "daemon off;\nmaster_process off;\n";
  c += "pid " + dir + "/nginx.pid;\n";
  c += "error_log stderr info;\n";
  c += "events { worker_connections 4096; }\n";
  c += "http {\n  access_log off;\n";
  for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    c += std::string("  ") + t + "_temp_path " + dir + "/tmp/" + t + ";\n";
  }
  c += "  default_type text/plain;\n";
  c += "  keepalive_requests " + std::to_string(o.keepalive_requests) + ";\n";
  c += "  keepalive_timeout 75s;\n";
  c += "  server {\n";
  c += "    listen 127.0.0.1:" + std::to_string(port) + " ssl backlog=4096;\n";
  c += "    ssl_certificate " + o.cert_pem + ";\n";
  c += "    ssl_certificate_key " + o.key_pem + ";\n";
  c += "    ssl_protocols TLSv1.2 TLSv1.3;\n";
  if (!o.client_ca_pem.empty()) c += "    ssl_client_certificate " + o.client_ca_pem + ";\n";
  c += "    ssl_verify_client " + o.verify_client + ";\n";
  c += "    ssl_verify_depth 2;\n";
  c += "    location / {\n";
  for (const auto& [name, value] : kHeaders) {
    c += std::string("      add_header ") + name + " \"" + value + "\" always;\n";
  }
  c += "      return 200 \"mtls ok $request_uri\\n\";\n    }\n  }\n";
  c += "  server {\n";
  c += "    listen 127.0.0.1:" + std::to_string(status_port) + ";\n";
  c += "    location = /status { stub_status; }\n  }\n";
  c += "}\n";
  return c;
}

}  // namespace

bool NginxMtlsBackend::available() { return is_executable(kNginx); }

NginxMtlsBackend::NginxMtlsBackend(NginxTlsOptions options) {
  if (!available()) throw std::runtime_error("nginx is not installed");
  if (options.cert_pem.empty() || options.key_pem.empty()) {
    throw std::runtime_error("NginxMtlsBackend needs a server certificate and key");
  }
  ::mkdir(dir_.file("tmp").c_str(), 0700);
  port_ = free_port();
  status_port_ = free_port();
  while (status_port_ == port_) status_port_ = free_port();
  write_file(dir_.file("nginx.conf"), mtls_nginx_config(dir_.path(), port_, status_port_, options));
  start();
}

NginxMtlsBackend::~NginxMtlsBackend() {
  if (current_test_failed() && process_) {
    std::cerr << "---- " << process_->name() << " stderr ----\n"
              << tail(process_->stderr_text()) << "\n----\n";
  }
  if (process_) process_->terminate(SIGTERM, Millis(3000));
}

std::string NginxMtlsBackend::origin() const {
  return "https://127.0.0.1:" + std::to_string(port_);
}

void NginxMtlsBackend::kill() {
  if (!process_) return;
  process_->stop(SIGKILL);
  process_->wait_exit(Millis(5000));
}

void NginxMtlsBackend::start() {
  if (process_ && process_->running()) throw std::runtime_error("nginx is still running");
  const std::string name = generation_ == 0 ? "nginx" : "nginx-" + std::to_string(generation_);
  ++generation_;
  process_ =
      std::make_unique<Process>(std::vector<std::string>{kNginx, "-p", dir_.path(), "-c",
                                                         dir_.file("nginx.conf"), "-e", "stderr"},
                                dir_.path(), name);
  wait_until_listening(*process_, port_, Millis(10000));
  wait_until_listening(*process_, status_port_, Millis(10000));
}

std::optional<StubStatus> NginxMtlsBackend::stub_status() {
  try {
    RawClient c(status_port_);
    if (!c.send(make_request("GET", "/status", {"Connection: close"}))) return std::nullopt;
    auto r = c.read_response(Millis(3000));
    if (!r || r->status != 200) return std::nullopt;
    // "Active connections: 1 \nserver accepts handled requests\n 1 1 1 \n…"
    static const std::regex kPage(
        R"(Active connections:\s*(\d+)\s*\nserver accepts handled requests\s*\n\s*(\d+)\s+(\d+)\s+(\d+))");
    std::smatch m;
    if (!std::regex_search(r->body, m, kPage)) return std::nullopt;
    StubStatus s;
    s.active = std::stol(m[1]);
    s.accepts = std::stol(m[2]);
    s.requests = std::stol(m[4]);
    return s;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// ---------------------------------------------------------------------------
// OpensslServer

OpensslServer::OpensslServer(const TestCert& server, const std::string& client_ca_pem) {
  if (!TestPki::available()) throw std::runtime_error("openssl is not installed");
  port_ = free_port();
  process_ = std::make_unique<Process>(
      std::vector<std::string>{kOpenssl, "s_server", "-accept",
                               "127.0.0.1:" + std::to_string(port_), "-cert", server.cert_pem,
                               "-key", server.key_pem, "-CAfile", client_ca_pem, "-Verify", "1",
                               "-verify_return_error", "-www"},
      dir_.path(), "s_server");
  wait_until_listening(*process_, port_, Millis(10000));
}

OpensslServer::~OpensslServer() {
  if (current_test_failed()) {
    std::cerr << "---- s_server stdout+stderr ----\n"
              << tail(process_->stdout_text() + process_->stderr_text()) << "\n----\n";
  }
  process_->terminate(SIGTERM, Millis(3000));
}

std::string OpensslServer::origin() const { return "https://127.0.0.1:" + std::to_string(port_); }

// ---------------------------------------------------------------------------
// Config documents

std::string certificate_id_policy(std::string_view certificate_id) {
  return "<policies><inbound><authentication-certificate certificate-id=\"" +
         std::string(certificate_id) + "\"/></inbound></policies>";
}

std::string thumbprint_policy(std::string_view thumbprint) {
  return "<policies><inbound><authentication-certificate thumbprint=\"" + std::string(thumbprint) +
         "\"/></inbound></policies>";
}

std::string tls_gateway_config_json(const TlsGatewayOptions& options, uint16_t port,
                                    uint16_t admin_port, const std::string& token_file) {
  std::string g;
  g += "{\n  \"gateway\": {\n";
  g += "    \"workers\": " + std::to_string(options.workers) + ",\n";
  g += "    \"listeners\": [{\"address\": \"127.0.0.1:" + std::to_string(port) + "\"";
  if (!options.listener_tls_json.empty()) g += ", \"tls\": " + options.listener_tls_json;
  g += "}],\n";
  g += "    \"admin\": {\"address\": \"127.0.0.1:" + std::to_string(admin_port) +
       "\", \"tokenFile\": " + json_quote(token_file) + "},\n";
  g += "    \"stateDir\": \"state\"";
  if (!options.pool.empty()) g += ",\n    \"pool\": " + json_numbers(options.pool);
  if (!options.timeouts.empty()) g += ",\n    \"timeouts\": " + json_numbers(options.timeouts);
  g += "\n  },\n  \"certificates\": {";
  for (size_t i = 0; i < options.certificates.size(); ++i) {
    const CertificateEntry& c = options.certificates[i];
    g += i == 0 ? "\n" : ",\n";
    g += "    " + json_quote(c.id) + ": {\"pfxFile\": " + json_quote(c.pfx.pfx_file) +
         ", \"passwordFile\": " + json_quote(c.pfx.password_file) + "}";
  }
  g += options.certificates.empty() ? "},\n" : "\n  },\n";
  g += "  \"backends\": {";
  for (size_t i = 0; i < options.backends.size(); ++i) {
    const BackendEntity& b = options.backends[i];
    g += i == 0 ? "\n" : ",\n";
    g += "    " + json_quote(b.id) + ": {\"url\": " + json_quote(b.url) +
         ", \"tls\": {\"validateCertificateChain\": " +
         (b.validate_certificate_chain ? "true" : "false") +
         ", \"validateCertificateName\": " + (b.validate_certificate_name ? "true" : "false") + "}";
    if (!b.ca_file.empty()) g += ", \"caFile\": " + json_quote(b.ca_file);
    g += "}";
  }
  g += options.backends.empty() ? "},\n" : "\n  },\n";
  g += "  \"apis\": {";
  for (size_t i = 0; i < options.apis.size(); ++i) {
    const PolicyApi& api = options.apis[i];
    g += i == 0 ? "\n" : ",\n";
    g += "    " + json_quote(api.id) + ": {\"path\": " + json_quote(api.path) +
         ", \"serviceUrl\": " + json_quote(api.service_url);
    if (!api.policy.empty()) g += ", \"policy\": " + json_quote(api.policy);
    g += "}";
  }
  g += options.apis.empty() ? "}\n}\n" : "\n  }\n}\n";
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

// ---------------------------------------------------------------------------
// TlsGateway

TlsGateway::TlsGateway(TlsGatewayOptions options) {
  const std::string binary = ringgate_binary();
  if (!is_executable(binary)) throw std::runtime_error("RINGGATE_BIN is not executable: " + binary);
  port_ = free_port();
  admin_port_ = free_port();
  while (admin_port_ == port_) admin_port_ = free_port();
  token_ = random_token();
  write_file(dir_.file("admin.token"), token_ + "\n", 0600);
  ::mkdir(dir_.file("state").c_str(), 0700);
  ::mkdir(dir_.file("certs").c_str(), 0700);
  for (CertificateEntry& c : options.certificates) {
    const std::string pfx = pfx_path(c.id);
    const std::string password = password_path(c.id);
    write_file(pfx, read_file(c.pfx.pfx_file), 0600);
    write_file(password, read_file(c.pfx.password_file), 0600);
    c.pfx.pfx_file = pfx;
    c.pfx.password_file = password;
  }
  config_path_ = dir_.file("ringgate.json");
  write_file(config_path_, tls_gateway_config_json(options, port_, admin_port_, "admin.token"));
  start();
}

void TlsGateway::start() {
  const std::string name = starts_ == 0 ? "ringgate" : "ringgate-" + std::to_string(starts_ + 1);
  ++starts_;
  process_ = std::make_unique<Process>(
      std::vector<std::string>{ringgate_binary(), "--config", config_path_}, dir_.path(), name);

  auto deadline = Clock::now() + Millis(15000);
  for (uint16_t port : {port_, admin_port_}) {
    while (!port_accepts(port)) {
      if (!process_->running()) {
        throw std::runtime_error(
            "ringgate exited (code " + std::to_string(process_->wait_exit(Millis(0)).value_or(-1)) +
            ") before accepting on " + std::to_string(port) + "; config:\n" +
            read_file(config_path_) + "stderr:\n" + tail(process_->stderr_text()));
      }
      if (Clock::now() >= deadline) {
        throw std::runtime_error("ringgate did not accept on port " + std::to_string(port) +
                                 " within 15 s; stderr:\n" + tail(process_->stderr_text()));
      }
      std::this_thread::sleep_for(Millis(10));
    }
  }
}

void TlsGateway::kill_and_restart() {
  process_->stop(SIGKILL);
  if (!process_->wait_exit(Millis(10000))) throw std::runtime_error("ringgate survived SIGKILL");
  start();
}

HttpResponse TlsGateway::admin(const std::string& method, const std::string& path,
                               const std::string& body, const std::vector<std::string>& headers) {
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

TlsGateway::~TlsGateway() {
  // A clean exit on SIGTERM is part of the contract (DESIGN §6), as for Gateway.
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

std::string TlsGateway::state_dir() const { return dir_.file("state"); }

std::string TlsGateway::pfx_path(std::string_view id) const {
  return dir_.file("certs/" + std::string(id) + ".pfx");
}

std::string TlsGateway::password_path(std::string_view id) const {
  return dir_.file("certs/" + std::string(id) + ".pass");
}

std::string TlsGateway::metrics() {
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

std::optional<double> TlsGateway::metric(std::string_view name, std::string_view label_filter) {
  return metric_value(metrics(), name, label_filter);
}

HttpResponse TlsGateway::get(const std::string& target) {
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

bool TlsGateway::wait_for_log(const std::regex& pattern, Millis timeout) {
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
