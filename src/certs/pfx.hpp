// Client and server certificates as the gateway holds them: a private key, its
// certificate and the chain, loaded from a password-protected PKCS#12 (PFX)
// file the way Azure API Management accepts them (DESIGN §5). OpenSSL types
// appear here on purpose: the TLS layer hands these objects to SSL_CTX.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ringgate::certs {

// Why a certificate could not be loaded or stored. The first six describe the
// PFX itself; the last three come only from CertificateStore.
enum class PfxError : uint8_t {
  kNone,
  kInvalidPassword,      // the file is PKCS#12 but the password does not open it
  kNotPfx,               // corrupt, truncated, not PKCS#12, or an algorithm OpenSSL lacks
  kNoPrivateKey,         // parses, but holds no private key
  kNoCertificate,        // holds a key but no certificate at all
  kKeyMismatch,          // holds a key and certificates, none of them for that key
  kInvalidId,            // store: the id cannot name a persisted certificate
  kManagedByConfigFile,  // store: the id belongs to a certificate from the config file
  kIoError,              // store: a file could not be read or written
};

// A stable PascalCase name for `error` ("InvalidPassword", "NotPfx", …), for
// logs and error codes. Never null.
const char* to_string(PfxError error) noexcept;

// What the gateway shows about a certificate. Holds no key material.
struct CertificateInfo {
  std::string subject;     // most specific first, as Windows/APIM: "CN=orders-client, O=Contoso"
  std::string issuer;      // same format
  std::string thumbprint;  // 40 upper-case hex digits: SHA-1 of the certificate's DER
  int64_t not_before = 0;  // unix seconds
  int64_t not_after = 0;   // unix seconds
  std::string expiration_date;  // not_after as "2027-01-01T00:00:00Z"
  bool self_signed = false;     // issued by itself and its signature verifies with its own key
};

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct X509Deleter {
  void operator()(X509* certificate) const noexcept { X509_free(certificate); }
};
struct X509StackDeleter {
  void operator()(STACK_OF(X509) * chain) const noexcept { sk_X509_pop_free(chain, X509_free); }
};
using UniqueKey = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using UniqueX509 = std::unique_ptr<X509, X509Deleter>;
using UniqueX509Stack = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

// A private key with its certificate and chain. Immutable once built, so one
// instance may be shared (via shared_ptr<const …>) by every worker thread; it
// frees the OpenSSL objects when the last owner lets go. Callers that keep an
// object beyond the LoadedCertificate's life take their own reference
// (SSL_CTX_use_cert_and_key and friends do).
class LoadedCertificate {
 public:
  // Takes ownership of all three. `key` and `certificate` must be non-null and
  // belong together; `chain` may be null. Use make_loaded_certificate(), which
  // checks that, rather than calling this directly.
  LoadedCertificate(UniqueKey key, UniqueX509 certificate, UniqueX509Stack chain,
                    CertificateInfo info) noexcept;
  LoadedCertificate(const LoadedCertificate&) = delete;
  LoadedCertificate& operator=(const LoadedCertificate&) = delete;

  const CertificateInfo& info() const noexcept { return info_; }
  EVP_PKEY* key() const noexcept { return key_.get(); }
  X509* certificate() const noexcept { return certificate_.get(); }
  // The other certificates the PFX carried (intermediates, CA), in file order;
  // null when there were none.
  STACK_OF(X509) * chain() const noexcept { return chain_.get(); }

 private:
  UniqueKey key_;
  UniqueX509 certificate_;
  UniqueX509Stack chain_;
  CertificateInfo info_;
};

struct PfxResult {
  std::shared_ptr<const LoadedCertificate> certificate;  // null unless error == kNone
  PfxError error = PfxError::kNone;
  // Empty on success; otherwise one sentence a user can act on, e.g. "wrong
  // password for the PFX (MAC verification failed)". Never contains the
  // password or key material.
  std::string message;

  bool ok() const noexcept { return error == PfxError::kNone; }
};

// Loads OpenSSL's "default" and "legacy" providers into the process-wide
// library context, once, whichever thread asks first. Windows exports PFX
// files with RC2-40 or 3DES, which only "legacy" implements. Returns false and
// sets `error` when a provider cannot be loaded; PFX files using only AES and
// SHA-2 still load then, legacy ones fail with a message saying why.
bool ensure_providers(std::string& error);

// Describes `certificate` (which must be non-null). Never fails; a field
// OpenSSL cannot render stays empty or zero.
CertificateInfo describe_certificate(X509* certificate);

// Checks that `key` and `certificate` are present and belong together, then
// wraps them with `chain` (an empty chain becomes null). Errors are
// kNoPrivateKey, kNoCertificate or kKeyMismatch.
PfxResult make_loaded_certificate(UniqueKey key, UniqueX509 certificate, UniqueX509Stack chain);

// Opens a DER-encoded PKCS#12 file with `password`. An empty password also
// opens files exported with no password at all (PKCS#12 tells an empty
// password from an absent one; this tries both, as OpenSSL and Windows do).
// Leaves the calling thread's OpenSSL error queue empty.
PfxResult load_pfx(std::string_view pfx_bytes, std::string_view password) noexcept;

}  // namespace ringgate::certs
