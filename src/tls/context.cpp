#include "tls/context.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

namespace ringgate::tls {
namespace {

constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr unsigned char kSessionIdContext[] = {'r', 'i', 'n', 'g', 'g', 'a', 't', 'e'};

// The verification policy of a client context, reachable from the verify
// callback through the context's ex_data. Four static objects: nothing to free.
struct ClientPolicy {
  bool verify_chain;
  bool verify_name;
};
constexpr ClientPolicy kPolicies[2][2] = {{{false, false}, {false, true}},
                                          {{true, false}, {true, true}}};

int hooks_index() noexcept {
  static const int kIndex = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return kIndex;
}

int policy_index() noexcept {
  static const int kIndex = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return kIndex;
}

const ClientPolicy* policy_of(const SSL_CTX* ctx) noexcept {
  return static_cast<const ClientPolicy*>(SSL_CTX_get_ex_data(ctx, policy_index()));
}

// Drains this thread's OpenSSL error queue into one line, so the next
// connection on the thread starts clean.
std::string take_openssl_errors() {
  std::string text;
  char buf[256];
  while (const unsigned long code = ERR_get_error()) {
    ERR_error_string_n(code, buf, sizeof buf);
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text.empty() ? "no OpenSSL error recorded" : text;
}

bool is_name_error(int x509_error) noexcept {
  return x509_error == X509_V_ERR_HOSTNAME_MISMATCH || x509_error == X509_V_ERR_IP_ADDRESS_MISMATCH;
}

// Chain off means "accept whatever chain the backend shows" (self-signed,
// expired, unknown issuer) but a name check, when on, still counts. OpenSSL
// checks the name after building the chain, so overriding chain errors here
// lets it reach the name check.
int verify_callback(int preverify_ok, X509_STORE_CTX* store) {
  if (preverify_ok == 1) return 1;
  const auto* ssl = static_cast<const SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return 0;
  const int error = X509_STORE_CTX_get_error(store);
  const ClientPolicy* policy = policy_of(SSL_get_SSL_CTX(ssl));
  if (policy != nullptr && !policy->verify_chain && !is_name_error(error)) return 1;
  if (ConnectionHooks* hooks = hooks_of(ssl)) {
    hooks->on_verify_failure(error, X509_STORE_CTX_get_error_depth(store),
                             X509_STORE_CTX_get_current_cert(store));
  }
  return 0;
}

// OpenSSL keeps its own reference unless we return 1; SessionCache takes a
// separate one, so returning 0 keeps the counting simple.
int new_session_callback(SSL* ssl, SSL_SESSION* session) {
  if (ConnectionHooks* hooks = hooks_of(ssl)) hooks->on_new_session(session);
  return 0;
}

void keylog_callback(const SSL* ssl, const char* line) {
  if (ConnectionHooks* hooks = hooks_of(ssl)) hooks->on_keylog_line(line);
}

int servername_callback(SSL* ssl, int* /*alert*/, void* /*arg*/) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  ConnectionHooks* hooks = hooks_of(ssl);
  if (name == nullptr || hooks == nullptr) return SSL_TLSEXT_ERR_OK;
  SSL_CTX* chosen = hooks->on_server_name(name);
  if (chosen != nullptr && chosen != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, chosen);
  return SSL_TLSEXT_ERR_OK;
}

int alpn_select_callback(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
                         const unsigned char* in, unsigned int inlen, void* /*arg*/) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kAlpnHttp11, sizeof kAlpnHttp11, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // RFC 7301 §3.2: no_application_protocol
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

constexpr const char* kClientTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
// The AEAD suites first, AES-128 before AES-256; then OpenSSL's defaults for
// backends that have none of them.
constexpr const char* kClientTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DEFAULT";

std::shared_ptr<SSL_CTX> new_context(const SSL_METHOD* method, std::string& error) {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(method), SSL_CTX_free);
  if (!ctx) {
    error = "SSL_CTX_new: " + take_openssl_errors();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // Renegotiation would change keys under kTLS and has no use on either side.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  // The traffic secrets for kTLS (TLS 1.3) only leave OpenSSL 3.0 this way;
  // a connection keeps them only when it asked to (see TlsTransport).
  SSL_CTX_set_keylog_callback(ctx.get(), keylog_callback);
  return ctx;
}

// The bits of security OpenSSL's security levels 0-5 ask of a key.
int required_security_bits(int level) noexcept {
  constexpr int kBits[] = {0, 80, 112, 128, 192, 256};
  return kBits[std::clamp(level, 0, 5)];
}

std::string subject_of(X509* certificate) {
  char buffer[256];
  X509_NAME_oneline(X509_get_subject_name(certificate), buffer, sizeof buffer);
  return buffer;
}

// OpenSSL refuses a certificate whose key is weaker than the context's
// security level allows, with a terse "ee key too small"; this says by how
// much, so the operator knows what key to make instead. `whose`: "key", or
// which chain certificate's key.
bool check_key_strength(SSL_CTX* ctx, X509* certificate, const std::string& whose,
                        std::string& error) {
  const EVP_PKEY* key = X509_get0_pubkey(certificate);
  if (key == nullptr) return true;  // SSL_CTX_use_certificate says what is wrong
  const int level = SSL_CTX_get_security_level(ctx);
  const int needed = required_security_bits(level);
  const int bits = EVP_PKEY_get_security_bits(key);
  if (bits >= needed) return true;
  const char* type = EVP_PKEY_get0_type_name(key);
  error = whose + " too weak: a " + std::to_string(EVP_PKEY_get_bits(key)) + "-bit " +
          (type != nullptr ? type : "") + " key gives " + std::to_string(bits) +
          " bits of security; OpenSSL's security level " + std::to_string(level) +
          " needs at least " + std::to_string(needed) + " (RSA 2048 or EC P-256 will do)";
  return false;
}

bool install_identity(SSL_CTX* ctx, EVP_PKEY* key, X509* certificate, X509Chain* chain,
                      const char* what, std::string& error) {
  if (!check_key_strength(ctx, certificate, "key", error)) return false;
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    X509* link = sk_X509_value(chain, i);
    if (!check_key_strength(ctx, link, "chain certificate " + subject_of(link) + ": key", error)) {
      return false;
    }
  }
  if (SSL_CTX_use_certificate(ctx, certificate) != 1) {
    error = std::string(what) + " certificate rejected: " + take_openssl_errors();
    return false;
  }
  if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    error =
        std::string(what) + " private key does not match its certificate: " + take_openssl_errors();
    return false;
  }
  if (chain != nullptr && SSL_CTX_set1_chain(ctx, chain) != 1) {
    error = std::string(what) + " chain rejected: " + take_openssl_errors();
    return false;
  }
  return true;
}

