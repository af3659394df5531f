// The mTLS harness pieces on their own, without ringgate (the test PKI, nginx
// as an mTLS backend, openssl s_server, metric parsing): when an Mtls_* test
// fails, these say whether the harness or the gateway is at fault.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "harness.hpp"

namespace ringgate::itest {
namespace {

// ---------------------------------------------------------------------------
// The harness on its own

TEST(MtlsHarness, PkiThumbprintsMatchTheDerSha1) {
  if (!TestPki::available()) GTEST_SKIP() << "openssl is not installed";
  const TestCert& c = pki().client_aes;
  ASSERT_EQ(c.thumbprint.size(), 40u);
  EXPECT_EQ(c.thumbprint.find_first_not_of("0123456789ABCDEF"), std::string::npos);
  // An independent computation: SHA-1 over the DER form.
  TempDir dir;
  openssl({"x509", "-in", c.cert_pem, "-outform", "DER", "-out", dir.file("c.der")});
  std::string digest = openssl({"dgst", "-sha1", "-r", dir.file("c.der")}).out;
  EXPECT_EQ(to_lower(c.thumbprint), digest.substr(0, 40));
  EXPECT_EQ(c.subject, "CN=client-aes");
  std::set<std::string> distinct;
  for (const TestCert* cert : {&pki().client_legacy, &pki().client_aes, &pki().client_replacement,
                               &pki().client_untrusted}) {
    distinct.insert(cert->thumbprint);
  }
  EXPECT_EQ(distinct.size(), 4u);
}

TEST(MtlsHarness, PfxFilesHaveTheRightEncryption) {
  if (!TestPki::available()) GTEST_SKIP() << "openssl is not installed";
  auto info = [](const TestPfx& pfx, bool legacy) {
    std::vector<std::string> args{
        "pkcs12", "-in", pfx.pfx_file, "-info", "-noout", "-passin", "file:" + pfx.password_file};
    if (legacy) args.push_back("-legacy");
    CommandResult r = run_command([&] {
      std::vector<std::string> argv{"/usr/bin/openssl"};
      argv.insert(argv.end(), args.begin(), args.end());
      return argv;
    }());
    return std::make_pair(r.exit_code.value_or(-1), r.out + r.err);
  };
  auto legacy = info(pki().client_legacy_pfx, true);
  EXPECT_EQ(legacy.first, 0) << legacy.second;
  EXPECT_NE(legacy.second.find("pbeWithSHA1And40BitRC2-CBC"), std::string::npos) << legacy.second;
  auto aes = info(pki().client_aes_pfx, false);
  EXPECT_EQ(aes.first, 0) << aes.second;
  EXPECT_NE(aes.second.find("AES-256-CBC"), std::string::npos) << aes.second;
  auto no_key = info(pki().no_key_pfx, false);
  EXPECT_EQ(no_key.first, 0) << no_key.second;
  EXPECT_EQ(no_key.second.find("Shrouded Keybag"), std::string::npos) << no_key.second;
  EXPECT_NE(info(pki().wrong_password_pfx, false).first, 0);
  EXPECT_NE(info(pki().truncated_pfx, false).first, 0);
}

TEST(MtlsHarness, NginxAnswersATrustedClientCertificateWithItsFingerprint) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  const TestCert& client = pki().client_aes;
  CommandResult r = curl({"-i", "--cacert", pki().ca.cert_pem, "--cert", client.cert_pem, "--key",
                          client.key_pem, nginx.origin() + "/hello"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("HTTP/1.1 200"), std::string::npos) << r.out;
  EXPECT_NE(to_lower(r.out).find("x-client-fingerprint: " + to_lower(client.thumbprint)),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("X-Client-DN: CN=client-aes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("X-Connection-Requests: 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mtls ok /hello"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("X-Server-Name:"), std::string::npos) << "curl sends no SNI to an IP";
  CommandResult named =
      curl({"-i", "--cacert", pki().ca.cert_pem, "--cert", client.cert_pem, "--key", client.key_pem,
            "--resolve", "localhost:" + std::to_string(nginx.port()) + ":127.0.0.1",
            "https://localhost:" + std::to_string(nginx.port()) + "/named"});
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_NE(named.out.find("X-Server-Name: localhost"), std::string::npos) << named.out;
}

TEST(MtlsHarness, NginxAnswersAMissingOrUntrustedClientCertificateWith400) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  CommandResult none = curl({"-i", "--cacert", pki().ca.cert_pem, nginx.origin() + "/x"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.out.find("HTTP/1.1 400"), std::string::npos) << none.out;
  EXPECT_NE(none.out.find("No required SSL certificate was sent"), std::string::npos) << none.out;
  const TestCert& untrusted = pki().client_untrusted;
  CommandResult bad = curl({"-i", "--cacert", pki().ca.cert_pem, "--cert", untrusted.cert_pem,
                            "--key", untrusted.key_pem, nginx.origin() + "/x"});
  ASSERT_EQ(bad.exit_code, 0) << bad.err;
  EXPECT_NE(bad.out.find("HTTP/1.1 400"), std::string::npos) << bad.out;
}

TEST(MtlsHarness, NginxStubStatusCountsOpenConnections) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  auto before = nginx.stub_status();
  ASSERT_TRUE(before);
  EXPECT_EQ(before->active, 1);  // the status request itself
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<RawClient>(nginx.port()));
  EXPECT_TRUE(eventually([&] { return nginx.stub_status().value_or(StubStatus{}).active == 4; },
                         Millis(3000)));
  held.clear();
  EXPECT_TRUE(eventually([&] { return nginx.stub_status().value_or(StubStatus{}).active == 1; },
                         Millis(3000)));
}

TEST(MtlsHarness, NginxRestartsOnTheSamePort) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  const uint16_t port = nginx.port();
  nginx.kill();
  EXPECT_FALSE(port_accepts(port));
  nginx.start();
  EXPECT_EQ(nginx.port(), port);
  const TestCert& client = pki().client_aes;
  CommandResult r = curl({"-i", "--cacert", pki().ca.cert_pem, "--cert", client.cert_pem, "--key",
                          client.key_pem, nginx.origin() + "/again"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("HTTP/1.1 200"), std::string::npos) << r.out;
}

TEST(MtlsHarness, OpensslServerRefusesAnUntrustedClientCertificateInTheHandshake) {
  REQUIRE_TLS_PEERS();
  OpensslServer server(pki().backend_server, pki().ca.cert_pem);
  const TestCert& trusted = pki().client_aes;
  CommandResult ok = curl({"-i", "--cacert", pki().ca.cert_pem, "--cert", trusted.cert_pem, "--key",
                           trusted.key_pem, server.origin() + "/"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find(" 200 "), std::string::npos) << ok.out;
  const TestCert& untrusted = pki().client_untrusted;
  CommandResult refused = curl({"-i", "--cacert", pki().ca.cert_pem, "--cert", untrusted.cert_pem,
                                "--key", untrusted.key_pem, server.origin() + "/"});
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_EQ(refused.out.find(" 200 "), std::string::npos) << refused.out;
  CommandResult none = curl({"-i", "--cacert", pki().ca.cert_pem, server.origin() + "/"});
  EXPECT_NE(none.exit_code, 0) << none.out;
  // Still serving after the refusals.
  CommandResult again = curl({"-i", "--cacert", pki().ca.cert_pem, "--cert", trusted.cert_pem,
                              "--key", trusted.key_pem, server.origin() + "/"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST(MtlsHarness, MetricValueSumsMatchingSamples) {
  const std::string text =
      "# HELP x_total a counter\n# TYPE x_total counter\n"
      "x_total{key=\"a\"} 3\nx_total{key=\"b\"} 4\nx_total_other 100\nx 7\n";
  EXPECT_EQ(metric_value(text, "x_total"), 7);
  EXPECT_EQ(metric_value(text, "x_total", "key=\"b\""), 4);
  EXPECT_EQ(metric_value(text, "x"), 7);
  EXPECT_EQ(metric_value(text, "y"), std::nullopt);
}

}  // namespace
}  // namespace ringgate::itest
