// Backend mTLS through ringgate, the refusals: server validation switched by
// the backend entity, backends that refuse our certificate in the handshake,
// and --check-config on broken certificates and CA files.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "harness.hpp"
#include "mtls_support.hpp"

namespace ringgate::itest {
namespace {

// ---------------------------------------------------------------------------
// Acceptance 3: server validation from the backend entity.

class MtlsValidation : public ::testing::Test {
 protected:
  // nginx with `server` (no client certificate asked for) behind an API
  // "v" whose backend entity has the given validation switches.
  void start(const TestCert& server, bool validate_chain, bool validate_name) {
    NginxTlsOptions n;
    n.cert_pem = server.cert_pem;
    n.key_pem = server.key_pem;
    n.verify_client = "off";
    nginx_ = std::make_unique<NginxMtlsBackend>(n);
    GatewayConfig o;
    o.backends = {{"be", nginx_->origin(), validate_chain, validate_name, pki().ca.cert_pem}};
    o.apis = {{"v", "v", nginx_->origin() + "/api", ""}};
    o.pool = kPool;
    gateway_ = std::make_unique<GatewayUnderTest>(o);
  }

  std::unique_ptr<NginxMtlsBackend> nginx_;
  std::unique_ptr<GatewayUnderTest> gateway_;
};

TEST_F(MtlsValidation, SelfSignedBackendIsRefusedWhenTheChainIsValidated) {
  REQUIRE_TLS_PEERS();
  start(pki().self_signed_server, true, true);
  HttpResponse r = gateway_->get("/v/x");
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_EQ(nginx_->stub_status().value_or(StubStatus{}).requests, 1)
      << "only the status request should have reached nginx";
  EXPECT_TRUE(gateway_->wait_for_log(icase("certificate verify failed")))
      << "no log line naming the verification failure";
}

TEST_F(MtlsValidation, SelfSignedBackendIsAcceptedWhenValidationIsOff) {
  REQUIRE_TLS_PEERS();
  start(pki().self_signed_server, false, false);
  HttpResponse r = gateway_->get("/v/x");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "mtls ok /api/x\n");
}

TEST_F(MtlsValidation, MisnamedBackendIsRefusedWhenTheNameIsValidated) {
  REQUIRE_TLS_PEERS();
  start(pki().wrong_name_server, true, true);
  HttpResponse r = gateway_->get("/v/x");
  EXPECT_EQ(r.status, 502) << r.body;
  // serviceUrl has an IP literal: OpenSSL calls it "IP address mismatch"
  // there and "hostname mismatch" for a DNS name; either names the failure.
  EXPECT_TRUE(gateway_->wait_for_log(icase("(hostname|IP address) mismatch")))
      << "no log line naming the name mismatch";
}

TEST_F(MtlsValidation, MisnamedBackendIsAcceptedWhenOnlyTheChainIsValidated) {
  REQUIRE_TLS_PEERS();
  start(pki().wrong_name_server, true, false);
  HttpResponse r = gateway_->get("/v/x");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "mtls ok /api/x\n");
}

// ---------------------------------------------------------------------------
// Acceptance 4: backends that refuse our client certificate.

TEST(Mtls, BackendRefusingOurCertificateInTheHandshakeGives502) {
  REQUIRE_TLS_PEERS();
  OpensslServer server(pki().backend_server, pki().ca.cert_pem);
  GatewayConfig o;
  o.certificates = {{"client-untrusted", pki().client_untrusted_pfx}};
  o.backends = {trusting_backend(server.origin())};
  o.apis = {{"a", "a", server.origin() + "/api", certificate_id_policy("client-untrusted")}};
  o.pool = kPool;
  GatewayUnderTest gateway(o);
  HttpResponse r = gateway.get("/a/x");
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_TRUE(gateway.wait_for_log(icase("backend rejected the handshake")))
      << "no log line saying the backend rejected the handshake";
}

TEST(Mtls, BackendRefusingOurCertificateBacksThePoolOff) {
  REQUIRE_TLS_PEERS();
  // TLS 1.3: the refusal comes after our side of the handshake is done, so
  // the connection looked good for a moment; it still counts as a failure.
  OpensslServer server(pki().backend_server, pki().ca.cert_pem);
  GatewayConfig o;
  o.certificates = {{"client-untrusted", pki().client_untrusted_pfx}};
  o.backends = {trusting_backend(server.origin())};
  o.apis = {{"a", "a", server.origin() + "/api", certificate_id_policy("client-untrusted")}};
  o.pool = {{"minIdle", 4}};
  GatewayUnderTest gateway(o);

  std::this_thread::sleep_for(Millis(5000));
  const std::string metrics = gateway.metrics();
  const double connects = metric_value(metrics, "ringgate_pool_connects_total").value_or(0);
  EXPECT_GE(connects, 4) << metrics;
  EXPECT_LT(connects, 30) << metrics;
  EXPECT_EQ(metric_value(metrics, "ringgate_pool_connect_failures_total").value_or(0), connects)
      << "each refused connection counts once\n"
      << metrics;
}

TEST(Mtls, MissingCertificateRefusedInTheHandshakeGives502) {
  REQUIRE_TLS_PEERS();
  OpensslServer server(pki().backend_server, pki().ca.cert_pem);
  GatewayConfig o;
  o.backends = {trusting_backend(server.origin())};
  o.apis = {{"a", "a", server.origin() + "/api", ""}};
  o.pool = kPool;
  GatewayUnderTest gateway(o);
  HttpResponse r = gateway.get("/a/x");
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_TRUE(gateway.wait_for_log(icase("backend rejected the handshake")))
      << "no log line saying the backend rejected the handshake";
}

