#include "tls/traffic_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include <cstring>

namespace ringgate::tls {
namespace {

constexpr std::string_view kClientSecretLabel = "CLIENT_TRAFFIC_SECRET_0";
constexpr std::string_view kServerSecretLabel = "SERVER_TRAFFIC_SECRET_0";
constexpr size_t kRandomLen = 32;

// Runs one EVP_KDF derivation; the KDF is fetched per call (once per
// handshake, so caching it would save little and outlive OpenSSL's cleanup).
bool derive(const char* kdf_name, OSSL_PARAM* params, std::span<unsigned char> out) noexcept {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, kdf_name, nullptr);
  if (kdf == nullptr) return false;
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return false;
  const bool ok = EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1;
  EVP_KDF_CTX_free(ctx);
  return ok;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes `hex` into `out`; the length in bytes, or 0 when it is not hex or
// does not fit.
size_t decode_hex(std::string_view hex, std::span<unsigned char> out) noexcept {
  if (hex.size() % 2 != 0 || hex.size() / 2 > out.size()) return 0;
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return 0;
    out[i] = static_cast<unsigned char>(high << 4 | low);
  }
  return hex.size() / 2;
}

void store_be64(uint64_t value, unsigned char* out) noexcept {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(value);
    value >>= 8;
  }
}

bool kernel_cipher(const SSL_CIPHER* cipher, KtlsCipher& out, size_t& key_len) noexcept {
  switch (SSL_CIPHER_get_cipher_nid(cipher)) {
    case NID_aes_128_gcm:
      out = KtlsCipher::kAesGcm128;
      key_len = 16;
      return true;
    case NID_aes_256_gcm:
      out = KtlsCipher::kAesGcm256;
      key_len = 32;
      return true;
    case NID_chacha20_poly1305:
      out = KtlsCipher::kChaCha20Poly1305;
      key_len = 32;
      return true;
    default:
      return false;
  }
}

}  // namespace

bool hkdf_expand_label(const EVP_MD* md, std::span<const unsigned char> secret,
                       std::string_view label, std::span<const unsigned char> context,
                       std::span<unsigned char> out) noexcept {
  constexpr std::string_view kPrefix = "tls13 ";
  if (kPrefix.size() + label.size() > 255 || context.size() > 255 || out.size() > 0xffff) {
    return false;
  }
  // struct { uint16 length; opaque label<7..255>; opaque context<0..255>; }
  unsigned char info[2 + 1 + 255 + 1 + 255];
  size_t n = 0;
  info[n++] = static_cast<unsigned char>(out.size() >> 8);
  info[n++] = static_cast<unsigned char>(out.size());
  info[n++] = static_cast<unsigned char>(kPrefix.size() + label.size());
  std::memcpy(info + n, kPrefix.data(), kPrefix.size());
  n += kPrefix.size();
  std::memcpy(info + n, label.data(), label.size());
  n += label.size();
  info[n++] = static_cast<unsigned char>(context.size());
  if (!context.empty()) std::memcpy(info + n, context.data(), context.size());
  n += context.size();

  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                       const_cast<char*>(EVP_MD_get0_name(md)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                        const_cast<unsigned char*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
      OSSL_PARAM_construct_end(),
  };
  return derive("HKDF", params, out);
}

bool tls12_prf(const EVP_MD* md, std::span<const unsigned char> secret, std::string_view label,
               std::span<const unsigned char> seed, std::span<unsigned char> out) noexcept {
  unsigned char full_seed[256];
  if (label.size() + seed.size() > sizeof full_seed) return false;
  std::memcpy(full_seed, label.data(), label.size());
  if (!seed.empty()) std::memcpy(full_seed + label.size(), seed.data(), seed.size());
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                       const_cast<char*>(EVP_MD_get0_name(md)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
                                        const_cast<unsigned char*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, full_seed, label.size() + seed.size()),
      OSSL_PARAM_construct_end(),
  };
  return derive("TLS1-PRF", params, out);
}

