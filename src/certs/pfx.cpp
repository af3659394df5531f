#include "certs/pfx.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "certs/pkcs12_kdf.hpp"

namespace ringgate::certs {
namespace {

struct BioDeleter {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct Pkcs12Deleter {
  void operator()(PKCS12* p12) const noexcept { PKCS12_free(p12); }
};
using UniqueBio = std::unique_ptr<BIO, BioDeleter>;
using UniquePkcs12 = std::unique_ptr<PKCS12, Pkcs12Deleter>;

// Longer passwords are refused before OpenSSL sees them: its PKCS#12 calls
// take the length as an int and copy the password into UTF-16.
constexpr size_t kMaxPasswordBytes = 4096;

// Clears the thread's OpenSSL error queue on entry and on exit, so that errors
// from loading never surface later in an unrelated SSL_get_error() on the same
// thread (a worker or the control thread).
class ErrorQueueScope {
 public:
  ErrorQueueScope() noexcept { ERR_clear_error(); }
  ~ErrorQueueScope() { ERR_clear_error(); }
  ErrorQueueScope(const ErrorQueueScope&) = delete;
  ErrorQueueScope& operator=(const ErrorQueueScope&) = delete;
};

// Overwrites a copy of the password when it goes out of scope.
class CleansedString {
 public:
  explicit CleansedString(std::string_view text) : text_(text) {}
  ~CleansedString() { OPENSSL_cleanse(text_.data(), text_.size()); }
  CleansedString(const CleansedString&) = delete;
  CleansedString& operator=(const CleansedString&) = delete;
  const std::string& str() const noexcept { return text_; }

