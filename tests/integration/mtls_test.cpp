// Backend mTLS through ringgate (issue 3, acceptance 1–6 and 8; DESIGN §4–§7, §9):
// nginx with `ssl_verify_client on` as the real backend, `openssl s_server` as
// a backend that refuses client certificates in the handshake.
//
// mtls_validation_test.cpp has server validation, handshake refusals and
// --check-config; mtls_harness_test.cpp checks the harness pieces on their own.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <set>
#include <sstream>

#include "harness.hpp"
#include "mtls_support.hpp"

namespace ringgate::itest {
namespace {

// One request/response as a client saw it.
struct Exchange {
  size_t path_index = 0;
  int status = 0;           // 0: no response; `error` says why
  std::string fingerprint;  // X-Client-Fingerprint, lower-case
  std::string connection;   // X-Connection
  long connection_requests = 0;
  std::string request_uri;  // X-Request-Uri (the backend's view)
  std::string error;
  Clock::time_point sent;      // when the request was about to be sent
  Clock::time_point answered;  // when the response (or the failure) came
};

// The untimed part of exchange_on.
Exchange exchange_once(std::unique_ptr<RawClient>& client, uint16_t port, const std::string& target,
                       size_t path_index) {
  Exchange e;
  e.path_index = path_index;
  e.sent = Clock::now();
  try {
    if (!client) client = std::make_unique<RawClient>(port);
  } catch (const std::exception& error) {
    e.error = std::string("connect: ") + error.what();
    return e;
  }
  std::optional<HttpResponse> r;
  if (client->send(make_request("GET", target))) r = client->read_final_response(Millis(10000));
  if (!r) {
    e.error = client->error().empty() ? "connection ended" : client->error();
    client.reset();
    return e;
  }
  e.status = r->status;
  e.fingerprint = to_lower(r->header("X-Client-Fingerprint").value_or(""));
  e.connection = r->header("X-Connection").value_or("");
  e.connection_requests = std::atol(r->header("X-Connection-Requests").value_or("0").c_str());
  e.request_uri = r->header("X-Request-Uri").value_or("");
  if (!r->body.empty() && e.status != 200) e.error = r->body.substr(0, 200);
  if (to_lower(r->header("Connection").value_or("")) == "close") client.reset();
  return e;
}

// Sends GET `target` on `client` (connecting one to `port` first when it is
// empty) and reads the answer, noting when it was sent and when it came. A
// failed exchange, or a response with `Connection: close`, drops the client so
// the next call reconnects.
Exchange exchange_on(std::unique_ptr<RawClient>& client, uint16_t port, const std::string& target,
                     size_t path_index) {
  Exchange e = exchange_once(client, port, target, path_index);
  e.answered = Clock::now();
  return e;
}

// `total` GETs over `connections` client connections in parallel, each
// connection sending one after another and alternating between `paths`
// (connection i starts with path i % paths.size(), so both are in flight
// at any moment). Request n on connection i goes to <path>/<i>/<n>.
std::vector<Exchange> run_interleaved(uint16_t port, size_t connections, size_t total,
                                      const std::vector<std::string>& paths) {
  std::vector<std::vector<Exchange>> per_connection(connections);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < connections; ++i) {
    const size_t count = total / connections + (i < total % connections ? 1 : 0);
    threads.emplace_back([&, i, count] {
      std::unique_ptr<RawClient> client;
      for (size_t n = 0; n < count; ++n) {
        const size_t p = (i + n) % paths.size();
        const std::string target = paths[p] + "/" + std::to_string(i) + "/" + std::to_string(n);
        per_connection[i].push_back(exchange_on(client, port, target, p));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<Exchange> all;
  for (auto& list : per_connection) all.insert(all.end(), list.begin(), list.end());
  return all;
}

// A short description of the first `max` exchanges that `bad` selects.
template <typename Predicate>
std::string first_bad(const std::vector<Exchange>& exchanges, Predicate bad, size_t max = 5) {
  std::string out;
  size_t shown = 0;
  for (const Exchange& e : exchanges) {
    if (!bad(e) || shown++ >= max) continue;
    out += "\n  path#" + std::to_string(e.path_index) + " status=" + std::to_string(e.status) +
           " fingerprint=" + e.fingerprint + " uri=" + e.request_uri + " error=" + e.error;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Acceptance 1: each API presents its own certificate.

TEST(Mtls, EachApiPresentsItsOwnCertificate) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  GatewayConfig o;
  o.workers = 2;  // per-worker pools: neither may mix the keys up
  o.certificates = {{"client-legacy", pki().client_legacy_pfx},
                    {"client-aes", pki().client_aes_pfx}};
  o.backends = {trusting_backend(nginx.origin())};
  o.apis = {
      {"legacy", "legacy", nginx.origin() + "/legacy", certificate_id_policy("client-legacy")},
      {"aes", "aes", nginx.origin() + "/aes", certificate_id_policy("client-aes")}};
  o.pool = kPool;
  GatewayUnderTest gateway(o);

  const std::vector<std::string> paths = {"/legacy", "/aes"};
  const std::string expected[] = {to_lower(pki().client_legacy.thumbprint),
                                  to_lower(pki().client_aes.thumbprint)};
  std::vector<Exchange> exchanges = run_interleaved(gateway.port(), 32, 2000, paths);
  ASSERT_EQ(exchanges.size(), 2000u);

  size_t per_path[2] = {0, 0};
  for (const Exchange& e : exchanges) ++per_path[e.path_index];
  EXPECT_EQ(per_path[0], 1000u);
  EXPECT_EQ(per_path[1], 1000u);
  auto not_ok = [](const Exchange& e) { return e.status != 200; };
  EXPECT_EQ(std::count_if(exchanges.begin(), exchanges.end(), not_ok), 0)
      << first_bad(exchanges, not_ok);
  auto wrong_uri = [&](const Exchange& e) {
    return e.status == 200 && e.request_uri.rfind(paths[e.path_index] + "/", 0) != 0;
  };
  EXPECT_EQ(std::count_if(exchanges.begin(), exchanges.end(), wrong_uri), 0)
      << first_bad(exchanges, wrong_uri);
  auto other_certificate = [&](const Exchange& e) {
    return e.status == 200 && e.fingerprint == expected[1 - e.path_index];
  };
  EXPECT_EQ(std::count_if(exchanges.begin(), exchanges.end(), other_certificate), 0)
      << "responses carrying the OTHER API's certificate:"
      << first_bad(exchanges, other_certificate);
  auto wrong_certificate = [&](const Exchange& e) {
    return e.status == 200 && e.fingerprint != expected[e.path_index];
  };
  EXPECT_EQ(std::count_if(exchanges.begin(), exchanges.end(), wrong_certificate), 0)
      << first_bad(exchanges, wrong_certificate);
}

TEST(Mtls, ThumbprintPolicySelectsTheCertificate) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  GatewayConfig o;
  o.certificates = {{"client-legacy", pki().client_legacy_pfx},
                    {"client-aes", pki().client_aes_pfx}};
  o.backends = {trusting_backend(nginx.origin())};
  // Lower-case on purpose: APIM compares thumbprints case-insensitively.
  o.apis = {{"by-thumbprint", "t", nginx.origin() + "/t",
             thumbprint_policy(to_lower(pki().client_aes.thumbprint))}};
  o.pool = kPool;
  GatewayUnderTest gateway(o);
  HttpResponse r = gateway.get("/t/x");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(to_lower(r.header("X-Client-Fingerprint").value_or("")),
            to_lower(pki().client_aes.thumbprint));
  EXPECT_EQ(r.header("X-Client-DN"), pki().client_aes.subject);
}

// RFC 6066 allows only host names in SNI: a backend addressed by an IP literal
// gets none (and its certificate's name check uses the IP SANs).
TEST(Mtls, SendsNoSniToAnIpLiteralBackend) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  GatewayConfig o;
  o.certificates = {{"client-aes", pki().client_aes_pfx}};
  o.backends = {trusting_backend(nginx.origin())};
  o.apis = {{"a", "a", nginx.origin() + "/api", certificate_id_policy("client-aes")}};
  o.pool = kPool;
  GatewayUnderTest gateway(o);
  HttpResponse r = gateway.get("/a/sni");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("X-Server-Name"), std::nullopt);
}

// ---------------------------------------------------------------------------
// Acceptance 2: pooled, pre-established, reused connections.

TEST(Mtls, BackendConnectionsAreReusedAcrossRequests) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  GatewayConfig o;
  o.workers = 1;
  o.certificates = {{"client-legacy", pki().client_legacy_pfx},
                    {"client-aes", pki().client_aes_pfx}};
  o.backends = {trusting_backend(nginx.origin())};
  o.apis = {
      {"legacy", "legacy", nginx.origin() + "/legacy", certificate_id_policy("client-legacy")},
      {"aes", "aes", nginx.origin() + "/aes", certificate_id_policy("client-aes")}};
  o.pool = kPool;
  GatewayUnderTest gateway(o);

  constexpr size_t kClients = 32;
  std::vector<Exchange> exchanges =
      run_interleaved(gateway.port(), kClients, 1280, {"/legacy", "/aes"});
  std::set<std::string> connections[2];
  long most_requests = 0;
  size_t ok = 0;
  for (const Exchange& e : exchanges) {
    if (e.status != 200) continue;
    ++ok;
    connections[e.path_index].insert(e.connection);
    most_requests = std::max(most_requests, e.connection_requests);
  }
  EXPECT_EQ(ok, exchanges.size()) << first_bad(exchanges,
                                               [](const Exchange& e) { return e.status != 200; });
  const size_t bound = o.workers * (kPool.at("minIdle") + kClients);
  EXPECT_LE(connections[0].size(), bound) << "backend connections for the legacy API";
  EXPECT_LE(connections[1].size(), bound) << "backend connections for the aes API";
  // No backend connection serves both APIs (a pool key never lends to another).
  for (const std::string& c : connections[0]) {
    EXPECT_EQ(connections[1].count(c), 0u) << "nginx connection " << c << " served both APIs";
  }
  EXPECT_GT(most_requests, 1) << "no backend connection carried a second request";
}

TEST(Mtls, PoolsArePreEstablishedBeforeTheFirstRequest) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  GatewayConfig o;
  o.workers = 2;
  o.certificates = {{"client-legacy", pki().client_legacy_pfx},
                    {"client-aes", pki().client_aes_pfx}};
  o.backends = {trusting_backend(nginx.origin())};
  o.apis = {
      {"legacy", "legacy", nginx.origin() + "/legacy", certificate_id_policy("client-legacy")},
      {"aes", "aes", nginx.origin() + "/aes", certificate_id_policy("client-aes")}};
  o.pool = kPool;
  GatewayUnderTest gateway(o);

