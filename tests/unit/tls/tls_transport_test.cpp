#include "tls/tls_transport.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tls_test_support.hpp"

namespace ringgate::tls {
namespace {

using ::testing::HasSubstr;
using testing::make_client;
using testing::make_server;
using testing::pki;
using testing::Pump;
using testing::server_context;
using testing::single;
using ::testing::StartsWith;
using testing::trusting_root;

std::shared_ptr<SSL_CTX> client_context(const ClientProfile& profile) {
  std::string error;
  auto ctx = make_client_context(profile, error);
  EXPECT_NE(ctx, nullptr) << error;
  return ctx;
}

std::shared_ptr<const ServerContexts> backend_server() {
  return single(server_context(pki().backend, pki().backend_chain()));
}

// A server that insists on a certificate from the test root, like nginx with
// ssl_verify_client on, or openssl s_server -Verify 1 -verify_return_error.
std::shared_ptr<const ServerContexts> mtls_server(int max_version = TLS1_3_VERSION) {
  auto ctx = server_context(pki().backend, pki().backend_chain());
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_load_verify_locations(ctx.get(), pki().root_file.c_str(), nullptr);
  SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  return single(ctx);
}

std::string subject_cn(X509* certificate) {
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, cn, sizeof cn);
  return cn;
}

TEST(TlsTransport, BackendLegsNegotiateAes128GcmWhenTheServerAllowsIt) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  auto server = make_server(backend_server());
  Pump pump{*client, *server};
  pump.handshake();
  ASSERT_TRUE(pump.both_established()) << client->last_error() << " / " << server->last_error();
  EXPECT_STREQ(SSL_CIPHER_get_name(SSL_get_current_cipher(client->ssl())),
               "TLS_AES_128_GCM_SHA256");
}

TEST(TlsTransport, ClientAndServerExchangeData) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  auto server = make_server(backend_server());
  Pump pump{*client, *server};
  pump.handshake();
  ASSERT_TRUE(pump.both_established()) << client->last_error() << " / " << server->last_error();

  ASSERT_EQ(client->encode("GET / HTTP/1.1\r\n\r\n", 18, pump.to_server).status, IoStatus::kOk);
  pump.run();
  EXPECT_EQ(pump.server_plaintext, "GET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(server->encode("HTTP/1.1 200 OK\r\n\r\n", 19, pump.to_client).status, IoStatus::kOk);
  pump.run();
  EXPECT_EQ(pump.client_plaintext, "HTTP/1.1 200 OK\r\n\r\n");
}

TEST(TlsTransport, NegotiatesHttp11WithAlpn) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  auto server = make_server(backend_server());
  Pump pump{*client, *server};
  pump.handshake();
  EXPECT_EQ(client->alpn(), "http/1.1");
  EXPECT_EQ(server->alpn(), "http/1.1");
}

TEST(TlsTransport, LargeBodiesSpanManyRecordsAndArriveWhole) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  auto server = make_server(backend_server());
  Pump pump{*client, *server};
  pump.handshake();
  std::string body(1 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 + 3);
  ASSERT_EQ(client->encode(body.data(), body.size(), pump.to_server).status, IoStatus::kOk);
  EXPECT_GT(pump.to_server.size(), body.size() + 64 * 16);  // 64+ records, each with a tag
  pump.run();
  EXPECT_EQ(pump.server_plaintext, body);
}

TEST(TlsTransport, RecordsSplitAcrossReadsAreReassembled) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  auto server = make_server(backend_server());
  Pump pump{*client, *server};
  pump.handshake();
  std::string wire;
  ASSERT_EQ(client->encode("hello", 5, wire).status, IoStatus::kOk);
  std::string plaintext;
  std::string out;
  for (size_t i = 0; i + 1 < wire.size(); ++i) {
    EXPECT_EQ(server->on_wire_bytes(&wire[i], 1, plaintext, out).status, IoStatus::kWantRead);
  }
  EXPECT_EQ(server->on_wire_bytes(&wire.back(), 1, plaintext, out).status, IoStatus::kOk);
  EXPECT_EQ(plaintext, "hello");
}

