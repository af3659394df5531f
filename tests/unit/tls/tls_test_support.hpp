// Test fixtures for the TLS layer: a PKI generated in code at test time, a
// pump that carries bytes between two in-memory transports, and a stand-in
// for the kernel's record layer that seals and opens records with KtlsParams.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tls/context.hpp"
#include "tls/ktls.hpp"
#include "tls/tls_transport.hpp"

namespace ringgate::tls::testing {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct ChainFree {
  void operator()(X509Chain* chain) const noexcept { sk_X509_pop_free(chain, X509_free); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;

enum class KeyType { kEcP256, kRsa2048, kRsa512 };  // RSA 512: below every security level

struct Identity {
  PkeyPtr key;
  X509Ptr certificate;
};

struct CertificateSpec {
  std::string common_name{};
  std::vector<std::string> dns_names{};
  std::vector<std::string> ip_addresses{};
  bool ca = false;
  KeyType key_type = KeyType::kEcP256;
};

// Issues a certificate valid from a minute ago for a day; self-signed when
// `issuer` is null.
Identity issue(const CertificateSpec& spec, const Identity* issuer);
std::string to_pem(X509* certificate);

// The certificates every test shares, made once per process.
struct Pki {
  Identity root;          // trusted root CA
  Identity intermediate;  // issued by root
  Identity backend;       // "backend.test", "*.wild.test", 127.0.0.1; by intermediate
  Identity backend_rsa;   // "backend.test", RSA key, by root (ECDHE-RSA suites)
  Identity other;         // "other.test", by root (SNI)
  Identity self_signed;   // "backend.test", self-signed
  Identity client;        // "gateway-client", by root
  Identity rogue_root;    // a CA nobody trusts
  Identity rogue_client;  // by rogue_root
  std::string dir;        // temp dir, removed at exit
  std::string root_file;  // root CA PEM
  std::shared_ptr<const CaBundle> root_bundle;  // the root as a client's trust anchors

  Pki();
  ~Pki();
  X509Chain* backend_chain() const { return chain_.get(); }

 private:
  ChainPtr chain_;  // [intermediate]
};
const Pki& pki();

// A server context for `identity` (chain optional) that fails the test on error.
std::shared_ptr<SSL_CTX> server_context(const Identity& identity, X509Chain* chain = nullptr);
std::shared_ptr<const ServerContexts> single(std::shared_ptr<SSL_CTX> ctx);
// A client profile trusting the test root and presenting `client` when given.
ClientProfile trusting_root(const Identity* client = nullptr);

// Carries bytes both ways until neither side has anything to send.
struct Pump {
  Pump(TlsTransport& c, TlsTransport& s) : client(c), server(s) {}

  TlsTransport& client;
  TlsTransport& server;
  IoResult client_status{};
  IoResult server_status{};
  std::string client_plaintext;  // what the client decrypted
  std::string server_plaintext;  // what the server decrypted
  std::string to_server;         // bytes in flight
  std::string to_client;

  // client.start() and then run().
  void handshake();
  void run();
  bool both_established() const { return client.established() && server.established(); }
};

std::unique_ptr<TlsTransport> make_client(const std::shared_ptr<SSL_CTX>& ctx,
                                          const std::string& server_name, bool ktls = false,
                                          SessionCache* sessions = nullptr,
                                          const std::string& key = "pool-key");
std::unique_ptr<TlsTransport> make_server(std::shared_ptr<const ServerContexts> contexts,
                                          bool ktls = false);

// What the kernel does with installed KtlsParams, in userspace: seals and
// opens TLS records and advances the direction's sequence number.
std::string seal_record(const KtlsParams& params, KtlsDirectionKeys& keys, uint8_t type,
                        std::string_view plaintext);
// Opens the record at the front of `wire`, removes it; false on a tag mismatch.
bool open_record(const KtlsParams& params, KtlsDirectionKeys& keys, std::string& wire,
                 uint8_t& type, std::string& plaintext);

}  // namespace ringgate::tls::testing
