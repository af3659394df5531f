// The management API end to end (DESIGN §5, §6): certificates uploaded as
// PFX files, backends, APIs and policies made through the admin API, served
// by the very next request with the certificate the policy names, kept under
// stateDir across restarts and crashes, merged with the config file on
// SIGHUP. nginx with `ssl_verify_client on` is the backend and echoes the
// client certificate's fingerprint.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "admin_support.hpp"
#include "harness.hpp"

namespace ringgate::itest {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A password no log line, answer or state file may ever contain.
constexpr const char* kUploadPassword = "Upl0ad-pw-7f3c9e-never-stored";

// "<prefix><n>", built by appending: GCC 12 warns (-Wrestrict, wrongly) about
// "literal" + std::to_string(n).
std::string numbered(std::string_view prefix, int n) {
  std::string name(prefix);
  name += std::to_string(n);
  return name;
}

// Every file under `dir`, recursively, as (relative path, contents).
std::vector<std::pair<std::string, std::string>> files_under(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files.emplace_back(fs::relative(entry.path(), dir).string(), read_file(entry.path()));
    }
  }
  return files;
}

class Management : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestPki::available() || !NginxMtlsBackend::available()) {
      GTEST_SKIP() << "openssl or nginx is not installed";
    }
    NginxTlsOptions o;
    o.cert_pem = pki().self_signed_server.cert_pem;
    o.key_pem = pki().self_signed_server.key_pem;
    o.client_ca_pem = pki().ca.cert_pem;
    nginx_ = std::make_unique<NginxMtlsBackend>(o);
    GatewayConfig g;
    g.workers = 2;
    g.pool = {{"minIdle", 1}, {"maxPerKey", 64}, {"idleTimeoutMs", 60000}};
    gateway_ = std::make_unique<GatewayUnderTest>(g);
  }

  TestPfx client(const std::string& name) {
    return make_client_pfx(certs_dir_, name, pki().ca, kUploadPassword);
  }

  HttpResponse upload(const std::string& id, const TestPfx& pfx,
                      const std::string& password = kUploadPassword) {
    return gateway_->admin("PUT", "/certificates/" + id, upload_body(pfx, password));
  }

  // The self-signed nginx as a backend entity (chain not validated) and an
  // API on it at /<api_id>, presenting certificate `certificate_id`.
  void make_backend() {
    const std::string body =
        json{{"properties",
              {{"url", nginx_->origin()}, {"tls", {{"validateCertificateChain", false}}}}}}
            .dump();
    HttpResponse r = gateway_->admin("PUT", "/backends/nginx", body);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  void make_api(const std::string& api_id, const std::string& certificate_id) {
    const std::string body =
        json{{"properties", {{"path", api_id}, {"serviceUrl", nginx_->origin() + "/" + api_id}}}}
            .dump();
    HttpResponse r = gateway_->admin("PUT", "/apis/" + api_id, body);
    ASSERT_EQ(r.status, 201) << r.body;
    if (certificate_id.empty()) return;
    r = gateway_->admin("PUT", "/apis/" + api_id + "/policies/policy",
                        policy_body(certificate_id_policy(certificate_id)));
    ASSERT_EQ(r.status, 201) << r.body;
  }

  // The fingerprint (lower-case) nginx saw on GET /<api_id>/…; "" when none.
  std::string fingerprint_on(const std::string& api_id) {
    HttpResponse r = gateway_->get("/" + api_id + "/x");
    EXPECT_EQ(r.status, 200) << r.body;
    return to_lower(r.header("X-Client-Fingerprint").value_or(""));
  }

  TempDir certs_dir_;
  std::unique_ptr<NginxMtlsBackend> nginx_;
  std::unique_ptr<GatewayUnderTest> gateway_;
};

