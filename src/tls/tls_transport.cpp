#include "tls/tls_transport.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <new>

#include "tls/errors.hpp"

namespace ringgate::tls {
namespace {

constexpr int kAlertCloseNotify = 0;

bool is_ip_literal(const std::string& name) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

std::string one_line(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<size_t>(len > 0 ? len : 0));
  BIO_free(bio);
  return text;
}

// A hint for the errors that usually mean "this is not a TLS peer" or "we
// have nothing in common".
const char* hint_for(int reason) noexcept {
  switch (reason) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
      return " (is the peer speaking TLS on this port?)";
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
      return " (the peers share no TLS version or cipher; ringgate offers TLS 1.2 and 1.3)";
    default:
      return "";
  }
}

// Memory BIOs report "retry" instead of EOF when empty; OpenSSL then says
// WANT_READ and the worker feeds more bytes.
// SSL_get_error reads the thread's OpenSSL error queue, so it must hold
// nothing from earlier calls. It is emptied after every failure (fail()),
// so the hot paths only look instead of clearing on every call.
void clear_stale_errors() noexcept {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

BIO* new_network_bio() {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio != nullptr) BIO_set_mem_eof_return(bio, -1);
  return bio;
}

SSL* new_ssl(SSL_CTX* ctx, BIO*& in, BIO*& out, std::string& error) {
  SSL* ssl = SSL_new(ctx);
  in = new_network_bio();
  out = new_network_bio();
  if (ssl == nullptr || in == nullptr || out == nullptr) {
    SSL_free(ssl);
    BIO_free(in);
    BIO_free(out);
    error = "cannot create a TLS connection (out of memory)";
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_bio(ssl, in, out);  // the SSL owns both from here on
  return ssl;
}

std::unique_ptr<TlsTransport> out_of_memory(SSL* ssl, std::string& error) {
  SSL_free(ssl);
  error = "cannot create a TLS connection (out of memory)";
  return nullptr;
}

}  // namespace

TlsTransport::TlsTransport(SSL* ssl, bool server, bool ktls) : ssl_(ssl), server_(server) {
  network_in_ = SSL_get_rbio(ssl_);
  network_out_ = SSL_get_wbio(ssl_);
  attach_hooks(ssl_, this);
  SSL_set_info_callback(ssl_, info_callback);
  if (ktls) {
    keys_ = std::make_unique<KeyScheduleTracker>();
    SSL_set_msg_callback(ssl_, message_callback);
    SSL_set_msg_callback_arg(ssl_, this);
  }
}