bool derive_tls13_direction(const EVP_MD* md, std::span<const unsigned char> traffic_secret,
                            uint32_t key_updates, size_t key_len, uint64_t rec_seq,
                            KtlsDirectionKeys& out) noexcept {
  const size_t hash_len = traffic_secret.size();
  if (hash_len > EVP_MAX_MD_SIZE || key_len > out.key.size()) return false;
  unsigned char secret[EVP_MAX_MD_SIZE];
  std::memcpy(secret, traffic_secret.data(), hash_len);
  bool ok = true;
  for (uint32_t i = 0; ok && i < key_updates; ++i) {
    unsigned char next[EVP_MAX_MD_SIZE];
    ok = hkdf_expand_label(md, {secret, hash_len}, "traffic upd", {}, {next, hash_len});
    std::memcpy(secret, next, hash_len);
    OPENSSL_cleanse(next, sizeof next);
  }
  ok = ok && hkdf_expand_label(md, {secret, hash_len}, "key", {}, {out.key.data(), key_len}) &&
       hkdf_expand_label(md, {secret, hash_len}, "iv", {}, {out.iv.data(), out.iv.size()});
  OPENSSL_cleanse(secret, sizeof secret);
  out.key_len = key_len;
  out.rec_seq = rec_seq;
  return ok;
}

KeyScheduleTracker::~KeyScheduleTracker() {
  OPENSSL_cleanse(client_secret_.bytes.data(), client_secret_.bytes.size());
  OPENSSL_cleanse(server_secret_.bytes.data(), server_secret_.bytes.size());
}

void KeyScheduleTracker::on_keylog_line(std::string_view line) noexcept {
  // "<LABEL> <client_random hex> <secret hex>"
  const size_t first = line.find(' ');
  if (first == std::string_view::npos) return;
  const std::string_view label = line.substr(0, first);
  Secret* secret = label == kClientSecretLabel   ? &client_secret_
                   : label == kServerSecretLabel ? &server_secret_
                                                 : nullptr;
  if (secret == nullptr) return;
  const size_t second = line.find(' ', first + 1);
  if (second == std::string_view::npos) return;
  secret->len = decode_hex(line.substr(second + 1), secret->bytes);
}

void KeyScheduleTracker::on_message(bool write, int content_type, const void* buf, size_t len,
                                    bool tls13) noexcept {
  if (len == 0) return;
  Direction& direction = write ? write_ : read_;
  const auto first = *static_cast<const unsigned char*>(buf);
  if (content_type == SSL3_RT_HEADER) {
    // The record header's first byte is its content type. OpenSSL 3.0 reports
    // a ChangeCipherSpec it reads only by this header, so both directions use
    // it: TLS 1.2 changes keys right after it (and it is not protected itself);
    // in TLS 1.3 it is an unprotected middlebox-compatibility dummy.
    if (first == SSL3_RT_CHANGE_CIPHER_SPEC) {
      if (!tls13) {
        direction.records = 0;
        direction.keyed = true;
      }
      return;
    }
    ++direction.records;
    return;
  }
  if (content_type != SSL3_RT_HANDSHAKE || !tls13) return;
  // TLS 1.3 changes to the application keys after the handshake's Finished
  // (not after a post-handshake authentication's), and ratchets them after
  // every KeyUpdate; both end their record.
  if (first == SSL3_MT_FINISHED && !direction.finished) {
    direction.records = 0;
    direction.keyed = true;
    direction.finished = true;
  } else if (first == SSL3_MT_KEY_UPDATE && direction.keyed) {
    direction.records = 0;
    ++direction.key_updates;
  }
}