TEST_F(Management, UploadedCertificateShowsOpensslsThumbprintAndNeverItsSecrets) {
  const TestPfx pfx = client("orders");
  const std::string data_prefix = base64(read_file(pfx.pfx_file)).substr(0, 64);

  HttpResponse created = upload("orders", pfx);
  HttpResponse replaced = upload("orders", pfx);
  HttpResponse wrong = upload("other", pfx, "not-the-password");
  const std::string garbage =
      json{
          {"properties", {{"data", base64(pattern_bytes(3000, 7))}, {"password", kUploadPassword}}}}
          .dump();
  HttpResponse random = gateway_->admin("PUT", "/certificates/random", garbage);
  HttpResponse list = gateway_->admin("GET", "/certificates");

  ASSERT_EQ(created.status, 201) << created.body;
  const json entity = json::parse(created.body);
  EXPECT_EQ(entity.at("properties").at("thumbprint"), pfx.thumbprint);
  EXPECT_EQ(entity.at("properties").at("subject"), "CN=orders.client.test");
  EXPECT_TRUE(created.header("ETag").has_value());
  EXPECT_EQ(replaced.status, 200);
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(error_code(wrong), "InvalidPassword");
  EXPECT_EQ(random.status, 400);
  EXPECT_EQ(error_code(random), "ValidationError");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(json::parse(list.body).at("count"), 1);
  EXPECT_EQ(json::parse(list.body).at("value").at(0).at("properties").at("thumbprint"),
            pfx.thumbprint);
  for (const HttpResponse* r : {&created, &replaced, &wrong, &random, &list}) {
    EXPECT_EQ(r->body.find(kUploadPassword), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find(data_prefix), std::string::npos) << r->body;
  }
  EXPECT_EQ(gateway_->process().stderr_text().find(kUploadPassword), std::string::npos);
  EXPECT_EQ(gateway_->process().stdout_text().find(kUploadPassword), std::string::npos);
  for (const auto& [name, contents] : files_under(gateway_->state_dir())) {
    EXPECT_EQ(contents.find(kUploadPassword), std::string::npos) << name;
    EXPECT_EQ(contents.find(data_prefix), std::string::npos) << name;
  }
}

TEST_F(Management, NextRequestPresentsTheCertificateThePolicyNames) {
  const TestPfx first = client("first");
  const TestPfx second = client("second");
  ASSERT_EQ(upload("first", first).status, 201);
  ASSERT_EQ(upload("second", second).status, 201);
  make_backend();
  make_api("orders", "first");

  EXPECT_EQ(fingerprint_on("orders"), to_lower(first.thumbprint));

  HttpResponse switched = gateway_->admin("PUT", "/apis/orders/policies/policy",
                                          policy_body(certificate_id_policy("second")));
  const auto answered = Clock::now();
  const std::string next = fingerprint_on("orders");
  const long long answer_to_served_us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - answered).count();

  ASSERT_EQ(switched.status, 200) << switched.body;
  EXPECT_EQ(next, to_lower(second.thumbprint));
  std::cout << "[ measure  ] policy PUT answered -> first request with the new certificate "
               "served: "
            << answer_to_served_us << " us\n";
}

TEST_F(Management, CertificateInUseCannotBeDeletedUntilNoPolicyNamesIt) {
  ASSERT_EQ(upload("orders", client("orders")).status, 201);
  make_backend();
  make_api("orders", "orders");
  const std::string stale = *gateway_->admin("GET", "/certificates/orders").header("ETag");
  ASSERT_EQ(upload("orders", client("orders-rotated")).status, 200);

  HttpResponse in_use = gateway_->admin("DELETE", "/certificates/orders");
  ASSERT_EQ(in_use.status, 409) << in_use.body;
  EXPECT_EQ(error_code(in_use), "CertificateInUse");
  EXPECT_NE(in_use.body.find("orders"), std::string::npos);
  EXPECT_NE(json::parse(in_use.body).at("error").at("details").dump().find("/apis/orders/"),
            std::string::npos)
      << in_use.body;

  ASSERT_EQ(gateway_->admin("DELETE", "/apis/orders/policies/policy").status, 200);
  HttpResponse stale_delete =
      gateway_->admin("DELETE", "/certificates/orders", {}, {"If-Match: " + stale});
  EXPECT_EQ(stale_delete.status, 412);
  EXPECT_EQ(error_code(stale_delete), "PreconditionFailed");

  EXPECT_EQ(gateway_->admin("DELETE", "/certificates/orders").status, 200);
  HttpResponse gone = gateway_->admin("GET", "/certificates/orders");
  EXPECT_EQ(gone.status, 404);
  // Without a policy no certificate is presented, which nginx answers 400.
  HttpResponse anonymous = gateway_->get("/orders/x");
  EXPECT_EQ(anonymous.status, 400);
  EXPECT_FALSE(anonymous.header("X-Client-Fingerprint").has_value());
}

TEST_F(Management, FiftyApisEachPresentTheirOwnCertificate) {
  constexpr int kApis = 50;
  make_backend();
  std::vector<TestPfx> pfx;
  for (int i = 0; i < kApis; ++i) {
    const std::string id = numbered("c", i);
    pfx.push_back(client(id));
    ASSERT_EQ(upload(id, pfx.back()).status, 201);
    make_api(numbered("a", i), id);
  }

  int right = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kApis; ++i) {
      const std::string seen = fingerprint_on(numbered("a", i));
      EXPECT_EQ(seen, to_lower(pfx[i].thumbprint)) << "API a" << i;
      right += seen == to_lower(pfx[i].thumbprint);
    }
  }
  EXPECT_EQ(right, 3 * kApis);
}