TlsTransport::~TlsTransport() {
  // SSL_free marks the session of a connection that was not shut down as
  // not resumable (an old SSL rule against truncation). A connection that
  // never failed may be closed without close_notify (idle pool timeout, the
  // peer went away), and its TLS 1.2 session is still good: say it was shut
  // down, as nginx does. Fatal errors have already invalidated the session.
  if (reason_ == nullptr && handshake_done_) {
    SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
  // Callbacks run inside SSL calls only, but detach anyway so that nothing in
  // SSL_free can reach a half-destroyed object.
  attach_hooks(ssl_, nullptr);
  SSL_free(ssl_);
}

std::unique_ptr<TlsTransport> TlsTransport::client(const std::shared_ptr<SSL_CTX>& ctx,
                                                   const ClientOptions& options,
                                                   std::string& error) {
  const bool verify_name = context_verifies_name(ctx.get());
  if (verify_name && options.server_name.empty()) {
    error = "name verification is on but no server name was given";
    return nullptr;
  }
  BIO* in = nullptr;
  BIO* out = nullptr;
  SSL* ssl = new_ssl(ctx.get(), in, out, error);
  if (ssl == nullptr) return nullptr;
  std::unique_ptr<TlsTransport> transport(new (std::nothrow)
                                              TlsTransport(ssl, false, options.ktls));
  if (!transport) return out_of_memory(ssl, error);
  SSL_set_connect_state(ssl);
  transport->sessions_ = options.sessions;
  transport->session_key_ = options.session_key;
  const std::string& name = options.server_name;
  const bool ip = !name.empty() && is_ip_literal(name);
  bool ok = true;
  if (!name.empty() && !ip) ok = SSL_set_tlsext_host_name(ssl, name.c_str()) == 1;
  if (ok && verify_name) {
    transport->expected_name_ = name;
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1
            : SSL_set1_host(ssl, name.c_str()) == 1;
  }
  if (!ok) {
    error = "cannot use server name '" + name + "'";
    ERR_clear_error();
    return nullptr;
  }
  if (options.sessions != nullptr) {
    if (SSL_SESSION* session = options.sessions->take(options.session_key)) {
      SSL_set_session(ssl, session);  // takes its own reference
      SSL_SESSION_free(session);
    }
  }
  return transport;
}

std::unique_ptr<TlsTransport> TlsTransport::server(std::shared_ptr<const ServerContexts> contexts,
                                                   bool ktls, std::string& error) {
  if (!contexts || contexts->default_context() == nullptr) {
    error = "a TLS listener needs at least one server certificate";
    return nullptr;
  }
  BIO* in = nullptr;
  BIO* out = nullptr;
  SSL* ssl = new_ssl(contexts->default_context(), in, out, error);
  if (ssl == nullptr) return nullptr;
  std::unique_ptr<TlsTransport> transport(new (std::nothrow) TlsTransport(ssl, true, ktls));
  if (!transport) return out_of_memory(ssl, error);
  SSL_set_accept_state(ssl);
  transport->contexts_ = std::move(contexts);
  return transport;
}

bool TlsTransport::established() const noexcept { return reason_ == nullptr && handshake_done_; }

bool TlsTransport::peer_accepted() const noexcept {
  if (!established()) return false;
  if (server_ || SSL_version(ssl_) < TLS1_3_VERSION || session_reused()) return true;
  return ticket_received_ || plaintext_received_;
}

IoResult TlsTransport::start(std::string& wire_out) noexcept {
  if (reason_ != nullptr) return {IoStatus::kError, reason_};
  if (server_ || handshake_done_) return {};
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  const int err = SSL_get_error(ssl_, rc);
  drain(wire_out);
  if (rc != 1 && err != SSL_ERROR_WANT_READ) return fail(err, "TLS handshake failed");
  return {};
}

IoResult TlsTransport::on_wire_bytes(const char* data, size_t len, std::string& plaintext,
                                     std::string& wire_out) noexcept {
  if (reason_ != nullptr) return {IoStatus::kError, reason_};
  if (closed_) return {IoStatus::kClosed, "TLS close_notify"};
  clear_stale_errors();
  size_t written = 0;
  if (len > 0 && BIO_write_ex(network_in_, data, len, &written) != 1) {
    return fail(SSL_ERROR_SSL, "TLS buffer allocation failed");
  }
  bool progress = false;
  if (!handshake_done_) {
    const int rc = SSL_do_handshake(ssl_);
    if (rc != 1) {
      const int err = SSL_get_error(ssl_, rc);
      drain(wire_out);
      if (err == SSL_ERROR_WANT_READ) return {IoStatus::kWantRead, nullptr};
      return fail(err, "TLS handshake failed");
    }
    handshake_done_ = true;
    progress = true;
  }
  const IoResult result = read_plaintext(plaintext, progress);
  drain(wire_out);
  return result;
}

IoResult TlsTransport::read_plaintext(std::string& plaintext, bool progress) noexcept {
  char buf[16384];
  for (;;) {
    size_t n = 0;
    const int rc = SSL_read_ex(ssl_, buf, sizeof buf, &n);
    if (rc == 1) {
      plaintext.append(buf, n);
      plaintext_received_ = true;
      progress = true;
      continue;
    }
    const int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ) {
      return {progress ? IoStatus::kOk : IoStatus::kWantRead, nullptr};
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
      closed_ = true;
      return {IoStatus::kClosed, "TLS close_notify"};
    }
    return fail(err, "TLS record error");
  }
}

IoResult TlsTransport::encode(const char* data, size_t len, std::string& wire_out) noexcept {
  if (reason_ != nullptr) return {IoStatus::kError, reason_};
  // Not SSL_is_init_finished: OpenSSL is "in init" again while a KeyUpdate
  // waits to be sent, and SSL_write is what sends it.
  if (!handshake_done_) return {IoStatus::kError, "TLS encode before the handshake finished"};
  clear_stale_errors();
  while (len > 0) {
    size_t written = 0;
    const int rc = SSL_write_ex(ssl_, data, len, &written);
    if (rc != 1) {
      const int err = SSL_get_error(ssl_, rc);
      drain(wire_out);
      return fail(err, "TLS write failed");
    }
    data += written;
    len -= written;
  }
  drain(wire_out);
  return {};
}

IoResult TlsTransport::shutdown(std::string& wire_out) noexcept {
  if (reason_ != nullptr || !handshake_done_) return {};
  ERR_clear_error();
  SSL_shutdown(ssl_);  // 0: our close_notify is out, the peer's not yet in
  ERR_clear_error();
  drain(wire_out);
  return {};
}

std::string_view TlsTransport::alpn() const noexcept {
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &data, &len);
  return {reinterpret_cast<const char*>(data), len};
}

bool TlsTransport::ktls_rx_ready() const noexcept {
  return BIO_ctrl_pending(network_in_) == 0 && SSL_has_pending(ssl_) == 0;
}

bool TlsTransport::ktls_params(KtlsParams& out, std::string& error) const {
  if (!keys_) {
    error = "the connection was made without kTLS capture (ClientOptions::ktls)";
    return false;
  }
  return keys_->extract(ssl_, out, error);
}

