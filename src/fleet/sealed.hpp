// Values encrypted at rest for the shared configuration store (DESIGN §13):
// everything a gateway writes to etcd is sealed with AES-256-GCM under a key
// from gateway.configSource.encryptionKeyFile, so etcd (its data dir, its
// backups, anyone who can read its prefix) never holds a secret in the clear.
//
// The key file is text, one key per line:
//
//   # comments and blank lines are ignored
//   k2:<base64 of exactly 32 random bytes>
//   k1:<base64 of exactly 32 random bytes>
//
// A key id is 1 to 32 characters of A-Z a-z 0-9 . _ -; spaces around the ':'
// and at either end of a line are ignored. The first key seals; every key
// opens. To rotate, put a new key first and keep the old ones until every
// value has been rewritten (open() reports which key opened a value). Make a
// key with:
//
//   printf 'k1:%s\n' "$(openssl rand -base64 32)" > key; chmod 600 key
//
// The file must be a regular file with no permission for group or others.
// Messages about it name the line and what is wrong; they never quote key
// bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringgate::fleet {

inline constexpr size_t kKeyBytes = 32;  // AES-256
inline constexpr size_t kKeyIdMaxChars = 32;
inline constexpr size_t kKeyFileMaxBytes = 64 * 1024;

enum class SealError : uint8_t {
  kNone,
  kUnknownKey,      // open: the envelope names a key id the ring lacks
  kBadEnvelope,     // open: not an envelope this version writes
  kAuthentication,  // open: wrong key bytes, a tampered value, or another context
  kCrypto,          // OpenSSL failed (no randomness, no memory) or the input is over 1 GiB
};

// One key's id and bytes; defined (and wiped on destruction) in sealed.cpp.
struct SecretKey;

// A stable PascalCase name for `error` ("UnknownKey", …). Never null.
const char* to_string(SealError error) noexcept;

// What seal() and open() return.
struct SealResult {
  // seal: the envelope. open: the plaintext, which may be a secret; the
  // caller owns it (and wipes it if it should not linger).
  std::string text;
  std::string key_id;  // the key that sealed or opened it; empty on failure
  SealError error = SealError::kNone;
  std::string reason;  // empty on success; otherwise why, for a person

  bool ok() const noexcept { return error == SealError::kNone; }
};

// The keys of one key file, immutable once parsed. Key bytes live on the
// heap, are never copied, and are wiped (OPENSSL_cleanse) when the ring is
// destroyed. Movable, not copyable; a moved-from ring holds no key and must
// not be used. seal() and open() are const and may be called from several
// threads at once.
class KeyRing {
 public:
  KeyRing(KeyRing&&) noexcept;
  KeyRing& operator=(KeyRing&&) noexcept;
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;
  ~KeyRing();

  // Parses key-file text (format above). Returns nullopt when there is any
  // problem, with each one appended to `problems` ("line 3: key must be 32
  // bytes, found 31"); a ring is returned only with at least one key.
  static std::optional<KeyRing> parse(std::string_view text, std::vector<std::string>& problems);

  // Reads the file at `path` (a regular file, symlinks followed, at most
  // kKeyFileMaxBytes) and parses it. Refuses a file with any permission bit
  // for group or others. Every problem appended names the file:
  // `key file "/etc/ringgate/key": line 3: …`. The bytes read are wiped.
  static std::optional<KeyRing> load(const std::string& path, std::vector<std::string>& problems);

  // The id of the key that seals (the first in the file).
  const std::string& current_id() const;

  // Encrypts `plaintext` under the current key with a fresh random 96-bit
  // nonce, binding `context` (the caller passes the etcd key name, so a value
  // cannot be moved under another name) and the key id as additional
  // authenticated data. The envelope is compact JSON:
  //   {"v":1,"kid":"k1","nonce":"<base64>","data":"<base64 ciphertext + 16-byte tag>"}
  // Random nonces keep a key safe for about 2^32 seals; rotate well before.
  SealResult seal(std::string_view plaintext, std::string_view context) const;

  // Decrypts an envelope made by seal() with the same `context`. Fails with
  // kUnknownKey when the envelope's key id is not in the ring, kBadEnvelope
  // when it is not such an envelope, kAuthentication when the key, the value
  // or the context does not match. On success `key_id` says which key opened
  // it: a value whose key_id differs from current_id() should be rewritten.
  SealResult open(std::string_view envelope, std::string_view context) const;

 private:
  explicit KeyRing(std::vector<std::unique_ptr<SecretKey>> keys);
  const SecretKey* find(std::string_view id) const;

  std::vector<std::unique_ptr<SecretKey>> keys_;  // the first seals
};

}  // namespace ringgate::fleet