  // Two keys (one per certificate) × minIdle × workers, and no request sent.
  const long expected = 2 * static_cast<long>(kPool.at("minIdle")) * o.workers;
  long open_at_backend = 0;
  EXPECT_TRUE(eventually(
      [&] {
        // stub_status counts its own request as active.
        open_at_backend = nginx.stub_status().value_or(StubStatus{}).active - 1;
        return open_at_backend >= expected;
      },
      Millis(5000)))
      << "nginx sees " << open_at_backend << " open connections, expected " << expected;
  // Open at the backend is not yet ready: the handshakes finish a moment later.
  // Each key's pool label carries its certificate's thumbprint.
  const double per_key = static_cast<double>(kPool.at("minIdle") * o.workers);
  EXPECT_TRUE(eventually(
      [&] {
        const std::string m = gateway.metrics();
        return metric_value(m, "ringgate_pool_idle_connections", pki().client_legacy.thumbprint)
                       .value_or(0) >= per_key &&
               metric_value(m, "ringgate_pool_idle_connections", pki().client_aes.thumbprint)
                       .value_or(0) >= per_key &&
               metric_value(m, "ringgate_tls_handshakes_total").value_or(0) >= expected;
      },
      Millis(5000)))
      << "expected " << per_key << " idle pooled connections per key, handshakes done\n"
      << gateway.metrics();
  // Idle pools hold minIdle, not more.
  std::this_thread::sleep_for(Millis(300));
  EXPECT_LE(nginx.stub_status().value_or(StubStatus{}).active - 1, expected);
}

// ---------------------------------------------------------------------------
// Acceptance 6: a certificate replaced under the same id, then SIGHUP.

TEST(Mtls, ReplacedCertificateIsUsedAfterSighup) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  GatewayConfig o;
  o.certificates = {{"client", pki().client_aes_pfx}};
  o.backends = {trusting_backend(nginx.origin())};
  o.apis = {{"a", "a", nginx.origin() + "/api", certificate_id_policy("client")}};
  o.pool = kPool;
  GatewayUnderTest gateway(o);
  const std::string old_fingerprint = to_lower(pki().client_aes.thumbprint);
  const std::string new_fingerprint = to_lower(pki().client_replacement.thumbprint);