 private:
  std::string text_;
};

// Removes every queued OpenSSL error and returns their codes, earliest
// (usually the root cause) first.
std::vector<unsigned long> take_errors() {
  std::vector<unsigned long> codes;
  while (unsigned long code = ERR_get_error()) codes.push_back(code);
  return codes;
}

// "library: reason" for the earliest error in `codes`, or "" when none.
// OpenSSL reason strings name what failed, never the data involved.
std::string describe_errors(const std::vector<unsigned long>& codes) {
  if (codes.empty()) return {};
  const char* library = ERR_lib_error_string(codes.front());
  const char* reason = ERR_reason_error_string(codes.front());
  std::string text = library != nullptr ? std::string(library) + ": " : std::string();
  text += reason != nullptr ? reason : "unknown error";
  return text;
}

std::string with_cause(std::string message, const std::vector<unsigned long>& codes) {
  std::string cause = describe_errors(codes);
  if (!cause.empty()) message += " (" + cause + ")";
  return message;
}

bool has_unsupported_algorithm(const std::vector<unsigned long>& codes) {
  for (unsigned long code : codes) {
    int reason = ERR_GET_REASON(code);
    if (reason == ERR_R_UNSUPPORTED || reason == ERR_R_FETCH_FAILED) return true;
    if (ERR_GET_LIB(code) == ERR_LIB_EVP &&
        (reason == EVP_R_UNSUPPORTED_ALGORITHM || reason == EVP_R_UNSUPPORTED_CIPHER ||
         reason == EVP_R_UNKNOWN_CIPHER)) {
      return true;
    }
  }
  return false;
}

PfxResult failure(PfxError error, std::string message) {
  PfxResult result;
  result.error = error;
  result.message = std::move(message);
  return result;
}

// Renders a name most specific part first with ", " between parts, as
// Windows and APIM show subjects ("CN=orders-client, O=Contoso"). Non-ASCII
// stays UTF-8 rather than being escaped byte by byte.
std::string name_to_string(const X509_NAME* name) {
  if (name == nullptr) return {};
  UniqueBio bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  constexpr unsigned long kFlags = (ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) |
                                   XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_DN_REV | XN_FLAG_FN_SN |
                                   XN_FLAG_DUMP_UNKNOWN_FIELDS;
  if (X509_NAME_print_ex(bio.get(), name, 0, kFlags) < 0) return {};
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return length > 0 ? std::string(data, static_cast<size_t>(length)) : std::string();
}

bool to_unix_seconds(const ASN1_TIME* time, int64_t& seconds) {
  struct tm parts {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return false;
  seconds = static_cast<int64_t>(timegm(&parts));
  return true;
}

std::string format_utc(int64_t seconds) {
  time_t when = static_cast<time_t>(seconds);
  struct tm parts {};
  if (gmtime_r(&when, &parts) == nullptr) return {};
  char text[32];
  size_t length = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return std::string(text, length);
}

std::string sha1_thumbprint(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(certificate, EVP_sha1(), digest, &length) != 1) return {};
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

int count(const STACK_OF(X509) * chain) { return chain != nullptr ? sk_X509_num(chain) : 0; }

// make_loaded_certificate with `source` ("the PFX") naming the input in
// messages.
PfxResult assemble(UniqueKey key, UniqueX509 certificate, UniqueX509Stack chain,
                   std::string_view source) {
  const std::string from(source);
  if (!key) {
    return failure(PfxError::kNoPrivateKey,
                   from + " holds no private key; export it again including the private key");
  }
  if (!certificate) {
    if (int others = count(chain.get()); others > 0) {
      return failure(PfxError::kKeyMismatch,
                     others == 1
                         ? "the certificate in " + from + " does not belong to its private key"
                         : "none of the " + std::to_string(others) + " certificates in " + from +
                               " belongs to its private key");
    }
    return failure(PfxError::kNoCertificate, from + " holds a private key but no certificate");
  }
  if (X509_check_private_key(certificate.get(), key.get()) != 1) {
    ERR_clear_error();
    return failure(PfxError::kKeyMismatch,
                   "the certificate in " + from + " does not belong to its private key");
  }
  if (chain && sk_X509_num(chain.get()) == 0) chain.reset();
  CertificateInfo info = describe_certificate(certificate.get());
  PfxResult result;
  result.certificate = std::make_shared<const LoadedCertificate>(
      std::move(key), std::move(certificate), std::move(chain), std::move(info));
  return result;
}

// One way of handing a password to OpenSSL's PKCS#12 calls. PKCS#12 tells an
// absent password (NULL) from an empty one (""), and exporters differ in
// which they use for "no password".
struct PasswordForm {
  const char* data;
  int length;
};

std::vector<PasswordForm> password_forms(const std::string& password) {
  if (password.empty()) return {{nullptr, 0}, {"", 0}};
  return {{password.c_str(), static_cast<int>(password.size())}};
}

// The integrity MAC is keyed by the password, so it is the one reliable test
// of a wrong password. Returns the form that verifies it, or null with the
// error queue empty for a plain mismatch (OpenSSL queues nothing then) and
// non-empty for a MAC it cannot compute (an unknown algorithm).
const PasswordForm* verify_mac(PKCS12* p12, const std::vector<PasswordForm>& forms) {
  for (const PasswordForm& form : forms) {
    if (PKCS12_verify_mac(p12, form.data, form.length) == 1) {
      ERR_clear_error();
      return &form;
    }
  }
  return nullptr;
}

// What a PFX's bags hold: the first private key and every X.509 certificate.
struct BagContents {
  UniqueKey key;
  UniqueX509Stack certificates{sk_X509_new_null()};
  // Set when a shrouded key asked for more than kMaxKdfIterations; reading
  // stopped there.
  uint64_t refused_kdf_iterations = 0;
};

struct BagsDeleter {
  void operator()(STACK_OF(PKCS12_SAFEBAG) * bags) const noexcept {
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
  }
};
struct Pkcs8Deleter {
  void operator()(PKCS8_PRIV_KEY_INFO* info) const noexcept { PKCS8_PRIV_KEY_INFO_free(info); }
};
using UniqueBags = std::unique_ptr<STACK_OF(PKCS12_SAFEBAG), BagsDeleter>;
using pkcs12::UniqueSafes;
using UniquePkcs8 = std::unique_ptr<PKCS8_PRIV_KEY_INFO, Pkcs8Deleter>;

// Nested safeContents bags deeper than this are refused rather than followed.
constexpr int kMaxBagDepth = 8;

bool read_bags(const STACK_OF(PKCS12_SAFEBAG) * bags, PasswordForm password, int depth,
               BagContents& contents) {
  if (depth > kMaxBagDepth) return false;
  for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
    const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    switch (PKCS12_SAFEBAG_get_nid(bag)) {
      case NID_keyBag:
        if (!contents.key) {
          contents.key.reset(EVP_PKCS82PKEY(PKCS12_SAFEBAG_get0_p8inf(bag)));
          if (!contents.key) return false;
        }
        break;
      case NID_pkcs8ShroudedKeyBag:
        if (!contents.key) {
          const X509_ALGOR* algorithm = nullptr;
          X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &algorithm, nullptr);
          if (const uint64_t cost = pkcs12::kdf_cost(algorithm); cost > pkcs12::kMaxKdfIterations) {
            contents.refused_kdf_iterations = cost;
            return false;
          }
          UniquePkcs8 info(PKCS12_decrypt_skey(bag, password.data, password.length));
          if (info) contents.key.reset(EVP_PKCS82PKEY(info.get()));
          if (!contents.key) return false;
        }
        break;
      case NID_certBag:
        if (PKCS12_SAFEBAG_get_bag_nid(bag) == NID_x509Certificate) {
          UniqueX509 certificate(PKCS12_SAFEBAG_get1_cert(bag));
          if (!certificate || sk_X509_push(contents.certificates.get(), certificate.get()) <= 0) {
            return false;
          }
          certificate.release();  // NOLINT(bugprone-unused-return-value): the stack owns it now
        }
        break;
      case NID_safeContentsBag:
        if (!read_bags(PKCS12_SAFEBAG_get0_safes(bag), password, depth + 1, contents)) {
          return false;
        }
        break;
      default:  // CRLs, secrets, other certificate types: not ours to use
        break;
    }
  }
  return true;
}

// Decrypts and decodes every part of the PFX. False when a part cannot be
// decrypted (a wrong password when there is no MAC) or decoded.
bool read_contents(PKCS12* p12, PasswordForm password, BagContents& contents) {
  if (!contents.certificates) return false;
  UniqueSafes safes(PKCS12_unpack_authsafes(p12));
  if (!safes) return false;
  for (int i = 0; i < sk_PKCS7_num(safes.get()); ++i) {
    PKCS7* safe = sk_PKCS7_value(safes.get(), i);
    UniqueBags bags;
    switch (OBJ_obj2nid(safe->type)) {
      case NID_pkcs7_data:
        bags.reset(PKCS12_unpack_p7data(safe));
        break;
      case NID_pkcs7_encrypted:
        bags.reset(PKCS12_unpack_p7encdata(safe, password.data, password.length));
        break;
      default:
        continue;  // enveloped (public-key) privacy mode: not used by exporters
    }
    if (!bags || !read_bags(bags.get(), password, 0, contents)) return false;
  }
  return true;
}

// Takes the certificate that belongs to `key` out of `certificates`; what is
// left is the chain. Null when none belongs (or there is no key).
UniqueX509 take_leaf(EVP_PKEY* key, STACK_OF(X509) * certificates) {
  if (key == nullptr) return nullptr;
  for (int i = 0; i < sk_X509_num(certificates); ++i) {
    if (X509_check_private_key(sk_X509_value(certificates, i), key) == 1) {
      return UniqueX509(sk_X509_delete(certificates, i));
    }
  }
  ERR_clear_error();  // each mismatch queued an error
  return nullptr;
}

PfxResult unsupported_algorithm(const std::vector<unsigned long>& codes) {
  std::string provider_error;
  if (!ensure_providers(provider_error)) {
    return failure(PfxError::kNotPfx,
                   "the PFX uses a legacy algorithm (RC2-40 or 3DES, as Windows exports them) "
                   "and OpenSSL's legacy provider is not available: " +
                       provider_error);
  }
  return failure(PfxError::kNotPfx,
                 with_cause("the PFX uses an algorithm this OpenSSL does not support", codes));
}

// Explains why the contents could not be read, given whether the password
// was already proven right by the MAC.
PfxResult contents_failure(bool mac_verified, const std::vector<unsigned long>& codes) {
  if (has_unsupported_algorithm(codes)) return unsupported_algorithm(codes);
  if (!mac_verified) {
    return failure(PfxError::kInvalidPassword,
                   with_cause("wrong password for the PFX, or the file is corrupt (it has no "
                              "integrity MAC that could tell which)",
                              codes));
  }
  return failure(PfxError::kNotPfx,
                 with_cause("the PFX is corrupt: its password is right but its contents could "
                            "not be decrypted or decoded",
                            codes));
}

// Reads the contents with each password form in turn (only the verified one
// when there is a MAC) and assembles the result.
PfxResult read_pfx(PKCS12* p12, const std::vector<PasswordForm>& forms, bool mac_verified) {
  std::vector<unsigned long> codes;
  for (const PasswordForm& form : forms) {
    BagContents contents;
    if (!read_contents(p12, form, contents)) {
      if (contents.refused_kdf_iterations != 0) {
        return failure(PfxError::kNotPfx,
                       pkcs12::too_much_key_derivation(contents.refused_kdf_iterations));
      }
      codes = take_errors();
      continue;
    }
    UniqueX509 leaf = take_leaf(contents.key.get(), contents.certificates.get());
    return assemble(std::move(contents.key), std::move(leaf), std::move(contents.certificates),
                    "the PFX");
  }
  return contents_failure(mac_verified, codes);
}

// Whether some password form decrypts and decodes every part of the PFX.
// After a MAC mismatch this tells a damaged file (the password still works)
// from a wrong password: a wrong one practically never yields valid padding
// and valid DER.
bool decrypts_with_any(PKCS12* p12, const std::vector<PasswordForm>& forms) {
  for (const PasswordForm& form : forms) {
    BagContents contents;
    bool decrypted = read_contents(p12, form, contents) &&
                     (contents.key || sk_X509_num(contents.certificates.get()) > 0);
    ERR_clear_error();
    if (decrypted) return true;
  }
  return false;
}

bool looks_like_pem(std::string_view bytes) {
  size_t start = bytes.find_first_not_of(" \t\r\n");
  return start != std::string_view::npos && bytes.substr(start, 11) == "-----BEGIN ";
}

// The providers this process loaded, held until exit. The destructor hands
// them back so that OPENSSL_cleanup() can free them (and the legacy
// provider's own library context) instead of leaving them to the leak
// checker; as a static constructed after OpenSSL initialised, it runs before
// OpenSSL's own exit handler.
class Providers {
 public:
  Providers() {
    // Loading any provider explicitly switches off the implicit "default", so
    // both are loaded.
    default_ = load("default");
    legacy_ = load("legacy");
    ERR_clear_error();
  }
  ~Providers() {
    if (legacy_ != nullptr) OSSL_PROVIDER_unload(legacy_);
    if (default_ != nullptr) OSSL_PROVIDER_unload(default_);
  }
  Providers(const Providers&) = delete;
  Providers& operator=(const Providers&) = delete;

