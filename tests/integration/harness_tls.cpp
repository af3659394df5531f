// TLS pieces of the integration harness: a PKI made with the openssl CLI, nginx
// as an mTLS backend with a stub_status port, and `openssl s_server` as a
// backend that refuses client certificates in the handshake.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <iostream>
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

}  // namespace ringgate::itest