  // A client connection that stays open across the reload.
  std::unique_ptr<RawClient> held;
  Exchange before = exchange_on(held, gateway.port(), "/a/before", 0);
  ASSERT_EQ(before.status, 200) << before.error;
  ASSERT_EQ(before.fingerprint, old_fingerprint);

  write_file(gateway.pfx_path("client"), read_file(pki().client_replacement_pfx.pfx_file), 0600);
  write_file(gateway.password_path("client"), read_file(pki().client_replacement_pfx.password_file),
             0600);
  gateway.process().stop(SIGHUP);
  ASSERT_TRUE(
      eventually([&] { return gateway.metric("ringgate_config_reloads_total").value_or(0) >= 1; },
                 Millis(10000)))
      << "no successful reload counted:\n"
      << tail(gateway.process().stderr_text());

  std::vector<Exchange> after;
  for (int n = 0; n < 100; ++n) after.push_back(exchange_on(held, gateway.port(), "/a/held", 0));
  std::vector<std::thread> threads;
  std::vector<std::vector<Exchange>> fresh(4);
  for (size_t i = 0; i < fresh.size(); ++i) {
    threads.emplace_back([&, i] {
      std::unique_ptr<RawClient> client;
      for (int n = 0; n < 25; ++n)
        fresh[i].push_back(exchange_on(client, gateway.port(), "/a/new", 0));
    });
  }
  for (auto& t : threads) t.join();
  for (auto& list : fresh) after.insert(after.end(), list.begin(), list.end());

