// How much key derivation a PKCS#12 file asks for, judged before any
// derivation runs.
//
// PKCS#12 lets the file choose how much key derivation opening it costs: its
// MAC and each encrypted part name their own iteration count, and OpenSSL
// sets no limit, so one hostile PFX could hold the calling thread (the
// control thread, for an admin upload) for hours. Exporters stay far below
// these: Windows 2000, OpenSSL 2048, Java 10000, OWASP's advice for
// PBKDF2-SHA256 600000.
#pragma once

#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace ringgate::certs::pkcs12 {

// A PKCS#12 file's authenticated safes (PKCS12_unpack_authsafes), freed with
// their contents.
struct SafesDeleter {
  void operator()(STACK_OF(PKCS7) * safes) const noexcept { sk_PKCS7_pop_free(safes, PKCS7_free); }
};
using UniqueSafes = std::unique_ptr<STACK_OF(PKCS7), SafesDeleter>;

inline constexpr uint64_t kMaxKdfIterations = 1000000;  // one derivation
inline constexpr uint64_t kMaxDeclaredKdfIterations =
    1500000;  // the MAC and encrypted parts together

// The key-derivation work `algorithm` asks for: the iteration count of a
// PKCS#12 or PKCS#5 v1 PBE scheme or of PBES2 with PBKDF2, N·r·p for PBES2
// with scrypt. 0 when it names no password-based scheme or its parameters do
// not parse: then OpenSSL derives nothing either.
uint64_t kdf_cost(const X509_ALGOR* algorithm);

// The message that refuses a PFX asking for `iterations` (UINT64_MAX: a
// count that does not even parse).
std::string too_much_key_derivation(uint64_t iterations);

// Why a PFX whose MAC and encrypted parts ask for more key derivation than
// the limits above is refused, or nullopt. (A shrouded key's own count is
// only visible once its part is decrypted: the reader checks it with
// kdf_cost.)
std::optional<std::string> declared_kdf_work_problem(PKCS12* p12);

}  // namespace ringgate::certs::pkcs12
