#include "tls/ktls.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#ifndef TCP_ULP
#define TCP_ULP 31
#endif

namespace ringgate::tls {
namespace {

std::string errno_text(const char* step, int err) {
  std::string text = std::string(step) + ": " + std::strerror(err);
  if (err == ENOENT && std::strcmp(step, "TCP_ULP tls") == 0) {
    text += " (the kernel has no CONFIG_TLS)";
  } else if (err == ENOTCONN) {
    text += " (kTLS needs a connected TCP socket)";
  }
  return text;
}

bool attach_ulp(int fd, std::string& error) {
  if (setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls") == 0 || errno == EEXIST) {
    return true;
  }
  error = errno_text("TCP_ULP tls", errno);
  return false;
}

// Test-only switches, read from the environment once (the first hand-over or
// the probe at start). They exist so the kTLS tests in tests/vm can prove they
// would notice a broken hand-over; never set them in production.
//   RINGGATE_TEST_CORRUPT_KTLS_KEY=1  flips one byte of every key handed to
//     the kernel: the peer must then reject our records and we theirs.
//   RINGGATE_TEST_FAIL_KTLS_RX=1      hands TLS_RX a truncated struct, which
//     the kernel refuses (EINVAL): the connection must stay on userspace TLS.
struct TestSwitches {
  bool corrupt_key = false;
  bool fail_rx = false;
};

bool env_on(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && std::strcmp(value, "1") == 0;
}

const TestSwitches& test_switches() {
  static const TestSwitches kSwitches{env_on("RINGGATE_TEST_CORRUPT_KTLS_KEY"),
                                      env_on("RINGGATE_TEST_FAIL_KTLS_RX")};
  return kSwitches;
}

unsigned char* key_of(KtlsCryptoInfo& info, KtlsCipher cipher) noexcept {
  switch (cipher) {
    case KtlsCipher::kAesGcm128:
      return info.info.aes_gcm_128.key;
    case KtlsCipher::kAesGcm256:
      return info.info.aes_gcm_256.key;
    case KtlsCipher::kChaCha20Poly1305:
      break;
  }
  return info.info.chacha20_poly1305.key;
}

bool install_direction(int fd, int direction, const KtlsParams& params, std::string& error) {
  if (!attach_ulp(fd, error)) return false;
  KtlsCryptoInfo info;
  make_crypto_info(params, direction == TLS_TX ? params.tx : params.rx, info);
  const TestSwitches& test = test_switches();
  if (test.corrupt_key) key_of(info, params.cipher)[0] ^= 0x01;
  if (test.fail_rx && direction == TLS_RX) info.size -= 1;
  if (setsockopt(fd, SOL_TLS, direction, &info.info, info.size) != 0) {
    // EINVAL: the kernel lacks this cipher or version; ENOPROTOOPT: no RX
    // support (kernels before 4.17).
    error = errno_text(direction == TLS_TX ? "SOL_TLS TLS_TX" : "SOL_TLS TLS_RX", errno);
    return false;
  }
  return true;
}

void store_be64(uint64_t value, unsigned char* out) noexcept {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(value);
    value >>= 8;
  }
}

// Fills one of the AES-GCM structs: salt = the first 4 IV bytes, iv = the 8
// after them (TLS 1.3: the rest of the static IV; TLS 1.2: the first explicit
// nonce), rec_seq big-endian.
template <typename Info>
void fill_gcm(Info& info, uint16_t version, uint16_t cipher_type,
              const KtlsDirectionKeys& keys) noexcept {
  info.info.version = version;
  info.info.cipher_type = cipher_type;
  std::memcpy(info.salt, keys.iv.data(), sizeof info.salt);
  std::memcpy(info.iv, keys.iv.data() + sizeof info.salt, sizeof info.iv);
  std::memcpy(info.key, keys.key.data(), sizeof info.key);
  store_be64(keys.rec_seq, info.rec_seq);
}

}  // namespace

KtlsSupport probe_ktls() {
  test_switches();
  KtlsSupport support;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    support.detail = std::string("socket: ") + std::strerror(errno);
    return support;
  }
  const int rc = setsockopt(fd, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls");
  const int err = errno;
  ::close(fd);
  if (rc == 0 || err == ENOTCONN) {
    support.available = true;
    support.detail = "TCP_ULP tls present";
    return support;
  }
  std::string ulps;
  std::ifstream in("/proc/sys/net/ipv4/tcp_available_ulp");
  std::getline(in, ulps);
  support.detail = std::string("TCP_ULP tls: ") + std::strerror(err) +
                   (err == ENOENT ? ", the kernel has no CONFIG_TLS" : "") +
                   "; available ULPs: " + (ulps.empty() ? "none" : ulps);
  return support;
}

KtlsParams::~KtlsParams() {
  OPENSSL_cleanse(tx.key.data(), tx.key.size());
  OPENSSL_cleanse(rx.key.data(), rx.key.size());
  OPENSSL_cleanse(tx.iv.data(), tx.iv.size());
  OPENSSL_cleanse(rx.iv.data(), rx.iv.size());
}

