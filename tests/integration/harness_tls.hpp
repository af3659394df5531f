// Integration-test harness, TLS part: a test PKI made with the openssl CLI
// (certificates, keys, PFX files), nginx as an mTLS backend, and openssl
// s_server for what nginx cannot do.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness_base.hpp"

namespace ringgate::itest {

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

// The PKI every test in this process shares (TestPki::shared()).
inline const TestPki& pki() { return TestPki::shared(); }

// nginx presenting the CA-signed backend certificate and requiring a client
// certificate the CA signed.
inline NginxTlsOptions mtls_nginx_options() {
  NginxTlsOptions o;
  o.cert_pem = pki().backend_server.cert_pem;
  o.key_pem = pki().backend_server.key_pem;
  o.client_ca_pem = pki().ca.cert_pem;
  return o;
}

}  // namespace ringgate::itest

// Skips the current test where openssl or nginx is missing.
#define REQUIRE_TLS_PEERS()                                  \
  do {                                                       \
    if (!::ringgate::itest::TestPki::available() ||          \
        !::ringgate::itest::NginxMtlsBackend::available()) { \
      GTEST_SKIP() << "openssl or nginx is not installed";   \
    }                                                        \
  } while (0)
