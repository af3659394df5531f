// kTLS hand-over. This machine's kernel has no CONFIG_TLS, so the kernel's
// record layer is stood in for by seal_record/open_record (tls_test_support):
// records sealed with one side's extracted TX parameters must open in the
// other side's OpenSSL, and OpenSSL's records must open with the RX
// parameters. That checks keys, IVs and sequence numbers together. The test
// against a real kernel runs where probe_ktls() finds one and is skipped
// (not passed) elsewhere.
#include "tls/ktls.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstring>

#include "tls/traffic_keys.hpp"
#include "tls_test_support.hpp"

namespace ringgate::tls {
namespace {

using ::testing::HasSubstr;
using testing::make_client;
using testing::make_server;
using testing::open_record;
using testing::pki;
using testing::Pump;
using testing::seal_record;
using testing::server_context;
using testing::single;
using testing::trusting_root;

struct Suite {
  const char* name;
  int version;
  const char* cipher;  // TLS 1.3 ciphersuite or TLS 1.2 cipher list
  bool rsa;
  KtlsCipher expected;
};

constexpr Suite kSuites[] = {
    {"Tls13Aes128Gcm", TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", false, KtlsCipher::kAesGcm128},
    {"Tls13Aes256Gcm", TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", false, KtlsCipher::kAesGcm256},
    {"Tls13ChaCha20", TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256", false,
     KtlsCipher::kChaCha20Poly1305},
    {"Tls12EcdheRsaAes128Gcm", TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256", true,
     KtlsCipher::kAesGcm128},
    {"Tls12EcdheEcdsaAes256Gcm", TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384", false,
     KtlsCipher::kAesGcm256},
    {"Tls12EcdheEcdsaChaCha20", TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", false,
     KtlsCipher::kChaCha20Poly1305},
};

// A client and a server, both capturing for kTLS, restricted to one suite.
struct Connection {
  std::unique_ptr<TlsTransport> client;
  std::unique_ptr<TlsTransport> server;
  std::unique_ptr<Pump> pump;
};

void restrict_to(SSL_CTX* ctx, const Suite& suite) {
  SSL_CTX_set_max_proto_version(ctx, suite.version);
  SSL_CTX_set_min_proto_version(ctx, suite.version);
  if (suite.version == TLS1_3_VERSION) {
    ASSERT_EQ(SSL_CTX_set_ciphersuites(ctx, suite.cipher), 1) << suite.cipher;
  } else {
    ASSERT_EQ(SSL_CTX_set_cipher_list(ctx, suite.cipher), 1) << suite.cipher;
  }
}

Connection connect(const Suite& suite) {
  std::string error;
  auto client_ctx = make_client_context(trusting_root(), error);
  EXPECT_NE(client_ctx, nullptr) << error;
  restrict_to(client_ctx.get(), suite);
  auto server_ctx = suite.rsa ? server_context(pki().backend_rsa)
                              : server_context(pki().backend, pki().backend_chain());
  restrict_to(server_ctx.get(), suite);
  Connection c;
  c.client = make_client(client_ctx, "backend.test", true);
  c.server = make_server(single(server_ctx), true);
  c.pump = std::make_unique<Pump>(*c.client, *c.server);
  c.pump->handshake();
  EXPECT_TRUE(c.pump->both_established())
      << c.client->last_error() << " / " << c.server->last_error();
  return c;
}

KtlsParams params_of(const TlsTransport& transport) {
  KtlsParams params;
  std::string error;
  EXPECT_TRUE(transport.ktls_params(params, error)) << error;
  return params;
}

std::string key_hex(const KtlsDirectionKeys& keys) {
  std::string out;
  char buf[3];
  for (size_t i = 0; i < keys.key_len; ++i) {
    snprintf(buf, sizeof buf, "%02x", keys.key[i]);
    out += buf;
  }
  return out;
}

// Both sides' views of one direction agree. TLS 1.2 AES-GCM shares only the
// 4-byte salt; the explicit nonce travels in each record.
void expect_same_direction(const KtlsParams& params, const KtlsDirectionKeys& sender,
                           const KtlsDirectionKeys& receiver) {
  EXPECT_EQ(key_hex(sender), key_hex(receiver));
  const size_t shared_iv =
      params.version == TLS_1_2_VERSION && params.cipher != KtlsCipher::kChaCha20Poly1305 ? 4 : 12;
  EXPECT_TRUE(std::equal(sender.iv.begin(), sender.iv.begin() + shared_iv, receiver.iv.begin()));
  EXPECT_EQ(sender.rec_seq, receiver.rec_seq);
}

class KtlsSuite : public ::testing::TestWithParam<Suite> {};

TEST_P(KtlsSuite, ParamsOnBothSidesMatch) {
  const Suite& suite = GetParam();
  Connection c = connect(suite);
  ASSERT_EQ(c.client->encode("warm-up", 7, c.pump->to_server).status, IoStatus::kOk);
  c.pump->run();
  ASSERT_EQ(c.server->encode("reply", 5, c.pump->to_client).status, IoStatus::kOk);
  c.pump->run();
  const KtlsParams client = params_of(*c.client);
  const KtlsParams server = params_of(*c.server);
  const uint16_t version = suite.version == TLS1_3_VERSION ? TLS_1_3_VERSION : TLS_1_2_VERSION;
  EXPECT_EQ(client.version, version);
  EXPECT_EQ(server.version, version);
  EXPECT_EQ(client.cipher, suite.expected);
  EXPECT_EQ(server.cipher, suite.expected);
  EXPECT_EQ(client.tx.key_len, suite.expected == KtlsCipher::kAesGcm128 ? 16u : 32u);
  expect_same_direction(client, client.tx, server.rx);
  expect_same_direction(client, server.tx, client.rx);
  EXPECT_NE(key_hex(client.tx), key_hex(client.rx));
}

TEST_P(KtlsSuite, SequenceNumbersCountRecordsAfterTheKeyChange) {
  const Suite& suite = GetParam();
  Connection c = connect(suite);
  const KtlsParams client = params_of(*c.client);
  const KtlsParams server = params_of(*c.server);
  if (suite.version == TLS1_3_VERSION) {
    // OpenSSL's server sent two NewSessionTickets under the application keys.
    EXPECT_EQ(server.tx.rec_seq, 2u);
    EXPECT_EQ(client.rx.rec_seq, 2u);
    EXPECT_EQ(client.tx.rec_seq, 0u);
    EXPECT_EQ(server.rx.rec_seq, 0u);
  } else {
    // The Finished record was number 0 in each direction.
    EXPECT_EQ(client.tx.rec_seq, 1u);
    EXPECT_EQ(client.rx.rec_seq, 1u);
    EXPECT_EQ(server.tx.rec_seq, 1u);
    EXPECT_EQ(server.rx.rec_seq, 1u);
  }
}

// The client moves to the (emulated) kernel; the server stays in OpenSSL.
TEST_P(KtlsSuite, ClientKernelRecordsInterworkWithUserspaceServer) {
  Connection c = connect(GetParam());
  ASSERT_EQ(c.server->encode("before", 6, c.pump->to_client).status, IoStatus::kOk);
  c.pump->run();
  ASSERT_TRUE(c.client->ktls_rx_ready());
  KtlsParams kernel = params_of(*c.client);

  std::string wire = seal_record(kernel, kernel.tx, kRecordApplicationData, "GET /1 ");
  wire += seal_record(kernel, kernel.tx, kRecordApplicationData, "GET /2");
  std::string plaintext;
  std::string out;
  EXPECT_EQ(c.server->on_wire_bytes(wire.data(), wire.size(), plaintext, out).status, IoStatus::kOk)
      << c.server->last_error();
  EXPECT_EQ(plaintext, "GET /1 GET /2");

  std::string from_server;
  ASSERT_EQ(c.server->encode("HTTP/1.1 200 OK", 15, from_server).status, IoStatus::kOk);
  ASSERT_EQ(c.server->encode("!", 1, from_server).status, IoStatus::kOk);
  for (const char* expected : {"HTTP/1.1 200 OK", "!"}) {
    uint8_t type = 0;
    std::string opened;
    ASSERT_TRUE(open_record(kernel, kernel.rx, from_server, type, opened));
    EXPECT_EQ(type, kRecordApplicationData);
    EXPECT_EQ(opened, expected);
  }
  EXPECT_TRUE(from_server.empty());
}

// The server moves to the (emulated) kernel; the client stays in OpenSSL.
TEST_P(KtlsSuite, ServerKernelRecordsInterworkWithUserspaceClient) {
  Connection c = connect(GetParam());
  ASSERT_EQ(c.client->encode("before", 6, c.pump->to_server).status, IoStatus::kOk);
  c.pump->run();
  ASSERT_TRUE(c.server->ktls_rx_ready());
  KtlsParams kernel = params_of(*c.server);

  const std::string wire = seal_record(kernel, kernel.tx, kRecordApplicationData, "response");
  std::string plaintext;
  std::string out;
  EXPECT_EQ(c.client->on_wire_bytes(wire.data(), wire.size(), plaintext, out).status, IoStatus::kOk)
      << c.client->last_error();
  EXPECT_EQ(plaintext, "response");

  std::string from_client;
  ASSERT_EQ(c.client->encode("request", 7, from_client).status, IoStatus::kOk);
  uint8_t type = 0;
  std::string opened;
  ASSERT_TRUE(open_record(kernel, kernel.rx, from_client, type, opened));
  EXPECT_EQ(opened, "request");
}

// A close_notify sealed by the kernel side arrives as a clean close.
TEST_P(KtlsSuite, AlertRecordsFromTheKernelSideAreUnderstood) {
  Connection c = connect(GetParam());
  KtlsParams kernel = params_of(*c.client);
  const std::string wire = seal_record(kernel, kernel.tx, kRecordAlert, std::string("\x01\x00", 2));
  std::string plaintext;
  std::string out;
  EXPECT_EQ(c.server->on_wire_bytes(wire.data(), wire.size(), plaintext, out).status,
            IoStatus::kClosed);
}

INSTANTIATE_TEST_SUITE_P(Ciphers, KtlsSuite, ::testing::ValuesIn(kSuites),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(KtlsParams, FollowTls13KeyUpdatesInBothDirections) {
  Connection c = connect(kSuites[0]);
  ASSERT_EQ(SSL_key_update(c.client->ssl(), SSL_KEY_UPDATE_REQUESTED), 1);
  ASSERT_EQ(c.client->encode("a", 1, c.pump->to_server).status, IoStatus::kOk);
  c.pump->run();
  ASSERT_EQ(c.server->encode("b", 1, c.pump->to_client).status, IoStatus::kOk);
  c.pump->run();
  ASSERT_EQ(c.pump->client_plaintext, "b");

  KtlsParams kernel = params_of(*c.client);
  const KtlsParams server = params_of(*c.server);
  expect_same_direction(kernel, kernel.tx, server.rx);
  expect_same_direction(kernel, server.tx, kernel.rx);
  const std::string wire = seal_record(kernel, kernel.tx, kRecordApplicationData, "after update");
  std::string plaintext;
  std::string out;
  EXPECT_EQ(c.server->on_wire_bytes(wire.data(), wire.size(), plaintext, out).status, IoStatus::kOk)
      << c.server->last_error();
  EXPECT_EQ(plaintext, "after update");
}

TEST(KtlsParams, RefuseCiphersTheKernelDoesNotTake) {
  Connection c = connect(
      {"Tls13Ccm", TLS1_3_VERSION, "TLS_AES_128_CCM_SHA256", false, KtlsCipher::kAesGcm128});
  KtlsParams params;
  std::string error;
  EXPECT_FALSE(c.client->ktls_params(params, error));
  EXPECT_THAT(error, HasSubstr("unsupported cipher TLS_AES_128_CCM_SHA256"));
}

TEST(KtlsParams, NeedTheConnectionToHaveAskedForThem) {
  std::string error;
  auto ctx = make_client_context(trusting_root(), error);
  auto client = make_client(ctx, "backend.test", false);
  auto server = make_server(single(server_context(pki().backend, pki().backend_chain())));
  Pump pump{*client, *server};
  pump.handshake();
  KtlsParams params;
  EXPECT_FALSE(client->ktls_params(params, error));
  EXPECT_THAT(error, HasSubstr("without kTLS capture"));
}

TEST(KtlsParams, AreRefusedBeforeTheHandshakeFinishes) {
  std::string error;
  auto client = make_client(make_client_context(trusting_root(), error), "backend.test", true);
  std::string wire;
  client->start(wire);
  KtlsParams params;
  EXPECT_FALSE(client->ktls_params(params, error));
  EXPECT_THAT(error, HasSubstr("handshake has not finished"));
}

TEST(KtlsRxReady, IsFalseWhileAPartialRecordIsBuffered) {
  Connection c = connect(kSuites[0]);
  std::string wire;
  ASSERT_EQ(c.server->encode("split me", 8, wire).status, IoStatus::kOk);
  std::string plaintext;
  std::string out;
  c.client->on_wire_bytes(wire.data(), 3, plaintext, out);
  EXPECT_FALSE(c.client->ktls_rx_ready());
  c.client->on_wire_bytes(wire.data() + 3, 7, plaintext, out);
  EXPECT_FALSE(c.client->ktls_rx_ready());
  c.client->on_wire_bytes(wire.data() + 10, wire.size() - 10, plaintext, out);
  EXPECT_TRUE(c.client->ktls_rx_ready());
  EXPECT_EQ(plaintext, "split me");
}

TEST(KernelHandover, StaysOnUserspaceWhileARecordIsPartlyBuffered) {
  Connection c = connect(kSuites[0]);
  std::string wire;
  ASSERT_EQ(c.server->encode("split me", 8, wire).status, IoStatus::kOk);
  std::string plaintext;
  std::string out;
  c.client->on_wire_bytes(wire.data(), 3, plaintext, out);
  std::string detail;
  EXPECT_EQ(c.client->hand_over_to_kernel(-1, detail), KernelHandover::kStayed);
  EXPECT_EQ(detail, "records buffered");
}

TEST(KernelHandover, StaysOnUserspaceWhenTheConnectionDidNotCaptureKeys) {
  std::string error;
  auto ctx = make_client_context(trusting_root(), error);
  auto client = make_client(ctx, "backend.test", false);
  auto server = make_server(single(server_context(pki().backend, pki().backend_chain())));
  Pump pump{*client, *server};
  pump.handshake();
  std::string detail;
  EXPECT_EQ(client->hand_over_to_kernel(-1, detail), KernelHandover::kStayed);
  EXPECT_THAT(detail, HasSubstr("without kTLS capture"));
}

TEST(KernelHandover, StaysOnUserspaceWhenTheKernelRefusesTheUlp) {
  const KtlsSupport support = probe_ktls();
  if (support.available) GTEST_SKIP() << "this kernel has kTLS: " << support.detail;
  Connection c = connect(kSuites[0]);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  std::string detail;
  EXPECT_EQ(c.client->hand_over_to_kernel(fd, detail), KernelHandover::kStayed);
  EXPECT_THAT(detail, HasSubstr("CONFIG_TLS"));
  ::close(fd);
}

TEST(KtlsCryptoInfo, AesGcm128SplitsTheIvIntoSaltAndExplicitPart) {
  KtlsParams params;
  params.version = TLS_1_3_VERSION;
  params.cipher = KtlsCipher::kAesGcm128;
  for (size_t i = 0; i < 16; ++i) params.tx.key[i] = static_cast<unsigned char>(i);
  for (size_t i = 0; i < 12; ++i) params.tx.iv[i] = static_cast<unsigned char>(0xa0 + i);
  params.tx.key_len = 16;
  params.tx.rec_seq = 0x0102;
  KtlsCryptoInfo info;
  make_crypto_info(params, params.tx, info);
  const auto& gcm = info.info.aes_gcm_128;
  EXPECT_EQ(info.size, sizeof(tls12_crypto_info_aes_gcm_128));
  EXPECT_EQ(gcm.info.version, TLS_1_3_VERSION);
  EXPECT_EQ(gcm.info.cipher_type, TLS_CIPHER_AES_GCM_128);
  EXPECT_EQ(gcm.salt[0], 0xa0);
  EXPECT_EQ(gcm.salt[3], 0xa3);
  EXPECT_EQ(gcm.iv[0], 0xa4);
  EXPECT_EQ(gcm.iv[7], 0xab);
  EXPECT_EQ(gcm.key[15], 15);
  const unsigned char seq[8] = {0, 0, 0, 0, 0, 0, 1, 2};
  EXPECT_EQ(std::memcmp(gcm.rec_seq, seq, 8), 0);
}

TEST(KtlsCryptoInfo, ChaChaTakesTheWholeIv) {
  KtlsParams params;
  params.version = TLS_1_2_VERSION;
  params.cipher = KtlsCipher::kChaCha20Poly1305;
  params.rx.iv[11] = 0x5a;
  params.rx.key[31] = 0x77;
  params.rx.rec_seq = 1;
  KtlsCryptoInfo info;
  make_crypto_info(params, params.rx, info);
  const auto& chacha = info.info.chacha20_poly1305;
  EXPECT_EQ(info.size, sizeof(tls12_crypto_info_chacha20_poly1305));
  EXPECT_EQ(chacha.info.cipher_type, TLS_CIPHER_CHACHA20_POLY1305);
  EXPECT_EQ(chacha.iv[11], 0x5a);
  EXPECT_EQ(chacha.key[31], 0x77);
  EXPECT_EQ(chacha.rec_seq[7], 1);
}

TEST(InstallKtls, WithoutKernelSupportTheErrorNamesConfigTls) {
  const KtlsSupport support = probe_ktls();
  if (support.available) GTEST_SKIP() << "this kernel has kTLS: " << support.detail;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  KtlsParams params;
  params.version = TLS_1_3_VERSION;
  std::string error;
  KtlsInstalled installed;
  EXPECT_FALSE(install_ktls(fd, params, error, &installed));
  EXPECT_FALSE(installed.tx);
  EXPECT_FALSE(installed.rx);
  EXPECT_THAT(error, HasSubstr("TCP_ULP tls"));
  EXPECT_THAT(error, HasSubstr("CONFIG_TLS"));
  ::close(fd);
}

TEST(RecordRecvMsg, ReadsTheRecordTypeControlMessage) {
  RecordRecvMsg request;
  char buf[16];
  request.prepare(buf, sizeof buf);
  EXPECT_EQ(request.record_type(), -1);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&request.msg);
  cmsg->cmsg_level = SOL_TLS;
  cmsg->cmsg_type = TLS_GET_RECORD_TYPE;
  cmsg->cmsg_len = CMSG_LEN(sizeof(unsigned char));
  *CMSG_DATA(cmsg) = kRecordAlert;
  EXPECT_EQ(request.record_type(), kRecordAlert);
  EXPECT_EQ(request.msg.msg_iov->iov_base, buf);
}

TEST(ClassifyControlRecord, CloseNotifyClosesAndOtherAlertsFail) {
  const unsigned char close_notify[] = {1, 0};
  const unsigned char bad_record_mac[] = {2, 20};
  EXPECT_EQ(classify_control_record(kRecordAlert, close_notify, 2).action,
            ControlRecordAction::kClosed);
  EXPECT_EQ(classify_control_record(kRecordAlert, bad_record_mac, 2).action,
            ControlRecordAction::kError);
}

TEST(ClassifyControlRecord, SessionTicketsAreIgnoredAndKeyUpdatesFail) {
  const unsigned char tickets[] = {4, 0, 0, 1, 0xaa, 4, 0, 0, 0};
  const unsigned char key_update[] = {24, 0, 0, 1, 1};
  const unsigned char truncated[] = {4, 0, 0, 9, 0};
  EXPECT_EQ(classify_control_record(kRecordHandshake, tickets, sizeof tickets).action,
            ControlRecordAction::kIgnore);
  const ControlRecordVerdict update =
      classify_control_record(kRecordHandshake, key_update, sizeof key_update);
  EXPECT_EQ(update.action, ControlRecordAction::kError);
  EXPECT_THAT(update.reason, HasSubstr("KeyUpdate"));
  EXPECT_EQ(classify_control_record(kRecordHandshake, truncated, sizeof truncated).action,
            ControlRecordAction::kError);
}

TEST(ClassifyControlRecord, OnlyAKeyUpdateIsFlaggedAsOne) {
  const unsigned char key_update[] = {24, 0, 0, 1, 0};
  const unsigned char finished[] = {20, 0, 0, 0};
  const unsigned char fatal[] = {2, 40};
  EXPECT_TRUE(classify_control_record(kRecordHandshake, key_update, sizeof key_update).key_update);
  EXPECT_FALSE(classify_control_record(kRecordHandshake, finished, sizeof finished).key_update);
  EXPECT_FALSE(classify_control_record(kRecordAlert, fatal, sizeof fatal).key_update);
}

// Loopback TCP through the real kernel: client TX and RX in the kernel,
// server in OpenSSL. Needs CONFIG_TLS (see DESIGN §9 for a qemu kernel).
TEST(KtlsKernel, LoopbackConnectionCarriesDataThroughTheKernel) {
  const KtlsSupport support = probe_ktls();
  if (!support.available) GTEST_SKIP() << "kTLS unavailable: " << support.detail;
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t addr_len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &addr_len), 0);
  const int client_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(client_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const int server_fd = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(server_fd, 0);

  Connection c = connect(kSuites[0]);
  const KtlsParams params = params_of(*c.client);
  std::string error;
  ASSERT_TRUE(install_ktls(client_fd, params, error)) << error;

  ASSERT_EQ(::send(client_fd, "ping", 4, 0), 4);
  std::string plaintext;
  std::string out;
  char buf[4096];
  while (plaintext.size() < 4) {
    const ssize_t n = ::recv(server_fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    ASSERT_NE(c.server->on_wire_bytes(buf, static_cast<size_t>(n), plaintext, out).status,
              IoStatus::kError)
        << c.server->last_error();
  }
  EXPECT_EQ(plaintext, "ping");

  std::string wire;
  ASSERT_EQ(c.server->encode("pong", 4, wire).status, IoStatus::kOk);
  c.server->shutdown(wire);
  ASSERT_EQ(::send(server_fd, wire.data(), wire.size(), 0), static_cast<ssize_t>(wire.size()));
  int type = -1;
  ssize_t n = recv_record_type(client_fd, buf, sizeof buf, type, 0);
  ASSERT_EQ(n, 4);
  EXPECT_EQ(type, kRecordApplicationData);
  EXPECT_EQ(std::string(buf, 4), "pong");
  n = recv_record_type(client_fd, buf, sizeof buf, type, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(
      classify_control_record(type, reinterpret_cast<unsigned char*>(buf), static_cast<size_t>(n))
          .action,
      ControlRecordAction::kClosed);
  ::close(server_fd);
  ::close(client_fd);
  ::close(listener);
}

}  // namespace
}  // namespace ringgate::tls
