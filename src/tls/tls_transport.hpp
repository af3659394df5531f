// Userspace TLS over memory BIOs: the worker owns the socket and the
// io_uring operations, and hands this transport the bytes it received and
// sends what it appends to `wire_out`. OpenSSL never touches the socket, so
// nothing here blocks, and the same code runs in tests without a socket.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

#include "ringgate/transport.hpp"
#include "tls/context.hpp"
#include "tls/ktls.hpp"
#include "tls/traffic_keys.hpp"

namespace ringgate::tls {

// Per-connection settings of the backend (client) side.
struct ClientOptions {
  // SNI and the name the certificate must carry when the context verifies
  // names. An IP literal is checked against the certificate's IP SANs and not
  // sent as SNI (RFC 6066 §3 allows host names only).
  std::string server_name;
  // Resumption: the session for `session_key` is taken from `sessions` (which
  // must outlive the transport), and new sessions are stored back under it.
  SessionCache* sessions = nullptr;
  std::string session_key;
  // Capture the traffic secrets and record counts ktls_params() needs. Off by
  // default: the secrets then never leave OpenSSL.
  bool ktls = false;
};

class TlsTransport final : public Transport, private ConnectionHooks {
 public:
  // A client connection from a make_client_context() context. Fails only
  // for a missing server name where the context verifies names, or OOM.
  static std::unique_ptr<TlsTransport> client(const std::shared_ptr<SSL_CTX>& ctx,
                                              const ClientOptions& options, std::string& error);
  // A server connection; SNI picks the certificate from `contexts`, which the
  // transport keeps alive. `ktls` as in ClientOptions.
  static std::unique_ptr<TlsTransport> server(std::shared_ptr<const ServerContexts> contexts,
                                              bool ktls, std::string& error);
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  // True once our side of the handshake is complete. A TLS 1.3 client is
  // complete before the server has checked its certificate: a backend that
  // rejects it answers with an alert on the next read (on_wire_bytes then
  // fails with "backend rejected the handshake: …").
  bool established() const noexcept override;
  // Client: true once the backend has shown that it accepted the handshake.
  // For TLS 1.2 and resumed sessions that is when established() turns true
  // (the server's Finished follows its verdict); for a full TLS 1.3
  // handshake only once a record from the server after it has been read (a
  // session ticket or data), because the server checks our certificate after
  // our side is done. Server: established().
  bool peer_accepted() const noexcept override;
  // Client: appends the ClientHello and returns kOk. Server: appends nothing.
  IoResult start(std::string& wire_out) noexcept override;
  // Drives the handshake, then decrypts everything decryptable (handling
  // NewSessionTicket and KeyUpdate on the way). Returns kWantRead while the
  // handshake needs more bytes or nothing was decrypted, kOk on progress,
  // kClosed on close_notify (plaintext appended before it is valid), kError
  // with last_error() set. Whatever the status, send what `wire_out` got: on
  // kError it may hold the alert that tells the peer why.
  IoResult on_wire_bytes(const char* data, size_t len, std::string& plaintext,
                         std::string& wire_out) noexcept override;
  // Encrypts `len` bytes into records appended to `wire_out`. kError before
  // the handshake has finished.
  IoResult encode(const char* data, size_t len, std::string& wire_out) noexcept override;
  // A teaching reason after kError: "certificate verify failed: self-signed
  // certificate (X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) for CN=…",
  // "backend rejected the handshake: alert certificate required", …
  std::string last_error() const override { return error_; }
  // Installs kTLS TX and RX when the connection was made with `ktls`, its
  // cipher is one the kernel takes and no received record is buffered.
  KernelHandover hand_over_to_kernel(int fd, std::string& detail) noexcept override;

  // Appends close_notify once established; nothing otherwise.
  IoResult shutdown(std::string& wire_out) noexcept;
  bool session_reused() const noexcept override { return SSL_session_reused(ssl_) == 1; }
  // The ALPN protocol agreed on ("http/1.1"), empty when none.
  std::string_view alpn() const noexcept;
  SSL* ssl() const noexcept { return ssl_; }

  // kTLS hand-over (see ktls.hpp for the rules). True when no received
  // ciphertext is buffered: the kernel may take RX from the next byte on.
  bool ktls_rx_ready() const noexcept;
  // The keys and sequence numbers of both directions now; fails when the
  // connection was made without `ktls`, the handshake is not finished, or
  // the cipher is not one the kernel takes ("unsupported cipher …").
  bool ktls_params(KtlsParams& out, std::string& error) const;

 private:
  TlsTransport(SSL* ssl, bool server, bool ktls);

  void on_new_session(SSL_SESSION* session) noexcept override;
  void on_keylog_line(const char* line) noexcept override;
  SSL_CTX* on_server_name(const char* name) noexcept override;
  void on_verify_failure(int x509_error, int depth, X509* certificate) noexcept override;
  static void info_callback(const SSL* ssl, int where, int ret);
  static void message_callback(int write_p, int version, int content_type, const void* buf,
                               size_t len, SSL* ssl, void* arg);

  IoResult read_plaintext(std::string& plaintext, bool progress) noexcept;
  IoResult fail(int ssl_error, const char* reason) noexcept;
  std::string describe_failure(int ssl_error) const;
  std::string describe_verification() const;
  void drain(std::string& wire_out) noexcept;

  SSL* ssl_ = nullptr;
  BIO* network_in_ = nullptr;   // wire bytes for OpenSSL to read (owned by ssl_)
  BIO* network_out_ = nullptr;  // records OpenSSL wrote (owned by ssl_)
  const bool server_;
  std::shared_ptr<const ServerContexts> contexts_;
  SessionCache* sessions_ = nullptr;
  std::string session_key_;
  std::string expected_name_;
  std::unique_ptr<KeyScheduleTracker> keys_;

  bool handshake_done_ = false;
  const char* reason_ = nullptr;  // set once failed
  std::string error_;
  bool closed_ = false;
  bool plaintext_received_ = false;
  bool ticket_received_ = false;
  int peer_alert_ = -1;  // alert description the peer sent
  int sent_alert_ = -1;  // alert description we sent
  int verify_error_ = 0;
  int verify_depth_ = -1;
  std::string verify_subject_;
};

}  // namespace ringgate::tls