TEST(TlsTransport, ServerSendsItsChainAndClientVerifiesIt) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  auto server = make_server(backend_server());
  Pump pump{*client, *server};
  pump.handshake();
  ASSERT_TRUE(pump.both_established()) << client->last_error();
  EXPECT_EQ(SSL_get_verify_result(client->ssl()), X509_V_OK);
  EXPECT_EQ(sk_X509_num(SSL_get_peer_cert_chain(client->ssl())), 2);  // leaf + intermediate
}

TEST(TlsTransport, SelfSignedBackendFailsChainVerificationWithTeachingError) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  auto server = make_server(single(server_context(pki().self_signed)));
  Pump pump{*client, *server};
  pump.handshake();
  EXPECT_EQ(pump.client_status.status, IoStatus::kError);
  EXPECT_FALSE(client->established());
  EXPECT_THAT(client->last_error(), StartsWith("certificate verify failed: self-signed certificate "
                                               "(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)"));
  EXPECT_THAT(client->last_error(), HasSubstr("CN=backend.test"));
  // The client told the server why.
  EXPECT_EQ(pump.server_status.status, IoStatus::kError);
  EXPECT_THAT(server->last_error(), HasSubstr("client rejected the handshake: alert"));
}

TEST(TlsTransport, SelfSignedBackendIsAcceptedWithChainVerificationOff) {
  ClientProfile profile = trusting_root();
  profile.verify_chain = false;
  auto client = make_client(client_context(profile), "backend.test");
  auto server = make_server(single(server_context(pki().self_signed)));
  Pump pump{*client, *server};
  pump.handshake();
  EXPECT_TRUE(pump.both_established()) << client->last_error();
}

TEST(TlsTransport, BackendFromAnUntrustedIssuerIsNamedInTheError) {
  ClientProfile profile;
  profile.ca = pki().root_bundle;
  auto client = make_client(client_context(profile), "rogue-client");
  auto server = make_server(single(server_context(pki().rogue_client)));
  Pump pump{*client, *server};
  pump.handshake();
  EXPECT_EQ(pump.client_status.status, IoStatus::kError);
  EXPECT_THAT(client->last_error(), HasSubstr("unable to get local issuer certificate "
                                              "(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)"));
}

TEST(TlsTransport, NameMismatchFailsWithNameVerificationOn) {
  auto client = make_client(client_context(trusting_root()), "wrong.test");
  auto server = make_server(backend_server());
  Pump pump{*client, *server};
  pump.handshake();
  EXPECT_EQ(pump.client_status.status, IoStatus::kError);
  EXPECT_THAT(client->last_error(), HasSubstr("hostname mismatch (X509_V_ERR_HOSTNAME_MISMATCH)"));
  EXPECT_THAT(client->last_error(), HasSubstr("does not name 'wrong.test'"));
}

TEST(TlsTransport, NameMismatchIsAcceptedWithNameVerificationOff) {
  ClientProfile profile = trusting_root();
  profile.verify_name = false;
  auto client = make_client(client_context(profile), "wrong.test");
  auto server = make_server(backend_server());
  Pump pump{*client, *server};
  pump.handshake();
  EXPECT_TRUE(pump.both_established()) << client->last_error();
}

TEST(TlsTransport, NameIsStillCheckedWhenOnlyChainVerificationIsOff) {
  ClientProfile profile;
  profile.verify_chain = false;
  auto ctx = client_context(profile);
  auto server_ctx = single(server_context(pki().self_signed));

  auto wrong = make_client(ctx, "wrong.test");
  auto server = make_server(server_ctx);
  Pump bad{*wrong, *server};
  bad.handshake();
  EXPECT_THAT(wrong->last_error(), HasSubstr("hostname mismatch"));

  auto right = make_client(ctx, "backend.test");
  auto server2 = make_server(server_ctx);
  Pump good{*right, *server2};
  good.handshake();
  EXPECT_TRUE(good.both_established()) << right->last_error();
}

