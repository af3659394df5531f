// A fleet (DESIGN §13): three gateways whose gateway.configSource is one
// real 3-member etcd cluster on loopback, nginx as the mTLS backend. What one
// gateway's admin API changes, every gateway serves; a delete cannot race a
// reference; etcd failures never reach the data plane; a gateway that missed
// compacted revisions reads everything again; etcd holds nothing secret.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "admin_support.hpp"
#include "harness.hpp"
#include "harness_etcd.hpp"

namespace ringgate::itest {
namespace {

using nlohmann::json;

constexpr const char* kPassword = "Fleet-pfx-pw-5b1e77-never-in-etcd";
constexpr const char* kBasicPassword = "Basic-pw-90c4d2-never-in-etcd";

std::string numbered(std::string_view prefix, int n) {
  std::string name(prefix);
  name += std::to_string(n);
  return name;
}

class Fleet : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (EtcdCluster::available() && TestPki::available() && NginxMtlsBackend::available()) {
      cluster_ = new EtcdCluster();
    }
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  void SetUp() override {
    if (cluster_ == nullptr) GTEST_SKIP() << "etcd, openssl or nginx is not installed";
    cluster_->restart_all();  // a test before may have stopped members
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = "/ringgate-" + std::string(info->name()) + "/";
    key_file_ = dir_.path() + "/fleet.key";
    const CommandResult key = run_command({"/usr/bin/openssl", "rand", "-base64", "32"});
    ASSERT_EQ(key.exit_code, 0) << key.err;
    write_file(key_file_, "k1:" + key.out, 0600);
    NginxTlsOptions o;
    o.cert_pem = pki().self_signed_server.cert_pem;
    o.key_pem = pki().self_signed_server.key_pem;
    o.client_ca_pem = pki().ca.cert_pem;
    nginx_ = std::make_unique<NginxMtlsBackend>(o);
    for (int i = 0; i < 3; ++i) {
      gateways_.push_back(
          std::make_unique<GatewayUnderTest>(member_config(cluster_->client_urls())));
    }
  }

  GatewayConfig member_config(const std::vector<std::string>& endpoints) const {
    GatewayConfig g;
    g.workers = 1;
    g.pool = {{"minIdle", 1}, {"maxPerKey", 64}, {"idleTimeoutMs", 60000}};
    g.config_source_json = json{
        {"type", "etcd"},
        {"endpoints", endpoints},
        {"prefix", prefix_},
        {"encryptionKeyFile",
         key_file_}}.dump();
    return g;
  }

  GatewayUnderTest& gateway(size_t i) { return *gateways_[i]; }

  TestPfx client(const std::string& name) {
    return make_client_pfx(certs_dir_, name, pki().ca, kPassword);
  }