  ASSERT_EQ(after.size(), 200u);
  auto old_one = [&](const Exchange& e) { return e.fingerprint == old_fingerprint; };
  EXPECT_EQ(std::count_if(after.begin(), after.end(), old_one), 0)
      << "responses after the reload with the OLD certificate:" << first_bad(after, old_one);
  auto not_new = [&](const Exchange& e) {
    return e.status != 200 || e.fingerprint != new_fingerprint;
  };
  EXPECT_EQ(std::count_if(after.begin(), after.end(), not_new), 0) << first_bad(after, not_new);
}

TEST(Mtls, PoolOfARotatedOutCertificateIsFreedOnceDrained) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  GatewayConfig o;
  o.certificates = {{"client", pki().client_aes_pfx}};
  o.backends = {trusting_backend(nginx.origin())};
  o.apis = {{"a", "a", nginx.origin() + "/api", certificate_id_policy("client")}};
  o.pool = kPool;
  GatewayUnderTest gateway(o);
  ASSERT_EQ(gateway.get("/a/before").status, 200);
  EXPECT_EQ(gateway.metric("ringgate_backend_pools").value_or(-1), 1);

  write_file(gateway.pfx_path("client"), read_file(pki().client_replacement_pfx.pfx_file), 0600);
  write_file(gateway.password_path("client"), read_file(pki().client_replacement_pfx.password_file),
             0600);
  gateway.process().stop(SIGHUP);
  ASSERT_TRUE(
      eventually([&] { return gateway.metric("ringgate_config_reloads_total").value_or(0) >= 1; },
                 Millis(10000)))
      << tail(gateway.process().stderr_text());
  ASSERT_EQ(gateway.get("/a/after").status, 200);
  // The old key's pool (and the SSL_CTX holding the old private key) goes
  // once its connections are closed: one pool is left, the new one.
  EXPECT_TRUE(eventually([&] { return gateway.metric("ringgate_backend_pools").value_or(-1) == 1; },
                         Millis(5000)))
      << gateway.metrics();
}

// ---------------------------------------------------------------------------
// Acceptance 8: the backend dies and comes back during load.

