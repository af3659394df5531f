#include "tls_test_support.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

namespace ringgate::tls::testing {
namespace {

PkeyPtr make_key(KeyType type) {
  EVP_PKEY* key = type == KeyType::kEcP256
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA",
                                          size_t{type == KeyType::kRsa512 ? 512u : 2048u});
  if (key == nullptr) ADD_FAILURE() << "key generation failed";
  return PkeyPtr(key);
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  ASSERT_NE(ext, nullptr) << "extension " << value;
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

std::string alt_names(const CertificateSpec& spec) {
  std::string names;
  for (const auto& dns : spec.dns_names) names += (names.empty() ? "DNS:" : ",DNS:") + dns;
  for (const auto& ip : spec.ip_addresses) names += (names.empty() ? "IP:" : ",IP:") + ip;
  return names;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

const EVP_CIPHER* aead_for(const KtlsParams& params) {
  switch (params.cipher) {
    case KtlsCipher::kChaCha20Poly1305:
      return EVP_chacha20_poly1305();
    case KtlsCipher::kAesGcm256:
      return EVP_aes_256_gcm();
    case KtlsCipher::kAesGcm128:
      break;
  }
  return EVP_aes_128_gcm();
}

void put_be64(uint64_t value, unsigned char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(value);
    value >>= 8;
  }
}

// The per-record nonce: salt + explicit for TLS 1.2 AES-GCM, IV XOR seq otherwise.
void nonce_for(const KtlsParams& params, const KtlsDirectionKeys& keys,
               const unsigned char* explicit_nonce, unsigned char nonce[12]) {
  std::memcpy(nonce, keys.iv.data(), 12);
  if (params.version == TLS_1_2_VERSION && params.cipher != KtlsCipher::kChaCha20Poly1305) {
    std::memcpy(nonce + 4, explicit_nonce, 8);
    return;
  }
  unsigned char seq[8];
  put_be64(keys.rec_seq, seq);
  for (int i = 0; i < 8; ++i) nonce[4 + i] ^= seq[i];
}

bool aead(bool seal, const KtlsParams& params, const KtlsDirectionKeys& keys,
          const unsigned char nonce[12], const unsigned char* aad, size_t aad_len,
          const unsigned char* in, size_t len, unsigned char* out, unsigned char tag[16]) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int n = 0;
  bool ok = EVP_CipherInit_ex(ctx, aead_for(params), nullptr, keys.key.data(), nonce, seal) == 1;
  if (!seal) ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1;
  ok = ok && EVP_CipherUpdate(ctx, nullptr, &n, aad, static_cast<int>(aad_len)) == 1;
  ok = ok && EVP_CipherUpdate(ctx, out, &n, in, static_cast<int>(len)) == 1;
  ok = ok && EVP_CipherFinal_ex(ctx, out + n, &n) == 1;
  if (seal) ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

}  // namespace

Identity issue(const CertificateSpec& spec, const Identity* issuer) {
  Identity id{make_key(spec.key_type), X509Ptr(X509_new())};
  X509* cert = id.certificate.get();
  X509_set_version(cert, 2);
  BIGNUM* serial = BN_new();
  BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509* issuer_cert = issuer != nullptr ? issuer->certificate.get() : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  X509_set_pubkey(cert, id.key.get());
  if (spec.ca) {
    add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert, issuer_cert, NID_basic_constraints, "CA:FALSE");
  }
  add_extension(cert, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    add_extension(cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
  }
  if (const std::string names = alt_names(spec); !names.empty()) {
    add_extension(cert, issuer_cert, NID_subject_alt_name, names);
  }
  EVP_PKEY* signer = issuer != nullptr ? issuer->key.get() : id.key.get();
  if (X509_sign(cert, signer, EVP_sha256()) == 0) ADD_FAILURE() << "X509_sign failed";
  return id;
}

std::string to_pem(X509* certificate) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, certificate);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