TEST(TlsTransport, WildcardCertificateCoversOneLabel) {
  auto ctx = client_context(trusting_root());
  auto client = make_client(ctx, "api.wild.test");
  auto server = make_server(backend_server());
  Pump pump{*client, *server};
  pump.handshake();
  EXPECT_TRUE(pump.both_established()) << client->last_error();

  auto deep = make_client(ctx, "a.b.wild.test");
  auto server2 = make_server(backend_server());
  Pump deep_pump{*deep, *server2};
  deep_pump.handshake();
  EXPECT_THAT(deep->last_error(), HasSubstr("hostname mismatch"));
}

TEST(TlsTransport, IpLiteralIsCheckedAgainstIpSansAndNotSentAsSni) {
  auto client = make_client(client_context(trusting_root()), "127.0.0.1");
  auto server = make_server(backend_server());
  Pump pump{*client, *server};
  pump.handshake();
  ASSERT_TRUE(pump.both_established()) << client->last_error();
  EXPECT_EQ(SSL_get_servername(server->ssl(), TLSEXT_NAMETYPE_host_name), nullptr);

  auto other_ip = make_client(client_context(trusting_root()), "127.0.0.2");
  auto server2 = make_server(backend_server());
  Pump bad{*other_ip, *server2};
  bad.handshake();
  EXPECT_THAT(other_ip->last_error(), HasSubstr("X509_V_ERR_IP_ADDRESS_MISMATCH"));
}

TEST(TlsTransport, ClientCertificateIsPresentedToTheBackend) {
  auto client = make_client(client_context(trusting_root(&pki().client)), "backend.test");
  auto server = make_server(mtls_server());
  Pump pump{*client, *server};
  pump.handshake();
  ASSERT_TRUE(pump.both_established()) << client->last_error() << " / " << server->last_error();
  X509* seen = SSL_get0_peer_certificate(server->ssl());
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ(subject_cn(seen), "gateway-client");
}

TEST(TlsTransport, Tls13BackendRequiringACertificateRejectsAClientWithout) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  auto server = make_server(mtls_server());
  Pump pump{*client, *server};
  pump.handshake();
  EXPECT_EQ(pump.client_status.status, IoStatus::kError);
  EXPECT_EQ(client->last_error(), "backend rejected the handshake: alert certificate required");
  EXPECT_EQ(server->last_error(), "client sent no certificate, and this listener requires one");
}

TEST(TlsTransport, Tls12BackendRequiringACertificateRejectsAClientWithout) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  auto server = make_server(mtls_server(TLS1_2_VERSION));
  Pump pump{*client, *server};
  pump.handshake();
  EXPECT_EQ(pump.client_status.status, IoStatus::kError);
  EXPECT_EQ(client->last_error(), "backend rejected the handshake: alert handshake failure");
}

TEST(TlsTransport, BackendThatDistrustsTheClientCertificateRejectsTheHandshake) {
  auto client = make_client(client_context(trusting_root(&pki().rogue_client)), "backend.test");
  auto server = make_server(mtls_server());
  Pump pump{*client, *server};
  pump.handshake();
  EXPECT_EQ(pump.client_status.status, IoStatus::kError);
  EXPECT_EQ(client->last_error(), "backend rejected the handshake: alert unknown CA");
  EXPECT_THAT(server->last_error(), HasSubstr("X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY"));
}

TEST(TlsTransport, Tls13BackendHasAcceptedOnlyOnceItSpeaksAfterTheHandshake) {
  auto client = make_client(client_context(trusting_root(&pki().client)), "backend.test");
  auto server = make_server(mtls_server());
  std::string to_server, to_client, plaintext;
  client->start(to_server);
  server->on_wire_bytes(to_server.data(), to_server.size(), plaintext, to_client);
  to_server.clear();
  client->on_wire_bytes(to_client.data(), to_client.size(), plaintext, to_server);
  to_client.clear();
  ASSERT_TRUE(client->established()) << client->last_error();
  EXPECT_FALSE(client->peer_accepted()) << "the server has not seen our certificate yet";

  server->on_wire_bytes(to_server.data(), to_server.size(), plaintext, to_client);
  client->on_wire_bytes(to_client.data(), to_client.size(), plaintext, to_server);
  EXPECT_TRUE(client->peer_accepted()) << "the server's session tickets say it accepted us";
}