TEST(Mtls, PoolsRecoverWhenTheBackendRestarts) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  GatewayConfig o;
  o.certificates = {{"client", pki().client_aes_pfx}};
  o.backends = {trusting_backend(nginx.origin())};
  o.apis = {{"a", "a", nginx.origin() + "/api", certificate_id_policy("client")}};
  o.pool = kPool;
  o.timeouts = {{"backendConnectMs", 1000}};
  GatewayUnderTest gateway(o);

  std::atomic<bool> stop{false};
  std::vector<std::vector<Exchange>> per_client(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < per_client.size(); ++i) {
    threads.emplace_back([&, i] {
      std::unique_ptr<RawClient> client;
      while (!stop.load()) {
        per_client[i].push_back(exchange_on(client, gateway.port(), "/a/load", 0));
        // While the backend is down, failures come back fast: don't spin.
        if (per_client[i].back().status != 200) std::this_thread::sleep_for(Millis(5));
      }
    });
  }

  std::this_thread::sleep_for(Millis(700));
  const double connects_before = gateway.metric("ringgate_pool_connects_total").value_or(0);
  const Clock::time_point killed = Clock::now();
  nginx.kill();
  std::this_thread::sleep_for(Millis(1000));
  nginx.start();
  const Clock::time_point back = Clock::now();
  std::this_thread::sleep_for(Millis(1500));
  stop = true;
  for (auto& t : threads) t.join();

  // Requests answered before the kill must have succeeded, and so must every
  // request sent once nginx accepted again; those in between may fail.
  std::vector<Exchange> before_kill, after_back;
  for (const auto& list : per_client) {
    for (const Exchange& e : list) {
      if (e.answered < killed) before_kill.push_back(e);
      if (e.sent >= back) after_back.push_back(e);
    }
  }
  auto failed = [](const Exchange& e) { return e.status != 200; };
  EXPECT_GT(before_kill.size(), 50u) << "too little load before the kill";
  EXPECT_EQ(std::count_if(before_kill.begin(), before_kill.end(), failed), 0)
      << first_bad(before_kill, failed);
  EXPECT_GT(after_back.size(), 50u) << "too little load after the restart";
  EXPECT_EQ(std::count_if(after_back.begin(), after_back.end(), failed), 0)
      << "requests sent after the backend was back that failed:" << first_bad(after_back, failed);
  const double connects_after = gateway.metric("ringgate_pool_connects_total").value_or(0);
  EXPECT_GE(connects_after, connects_before + kPool.at("minIdle")) << "the pool did not reconnect\n"
                                                                   << gateway.metrics();
  EXPECT_GT(nginx.stub_status().value_or(StubStatus{}).requests, 50)
      << "the restarted nginx served little or nothing";
}

// ---------------------------------------------------------------------------
// Metrics for certificates and handshakes (DESIGN §7).

TEST(Mtls, MetricsExposeCertificateExpiry) {
  REQUIRE_TLS_PEERS();
  NginxMtlsBackend nginx(mtls_nginx_options());
  GatewayConfig o;
  o.certificates = {{"client-aes", pki().client_aes_pfx}};
  o.backends = {trusting_backend(nginx.origin())};
  o.apis = {{"a", "a", nginx.origin() + "/api", certificate_id_policy("client-aes")}};
  GatewayUnderTest gateway(o);
  const std::string labels = "id=\"client-aes\",thumbprint=\"" + pki().client_aes.thumbprint + "\"";
  std::optional<double> expiry =
      gateway.metric("ringgate_certificate_expiry_timestamp_seconds", labels);
  ASSERT_TRUE(expiry) << "no sample with " << labels << " in:\n" << gateway.metrics();
  // The PKI issues certificates for 825 days.
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_GT(*expiry, now + 824.0 * 86400);
  EXPECT_LT(*expiry, now + 826.0 * 86400);
}

// nginx closing every connection after one request makes the pool reconnect
// for each; with the session kept per key those handshakes resume.
TEST(Mtls, ReconnectsResumeTheTlsSession) {
  REQUIRE_TLS_PEERS();
  NginxTlsOptions n = mtls_nginx_options();
  n.keepalive_requests = 1;
  NginxMtlsBackend nginx(n);
  GatewayConfig o;
  o.certificates = {{"client-aes", pki().client_aes_pfx}};
  o.backends = {trusting_backend(nginx.origin())};
  o.apis = {{"a", "a", nginx.origin() + "/api", certificate_id_policy("client-aes")}};
  o.pool = kPool;
  GatewayUnderTest gateway(o);
  std::unique_ptr<RawClient> client;
  for (int i = 0; i < 20; ++i) {
    Exchange e = exchange_on(client, gateway.port(), "/a/r", 0);
    ASSERT_EQ(e.status, 200) << e.error;
    // A resumed session still carries the client certificate.
    ASSERT_EQ(e.fingerprint, to_lower(pki().client_aes.thumbprint));
  }
  EXPECT_GT(gateway.metric("ringgate_tls_handshakes_total", "kind=\"resumed\"").value_or(0), 0)
      << gateway.metrics();
}

}  // namespace
}  // namespace ringgate::itest