KernelHandover TlsTransport::hand_over_to_kernel(int fd, std::string& detail) noexcept {
  if (!ktls_rx_ready()) {
    detail = "records buffered";
    return KernelHandover::kStayed;
  }
  KtlsParams params;
  if (!ktls_params(params, detail)) return KernelHandover::kStayed;
  KtlsInstalled installed;
  if (install_ktls(fd, params, detail, &installed)) return KernelHandover::kInstalled;
  return installed.tx || installed.rx ? KernelHandover::kBroken : KernelHandover::kStayed;
}

void TlsTransport::drain(std::string& wire_out) noexcept {
  // Straight from the memory BIO's storage: one copy, no zero-filling.
  char* data = nullptr;
  const long pending = BIO_get_mem_data(network_out_, &data);
  if (pending <= 0) return;
  wire_out.append(data, static_cast<size_t>(pending));
  (void)BIO_reset(network_out_);
}

IoResult TlsTransport::fail(int ssl_error, const char* reason) noexcept {
  error_ = describe_failure(ssl_error);
  reason_ = reason;
  ERR_clear_error();
  // A session that just failed to resume (rotated certificate, changed
  // server) should not be offered again.
  if (sessions_ != nullptr && !handshake_done_) sessions_->erase(session_key_);
  return {IoStatus::kError, reason_};
}

std::string TlsTransport::describe_failure(int ssl_error) const {
  const char* peer = server_ ? "client" : "backend";
  if (peer_alert_ >= 0 && peer_alert_ != kAlertCloseNotify) {
    // TLS 1.3 finishes the client's handshake before the server has judged
    // its certificate, so an alert before any data is still a rejection of
    // the handshake.
    return std::string(peer) +
           (plaintext_received_ ? " sent alert " : " rejected the handshake: alert ") +
           alert_name(peer_alert_);
  }
  const unsigned long code = ERR_peek_error();
  const int reason = ERR_GET_REASON(code);
  if (verify_error_ != 0 || reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    return describe_verification();
  }
  if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    return "client sent no certificate, and this listener requires one";
  }
  std::string text = handshake_done_ ? "TLS error: " : "TLS handshake failed: ";
  if (code != 0) {
    const char* what = ERR_reason_error_string(code);
    text += what != nullptr ? what : "unknown OpenSSL error";
    text += hint_for(reason);
  } else if (ssl_error == SSL_ERROR_SYSCALL) {
    text += "unexpected end of the TLS stream";
  } else {
    text += "OpenSSL error " + std::to_string(ssl_error);
  }
  if (sent_alert_ >= 0) text += std::string("; sent alert ") + alert_name(sent_alert_);
  return text;
}

std::string TlsTransport::describe_verification() const {
  const int code =
      verify_error_ != 0 ? verify_error_ : static_cast<int>(SSL_get_verify_result(ssl_));
  std::string text = std::string("certificate verify failed: ") +
                     X509_verify_cert_error_string(code) + " (" + x509_error_name(code) + ")";
  if (!verify_subject_.empty()) {
    text += " for " + verify_subject_ + " (depth " + std::to_string(verify_depth_) + ")";
  }
  if (code == X509_V_ERR_HOSTNAME_MISMATCH || code == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    text += ": the certificate does not name '" + expected_name_ + "'";
  }
  return text;
}

void TlsTransport::on_new_session(SSL_SESSION* session) noexcept {
  ticket_received_ = true;
  if (sessions_ == nullptr) return;
  try {
    sessions_->store(session_key_, session);
  } catch (...) {
    // Out of memory: resumption is an optimisation, drop the session.
  }
}

void TlsTransport::on_keylog_line(const char* line) noexcept {
  if (keys_) keys_->on_keylog_line(line);
}

SSL_CTX* TlsTransport::on_server_name(const char* name) noexcept {
  return contexts_ ? contexts_->select(name) : nullptr;
}

void TlsTransport::on_verify_failure(int x509_error, int depth, X509* certificate) noexcept {
  verify_error_ = x509_error;
  verify_depth_ = depth;
  if (certificate != nullptr) verify_subject_ = one_line(X509_get_subject_name(certificate));
}

void TlsTransport::info_callback(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_ALERT) == 0) return;
  auto* self = static_cast<TlsTransport*>(hooks_of(ssl));
  if (self == nullptr) return;
  const int description = ret & 0xff;
  if ((where & SSL_CB_READ) != 0) {
    self->peer_alert_ = description;
  } else {
    self->sent_alert_ = description;
  }
}

void TlsTransport::message_callback(int write_p, int /*version*/, int content_type, const void* buf,
                                    size_t len, SSL* ssl, void* arg) {
  auto* self = static_cast<TlsTransport*>(arg);
  if (self == nullptr || !self->keys_) return;
  self->keys_->on_message(write_p != 0, content_type, buf, len, SSL_version(ssl) == TLS1_3_VERSION);
}

}  // namespace ringgate::tls