TEST(TlsTransport, Tls13BackendThatRejectsTheCertificateNeverAccepted) {
  auto client = make_client(client_context(trusting_root(&pki().rogue_client)), "backend.test");
  auto server = make_server(mtls_server());
  Pump pump{*client, *server};
  pump.handshake();
  EXPECT_EQ(pump.client_status.status, IoStatus::kError);
  EXPECT_FALSE(client->peer_accepted());
}

TEST(TlsTransport, Tls12BackendHasAcceptedOnceEstablished) {
  auto client = make_client(client_context(trusting_root(&pki().client)), "backend.test");
  auto server = make_server(mtls_server(TLS1_2_VERSION));
  std::string to_server, to_client, plaintext;
  client->start(to_server);
  // ClientHello → server flight → client's certificate and Finished → server's Finished.
  for (int flight = 0; flight < 2; ++flight) {
    server->on_wire_bytes(to_server.data(), to_server.size(), plaintext, to_client);
    to_server.clear();
    client->on_wire_bytes(to_client.data(), to_client.size(), plaintext, to_server);
    to_client.clear();
  }
  ASSERT_TRUE(client->established()) << client->last_error();
  EXPECT_TRUE(client->peer_accepted());
}

TEST(TlsTransport, PlainHttpPeerGetsAHintInsteadOfAMysteriousError) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  std::string wire;
  client->start(wire);
  const std::string reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
  std::string plaintext;
  wire.clear();
  EXPECT_EQ(client->on_wire_bytes(reply.data(), reply.size(), plaintext, wire).status,
            IoStatus::kError);
  EXPECT_THAT(client->last_error(), HasSubstr("is the peer speaking TLS on this port?"));
}

TEST(TlsTransport, ErrorIsStickyAndEncodeBeforeHandshakeFails) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  std::string wire;
  EXPECT_EQ(client->encode("x", 1, wire).status, IoStatus::kError);
  client->start(wire);
  const std::string garbage(64, '\x17');
  std::string plaintext;
  EXPECT_EQ(client->on_wire_bytes(garbage.data(), garbage.size(), plaintext, wire).status,
            IoStatus::kError);
  EXPECT_EQ(client->on_wire_bytes("", 0, plaintext, wire).status, IoStatus::kError);
  EXPECT_FALSE(client->last_error().empty());
}

TEST(TlsTransport, CloseNotifyIsReportedAsClosed) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  auto server = make_server(backend_server());
  Pump pump{*client, *server};
  pump.handshake();
  ASSERT_EQ(server->encode("bye", 3, pump.to_client).status, IoStatus::kOk);
  server->shutdown(pump.to_client);
  pump.run();
  EXPECT_EQ(pump.client_plaintext, "bye");
  EXPECT_EQ(pump.client_status.status, IoStatus::kClosed);
}

TEST(TlsTransport, KeyUpdateIsHandledTransparently) {
  auto client = make_client(client_context(trusting_root()), "backend.test");
  auto server = make_server(backend_server());
  Pump pump{*client, *server};
  pump.handshake();
  ASSERT_EQ(SSL_key_update(client->ssl(), SSL_KEY_UPDATE_REQUESTED), 1);
  ASSERT_EQ(client->encode("one", 3, pump.to_server).status, IoStatus::kOk);
  pump.run();
  ASSERT_EQ(server->encode("two", 3, pump.to_client).status, IoStatus::kOk);
  pump.run();
  ASSERT_EQ(client->encode("three", 5, pump.to_server).status, IoStatus::kOk);
  pump.run();
  EXPECT_EQ(pump.server_plaintext, "onethree");
  EXPECT_EQ(pump.client_plaintext, "two");
  EXPECT_NE(pump.client_status.status, IoStatus::kError) << client->last_error();
  EXPECT_NE(pump.server_status.status, IoStatus::kError) << server->last_error();
}