  // The self-signed nginx as backend entity "nginx" (chain not checked).
  void make_backend(GatewayUnderTest& through) {
    const std::string body =
        json{{"properties",
              {{"url", nginx_->origin()}, {"tls", {{"validateCertificateChain", false}}}}}}
            .dump();
    HttpResponse r = through.admin("PUT", "/backends/nginx", body);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  // API `id` at /<id> on nginx, its policy presenting certificate `certificate`.
  void make_api(GatewayUnderTest& through, const std::string& id, const std::string& certificate) {
    HttpResponse r = through.admin("PUT", "/apis/" + id, api_body(id, nginx_->origin() + "/" + id));
    ASSERT_EQ(r.status, 201) << r.body;
    if (certificate.empty()) return;
    r = through.admin("PUT", "/apis/" + id + "/policies/policy",
                      policy_body(certificate_id_policy(certificate)));
    ASSERT_EQ(r.status, 201) << r.body;
  }

  // Certificate `name` (a fresh PFX) uploaded through gateway 1 and API
  // `name` presenting it; returns the PFX once every gateway in `serving`
  // serves the API with it (a failure is recorded otherwise).
  TestPfx certificate_api(const std::string& name, const std::vector<size_t>& serving = {0, 1, 2}) {
    const TestPfx pfx = client(name);
    HttpResponse r = gateway(0).admin("PUT", "/certificates/" + name, upload_body(pfx, kPassword));
    EXPECT_EQ(r.status, 201) << r.body;
    make_api(gateway(0), name, name);
    for (size_t g : serving) {
      EXPECT_TRUE(
          eventually([&] { return serves(gateway(g), name, pfx.thumbprint); }, Millis(3000)))
          << "gateway " << g + 1 << " does not serve /" << name;
    }
    return pfx;
  }

  // Whether gateway `g` answers /<api>/x with 200 from nginx, having
  // presented the certificate whose thumbprint is `thumbprint`.
  bool serves(GatewayUnderTest& g, const std::string& api, const std::string& thumbprint) {
    RawClient c(g.port());
    if (!c.send(make_request("GET", "/" + api + "/x", {}))) return false;
    std::optional<HttpResponse> r = c.read_final_response(Millis(3000));
    return r && r->status == 200 &&
           to_lower(r->header("X-Client-Fingerprint").value_or("")) == to_lower(thumbprint);
  }

  // wrk against every gateway's /<api>/x for `seconds`, as three processes.
  std::vector<std::unique_ptr<Process>> load(const std::string& api, int seconds) {
    std::vector<std::unique_ptr<Process>> wrk;
    for (size_t i = 0; i < gateways_.size(); ++i) {
      wrk.push_back(
          std::make_unique<Process>(std::vector<std::string>{"/usr/bin/wrk", "-t1", "-c8",
                                                             "-d" + std::to_string(seconds) + "s",
                                                             gateway(i).url("/" + api + "/x")},
                                    dir_.path(), numbered("wrk", static_cast<int>(i))));
    }
    return wrk;
  }

  // Waits for every wrk and expects each to have sent requests and seen no
  // failure of any kind.
  void expect_no_failed_request(std::vector<std::unique_ptr<Process>>& wrk) {
    for (auto& w : wrk) {
      ASSERT_EQ(w->wait_exit(Millis(60000)), 0) << w->stderr_text();
      const WrkSummary s = parse_wrk_output(w->stdout_text());
      ASSERT_TRUE(s.parsed) << w->stdout_text();
      EXPECT_GT(s.requests, 500u) << w->stdout_text();
      EXPECT_EQ(s.non_2xx_3xx, 0u) << w->stdout_text();
      EXPECT_EQ(s.connect_errors + s.read_errors + s.write_errors + s.timeouts, 0u)
          << w->stdout_text();
    }
  }

  static EtcdCluster* cluster_;
  TempDir dir_;
  TempDir certs_dir_;
  std::string prefix_;
  std::string key_file_;
  std::unique_ptr<NginxMtlsBackend> nginx_;
  std::vector<std::unique_ptr<GatewayUnderTest>> gateways_;
};

EtcdCluster* Fleet::cluster_ = nullptr;

// Acceptance 1: upload + API through gateway 1, served by 2 and 3 within 1 s
// (p99 of 20 trials: with 20 samples, the worst).
TEST_F(Fleet, WhatOneGatewayIsToldEveryGatewayServesWithinASecond) {
  make_backend(gateway(0));
  std::vector<long long> ms;
  for (int trial = 0; trial < 20; ++trial) {
    const std::string id = numbered("t", trial);
    const TestPfx pfx = client(id);
    HttpResponse r = gateway(0).admin("PUT", "/certificates/" + id, upload_body(pfx, kPassword));
    ASSERT_EQ(r.status, 201) << r.body;
    // From the first request that makes the API (its answer waits until
    // gateway 1 itself serves it) to both other gateways serving it.
    const auto start = Clock::now();
    make_api(gateway(0), id, id);
    const bool served = eventually(
        [&] {
          return serves(gateway(1), id, pfx.thumbprint) && serves(gateway(2), id, pfx.thumbprint);
        },
        Millis(5000), Millis(5));
    ms.push_back(elapsed_ms(start));
    ASSERT_TRUE(served) << "trial " << trial << ": gateways 2 and 3 never served /" << id;
  }
  std::sort(ms.begin(), ms.end());
  std::cout << "[ fleet    ] API + policy PUT through gateway 1 until gateways 2 and 3 serve it, "
               "ms over 20 trials: median "
            << ms[ms.size() / 2] << ", p99 (max) " << ms.back() << "\n";
  EXPECT_LT(ms.back(), 1000);
}

// Acceptance 2: a certificate in use cannot be deleted through any gateway,
// and a delete racing a new reference never leaves a policy naming a
// certificate that is gone.
TEST_F(Fleet, ADeleteNeverRacesPastAReference) {
  make_backend(gateway(0));
  const TestPfx pfx = client("shared");
  HttpResponse r = gateway(0).admin("PUT", "/certificates/used", upload_body(pfx, kPassword));
  ASSERT_EQ(r.status, 201) << r.body;
  make_api(gateway(0), "user", "used");
  for (size_t g = 0; g < 3; ++g) {
    ASSERT_TRUE(
        eventually([&] { return serves(gateway(g), "user", pfx.thumbprint); }, Millis(3000)));
    r = gateway(g).admin("DELETE", "/certificates/used");
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(error_code(r), "CertificateInUse") << r.body;
  }

  int deleted = 0;
  int referenced = 0;
  for (int round = 0; round < 50; ++round) {
    const std::string cert = numbered("x", round);
    const std::string api = numbered("race", round);
    r = gateway(0).admin("PUT", "/certificates/" + cert, upload_body(pfx, kPassword));
    ASSERT_EQ(r.status, 201) << r.body;
    make_api(gateway(0), api, "");
    // Both other gateways know both before the race starts.
    ASSERT_TRUE(eventually(
        [&] {
          return gateway(1).admin("GET", "/apis/" + api).status == 200 &&
                 gateway(2).admin("GET", "/certificates/" + cert).status == 200;
        },
        Millis(3000)));
    HttpResponse del;
    HttpResponse ref;
    std::thread a([&] { del = gateway(1).admin("DELETE", "/certificates/" + cert); });
    std::thread b([&] {
      ref = gateway(2).admin("PUT", "/apis/" + api + "/policies/policy",
                             policy_body(certificate_id_policy(cert)));
    });
    a.join();
    b.join();
    const bool delete_won = del.status == 200;
    const bool reference_won = ref.status == 201;
    EXPECT_NE(delete_won, reference_won)
        << "round " << round << ": DELETE " << del.status << " " << del.body << " / PUT policy "
        << ref.status << " " << ref.body;
    if (delete_won) {
      EXPECT_EQ(ref.status, 400) << ref.body;
    }
    if (reference_won) {
      EXPECT_EQ(del.status, 409) << del.body;
    }
    deleted += delete_won;
    referenced += reference_won;
  }
  std::cout << "[ fleet    ] 50 races: delete first " << deleted << ", reference first "
            << referenced << "\n";
  // The end state, as every gateway and etcd itself see it: no policy names
  // a certificate that is gone.
  for (size_t g = 0; g < 3; ++g) {
    ASSERT_TRUE(eventually(
        [&] {
          return gateway(g).metric("ringgate_config_sync_revision") ==
                 gateway(0).metric("ringgate_config_sync_revision");
        },
        Millis(3000)));
    const json certificates = json::parse(gateway(g).admin("GET", "/certificates").body);
    std::set<std::string> present;
    for (const json& c : certificates["value"]) present.insert(c["name"].get<std::string>());
    for (int round = 0; round < 50; ++round) {
      HttpResponse policy =
          gateway(g).admin("GET", "/apis/" + numbered("race", round) + "/policies/policy");
      if (policy.status == 404) continue;
      ASSERT_EQ(policy.status, 200) << policy.body;
      EXPECT_TRUE(present.contains(numbered("x", round)))
          << "gateway " << g + 1 << ": race" << round << "'s policy names x" << round
          << ", which is gone";
    }
  }
}

// Acceptance 3: the etcd leader killed under load on every gateway: not one
// request fails, and admin writes work again after the election.
TEST_F(Fleet, KillingTheLeaderUnderLoadFailsNoRequest) {
  make_backend(gateway(0));
  const TestPfx pfx = certificate_api("load");
  ASSERT_FALSE(HasFailure());
  auto wrk = load("load", 6);
  std::this_thread::sleep_for(Millis(2000));
  const size_t leader = cluster_->leader();
  cluster_->kill(leader);
  const auto killed = Clock::now();
  // Writes through each gateway succeed again once a new leader is elected.
  for (size_t g = 0; g < 3; ++g) {
    const std::string api = numbered("after", static_cast<int>(g));
    HttpResponse last;
    const bool written = eventually(
        [&] {
          last =
              gateway(g).admin("PUT", "/apis/" + api, api_body(api, nginx_->origin() + "/" + api));
          return last.status == 201 || last.status == 200;
        },
        Millis(15000), Millis(100));
    EXPECT_TRUE(written) << "gateway " << g + 1 << ": " << last.status << " " << last.body;
  }
  std::cout << "[ fleet    ] writes through all 3 gateways again " << elapsed_ms(killed)
            << " ms after the leader was killed\n";
  expect_no_failed_request(wrk);
}

// Acceptance 4: every etcd member stopped: the gateways serve on, refuse
// admin writes with 503, say degraded; a restarted gateway serves its cache;
// once etcd is back, changes reach every gateway.
TEST_F(Fleet, WithoutEtcdTheGatewaysServeOnAndCatchUpAfterwards) {
  make_backend(gateway(0));
  const TestPfx pfx = certificate_api("steady");
  ASSERT_FALSE(HasFailure());
  auto wrk = load("steady", 5);
  std::this_thread::sleep_for(Millis(1000));
  cluster_->stop_all();
  expect_no_failed_request(wrk);
  for (size_t g = 0; g < 3; ++g) {
    HttpResponse r = gateway(g).admin("PUT", "/apis/during", api_body("during", nginx_->origin()));
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(error_code(r), "StoreUnavailable") << r.body;
    const json health = json::parse(gateway(g).admin("GET", "/healthz").body, nullptr, false);
    EXPECT_EQ(health.value("status", ""), "degraded") << health.dump();
    EXPECT_NE(health.value("reason", "").find("etcd"), std::string::npos) << health.dump();
    EXPECT_GT(gateway(g).metric("ringgate_config_sync_errors_total").value_or(0), 0);
  }
  // A gateway restarted while etcd is down serves what it cached.
  gateway(1).kill_and_restart();
  EXPECT_TRUE(serves(gateway(1), "steady", pfx.thumbprint));
  EXPECT_TRUE(gateway(1).wait_for_log(std::regex("cached revision")));

  cluster_->restart_all();
  const TestPfx later = client("later");
  HttpResponse r;
  ASSERT_TRUE(eventually(
      [&] {
        r = gateway(0).admin("PUT", "/certificates/later", upload_body(later, kPassword));
        return r.status == 201;
      },
      Millis(15000), Millis(200)))
      << r.status << " " << r.body;
  make_api(gateway(0), "later", "later");
  for (size_t g = 0; g < 3; ++g) {
    EXPECT_TRUE(
        eventually([&] { return serves(gateway(g), "later", later.thumbprint); }, Millis(10000)))
        << "gateway " << g + 1;
    EXPECT_TRUE(eventually(
        [&] {
          const json h = json::parse(gateway(g).admin("GET", "/healthz").body, nullptr, false);
          return h.value("status", "") == "ok";
        },
        Millis(10000)));
  }
}

// Acceptance 5: a gateway cut off while its revision is compacted away
// reads everything again when it is back: additions and deletions both.
TEST_F(Fleet, AGatewayPastACompactionResyncsCompletely) {
  // A fourth gateway that reaches etcd through member 3 only.
  auto lone = std::make_unique<GatewayUnderTest>(member_config({cluster_->endpoint(2)}));
  make_backend(gateway(0));
  const TestPfx pfx = certificate_api("gone");
  ASSERT_TRUE(eventually([&] { return serves(*lone, "gone", pfx.thumbprint); }, Millis(3000)));

  cluster_->stop(2);
  ASSERT_EQ(gateway(0).admin("DELETE", "/apis/gone").status, 200);
  ASSERT_EQ(gateway(0).admin("DELETE", "/certificates/gone").status, 200);
  const TestPfx fresh = certificate_api("fresh");
  for (int i = 0; i < 5; ++i) {  // more revisions past the ones the lone gateway saw
    const std::string api = numbered("filler", i);
    ASSERT_EQ(gateway(1).admin("PUT", "/apis/" + api, api_body(api, nginx_->origin())).status, 201);
  }
  cluster_->compact(cluster_->current_revision());
  EXPECT_TRUE(serves(*lone, "gone", pfx.thumbprint))
      << "the lone gateway should still serve its state";

  cluster_->restart(2);
  EXPECT_TRUE(lone->wait_for_log(std::regex("compacted"), Millis(15000)));
  EXPECT_TRUE(eventually([&] { return serves(*lone, "fresh", fresh.thumbprint); }, Millis(10000)));
  EXPECT_EQ(lone->get("/gone/x").status, 404);
  EXPECT_EQ(lone->admin("GET", "/certificates/gone").status, 404);
  EXPECT_EQ(lone->admin("GET", "/apis/filler4").status, 200);
}

// A member frozen under a gateway's watch (its sockets open, keepalives
// answered by its kernel) is noticed and left behind: what is written through
// the rest of the cluster still arrives.
TEST_F(Fleet, AWatchOnAFrozenMemberIsLeftBehind) {
  // Watches start on the first endpoint: member 3 here.
  const std::vector<std::string> urls = cluster_->client_urls();
  auto lone = std::make_unique<GatewayUnderTest>(member_config({urls[2], urls[0], urls[1]}));
  make_backend(gateway(0));
  const TestPfx before = certificate_api("before");
  ASSERT_TRUE(eventually([&] { return serves(*lone, "before", before.thumbprint); }, Millis(3000)));

  cluster_->freeze(2);
  struct Thaw {
    EtcdCluster& cluster;
    ~Thaw() { cluster.thaw(2); }
  } thaw{*cluster_};
  const auto frozen = Clock::now();
  HttpResponse r;
  const TestPfx after = client("after");
  ASSERT_TRUE(eventually(
      [&] {
        r = gateway(0).admin("PUT", "/certificates/after", upload_body(after, kPassword));
        return r.status == 201;
      },
      Millis(10000), Millis(100)))
      << r.status << " " << r.body;
  make_api(gateway(0), "after", "after");
  EXPECT_TRUE(eventually([&] { return serves(*lone, "after", after.thumbprint); }, Millis(20000)));
  std::cout << "[ fleet    ] a change reached the gateway whose watch was on a frozen member "
            << elapsed_ms(frozen) << " ms after the freeze\n";
  EXPECT_TRUE(lone->wait_for_log(std::regex("has not delivered revision")));
}

// Acceptance 6: etcd, and the cache in stateDir, hold no private key and no
// password: not the PFX's, not a Basic credential's.
TEST_F(Fleet, EtcdHoldsNoPrivateKeyAndNoPassword) {
  make_backend(gateway(0));
  const TestPfx pfx = certificate_api("secret");
  HttpResponse r = gateway(0).admin("PUT", "/apis/basic", api_body("basic", nginx_->origin()));
  ASSERT_EQ(r.status, 201) << r.body;
  r = gateway(0).admin("PUT", "/apis/basic/policies/policy",
                       policy_body(std::string("<policies><inbound><authentication-basic "
                                               "username=\"svc\" password=\"") +
                                   kBasicPassword + "\"/></inbound></policies>"));
  ASSERT_EQ(r.status, 201) << r.body;

  const std::string dump = cluster_->etcdctl({"get", "--prefix", prefix_});
  ASSERT_NE(dump.find(prefix_ + "certificates/secret"), std::string::npos) << dump;
  ASSERT_NE(dump.find(prefix_ + "apis/basic/policy"), std::string::npos) << dump;
  const std::string pem_key = read_file(pki().ca.key_pem).substr(0, 40);
  for (const std::string& text : {dump, read_file(gateway(2).state_dir() + "/fleet-cache.json")}) {
    EXPECT_EQ(text.find("PRIVATE KEY"), std::string::npos);
    EXPECT_EQ(text.find(kPassword), std::string::npos);
    EXPECT_EQ(text.find(kBasicPassword), std::string::npos);
    EXPECT_EQ(text.find("svc"), std::string::npos);
    EXPECT_EQ(text.find("BEGIN"), std::string::npos);
  }
}

// --check-config asks etcd unless --offline; a cluster it cannot reach is a
// problem at the endpoints' path.
TEST_F(Fleet, CheckConfigReachesTheClusterUnlessOffline) {
  GatewayConfig g = member_config({"http://127.0.0.1:" + std::to_string(free_port())});
  const std::string path = dir_.path() + "/unreachable.json";
  write_file(path, gateway_config_json(g, 0, free_port(), key_file_));
  CommandResult checked = run_command({ringgate_binary(), "--check-config", path});
  EXPECT_EQ(checked.exit_code, 1) << checked.out << checked.err;
  EXPECT_NE(checked.err.find("$.gateway.configSource.endpoints"), std::string::npos) << checked.err;
  CommandResult offline = run_command({ringgate_binary(), "--check-config", "--offline", path});
  EXPECT_EQ(offline.exit_code, 0) << offline.out << offline.err;
  CommandResult reachable =
      run_command({ringgate_binary(), "--check-config", gateway(0).config_path()});
  EXPECT_EQ(reachable.exit_code, 0) << reachable.out << reachable.err;
}

// The store is chosen at start: a SIGHUP that points the gateway at another
// prefix is rejected and the old state keeps serving.
TEST_F(Fleet, AReloadThatSwitchesTheStoreIsRejected) {
  make_backend(gateway(0));
  const TestPfx pfx = certificate_api("kept");
  ASSERT_FALSE(HasFailure());
  std::string config = read_file(gateway(2).config_path());
  const size_t at = config.find(prefix_);
  ASSERT_NE(at, std::string::npos) << config;
  config.replace(at, prefix_.size(), "/elsewhere/");
  write_file(gateway(2).config_path(), config);
  ::kill(gateway(2).process().pid(), SIGHUP);
  EXPECT_TRUE(gateway(2).wait_for_log(std::regex("configSource: changed")));
  EXPECT_TRUE(serves(gateway(2), "kept", pfx.thumbprint));
  EXPECT_EQ(gateway(2).metric("ringgate_config_reload_failures_total"), 1);
}

// gateway.configSource over https to a cluster that requires client
// certificates: the gateways present the config file's certificate named by
// certificateId and check etcd's against caFile; one presenting a
// certificate etcd does not trust stays degraded and serves what it has.
TEST(FleetTls, GatewaysReachAClusterThatRequiresTheirCertificate) {
  if (!EtcdCluster::available() || !TestPki::available()) {
    GTEST_SKIP() << "etcd or openssl is not installed";
  }
  TempDir dir;
  EtcdClusterOptions options;
  options.members = 1;
  options.tls = true;
  options.server = etcd_member_certificate(pki().ca, dir);
  options.server_ca_file = pki().ca.cert_pem;
  options.client_ca_file = pki().ca.cert_pem;
  options.etcdctl_client = pki().client_aes;
  EtcdCluster cluster(options);
  const std::string key_file = dir.path() + "/fleet.key";
  const CommandResult key = run_command({"/usr/bin/openssl", "rand", "-base64", "32"});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  write_file(key_file, "k1:" + key.out, 0600);
  auto member = [&](const TestPfx& certificate) {
    GatewayConfig g;
    g.certificates = {{"etcd-client", certificate}};
    g.config_source_json = json{
        {"type", "etcd"},
        {"endpoints", cluster.client_urls()},
        {"caFile", pki().ca.cert_pem},
        {"certificateId", "etcd-client"},
        {"encryptionKeyFile",
         key_file}}.dump();
    return std::make_unique<GatewayUnderTest>(g);
  };
  auto first = member(pki().client_aes_pfx);
  auto second = member(pki().client_aes_pfx);
  auto refused = member(pki().client_untrusted_pfx);

  HttpResponse r =
      first->admin("PUT", "/apis/over-tls", api_body("over-tls", "http://127.0.0.1:9"));
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_TRUE(eventually([&] { return second->admin("GET", "/apis/over-tls").status == 200; },
                         Millis(3000)));
  EXPECT_EQ(refused->admin("GET", "/apis/over-tls").status, 404);
  const json health = json::parse(refused->admin("GET", "/healthz").body, nullptr, false);
  EXPECT_EQ(health.value("status", ""), "degraded") << health.dump();
  r = refused->admin("PUT", "/apis/refused", api_body("refused", "http://127.0.0.1:9"));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(cluster.etcdctl({"get", "--prefix", "/ringgate/", "--keys-only"}).find("over-tls"),
            std::string::npos);
}

}  // namespace
}  // namespace ringgate::itest