// nginx completes the handshake and answers a missing certificate with its own
// 400 page, which a proxy relays as it is (DESIGN §9).
TEST(Mtls, NginxRefusalOfAMissingCertificateIsRelayed) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  GatewayConfig o;
  o.backends = {trusting_backend(nginx.origin())};
  o.apis = {{"a", "a", nginx.origin() + "/api", ""}};
  o.pool = kPool;
  GatewayUnderTest gateway(o);
  HttpResponse r = gateway.get("/a/x");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("No required SSL certificate was sent"), std::string::npos) << r.body;
}

// ---------------------------------------------------------------------------
// Acceptance 5: --check-config tells broken PFX files apart.

TEST(Mtls, CheckConfigNamesEachBrokenCertificateAndWhy) {
  if (!TestPki::available()) GTEST_SKIP() << "openssl is not installed";
  TempDir dir;
  write_file(dir.file("admin.token"), "secret\n", 0600);
  GatewayConfig o;
  o.certificates = {{"good", pki().client_aes_pfx},
                    {"wrong-password", pki().wrong_password_pfx},
                    {"truncated", pki().truncated_pfx},
                    {"no-key", pki().no_key_pfx}};
  write_file(dir.file("ringgate.json"), gateway_config_json(o, 0, free_port(), "admin.token"));
  CommandResult r = run_command({ringgate_binary(), "--check-config", dir.file("ringgate.json")});
  EXPECT_EQ(r.exit_code, 1);
  const std::string output = r.out + r.err;

  // The line naming `id`'s JSON path, or "" when there is none.
  auto line_for = [&](const std::string& id) {
    const std::regex path("\\$\\.certificates\\." + id + "(?![\\w-])");
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
      if (std::regex_search(line, path)) return line;
    }
    return std::string();
  };
  struct Case {
    const char* id;
    const char* reason;      // what its line must say
    const char* not_reason;  // what it must not say: the others' reasons
  };
  const Case cases[] = {
      {"wrong-password", "password", "corrupt|truncated|private key"},
      {"truncated", "corrupt|truncated", "password|private key"},
      {"no-key", "private key", "password|corrupt|truncated"},
  };
  for (const Case& c : cases) {
    const std::string line = line_for(c.id);
    ASSERT_FALSE(line.empty()) << "no line names $.certificates." << c.id << " in:\n" << output;
    EXPECT_TRUE(std::regex_search(line, icase(c.reason))) << line;
    EXPECT_FALSE(std::regex_search(line, icase(c.not_reason))) << line;
  }
  EXPECT_TRUE(line_for("good").empty()) << output;
}

// --check-config on a config made from `o` in `dir`; the output of both streams.
CommandResult check_tls_config(const TempDir& dir, const GatewayConfig& o) {
  write_file(dir.file("admin.token"), "secret\n", 0600);
  write_file(dir.file("ringgate.json"), gateway_config_json(o, 0, free_port(), "admin.token"));
  return run_command({ringgate_binary(), "--check-config", dir.file("ringgate.json")});
}

TEST(Mtls, CheckConfigRefusesACaFileHoldingNoCertificate) {
  if (!TestPki::available()) GTEST_SKIP() << "openssl is not installed";
  TempDir dir;
  write_file(dir.file("empty-ca.pem"), "# the bundle is still to be filled in\n");
  GatewayConfig o;
  o.backends = {{"orders", "https://127.0.0.1:9", true, true, dir.file("empty-ca.pem")}};
  o.apis = {{"orders", "orders", "https://127.0.0.1:9/api", ""}};
  CommandResult r = check_tls_config(dir, o);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const std::string output = r.out + r.err;
  EXPECT_TRUE(std::regex_search(
      output,
      std::regex(R"(\$\.backends\.orders\.caFile: .*empty-ca\.pem.* holds no certificate)")))
      << output;
}

TEST(Mtls, CheckConfigRefusesAClientCertificateWithTooWeakAKey) {
  if (!TestPki::available()) GTEST_SKIP() << "openssl is not installed";
  TempDir dir;
  const std::string key = dir.file("weak.key");
  const std::string crt = dir.file("weak.crt");
  TestPfx weak{dir.file("weak.pfx"), dir.file("weak.pass"), ""};
  openssl({"req", "-x509", "-newkey", "rsa:512", "-nodes", "-subj", "/CN=weak-client", "-days",
           "30", "-keyout", key, "-out", crt});
  openssl({"pkcs12", "-export", "-inkey", key, "-in", crt, "-out", weak.pfx_file, "-passout",
           "pass:weak"});
  write_file(weak.password_file, "weak\n", 0600);
  GatewayConfig o;
  o.certificates = {{"weak", weak}};
  o.apis = {{"orders", "orders", "https://127.0.0.1:9/api", certificate_id_policy("weak")}};
  CommandResult r = check_tls_config(dir, o);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const std::string output = r.out + r.err;
  EXPECT_TRUE(std::regex_search(
      output, std::regex(R"(\$\.apis\.orders\.policy: client certificate "weak": key too weak)")))
      << output;
}

}  // namespace
}  // namespace ringgate::itest
