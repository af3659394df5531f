// Kernel TLS. The record layer moves into the kernel only where the kernel
// has CONFIG_TLS; everywhere else connections stay on userspace TLS.
// Detection is a one-off probe at start. After a handshake, KtlsParams (see
// traffic_keys.hpp for how they are derived) are handed to the socket with
// install_ktls_tx / install_ktls_rx, and from then on the socket carries
// plaintext for application data; other records (alerts, post-handshake
// handshake messages) are read with recvmsg and TLS_GET_RECORD_TYPE.
#pragma once

#include <linux/tls.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

namespace ringgate::tls {

struct KtlsSupport {
  bool available = false;
  std::string detail;  // why not, or what was found
};

// Probes TCP_ULP "tls" on a fresh socket: ENOENT means the kernel has no TLS
// module; ENOTCONN means it has one (the socket just isn't connected).
KtlsSupport probe_ktls();

// The AEADs the kernel takes (and the only ones kTLS is tried with).
enum class KtlsCipher : uint8_t { kAesGcm128, kAesGcm256, kChaCha20Poly1305 };

// One direction's record protection state at the moment of the hand-over.
struct KtlsDirectionKeys {
  std::array<unsigned char, 32> key{};
  size_t key_len = 0;  // 16 or 32
  // The 12-byte nonce base. TLS 1.3 (all three AEADs) and TLS 1.2 ChaCha20:
  // the write IV, XORed with the sequence number per record. TLS 1.2 AES-GCM:
  // the 4-byte salt (implicit nonce) then the 8-byte explicit nonce the kernel
  // starts counting from when it sends (we start it at rec_seq, the RFC 5288
  // recommendation; received records carry their own explicit nonce).
  std::array<unsigned char, 12> iv{};
  uint64_t rec_seq = 0;  // the sequence number of the next record
};

// Everything the kernel needs for both directions of one connection.
struct KtlsParams {
  uint16_t version = 0;  // TLS_1_2_VERSION (0x0303) or TLS_1_3_VERSION (0x0304)
  KtlsCipher cipher = KtlsCipher::kAesGcm128;
  KtlsDirectionKeys tx;
  KtlsDirectionKeys rx;

  KtlsParams() = default;
  KtlsParams(const KtlsParams&) = default;
  KtlsParams& operator=(const KtlsParams&) = default;
  ~KtlsParams();  // wipes the keys
};

// The struct setsockopt(SOL_TLS, TLS_TX/TLS_RX) takes for one direction.
struct KtlsCryptoInfo {
  union {
    tls_crypto_info base;
    tls12_crypto_info_aes_gcm_128 aes_gcm_128;
    tls12_crypto_info_aes_gcm_256 aes_gcm_256;
    tls12_crypto_info_chacha20_poly1305 chacha20_poly1305;
  } info{};
  socklen_t size = 0;

  ~KtlsCryptoInfo();  // wipes the key
};

void make_crypto_info(const KtlsParams& params, const KtlsDirectionKeys& direction,
                      KtlsCryptoInfo& out) noexcept;

// Attaches the "tls" ULP (a second call finds it attached and goes on) and
// hands one direction to the kernel. Rules for the caller (the worker):
//  - Extract KtlsParams right before installing: they are a snapshot.
//  - TX: only when every byte the transport produced is already in the
//    socket (no send waiting to be submitted); the kernel's first record gets
//    params.tx.rec_seq. Never call encode() on the transport afterwards.
//  - RX: only when TlsTransport::ktls_rx_ready() and no received bytes wait
//    anywhere in userspace (cancel the multishot recv and drain its
//    completions first): the kernel must see the stream start exactly at the
//    record numbered params.rx.rec_seq. Never feed the transport afterwards.
// A failed direction stays in userspace, and mixed modes are valid (OpenSSL
// 3.0 itself runs TLS 1.3 with kernel TX and userspace RX). On failure,
// `error` names the step and errno, e.g. "TCP_ULP tls: No such file or
// directory (the kernel has no CONFIG_TLS)".
bool install_ktls_tx(int fd, const KtlsParams& params, std::string& error);
bool install_ktls_rx(int fd, const KtlsParams& params, std::string& error);

// Which directions the kernel owns after install_ktls.
struct KtlsInstalled {
  bool tx = false;
  bool rx = false;
};
// RX, then TX (a refused RX leaves the socket whole for userspace TLS). True
// when both are in the kernel; otherwise `installed` (when given) says which
// one is, and `error` why the other is not.
// Test-only: RINGGATE_TEST_CORRUPT_KTLS_KEY=1 in the environment flips a key
// byte before every install, RINGGATE_TEST_FAIL_KTLS_RX=1 makes the kernel
// refuse every TLS_RX (see ktls.cpp); tests/vm/run uses them.
bool install_ktls(int fd, const KtlsParams& params, std::string& error,
                  KtlsInstalled* installed = nullptr);

// TLS content types as the kernel reports them.
inline constexpr uint8_t kRecordChangeCipherSpec = 20;
inline constexpr uint8_t kRecordAlert = 21;
inline constexpr uint8_t kRecordHandshake = 22;
inline constexpr uint8_t kRecordApplicationData = 23;

// A recvmsg(2) request that also asks for the record type. On a kTLS RX
// socket a plain recv of a non-data record fails with EIO; the worker then
// reads that record with this (io_uring_prep_recvmsg(&sqe, fd, &r.msg, 0)),
// one record per call. The msghdr points into the object itself: keep it at
// a fixed address while the operation is in flight.
struct RecordRecvMsg {
  msghdr msg{};
  iovec iov{};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(unsigned char))]{};

  void prepare(void* buf, size_t len) noexcept;
  // The record type from the TLS_GET_RECORD_TYPE control message, or -1
  // when there was none (the kernel always sends one on a kTLS RX socket).
  int record_type() const noexcept;
};

// Blocking-free convenience for a non-blocking socket: one recvmsg. Returns
// the byte count (0: EOF) or -errno; `record_type` as RecordRecvMsg.
ssize_t recv_record_type(int fd, void* buf, size_t len, int& record_type, int flags) noexcept;

// What a non-data record read from a kTLS RX socket means for the connection.
enum class ControlRecordAction : uint8_t {
  kIgnore,  // NewSessionTicket (a resumption ticket we can no longer use)
  kClosed,  // close_notify
  kError,   // anything else: a fatal alert, a KeyUpdate (the kernel cannot
            // rekey RX on the kernels we target), an unexpected record
};
struct ControlRecordVerdict {
  ControlRecordAction action = ControlRecordAction::kError;
  const char* reason = nullptr;  // static text for logs
  bool key_update = false;       // kError because of a KeyUpdate
};
ControlRecordVerdict classify_control_record(int record_type, const unsigned char* data,
                                             size_t len) noexcept;

}  // namespace ringgate::tls
