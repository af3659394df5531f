// EtcdClient and EtcdWatch over https to a cluster that requires client
// certificates (etcd's --client-cert-auth), with the key material in memory.
#include <gtest/gtest.h>

#include "etcd_test_support.hpp"

namespace ringgate::itest {
namespace {

using fleet::EtcdClient;
using fleet::EtcdWatch;

class EtcdTlsTest : public EtcdClusterTest {
 protected:
  static void SetUpTestSuite() {
    if (!TestPki::available()) return;
    const TestPki& pki = TestPki::shared();
    EtcdClusterOptions& tls = suite_options();
    tls.tls = true;
    try {
      tls.server = etcd_member_certificate(pki.ca, cert_dir());
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
      return;
    }
    tls.server_ca_file = pki.ca.cert_pem;
    tls.client_ca_file = pki.ca.cert_pem;
    tls.etcdctl_client = pki.client_aes;
    EtcdClusterTest::SetUpTestSuite();
    // The next suite gets the plain cluster again.
    tls = EtcdClusterOptions{};
  }

  void SetUp() override {
    if (!TestPki::available()) GTEST_SKIP() << "openssl not installed";
    EtcdClusterTest::SetUp();
  }

  static const TempDir& cert_dir() {
    static const TempDir dir;
    return dir;
  }

  // https options presenting `client` (nullptr: no certificate).
  static fleet::EtcdOptions tls_options(const TestCert* client) {
    fleet::EtcdOptions out = options();
    out.ca_file = TestPki::shared().ca.cert_pem;
    if (client != nullptr) {
      out.client_certificate_pem = read_file(client->cert_pem);
      out.client_key_pem = read_file(client->key_pem);
    }
    return out;
  }
};

TEST_F(EtcdTlsTest, MutualTls_ReadWriteAndWatch) {
  ASSERT_EQ(cluster().endpoint(0).rfind("https://", 0), 0u);
  fleet::EtcdOptions opts = tls_options(&TestPki::shared().client_aes);
  EtcdClient client(opts);
  EXPECT_EQ(client.check(), "");
  std::string prefix = test_prefix();

  EtcdWatch watch(opts);
  watch.start(prefix, 0);
  WatchLog log;
  ASSERT_TRUE(drive_watch(
      watch, log, [](const WatchLog& l) { return l.established; }, Millis(5000)))
      << log.ended;

  int64_t revision = put(client, prefix + "secret", "value over tls");
  fleet::RangeResult got = client.range_prefix(prefix);
  ASSERT_TRUE(got.ok()) << got.error;
  ASSERT_EQ(got.kvs.size(), 1u);
  EXPECT_EQ(got.kvs[0].value, "value over tls");

  ASSERT_TRUE(drive_watch(
      watch, log, [](const WatchLog& l) { return !l.events.empty(); }, Millis(5000)))
      << log.ended;
  EXPECT_EQ(log.events[0].kv.mod_revision, revision);
}

TEST_F(EtcdTlsTest, MutualTls_MissingOrUntrustedClientCertificateIsRefused) {
  for (const TestCert* client :
       {static_cast<const TestCert*>(nullptr), &TestPki::shared().client_untrusted}) {
    EtcdClient refused(tls_options(client));
    fleet::RangeResult got = refused.range("/k");
    EXPECT_FALSE(got.ok()) << (client ? client->subject : "no certificate");
    EXPECT_NE(got.error.find("no etcd endpoint answered"), std::string::npos) << got.error;
  }
}

TEST_F(EtcdTlsTest, ServerNotSignedByTrustedCaIsRefused) {
  fleet::EtcdOptions opts = tls_options(&TestPki::shared().client_aes);
  opts.ca_file = TestPki::shared().other_ca.cert_pem;
  EtcdClient client(opts);
  EXPECT_NE(client.check(), "");
}

}  // namespace
}  // namespace ringgate::itest