Pki::Pki() : chain_(sk_X509_new_null()) {
  root = issue({.common_name = "Ringgate Test Root", .ca = true}, nullptr);
  intermediate = issue({.common_name = "Ringgate Test Intermediate", .ca = true}, &root);
  backend = issue({.common_name = "backend.test",
                   .dns_names = {"backend.test", "*.wild.test"},
                   .ip_addresses = {"127.0.0.1"}},
                  &intermediate);
  backend_rsa = issue(
      {.common_name = "backend.test", .dns_names = {"backend.test"}, .key_type = KeyType::kRsa2048},
      &root);
  other = issue({.common_name = "other.test", .dns_names = {"other.test"}}, &root);
  self_signed = issue({.common_name = "backend.test", .dns_names = {"backend.test"}}, nullptr);
  client = issue({.common_name = "gateway-client"}, &root);
  rogue_root = issue({.common_name = "Rogue Root", .ca = true}, nullptr);
  rogue_client = issue({.common_name = "rogue-client"}, &rogue_root);
  X509_up_ref(intermediate.certificate.get());
  sk_X509_push(chain_.get(), intermediate.certificate.get());

  char templ[] = "/tmp/ringgate-tls-test-XXXXXX";
  dir = mkdtemp(templ);
  root_file = dir + "/root.pem";
  write_file(root_file, to_pem(root.certificate.get()));
  std::string error;
  root_bundle = CaBundle::parse(to_pem(root.certificate.get()), error);
  if (!root_bundle) ADD_FAILURE() << error;
}

Pki::~Pki() {
  ::unlink(root_file.c_str());
  ::rmdir(dir.c_str());
}

const Pki& pki() {
  static const Pki instance;
  return instance;
}

std::shared_ptr<SSL_CTX> server_context(const Identity& identity, X509Chain* chain) {
  std::string error;
  auto ctx = make_server_context(identity.key.get(), identity.certificate.get(), chain, error);
  EXPECT_NE(ctx, nullptr) << error;
  return ctx;
}

std::shared_ptr<const ServerContexts> single(std::shared_ptr<SSL_CTX> ctx) {
  auto contexts = std::make_shared<ServerContexts>();
  contexts->add(ctx);
  return contexts;
}

ClientProfile trusting_root(const Identity* client) {
  ClientProfile profile;
  profile.ca = pki().root_bundle;
  if (client != nullptr) {
    profile.key = client->key.get();
    profile.certificate = client->certificate.get();
  }
  return profile;
}

void Pump::handshake() {
  client_status = client.start(to_server);
  run();
}

void Pump::run() {
  for (int round = 0; round < 64 && (!to_server.empty() || !to_client.empty()); ++round) {
    if (!to_server.empty()) {
      std::string bytes;
      bytes.swap(to_server);
      server_status = server.on_wire_bytes(bytes.data(), bytes.size(), server_plaintext, to_client);
    }
    if (!to_client.empty()) {
      std::string bytes;
      bytes.swap(to_client);
      client_status = client.on_wire_bytes(bytes.data(), bytes.size(), client_plaintext, to_server);
    }
  }
}

std::unique_ptr<TlsTransport> make_client(const std::shared_ptr<SSL_CTX>& ctx,
                                          const std::string& server_name, bool ktls,
                                          SessionCache* sessions, const std::string& key) {
  std::string error;
  ClientOptions options;
  options.server_name = server_name;
  options.ktls = ktls;
  options.sessions = sessions;
  options.session_key = key;
  auto transport = TlsTransport::client(ctx, options, error);
  EXPECT_NE(transport, nullptr) << error;
  return transport;
}

std::unique_ptr<TlsTransport> make_server(std::shared_ptr<const ServerContexts> contexts,
                                          bool ktls) {
  std::string error;
  auto transport = TlsTransport::server(std::move(contexts), ktls, error);
  EXPECT_NE(transport, nullptr) << error;
  return transport;
}

