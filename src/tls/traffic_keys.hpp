// Where the kTLS keys and sequence numbers come from.
//
// OpenSSL 3.0 has no public call for the record keys or sequence numbers, so
// ringgate derives them from what it does expose:
//
// TLS 1.3: the application traffic secrets leave OpenSSL only through the key
// log callback (lines CLIENT_TRAFFIC_SECRET_0 / SERVER_TRAFFIC_SECRET_0; the
// exporter interface gives exporter secrets, not these). Key and IV are
// HKDF-Expand-Label(secret, "key"/"iv", "", len) (RFC 8446 §7.3), computed
// with EVP_KDF "HKDF" in EXPAND_ONLY mode. A KeyUpdate replaces a secret with
// HKDF-Expand-Label(secret, "traffic upd", "", Hash.length) (§7.2).
//
// TLS 1.2: key_block = PRF(master_secret, "key expansion",
// server_random + client_random) (RFC 5246 §6.3) with EVP_KDF "TLS1-PRF", cut
// into client/server write keys and the client/server fixed IVs (no MAC keys
// for AEADs): 4 bytes for AES-GCM (RFC 5288), 12 for ChaCha20 (RFC 7905).
//
// Sequence numbers: each direction's counter restarts at 0 when its keys
// change, and counts every record protected under the new keys. OpenSSL's
// message callback shows both events in order: a record header before the
// record's contents, and a handshake message after the record that carried
// it. So the tracker restarts a counter at a ChangeCipherSpec record (TLS
// 1.2: the Finished record is then number 0, and after the handshake the next
// record is 1), after the Finished message (TLS 1.3: keys change after
// Finished, which must end its record), and after a KeyUpdate; it adds one per
// other record header. That makes post-handshake records already processed in
// userspace count: a TLS 1.3 server has sent its NewSessionTickets (TX
// usually 2, not 0) and a client that read them has RX 2.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tls/ktls.hpp"

namespace ringgate::tls {

// HKDF-Expand-Label(secret, label, context, out.size()) of RFC 8446 §7.1; the
// "tls13 " prefix is added here. False only when OpenSSL fails.
bool hkdf_expand_label(const EVP_MD* md, std::span<const unsigned char> secret,
                       std::string_view label, std::span<const unsigned char> context,
                       std::span<unsigned char> out) noexcept;

// PRF(secret, label, seed) of RFC 5246 §5, P_hash over `md`.
bool tls12_prf(const EVP_MD* md, std::span<const unsigned char> secret, std::string_view label,
               std::span<const unsigned char> seed, std::span<unsigned char> out) noexcept;

// Follows one connection's key changes and record counts, fed by the SSL's
// key log and message callbacks (TlsTransport wires them when the connection
// may move to kTLS). Holds traffic secrets: wiped on destruction.
class KeyScheduleTracker {
 public:
  KeyScheduleTracker() = default;
  KeyScheduleTracker(const KeyScheduleTracker&) = delete;
  KeyScheduleTracker& operator=(const KeyScheduleTracker&) = delete;
  ~KeyScheduleTracker();

  // One NSS key log line; keeps CLIENT_/SERVER_TRAFFIC_SECRET_0.
  void on_keylog_line(std::string_view line) noexcept;
  // The arguments of SSL_set_msg_callback's callback; `tls13` is whether
  // the connection negotiated TLS 1.3.
  void on_message(bool write, int content_type, const void* buf, size_t len, bool tls13) noexcept;

  // The parameters for both directions now. Fails, with a reason, when the
  // handshake is not finished, the version or cipher is not one the kernel
  // takes ("unsupported cipher …"), or the secrets were not captured.
  bool extract(const SSL* ssl, KtlsParams& out, std::string& error) const;

  uint64_t records_read() const noexcept { return read_.records; }
  uint64_t records_written() const noexcept { return write_.records; }

 private:
  struct Direction {
    uint64_t records = 0;
    uint32_t key_updates = 0;
    bool keyed = false;     // the final (application) keys are in use
    bool finished = false;  // TLS 1.3: the handshake's Finished went by
  };
  struct Secret {
    std::array<unsigned char, EVP_MAX_MD_SIZE> bytes{};
    size_t len = 0;
  };

  bool extract_tls13(const SSL* ssl, const EVP_MD* md, KtlsParams& out, std::string& error) const;
  bool extract_tls12(const SSL* ssl, const EVP_MD* md, KtlsParams& out, std::string& error) const;

  Secret client_secret_;
  Secret server_secret_;
  Direction read_;
  Direction write_;
};

// TLS 1.3 write key and IV of one direction, after `key_updates` KeyUpdates.
bool derive_tls13_direction(const EVP_MD* md, std::span<const unsigned char> traffic_secret,
                            uint32_t key_updates, size_t key_len, uint64_t rec_seq,
                            KtlsDirectionKeys& out) noexcept;

}  // namespace ringgate::tls