bool load_trust(SSL_CTX* ctx, const CaBundle* ca, std::string& error) {
  if (ca == nullptr) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      error = "cannot load the system CA store: " + take_openssl_errors();
      return false;
    }
    return true;
  }
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  for (size_t i = 0; i < ca->size(); ++i) {
    // Takes its own reference. A bundle listing one certificate twice is fine.
    if (X509_STORE_add_cert(store, ca->certificate(i)) != 1) {
      error = "cannot add a CA certificate to the trust store: " + take_openssl_errors();
      return false;
    }
  }
  return true;
}

std::string hex(const unsigned char* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool looks_like_host_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '*' || c == '_';
  });
}

std::string asn1_string(const ASN1_STRING* text) {
  return {reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
          static_cast<size_t>(ASN1_STRING_length(text))};
}

}  // namespace

std::shared_ptr<const CaBundle> CaBundle::parse(std::string_view pem, std::string& error) {
  ERR_clear_error();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(pem.data(), pem.size(), digest, &digest_size, EVP_sha256(), nullptr) != 1) {
    error = "cannot hash the CA bundle: " + take_openssl_errors();
    return nullptr;
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  STACK_OF(X509_INFO)* infos =
      bio ? PEM_X509_INFO_read_bio(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (infos == nullptr) {
    error = "holds a broken PEM block: " + take_openssl_errors();
    return nullptr;
  }
  STACK_OF(X509)* certificates = sk_X509_new_null();
  for (int i = 0; certificates != nullptr && i < sk_X509_INFO_num(infos); ++i) {
    X509_INFO* info = sk_X509_INFO_value(infos, i);
    if (info->x509 == nullptr) continue;  // a CRL or a lone key: not a trust anchor
    if (sk_X509_push(certificates, info->x509) > 0) info->x509 = nullptr;  // moved
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  ERR_clear_error();
  if (certificates == nullptr || sk_X509_num(certificates) == 0) {
    sk_X509_free(certificates);
    error = "holds no certificate (expected PEM blocks \"-----BEGIN CERTIFICATE-----\")";
    return nullptr;
  }
  return std::shared_ptr<const CaBundle>(new CaBundle(certificates, hex(digest, digest_size)));
}

CaBundle::CaBundle(STACK_OF(X509) * certificates, std::string sha256) noexcept
    : certificates_(certificates), sha256_(std::move(sha256)) {}

CaBundle::~CaBundle() { sk_X509_pop_free(certificates_, X509_free); }

size_t CaBundle::size() const noexcept { return static_cast<size_t>(sk_X509_num(certificates_)); }

X509* CaBundle::certificate(size_t index) const noexcept {
  return sk_X509_value(certificates_, static_cast<int>(index));
}

void attach_hooks(SSL* ssl, ConnectionHooks* hooks) noexcept {
  SSL_set_ex_data(ssl, hooks_index(), hooks);
}

ConnectionHooks* hooks_of(const SSL* ssl) noexcept {
  return static_cast<ConnectionHooks*>(SSL_get_ex_data(ssl, hooks_index()));
}

bool context_verifies_name(const SSL_CTX* ctx) noexcept {
  const ClientPolicy* policy = policy_of(ctx);
  return policy != nullptr && policy->verify_name;
}

std::shared_ptr<SSL_CTX> make_client_context(const ClientProfile& profile, std::string& error) {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> ctx = new_context(TLS_client_method(), error);
  if (!ctx) return nullptr;
  SSL_CTX* raw = ctx.get();
  // Backend legs offer AES-128-GCM first (servers mostly follow the client's
  // order): the cheapest AEAD with AES-NI, and one the kernel's TLS takes.
  if (SSL_CTX_set_ciphersuites(raw, kClientTls13Suites) != 1 ||
      SSL_CTX_set_cipher_list(raw, kClientTls12Ciphers) != 1) {
    error = "cannot set the cipher preference: " + take_openssl_errors();
    return nullptr;
  }
  // Note the inverted convention: 0 means success here.
  if (SSL_CTX_set_alpn_protos(raw, kAlpnHttp11, sizeof kAlpnHttp11) != 0) {
    error = "cannot set ALPN: " + take_openssl_errors();
    return nullptr;
  }
  if (profile.certificate != nullptr || profile.key != nullptr) {
    if (profile.certificate == nullptr || profile.key == nullptr) {
      error = "client certificate and private key must be given together";
      return nullptr;
    }
    if (!install_identity(raw, profile.key, profile.certificate, profile.chain, "client", error)) {
      return nullptr;
    }
  }
  if (profile.verify_chain && !load_trust(raw, profile.ca.get(), error)) return nullptr;
  SSL_CTX_set_ex_data(
      raw, policy_index(),
      const_cast<ClientPolicy*>(&kPolicies[profile.verify_chain][profile.verify_name]));
  SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, verify_callback);
  SSL_CTX_set_session_cache_mode(raw, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(raw, new_session_callback);
  return ctx;
}

std::shared_ptr<SSL_CTX> make_server_context(EVP_PKEY* key, X509* certificate, X509Chain* chain,
                                             std::string& error) {
  ERR_clear_error();
  if (key == nullptr || certificate == nullptr) {
    error = "a server context needs a certificate and its private key";
    return nullptr;
  }
  std::shared_ptr<SSL_CTX> ctx = new_context(TLS_server_method(), error);
  if (!ctx) return nullptr;
  SSL_CTX* raw = ctx.get();
  if (!install_identity(raw, key, certificate, chain, "server", error)) return nullptr;
  SSL_CTX_set_alpn_select_cb(raw, alpn_select_callback, nullptr);
  SSL_CTX_set_tlsext_servername_callback(raw, servername_callback);
  // Needed for resumption once a context asks for client certificates.
  SSL_CTX_set_session_id_context(raw, kSessionIdContext, sizeof kSessionIdContext);
  return ctx;
}

std::vector<std::string> certificate_host_names(X509* certificate) {
  std::vector<std::string> names;
  auto push = [&names](std::string name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      names.push_back(std::move(name));
    }
  };
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* san = sk_GENERAL_NAME_value(sans, i);
    if (san->type == GEN_DNS) push(lower(asn1_string(san->d.dNSName)));
  }
  GENERAL_NAMES_free(sans);
  const X509_NAME* subject = X509_get_subject_name(certificate);
  const int cn = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (cn >= 0) {
    const std::string name =
        asn1_string(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, cn)));
    if (looks_like_host_name(name)) push(lower(name));
  }
  return names;
}