  bool ok() const noexcept { return error_.empty(); }
  const std::string& error() const noexcept { return error_; }

 private:
  OSSL_PROVIDER* load(const char* name) {
    ERR_clear_error();
    OSSL_PROVIDER* provider = OSSL_PROVIDER_load(nullptr, name);
    if (provider == nullptr) {
      if (!error_.empty()) error_ += "; ";
      error_ += with_cause(std::string("cannot load OpenSSL's \"") + name + "\" provider",
                           take_errors()) +
                "; is its module installed, or does OPENSSL_MODULES point elsewhere?";
    }
    return provider;
  }

  OSSL_PROVIDER* default_ = nullptr;
  OSSL_PROVIDER* legacy_ = nullptr;
  std::string error_;
};

}  // namespace

const char* to_string(PfxError error) noexcept {
  switch (error) {
    case PfxError::kNone:
      return "None";
    case PfxError::kInvalidPassword:
      return "InvalidPassword";
    case PfxError::kNotPfx:
      return "NotPfx";
    case PfxError::kNoPrivateKey:
      return "NoPrivateKey";
    case PfxError::kNoCertificate:
      return "NoCertificate";
    case PfxError::kKeyMismatch:
      return "KeyMismatch";
    case PfxError::kInvalidId:
      return "InvalidId";
    case PfxError::kManagedByConfigFile:
      return "ManagedByConfigFile";
    case PfxError::kIoError:
      return "IoError";
  }
  return "Unknown";
}

LoadedCertificate::LoadedCertificate(UniqueKey key, UniqueX509 certificate, UniqueX509Stack chain,
                                     CertificateInfo info) noexcept
    : key_(std::move(key)),
      certificate_(std::move(certificate)),
      chain_(std::move(chain)),
      info_(std::move(info)) {}

bool ensure_providers(std::string& error) {
  // A function-local static is initialised exactly once, even when several
  // threads arrive together.
  static const Providers kProviders;
  if (!kProviders.ok()) error = kProviders.error();
  return kProviders.ok();
}

CertificateInfo describe_certificate(X509* certificate) {
  CertificateInfo info;
  info.subject = name_to_string(X509_get_subject_name(certificate));
  info.issuer = name_to_string(X509_get_issuer_name(certificate));
  info.thumbprint = sha1_thumbprint(certificate);
  to_unix_seconds(X509_get0_notBefore(certificate), info.not_before);
  if (to_unix_seconds(X509_get0_notAfter(certificate), info.not_after)) {
    info.expiration_date = format_utc(info.not_after);
  }
  info.self_signed = X509_self_signed(certificate, 1) == 1;
  ERR_clear_error();
  return info;
}

PfxResult make_loaded_certificate(UniqueKey key, UniqueX509 certificate, UniqueX509Stack chain) {
  return assemble(std::move(key), std::move(certificate), std::move(chain), "the input");
}

PfxResult load_pfx(std::string_view pfx_bytes, std::string_view password) noexcept {
  std::string provider_error;
  ensure_providers(provider_error);  // a failure shows up below, where it matters
  ErrorQueueScope errors;

  if (pfx_bytes.empty()) return failure(PfxError::kNotPfx, "the PFX is empty");
  if (looks_like_pem(pfx_bytes)) {
    return failure(PfxError::kNotPfx,
                   "this is a PEM file, not a PKCS#12 (PFX) file; convert it with "
                   "`openssl pkcs12 -export`");
  }
  if (pfx_bytes.size() > static_cast<size_t>(LONG_MAX)) {
    return failure(PfxError::kNotPfx, "the PFX is too large");
  }
  if (password.size() > kMaxPasswordBytes) {
    return failure(PfxError::kInvalidPassword, "the password is longer than 4096 bytes");
  }
  if (password.find('\0') != std::string_view::npos) {
    return failure(PfxError::kInvalidPassword, "the password contains a NUL character");
  }

  const auto* cursor = reinterpret_cast<const unsigned char*>(pfx_bytes.data());
  UniquePkcs12 p12(d2i_PKCS12(nullptr, &cursor, static_cast<long>(pfx_bytes.size())));
  if (!p12) {
    return failure(
        PfxError::kNotPfx,
        with_cause("not a PKCS#12 (PFX) file, or it is truncated or corrupt", take_errors()));
  }

  if (std::optional<std::string> refused = pkcs12::declared_kdf_work_problem(p12.get())) {
    return failure(PfxError::kNotPfx, *refused);
  }

  CleansedString pass(password);
  std::vector<PasswordForm> forms = password_forms(pass.str());
  if (PKCS12_mac_present(p12.get()) != 1) return read_pfx(p12.get(), forms, false);
  if (const PasswordForm* verified = verify_mac(p12.get(), forms)) {
    // The form that opened the MAC first; for an empty password the other
    // form too, since some exporters key the MAC and the contents
    // differently.
    std::vector<PasswordForm> ordered = {*verified};
    for (const PasswordForm& form : forms) {
      if (&form != verified) ordered.push_back(form);
    }
    return read_pfx(p12.get(), ordered, true);
  }
  std::vector<unsigned long> codes = take_errors();
  if (codes.empty()) {
    if (decrypts_with_any(p12.get(), forms)) {
      return failure(PfxError::kNotPfx,
                     "the PFX is corrupt: its integrity MAC does not match, yet the password "
                     "decrypts its contents");
    }
    return failure(PfxError::kInvalidPassword,
                   "wrong password for the PFX (MAC verification failed)");
  }
  if (has_unsupported_algorithm(codes)) return unsupported_algorithm(codes);
  return failure(PfxError::kNotPfx,
                 with_cause("the PFX's integrity MAC cannot be computed", codes));
}

}  // namespace ringgate::certs
