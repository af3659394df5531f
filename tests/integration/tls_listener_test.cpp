// ringgate's HTTPS listener (issue 3, acceptance 7; DESIGN §4.1): the server
// certificate comes from the store, SNI picks among several, TLS 1.2 and 1.3,
// ALPN http/1.1 — and behind it the request still goes over mTLS to nginx.
#include <gtest/gtest.h>

#include <memory>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

// nginx requiring client-aes's CA; ringgate with edge-a and edge-b in the
// store and API "a" → nginx with client-aes.
class TlsListener : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestPki::available() || !NginxMtlsBackend::available()) {
      GTEST_SKIP() << "openssl or nginx is not installed";
    }
  }

  void start(const std::string& listener_tls_json) {
    NginxTlsOptions n;
    n.cert_pem = pki().backend_server.cert_pem;
    n.key_pem = pki().backend_server.key_pem;
    n.client_ca_pem = pki().ca.cert_pem;
    nginx_ = std::make_unique<NginxMtlsBackend>(n);
    GatewayConfig o;
    o.certificates = {{"edge-a", pki().edge_a_pfx},
                      {"edge-b", pki().edge_b_pfx},
                      {"client-aes", pki().client_aes_pfx}};
    o.backends = {{"be", nginx_->origin(), true, true, pki().ca.cert_pem}};
    o.apis = {{"a", "a", nginx_->origin() + "/api", certificate_id_policy("client-aes")}};
    o.listener_tls_json = listener_tls_json;
    o.pool = {{"minIdle", 2}, {"maxPerKey", 64}, {"idleTimeoutMs", 60000}};
    gateway_ = std::make_unique<GatewayUnderTest>(o);
  }

  // curl -v to https://<name>:<port><path>, <name> resolving to 127.0.0.1,
  // trusting only the test CA.
  CommandResult curl_https(const std::string& name, const std::string& path,
                           std::vector<std::string> extra = {}) {
    const std::string port = std::to_string(gateway_->port());
    std::vector<std::string> args{
        "-v", "-i", "--cacert", pki().ca.cert_pem, "--resolve", name + ":" + port + ":127.0.0.1"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("https://" + name + ":" + port + path);
    return curl(args);
  }

  // The subject of the certificate the listener presents for SNI `name`, as
  // `openssl s_client` prints it ("CN = a.test"); "" when the handshake failed.
  std::string served_subject(const std::string& name) {
    CommandResult r = run_command({"/usr/bin/openssl", "s_client", "-connect",
                                   "127.0.0.1:" + std::to_string(gateway_->port()), "-servername",
                                   name, "-CAfile", pki().ca.cert_pem, "-verify_return_error"},
                                  Millis(10000));
    std::smatch m;
    static const std::regex kSubject(R"(subject=\s*([^\n]*))");
    if (r.exit_code != 0 || !std::regex_search(r.out, m, kSubject)) return {};
    return m[1];
  }

  std::unique_ptr<NginxMtlsBackend> nginx_;
  std::unique_ptr<GatewayUnderTest> gateway_;
};

TEST_F(TlsListener, CurlWithTheCaReachesTheMtlsBackend) {
  start(R"({"certificateId": "edge-a"})");
  CommandResult r = curl_https("a.test", "/a/hello");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("HTTP/1.1 200"), std::string::npos) << r.out;
  EXPECT_NE(to_lower(r.out).find("x-client-fingerprint: " + to_lower(pki().client_aes.thumbprint)),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("mtls ok /api/hello"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("subject: CN=a.test"), std::string::npos) << r.err;
}

TEST_F(TlsListener, ServesTls12AndTls13) {
  start(R"({"certificateId": "edge-a"})");
  CommandResult v12 = curl_https("a.test", "/a/v12", {"--tlsv1.2", "--tls-max", "1.2"});
  ASSERT_EQ(v12.exit_code, 0) << v12.err;
  EXPECT_NE(v12.out.find("HTTP/1.1 200"), std::string::npos) << v12.out;
  EXPECT_NE(v12.err.find("SSL connection using TLSv1.2"), std::string::npos) << v12.err;
  CommandResult v13 = curl_https("a.test", "/a/v13", {"--tlsv1.3"});
  ASSERT_EQ(v13.exit_code, 0) << v13.err;
  EXPECT_NE(v13.out.find("HTTP/1.1 200"), std::string::npos) << v13.out;
  EXPECT_NE(v13.err.find("SSL connection using TLSv1.3"), std::string::npos) << v13.err;
}

TEST_F(TlsListener, AgreesOnHttp11WithAlpn) {
  start(R"({"certificateId": "edge-a"})");
  // curl offers h2 and http/1.1; the gateway speaks only the latter.
  CommandResult r = curl_https("a.test", "/a/alpn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.err, std::regex("ALPN:? server accepted (to use )?http/1\\.1")))
      << r.err;
}

// Several certificates on one listener (`tls.certificateIds`): SNI picks the
// one that names the requested host.
TEST_F(TlsListener, SniPicksTheMatchingCertificate) {
  start(R"({"certificateIds": ["edge-a", "edge-b"]})");
  EXPECT_EQ(served_subject("a.test"), "CN = a.test");
  EXPECT_EQ(served_subject("b.test"), "CN = b.test");
  // curl checks the name: it only succeeds when the listener chose b's certificate.
  CommandResult b = curl_https("b.test", "/a/b");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.out.find("HTTP/1.1 200"), std::string::npos) << b.out;
  EXPECT_NE(b.err.find("subject: CN=b.test"), std::string::npos) << b.err;
  CommandResult a = curl_https("a.test", "/a/a");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.err.find("subject: CN=a.test"), std::string::npos) << a.err;
}

}  // namespace
}  // namespace ringgate::itest