TEST_F(Management, ApiMadeResourcesAreServedAgainAfterARestart) {
  const TestPfx pfx = client("orders");
  ASSERT_EQ(upload("orders", pfx).status, 201);
  make_backend();
  make_api("orders", "orders");
  const std::string listed = gateway_->admin("GET", "/apis").body;

  gateway_->kill_and_restart();

  EXPECT_EQ(gateway_->admin("GET", "/apis").body, listed);
  EXPECT_EQ(gateway_->admin("GET", "/backends/nginx").status, 200);
  EXPECT_EQ(gateway_->admin("GET", "/certificates/orders").status, 200);
  EXPECT_EQ(fingerprint_on("orders"), to_lower(pfx.thumbprint));
}

TEST_F(Management, ReloadKeepsApiMadeResources) {
  const TestPfx pfx = client("orders");
  ASSERT_EQ(upload("orders", pfx).status, 201);
  make_backend();
  make_api("orders", "orders");

  gateway_->process().stop(SIGHUP);
  ASSERT_TRUE(gateway_->wait_for_log(std::regex("reload: config generation \\d+ is live")));

  EXPECT_EQ(fingerprint_on("orders"), to_lower(pfx.thumbprint));
  EXPECT_EQ(gateway_->admin("GET", "/apis/orders/policies/policy").status, 200);
}

TEST_F(Management, ReloadWithABrokenConfigFileKeepsServingAndNamesEveryProblem) {
  const TestPfx pfx = client("orders");
  ASSERT_EQ(upload("orders", pfx).status, 201);
  make_backend();
  make_api("orders", "orders");
  std::string config = read_file(gateway_->config_path());
  config.replace(config.find("\"workers\": 2"), 12, "\"workers\": \"two\"");
  config.replace(config.find("\"apis\": {}"), 10,
                 "\"apis\": {\"orders\": {\"path\": \"orders\", \"serviceUrl\": \"ftp://x\"}}");
  write_file(gateway_->config_path(), config);

  gateway_->process().stop(SIGHUP);

  EXPECT_TRUE(gateway_->wait_for_log(std::regex(R"(\$\.gateway\.workers: expected)")));
  EXPECT_TRUE(gateway_->wait_for_log(std::regex(R"(\$\.apis\.orders\.serviceUrl: expected)")));
  EXPECT_TRUE(gateway_->wait_for_log(std::regex("still serving the previous config")));
  EXPECT_EQ(fingerprint_on("orders"), to_lower(pfx.thumbprint));
  EXPECT_EQ(gateway_->admin("GET", "/apis/orders").status, 200);
}

TEST_F(Management, KillDuringUploadsLosesNothingAcknowledgedAndLeavesNothingHalfWritten) {
  constexpr int kUploads = 100;
  const std::string body = upload_body(client("crash"), kUploadPassword);
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::thread uploader([&] {
    for (int i = 0; i < kUploads && !stop; ++i) {
      const std::string id = numbered("c", i);
      try {
        RawClient c(gateway_->admin_port());
        if (!c.send(make_request("PUT", "/certificates/" + id,
                                 {"Authorization: Bearer " + gateway_->admin_token()}, body))) {
          return;
        }
        std::optional<HttpResponse> r = c.read_response(Millis(20000));
        if (!r) return;
        if (r->status == 201) {
          std::lock_guard lock(mu);
          acknowledged.push_back(id);
        }
      } catch (const std::exception&) {
        return;  // the gateway is gone
      }
    }
  });
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(mu);
        return acknowledged.size() >= 25;
      },
      Millis(60000), Millis(1)));
  // Somewhere inside the next upload: decoding, composing, writing or renaming.
  std::this_thread::sleep_for(std::chrono::microseconds(std::random_device()() % 30000));

  gateway_->kill_and_restart();
  stop = true;
  uploader.join();

  HttpResponse list = gateway_->admin("GET", "/certificates");
  ASSERT_EQ(list.status, 200);
  std::set<std::string> listed;
  const json entities = json::parse(list.body).at("value");
  for (const json& entity : entities) {
    listed.insert(entity.at("name").get<std::string>());
  }
  for (const std::string& id : acknowledged) EXPECT_TRUE(listed.contains(id)) << id;
  const std::string dir = gateway_->state_dir() + "/certificates";
  size_t stored = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
    ASSERT_EQ(entry.path().extension(), ".pem") << name;
    openssl({"x509", "-noout", "-in", entry.path().string()});
    openssl({"pkey", "-noout", "-in", entry.path().string()});
    ++stored;
  }
  EXPECT_EQ(stored, listed.size());
  for (const auto& [name, contents] : files_under(gateway_->state_dir())) {
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
  }
  std::cout << "[ measure  ] killed after " << acknowledged.size() << " acknowledged uploads; "
            << listed.size() << " stored after the restart\n";
}

}  // namespace
}  // namespace ringgate::itest
