// SSL_CTX factories for the two sides of the gateway, and the per-connection
// plumbing OpenSSL's context-level callbacks need.
//
// Backend side: one client context per (client certificate, validation
// profile) per worker (DESIGN §4.5), with a SessionCache that keeps the latest
// resumable session per pool key. Frontend side: one server context per
// listener certificate, and ServerContexts choosing among them by SNI.
//
// Contexts are shared_ptrs whose deleter is SSL_CTX_free. Every SSL made from
// them holds its own reference, so a context outlives its connections.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ringgate::tls {

// A certificate chain (intermediates), as PKCS#12 loading returns it.
using X509Chain = STACK_OF(X509);

// The certificates a backend's chain must lead to (a backend entity's
// caFile), parsed once on the control thread. Immutable; contexts take their
// own references to the certificates.
class CaBundle {
 public:
  // Every certificate in the PEM text `pem`. Null, with `error` saying why,
  // when the text holds no certificate or a PEM block in it is broken.
  static std::shared_ptr<const CaBundle> parse(std::string_view pem, std::string& error);
  ~CaBundle();
  CaBundle(const CaBundle&) = delete;
  CaBundle& operator=(const CaBundle&) = delete;

  size_t size() const noexcept;
  X509* certificate(size_t index) const noexcept;
  // SHA-256 of the PEM text, lower-case hex: the bundle's identity (a pool
  // key changes when the bundle's content does, whatever its file name).
  const std::string& sha256() const noexcept { return sha256_; }

 private:
  CaBundle(STACK_OF(X509) * certificates, std::string sha256) noexcept;

  STACK_OF(X509) * certificates_;
  std::string sha256_;
};

// How the gateway authenticates itself to a backend and checks the backend.
// The pointers are borrowed: the context takes its own references.
struct ClientProfile {
  bool verify_chain = true;            // APIM validateCertificateChain
  bool verify_name = true;             // APIM validateCertificateName
  std::shared_ptr<const CaBundle> ca;  // trust anchors; null: the system store
  EVP_PKEY* key = nullptr;
  X509* certificate = nullptr;
  X509Chain* chain = nullptr;
};

// A client context: TLS 1.2 and 1.3, ALPN "http/1.1", renegotiation off, the
// client certificate/key/chain installed when given, server verification per
// `profile`, and a client session cache that stores nothing itself (sessions
// reach a SessionCache through the connection, see TlsTransport).
//
// verify_chain false accepts any chain but still fails a name mismatch when
// verify_name is true (APIM's "chain off, name on"). The name itself is set per
// connection (SSL_set1_host) because one context serves many hosts.
// Returns nullptr and sets `error` on failure: a key too weak for OpenSSL's
// security level ("client key too weak: …"), a certificate OpenSSL refuses, a
// key that does not match. Once made, the context is never modified, so
// worker threads may share it (SSL_new only).
std::shared_ptr<SSL_CTX> make_client_context(const ClientProfile& profile, std::string& error);

// A server context for one listener certificate: TLS 1.2 and 1.3, ALPN
// "http/1.1" (a client offering only other protocols gets the RFC 7301
// no_application_protocol alert), renegotiation off, session resumption on,
// and the SNI callback that lets ServerContexts switch certificates.
// `chain` may be null. Returns nullptr and sets `error` on failure.
std::shared_ptr<SSL_CTX> make_server_context(EVP_PKEY* key, X509* certificate, X509Chain* chain,
                                             std::string& error);

// The names a server certificate answers to: its SAN dNSName entries, then its
// subject CN when that looks like a host name. Lower-cased, duplicates removed.
std::vector<std::string> certificate_host_names(X509* certificate);

// A listener's certificates by host name. Immutable once built; a connection
// keeps the ServerContexts it started with alive (TlsTransport holds it).
// Hash for maps looked up by string_view without building a std::string.
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};
template <typename T>
using NameMap = std::unordered_map<std::string, T, NameHash, std::equal_to<>>;

class ServerContexts {
 public:
  // Registers `ctx` under every name of its certificate. The first context
  // added is the default until set_default() says otherwise. A name already
  // taken keeps its first context (like nginx's first server_name).
  // Returns the names registered.
  std::vector<std::string> add(const std::shared_ptr<SSL_CTX>& ctx);
  // Registers `ctx` under explicit names ("api.example.com", "*.example.com").
  void add(const std::vector<std::string>& host_names, const std::shared_ptr<SSL_CTX>& ctx);
  void set_default(const std::shared_ptr<SSL_CTX>& ctx);

  // The context for handshakes that start before SNI is known.
  SSL_CTX* default_context() const noexcept { return default_.get(); }
  // Exact name first, then "*.parent" for a name with one more label; case and
  // a trailing dot are ignored. nullptr when neither matches (the caller keeps
  // the default, as nginx does).
  SSL_CTX* select(std::string_view server_name) const noexcept;

 private:
  std::shared_ptr<SSL_CTX> default_;
  NameMap<std::shared_ptr<SSL_CTX>> exact_;
  NameMap<std::shared_ptr<SSL_CTX>> wildcard_;  // key: the parent domain of "*.parent"
};

// Keeps the newest resumable session per key (the pool key) for one worker.
// Not thread-safe: one per worker, like everything on the data path.
//
// TLS 1.3 tickets are single-use (RFC 8446 §C.4): take() removes them, and
// the resumed handshake brings fresh tickets. TLS 1.2 sessions may be resumed
// many times, so take() leaves them in place.
class SessionCache {
 public:
  SessionCache() = default;
  SessionCache(const SessionCache&) = delete;
  SessionCache& operator=(const SessionCache&) = delete;
  ~SessionCache();

  // Keeps its own reference to `session` (not resumable: ignored), replacing
  // the key's previous session.
  void store(std::string_view key, SSL_SESSION* session);
  // An owned reference (free it with SSL_SESSION_free) or nullptr.
  SSL_SESSION* take(std::string_view key) noexcept;
  void erase(std::string_view key) noexcept;
  size_t size() const noexcept { return sessions_.size(); }

 private:
  NameMap<SSL_SESSION*> sessions_;
};

// What a connection wants to hear from the context-level callbacks the
// factories install (new session, key log, SNI, verification failure).
// OpenSSL calls them with the SSL only; attach_hooks() links an SSL to its
// connection through ex_data. Callbacks must not throw.
class ConnectionHooks {
 public:
  virtual void on_new_session(SSL_SESSION* session) noexcept = 0;
  virtual void on_keylog_line(const char* line) noexcept = 0;
  // The context to switch to for this SNI name, or nullptr to keep the current.
  virtual SSL_CTX* on_server_name(const char* name) noexcept = 0;
  // A verification error the connection refused (not the ones the profile
  // overrides), with the certificate it concerns.
  virtual void on_verify_failure(int x509_error, int depth, X509* certificate) noexcept = 0;

 protected:
  ~ConnectionHooks() = default;
};

void attach_hooks(SSL* ssl, ConnectionHooks* hooks) noexcept;
ConnectionHooks* hooks_of(const SSL* ssl) noexcept;

// True when the context was made by make_client_context with verify_name on.
bool context_verifies_name(const SSL_CTX* ctx) noexcept;

}  // namespace ringgate::tls