KtlsCryptoInfo::~KtlsCryptoInfo() { OPENSSL_cleanse(&info, sizeof info); }

void make_crypto_info(const KtlsParams& params, const KtlsDirectionKeys& keys,
                      KtlsCryptoInfo& out) noexcept {
  std::memset(&out.info, 0, sizeof out.info);
  switch (params.cipher) {
    case KtlsCipher::kAesGcm128:
      fill_gcm(out.info.aes_gcm_128, params.version, TLS_CIPHER_AES_GCM_128, keys);
      out.size = sizeof out.info.aes_gcm_128;
      return;
    case KtlsCipher::kAesGcm256:
      fill_gcm(out.info.aes_gcm_256, params.version, TLS_CIPHER_AES_GCM_256, keys);
      out.size = sizeof out.info.aes_gcm_256;
      return;
    case KtlsCipher::kChaCha20Poly1305: {
      // No salt: the whole 12-byte IV is XORed with the sequence number, in
      // TLS 1.2 (RFC 7905) and 1.3 alike.
      auto& info = out.info.chacha20_poly1305;
      info.info.version = params.version;
      info.info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
      std::memcpy(info.iv, keys.iv.data(), sizeof info.iv);
      std::memcpy(info.key, keys.key.data(), sizeof info.key);
      store_be64(keys.rec_seq, info.rec_seq);
      out.size = sizeof info;
      return;
    }
  }
}

bool install_ktls_tx(int fd, const KtlsParams& params, std::string& error) {
  return install_direction(fd, TLS_TX, params, error);
}

bool install_ktls_rx(int fd, const KtlsParams& params, std::string& error) {
  return install_direction(fd, TLS_RX, params, error);
}

bool install_ktls(int fd, const KtlsParams& params, std::string& error, KtlsInstalled* installed) {
  // RX first: it is the direction a kernel may refuse (no RX support, a
  // cipher it only has for TX), and a socket with the ULP attached but no
  // keys installed still carries bytes untouched, so a refusal here leaves
  // the connection whole on userspace TLS.
  KtlsInstalled result;
  result.rx = install_ktls_rx(fd, params, error);
  if (result.rx) result.tx = install_ktls_tx(fd, params, error);
  if (installed != nullptr) *installed = result;
  return result.tx && result.rx;
}

void RecordRecvMsg::prepare(void* buf, size_t len) noexcept {
  iov.iov_base = buf;
  iov.iov_len = len;
  std::memset(control, 0, sizeof control);
  msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
}

int RecordRecvMsg::record_type() const noexcept {
  for (const cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(const_cast<msghdr*>(&msg), const_cast<cmsghdr*>(cmsg))) {
    if (cmsg->cmsg_level == SOL_TLS && cmsg->cmsg_type == TLS_GET_RECORD_TYPE &&
        cmsg->cmsg_len >= CMSG_LEN(sizeof(unsigned char))) {
      return *CMSG_DATA(cmsg);
    }
  }
  return -1;
}

ssize_t recv_record_type(int fd, void* buf, size_t len, int& record_type, int flags) noexcept {
  RecordRecvMsg request;
  request.prepare(buf, len);
  const ssize_t n = ::recvmsg(fd, &request.msg, flags);
  if (n < 0) return -errno;
  record_type = request.record_type();
  return n;
}

ControlRecordVerdict classify_control_record(int record_type, const unsigned char* data,
                                             size_t len) noexcept {
  constexpr unsigned char kAlertCloseNotify = 0;
  constexpr unsigned char kHandshakeNewSessionTicket = 4;
  constexpr unsigned char kHandshakeKeyUpdate = 24;
  switch (record_type) {
    case kRecordApplicationData:
      return {ControlRecordAction::kIgnore, "application data"};
    case kRecordAlert:
      if (len >= 2 && data[1] == kAlertCloseNotify) {
        return {ControlRecordAction::kClosed, "peer sent close_notify"};
      }
      return {ControlRecordAction::kError, "peer sent a fatal TLS alert"};
    case kRecordHandshake: {
      // One record may carry several messages: type(1) length(3) body.
      if (len == 0) return {ControlRecordAction::kError, "empty TLS handshake record"};
      size_t at = 0;
      while (at + 4 <= len) {
        const unsigned char type = data[at];
        const size_t body = size_t{data[at + 1]} << 16 | size_t{data[at + 2]} << 8 | data[at + 3];
        if (type == kHandshakeKeyUpdate) {
          return {ControlRecordAction::kError,
                  "peer sent a TLS KeyUpdate, which kernel TLS cannot follow", true};
        }
        if (type != kHandshakeNewSessionTicket) {
          return {ControlRecordAction::kError, "unexpected post-handshake TLS message"};
        }
        at += 4 + body;
      }
      if (at != len) return {ControlRecordAction::kError, "truncated TLS handshake record"};
      return {ControlRecordAction::kIgnore, "session ticket"};
    }
    default:
      return {ControlRecordAction::kError, "unexpected TLS record type"};
  }
}

}  // namespace ringgate::tls