std::string seal_record(const KtlsParams& params, KtlsDirectionKeys& keys, uint8_t type,
                        std::string_view plaintext) {
  const bool tls13 = params.version == TLS_1_3_VERSION;
  const bool explicit_nonce = !tls13 && params.cipher != KtlsCipher::kChaCha20Poly1305;
  std::string inner(plaintext);
  if (tls13) inner.push_back(static_cast<char>(type));  // TLSInnerPlaintext, no padding
  const size_t body = (explicit_nonce ? 8 : 0) + inner.size() + 16;
  std::string record(5 + body, '\0');
  auto* out = reinterpret_cast<unsigned char*>(record.data());
  out[0] = tls13 ? 23 : type;
  out[1] = 3;
  out[2] = 3;
  out[3] = static_cast<unsigned char>(body >> 8);
  out[4] = static_cast<unsigned char>(body);
  unsigned char explicit_part[8];
  put_be64(keys.rec_seq, explicit_part);  // what the kernel sends: its IV counter
  unsigned char nonce[12];
  nonce_for(params, keys, explicit_part, nonce);
  unsigned char aad[13];
  size_t aad_len = 5;
  if (tls13) {
    std::memcpy(aad, out, 5);
  } else {
    put_be64(keys.rec_seq, aad);
    aad[8] = type;
    aad[9] = 3;
    aad[10] = 3;
    aad[11] = static_cast<unsigned char>(inner.size() >> 8);
    aad[12] = static_cast<unsigned char>(inner.size());
    aad_len = 13;
  }
  unsigned char* payload = out + 5;
  if (explicit_nonce) {
    std::memcpy(payload, explicit_part, 8);
    payload += 8;
  }
  EXPECT_TRUE(aead(true, params, keys, nonce, aad, aad_len,
                   reinterpret_cast<const unsigned char*>(inner.data()), inner.size(), payload,
                   payload + inner.size()));
  ++keys.rec_seq;
  return record;
}

bool open_record(const KtlsParams& params, KtlsDirectionKeys& keys, std::string& wire,
                 uint8_t& type, std::string& plaintext) {
  if (wire.size() < 5) return false;
  auto* in = reinterpret_cast<const unsigned char*>(wire.data());
  const size_t body = size_t{in[3]} << 8 | in[4];
  if (wire.size() < 5 + body) return false;
  const bool tls13 = params.version == TLS_1_3_VERSION;
  const bool explicit_nonce = !tls13 && params.cipher != KtlsCipher::kChaCha20Poly1305;
  const unsigned char* payload = in + 5 + (explicit_nonce ? 8 : 0);
  const size_t len = body - (explicit_nonce ? 8 : 0) - 16;
  unsigned char nonce[12];
  nonce_for(params, keys, in + 5, nonce);
  unsigned char aad[13];
  size_t aad_len = 5;
  if (tls13) {
    std::memcpy(aad, in, 5);
  } else {
    put_be64(keys.rec_seq, aad);
    aad[8] = in[0];
    aad[9] = 3;
    aad[10] = 3;
    aad[11] = static_cast<unsigned char>(len >> 8);
    aad[12] = static_cast<unsigned char>(len);
    aad_len = 13;
  }
  std::string out(len, '\0');
  unsigned char tag[16];
  std::memcpy(tag, payload + len, 16);
  const bool ok = aead(false, params, keys, nonce, aad, aad_len, payload, len,
                       reinterpret_cast<unsigned char*>(out.data()), tag);
  if (!ok) return false;
  type = in[0];
  wire.erase(0, 5 + body);
  ++keys.rec_seq;
  if (tls13) {
    while (!out.empty() && out.back() == '\0') out.pop_back();
    type = static_cast<uint8_t>(out.back());
    out.pop_back();
  }
  plaintext = std::move(out);
  return true;
}

}  // namespace ringgate::tls::testing