TEST(TlsTransport, Tls13SessionIsResumedOnASecondHandshakeAndUsedOnce) {
  SessionCache sessions;
  auto ctx = client_context(trusting_root(&pki().client));
  auto server_ctx = mtls_server();

  auto first = make_client(ctx, "backend.test", false, &sessions);
  auto server1 = make_server(server_ctx);
  Pump pump1{*first, *server1};
  pump1.handshake();
  ASSERT_TRUE(pump1.both_established()) << first->last_error();
  EXPECT_FALSE(first->session_reused());
  ASSERT_EQ(sessions.size(), 1u);  // the ticket arrived after the handshake

  auto second = make_client(ctx, "backend.test", false, &sessions);
  EXPECT_EQ(sessions.size(), 0u);  // single-use: taken out
  auto server2 = make_server(server_ctx);
  Pump pump2{*second, *server2};
  pump2.handshake();
  ASSERT_TRUE(pump2.both_established()) << second->last_error();
  EXPECT_TRUE(second->session_reused());
  EXPECT_TRUE(server2->session_reused());
  EXPECT_EQ(sessions.size(), 1u);  // and the resumed handshake brought a new one
}

TEST(TlsTransport, Tls12SessionIsResumedAndStaysCached) {
  SessionCache sessions;
  auto ctx = client_context(trusting_root());
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION);
  auto server_ctx = backend_server();
  for (int i = 0; i < 3; ++i) {
    auto client = make_client(ctx, "backend.test", false, &sessions);
    auto server = make_server(server_ctx);
    Pump pump{*client, *server};
    pump.handshake();
    ASSERT_TRUE(pump.both_established()) << client->last_error();
    EXPECT_EQ(client->session_reused(), i > 0) << "handshake " << i;
    EXPECT_EQ(sessions.size(), 1u);
  }
}

TEST(TlsTransport, SessionsAreKeptPerPoolKey) {
  SessionCache sessions;
  auto ctx = client_context(trusting_root());
  auto server_ctx = backend_server();
  auto first = make_client(ctx, "backend.test", false, &sessions, "key-a");
  auto server1 = make_server(server_ctx);
  Pump pump1{*first, *server1};
  pump1.handshake();
  auto other_key = make_client(ctx, "backend.test", false, &sessions, "key-b");
  auto server2 = make_server(server_ctx);
  Pump pump2{*other_key, *server2};
  pump2.handshake();
  ASSERT_TRUE(pump2.both_established());
  EXPECT_FALSE(other_key->session_reused());
  EXPECT_EQ(sessions.size(), 2u);
}

TEST(TlsTransport, SniPicksTheMatchingCertificateOutOfTwo) {
  auto contexts = std::make_shared<ServerContexts>();
  contexts->add(server_context(pki().backend, pki().backend_chain()));
  contexts->add(server_context(pki().other));
  auto ctx = client_context(trusting_root());
  for (const char* name : {"backend.test", "other.test", "api.wild.test"}) {
    auto client = make_client(ctx, name);
    auto server = make_server(contexts);
    Pump pump{*client, *server};
    pump.handshake();
    ASSERT_TRUE(pump.both_established()) << name << ": " << client->last_error();
    X509* seen = SSL_get0_peer_certificate(client->ssl());
    EXPECT_EQ(subject_cn(seen), std::string(name) == "other.test" ? "other.test" : "backend.test")
        << name;
  }
}

TEST(TlsTransport, UnknownSniGetsTheDefaultCertificate) {
  auto contexts = std::make_shared<ServerContexts>();
  contexts->add(server_context(pki().backend, pki().backend_chain()));
  contexts->add(server_context(pki().other));
  contexts->set_default(server_context(pki().other));
  ClientProfile profile = trusting_root();
  profile.verify_name = false;
  auto client = make_client(client_context(profile), "nobody.test");
  auto server = make_server(contexts);
  Pump pump{*client, *server};
  pump.handshake();
  ASSERT_TRUE(pump.both_established()) << client->last_error();
  EXPECT_EQ(subject_cn(SSL_get0_peer_certificate(client->ssl())), "other.test");
}

TEST(TlsTransport, ClientWithoutServerNameIsRefusedWhenNamesAreVerified) {
  std::string error;
  auto transport = TlsTransport::client(client_context(trusting_root()), ClientOptions{}, error);
  EXPECT_EQ(transport, nullptr);
  EXPECT_THAT(error, HasSubstr("no server name"));
}

}  // namespace
}  // namespace ringgate::tls