bool KeyScheduleTracker::extract(const SSL* ssl, KtlsParams& out, std::string& error) const {
  if (SSL_is_init_finished(ssl) != 1 || !read_.keyed || !write_.keyed) {
    error = "the handshake has not finished in both directions (or a key update is pending)";
    return false;
  }
  const int version = SSL_version(ssl);
  if (version != TLS1_2_VERSION && version != TLS1_3_VERSION) {
    error = std::string("kTLS needs TLS 1.2 or 1.3, not ") + SSL_get_version(ssl);
    return false;
  }
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  size_t key_len = 0;
  if (cipher == nullptr || !kernel_cipher(cipher, out.cipher, key_len)) {
    error = std::string("unsupported cipher ") +
            (cipher != nullptr ? SSL_CIPHER_get_name(cipher) : "(none)") +
            " (kTLS takes AES-GCM-128/256 and ChaCha20-Poly1305)";
    return false;
  }
  const EVP_MD* md = SSL_CIPHER_get_handshake_digest(cipher);
  if (md == nullptr) {
    error = "no handshake digest for cipher " + std::string(SSL_CIPHER_get_name(cipher));
    return false;
  }
  out.version = version == TLS1_3_VERSION ? TLS_1_3_VERSION : TLS_1_2_VERSION;
  out.tx.key_len = out.rx.key_len = key_len;
  return version == TLS1_3_VERSION ? extract_tls13(ssl, md, out, error)
                                   : extract_tls12(ssl, md, out, error);
}

bool KeyScheduleTracker::extract_tls13(const SSL* ssl, const EVP_MD* md, KtlsParams& out,
                                       std::string& error) const {
  const size_t hash_len = static_cast<size_t>(EVP_MD_get_size(md));
  if (client_secret_.len != hash_len || server_secret_.len != hash_len) {
    error =
        "the TLS 1.3 traffic secrets were not captured (the SSL_CTX needs ringgate's key "
        "log callback)";
    return false;
  }
  const bool server = SSL_is_server(ssl) == 1;
  const Secret& own = server ? server_secret_ : client_secret_;
  const Secret& peer = server ? client_secret_ : server_secret_;
  if (!derive_tls13_direction(md, {own.bytes.data(), own.len}, write_.key_updates, out.tx.key_len,
                              write_.records, out.tx) ||
      !derive_tls13_direction(md, {peer.bytes.data(), peer.len}, read_.key_updates, out.rx.key_len,
                              read_.records, out.rx)) {
    error = "HKDF-Expand-Label failed";
    return false;
  }
  return true;
}

bool KeyScheduleTracker::extract_tls12(const SSL* ssl, const EVP_MD* md, KtlsParams& out,
                                       std::string& error) const {
  unsigned char master[SSL_MAX_MASTER_KEY_LENGTH];
  const size_t master_len = SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof master);
  unsigned char seed[2 * kRandomLen];
  if (master_len == 0 || SSL_get_server_random(ssl, seed, kRandomLen) != kRandomLen ||
      SSL_get_client_random(ssl, seed + kRandomLen, kRandomLen) != kRandomLen) {
    error = "the TLS 1.2 master secret or randoms are not available";
    return false;
  }
  const size_t key_len = out.tx.key_len;
  const size_t iv_len = out.cipher == KtlsCipher::kChaCha20Poly1305 ? 12 : 4;
  unsigned char block[2 * 32 + 2 * 12];
  const bool ok =
      tls12_prf(md, {master, master_len}, "key expansion", seed, {block, 2 * key_len + 2 * iv_len});
  OPENSSL_cleanse(master, sizeof master);
  if (!ok) {
    OPENSSL_cleanse(block, sizeof block);
    error = "TLS1-PRF key expansion failed";
    return false;
  }
  // client_write_key, server_write_key, client_write_IV, server_write_IV
  const unsigned char* client_key = block;
  const unsigned char* server_key = block + key_len;
  const unsigned char* client_iv = block + 2 * key_len;
  const unsigned char* server_iv = client_iv + iv_len;
  const bool server = SSL_is_server(ssl) == 1;
  auto fill = [&](KtlsDirectionKeys& keys, const unsigned char* key, const unsigned char* iv,
                  uint64_t rec_seq) {
    std::memcpy(keys.key.data(), key, key_len);
    std::memcpy(keys.iv.data(), iv, iv_len);
    if (iv_len == 4) store_be64(rec_seq, keys.iv.data() + 4);
    keys.rec_seq = rec_seq;
  };
  fill(out.tx, server ? server_key : client_key, server ? server_iv : client_iv, write_.records);
  fill(out.rx, server ? client_key : server_key, server ? client_iv : server_iv, read_.records);
  OPENSSL_cleanse(block, sizeof block);
  return true;
}

}  // namespace ringgate::tls