std::vector<std::string> ServerContexts::add(const std::shared_ptr<SSL_CTX>& ctx) {
  X509* certificate = SSL_CTX_get0_certificate(ctx.get());
  std::vector<std::string> names;
  if (certificate != nullptr) names = certificate_host_names(certificate);
  add(names, ctx);
  return names;
}

void ServerContexts::add(const std::vector<std::string>& host_names,
                         const std::shared_ptr<SSL_CTX>& ctx) {
  if (!default_) default_ = ctx;
  for (const std::string& name : host_names) {
    const std::string key = lower(name);
    if (key.rfind("*.", 0) == 0) {
      wildcard_.try_emplace(key.substr(2), ctx);
    } else {
      exact_.try_emplace(key, ctx);
    }
  }
}

void ServerContexts::set_default(const std::shared_ptr<SSL_CTX>& ctx) { default_ = ctx; }

SSL_CTX* ServerContexts::select(std::string_view server_name) const noexcept {
  if (!server_name.empty() && server_name.back() == '.') server_name.remove_suffix(1);
  if (server_name.empty() || server_name.size() > 253) return nullptr;
  char buf[254];
  for (size_t i = 0; i < server_name.size(); ++i) {
    buf[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(server_name[i])));
  }
  const std::string_view name(buf, server_name.size());
  if (auto it = exact_.find(name); it != exact_.end()) return it->second.get();
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return nullptr;
  if (auto it = wildcard_.find(name.substr(dot + 1)); it != wildcard_.end()) {
    return it->second.get();
  }
  return nullptr;
}

SessionCache::~SessionCache() {
  for (auto& [key, session] : sessions_) SSL_SESSION_free(session);
}

void SessionCache::store(std::string_view key, SSL_SESSION* session) {
  if (session == nullptr || SSL_SESSION_is_resumable(session) != 1) return;
  SSL_SESSION_up_ref(session);
  if (auto it = sessions_.find(key); it != sessions_.end()) {
    SSL_SESSION_free(it->second);
    it->second = session;
    return;
  }
  sessions_.emplace(std::string(key), session);
}

SSL_SESSION* SessionCache::take(std::string_view key) noexcept {
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return nullptr;
  SSL_SESSION* session = it->second;
  if (SSL_SESSION_get_protocol_version(session) >= TLS1_3_VERSION) {
    sessions_.erase(it);  // the cache's reference passes to the caller
  } else {
    SSL_SESSION_up_ref(session);
  }
  return session;
}

void SessionCache::erase(std::string_view key) noexcept {
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  SSL_SESSION_free(it->second);
  sessions_.erase(it);
}

}  // namespace ringgate::tls
